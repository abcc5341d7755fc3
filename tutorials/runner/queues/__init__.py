"""
Where runs wait for their turn: one interface, two backends.

- ``embedded`` (the default, no extra service): each web process queues its runs
  in memory and runs them in a few threads of its own, each holding one of the
  host's run slots; results go to the default cache, so a poll answered by any
  process of the host finds them (``make serve`` uses the file cache).
- ``redis`` (``RUNNER_QUEUE=redis``): runs are RQ jobs on Redis, run by
  ``manage.py runner_worker`` processes, on this host or others; the web
  processes start no sandbox at all.

Both wait by priority level (``jobs.Job.level``), first in, first out within a
level. ``submit()`` queues a job, ``wait()`` waits briefly for its outcome,
``outcome()`` answers a poll: an ``Outcome``, a ``Pending`` state, or None for an
unknown (or expired) job.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from ... import counters
from .. import limits


@dataclass(frozen=True)
class Pending:
    state: str  # "queued" or "running"


_backends: dict = {}
_lock = threading.Lock()


def mode() -> str:
    """ "embedded" or "redis", from RUNNER_QUEUE."""
    value = str(limits.get("QUEUE")).strip().lower() or "embedded"
    if value not in ("embedded", "redis"):
        raise ValueError(f'RUNNER_QUEUE must be "embedded" or "redis", not {value!r}')
    return value


def redis_url() -> str:
    """RUNNER_REDIS_URL, else CACHE_URL when it is a Redis URL."""
    url = limits.get("REDIS_URL")
    if not url:
        from django.conf import settings

        cache_url = getattr(settings, "CACHE_URL", "") or os.environ.get("CACHE_URL", "")
        if cache_url.startswith(("redis://", "rediss://")):
            url = cache_url
    if not url:
        raise ValueError("RUNNER_QUEUE=redis needs RUNNER_REDIS_URL (or a redis:// CACHE_URL)")
    return url


def backend():
    """This process's queue backend (a new one after a fork: threads do not survive it)."""
    key = (os.getpid(), mode())
    with _lock:
        if key not in _backends:
            if key[1] == "redis":
                from .redis import RedisQueue

                _backends[key] = RedisQueue(redis_url())
            else:
                from .embedded import EmbeddedQueue

                _backends[key] = EmbeddedQueue()
        return _backends[key]


def counter_store() -> counters.Store:
    """Where the runner's tickets and rates live: shared by every process that queues
    or runs (the queue's Redis in "redis" mode, else the default cache)."""
    if mode() == "redis":
        return backend().store
    return counters.default_store()


def wait_idle(timeout: float = 30.0) -> bool:
    """Wait until this process's embedded queue has run and counted every job it was
    given (tests, before their database goes away); True if none is left."""
    with _lock:
        backends = [b for key, b in _backends.items() if key[0] == os.getpid()]
    return all(backend.idle(timeout) for backend in backends if hasattr(backend, "idle"))


def reset() -> None:
    """Forget the backends (tests switch modes)."""
    with _lock:
        for backend in _backends.values():
            backend.close()
        _backends.clear()
