"""
Per-client limits on the run endpoint, kept in Django's cache so that they hold
across web workers (with a shared cache such as Redis) and reset by themselves.

- a rate limit: ``RUNNER_RATE_LIMIT`` runs per ``RUNNER_RATE_WINDOW`` seconds;
- a concurrency limit: ``RUNNER_MAX_PER_CLIENT`` runs at once, so that one
  client's abusive runs cannot take every slot from everybody else.
"""

import contextlib
import time
from collections.abc import Iterator

from django.core.cache import cache

from ..clients import client_key
from . import limits as limits_module
from .pool import Busy

MAX_PER_CLIENT = limits_module.MAX_PER_CLIENT  # runs at once per client


def client_id(request) -> str:
    """Who is asking: the shared client identity (honours NUM_PROXIES), hashed."""
    return client_key(request)


def rate_limit(client: str) -> int | None:
    """Count one run for ``client``; return seconds to wait when over the limit."""
    limit = limits_module.setting("RATE_LIMIT", limits_module.RATE_LIMIT)
    window = limits_module.setting("RATE_WINDOW", limits_module.RATE_WINDOW)
    now = int(time.time())
    key = f"runner:rate:{client}:{now // window}"
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=window + 1)
        count = 1
    if count > limit:
        return max(1, window - now % window)
    return None


@contextlib.contextmanager
def client_slot(client: str) -> Iterator[None]:
    """Hold one of the client's concurrent-run slots; raise ``Busy`` when none is free."""
    allowed = limits_module.setting("MAX_PER_CLIENT", MAX_PER_CLIENT)
    wall = limits_module.current().wall_timeout
    queue = limits_module.setting("QUEUE_TIMEOUT", limits_module.QUEUE_TIMEOUT)
    key = f"runner:active:{client}"
    # Expires on its own should a worker die in the middle of a run.
    cache.add(key, 0, timeout=int(wall + queue) + 30)
    try:
        active = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=int(wall + queue) + 30)
        active = 1
    try:
        if active > allowed:
            raise Busy(limits_module.setting("RETRY_AFTER", limits_module.RETRY_AFTER))
        yield
    finally:
        with contextlib.suppress(ValueError):
            cache.decr(key)
