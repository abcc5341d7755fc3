"""
Counters that hold under parallel requests and heal by themselves, on any cache.

Two primitives, each one atomic step however many processes share the store:

- ``hit(key, limit, window)`` counts one event and says whether it was allowed; a
  refused event is not counted. The count ends ``window`` seconds after it
  started, or after the last counted hit with ``renew=True``.
- tickets: ``take(key, limit, ttl)`` hands out one of at most ``limit`` tickets,
  ``give_back()`` returns it, ``refresh()`` extends it. Every ticket expires on
  its own ``ttl`` seconds after it was taken or refreshed, so a holder that dies
  cannot keep its place for longer than that. A ticket also has a ``place``: how
  many tickets of the key were ahead of it (at least as many as any live ticket's
  place, so later tickets never get a smaller place than earlier ones).

Django's ``add()``/``incr()`` are not enough: FileBasedCache's are read-then-write
and its ``incr()`` re-saves with the default timeout. So each operation here is a
read-modify-write of one value under a lock that fits the backend: a WATCH/MULTI
transaction on Redis, a process lock for the in-memory cache, an ``flock`` beside
the file cache's files, and an ``add()``-based lock with its own expiry otherwise.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import pickle
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.cache import BaseCache
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

# An update gets the stored state (None when absent) and the time, and returns the
# new state (None deletes it), when that state may be forgotten, and the answer.
Update = Callable[[Any, float], tuple[Any, float | None, Any]]


@dataclass(frozen=True)
class Hit:
    allowed: bool
    count: int  # events counted in the current window, this one included if allowed
    retry_after: int  # seconds until the window ends (0 when allowed)


@dataclass(frozen=True)
class Ticket:
    token: str
    place: int  # tickets of the same key ahead of this one when it was taken


class Store:
    """Where counters live; ``update()`` runs one read-modify-write atomically."""

    def update(self, key: str, update: Update) -> Any:
        raise NotImplementedError

    def read(self, key: str) -> Any:
        raise NotImplementedError

    # The primitives.

    def hit(self, key: str, limit: int, window: float, renew: bool = False) -> Hit:
        def count(state, now):
            if not state or state["until"] <= now:
                state = {"n": 0, "until": now + window}
            if state["n"] >= limit:
                return state, state["until"], Hit(False, state["n"], _seconds(state["until"] - now))
            state["n"] += 1
            if renew:
                state["until"] = now + window
            return state, state["until"], Hit(True, state["n"], 0)

        return self.update(key, count)

    def count(self, key: str) -> int:
        state = self.read(key)
        if not state or state.get("until", math.inf) <= time.time():
            return 0
        if "n" in state:
            return state["n"]
        return len(_live(state, time.time()))

    def take(self, key: str, limit: int, ttl: float) -> Ticket | None:
        token = uuid.uuid4().hex

        def take(state, now):
            tickets = _live(state, now)
            if len(tickets) >= limit:
                return _tickets_state(tickets), _latest(tickets), None
            place = max([len(tickets), *(place for _, place in tickets.values())])
            tickets[token] = [now + ttl, place]
            return _tickets_state(tickets), _latest(tickets), Ticket(token, place)

        return self.update(key, take)

    def refresh(self, key: str, token: str, ttl: float) -> bool:
        def refresh(state, now):
            tickets = _live(state, now)
            found = token in tickets
            if found:
                tickets[token][0] = now + ttl
            return _tickets_state(tickets), _latest(tickets), found

        return self.update(key, refresh)

    def give_back(self, key: str, token: str) -> None:
        def give_back(state, now):
            tickets = _live(state, now)
            tickets.pop(token, None)
            return _tickets_state(tickets), _latest(tickets), None

        self.update(key, give_back)


def _seconds(delta: float) -> int:
    return max(1, math.ceil(delta))


def _live(state, now: float) -> dict[str, list]:
    tickets = (state or {}).get("t", {})
    return {token: entry for token, entry in tickets.items() if entry[0] > now}


def _tickets_state(tickets: dict) -> dict | None:
    return {"t": tickets} if tickets else None


def _latest(tickets: dict) -> float | None:
    return max((entry[0] for entry in tickets.values()), default=None)


def _timeout(until: float | None, now: float) -> float:
    # Kept a second past its own expiry: expiry is decided from the state itself.
    return max(1.0, (until or now) - now + 1)


class RedisStore(Store):
    """On a Redis client: WATCH the key, compute, MULTI/SET; retried on a conflict."""

    def __init__(self, client, prefix: str = "", dumps=None, loads=None):
        self.client = client
        self.prefix = prefix
        self.dumps = dumps or (lambda value: json.dumps(value).encode())
        self.loads = loads or json.loads

    def update(self, key: str, update: Update) -> Any:
        key = self.prefix + key
        answer = []

        def transaction(pipe):
            raw = pipe.get(key)
            now = time.time()
            state, until, result = update(self.loads(raw) if raw else None, now)
            answer[:] = [result]
            pipe.multi()
            if state is None:
                pipe.delete(key)
            else:
                pipe.set(key, self.dumps(state), px=int(_timeout(until, now) * 1000))

        self.client.transaction(transaction, key)
        return answer[0]

    def read(self, key: str) -> Any:
        raw = self.client.get(self.prefix + key)
        return self.loads(raw) if raw else None


class DjangoRedisStore(RedisStore):
    """Django's RedisCache, through its client; values stay readable by ``cache.get``."""

    def __init__(self, cache: RedisCache):
        self.cache = cache
        super().__init__(
            cache._cache.get_client(write=True),
            # Django's RedisSerializer reads a non-integer value with pickle.
            dumps=pickle.dumps,
            loads=pickle.loads,
        )

    def update(self, key: str, update: Update) -> Any:
        return super().update(self.cache.make_and_validate_key(key), update)

    def read(self, key: str) -> Any:
        return self.cache.get(key)


class LockedCacheStore(Store):
    """Any Django cache, each update under ``lock`` (a context manager factory)."""

    def __init__(self, cache: BaseCache, lock: Callable[[str], contextlib.AbstractContextManager]):
        self.cache = cache
        self.lock = lock

    def update(self, key: str, update: Update) -> Any:
        with self.lock(key):
            now = time.time()
            state, until, result = update(self.cache.get(key), now)
            if state is None:
                self.cache.delete(key)
            else:
                self.cache.set(key, state, timeout=_timeout(until, now))
            return result

    def read(self, key: str) -> Any:
        return self.cache.get(key)


_process_locks: dict[int, threading.Lock] = {}
_process_locks_guard = threading.Lock()


def _process_lock(cache: BaseCache):
    """One lock per in-memory cache: LocMemCache lives in this process only."""
    with _process_locks_guard:
        lock = _process_locks.setdefault(id(cache._cache), threading.Lock())

    def locked(key: str):
        return lock

    return locked


def _file_lock(cache: FileBasedCache):
    """An flock on a file beside the cache's files: every process of the host sees it."""
    path = os.path.join(cache._dir, ".counters.lock")

    @contextlib.contextmanager
    def locked(key: str) -> Iterator[None]:
        os.makedirs(cache._dir, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # each open() is its own lock: threads wait too
            yield
        finally:
            os.close(fd)

    return locked


def _add_lock(cache: BaseCache):
    """For other backends (memcached, database): a lock key taken with ``add()``,
    which those backends do atomically, expiring by itself should its holder die."""

    @contextlib.contextmanager
    def locked(key: str) -> Iterator[None]:
        lock_key = f"{key}:lock"
        deadline = time.monotonic() + 2
        while not cache.add(lock_key, 1, timeout=5) and time.monotonic() < deadline:
            time.sleep(0.002)
        try:
            yield
        finally:
            cache.delete(lock_key)

    return locked


def store_for(cache: BaseCache) -> Store:
    """The store for a Django cache, with the strongest lock its backend allows."""
    if isinstance(cache, RedisCache):
        return DjangoRedisStore(cache)
    if isinstance(cache, LocMemCache):
        return LockedCacheStore(cache, _process_lock(cache))
    if isinstance(cache, FileBasedCache):
        return LockedCacheStore(cache, _file_lock(cache))
    return LockedCacheStore(cache, _add_lock(cache))


def default_store() -> Store:
    """The store on Django's default cache."""
    from django.core.cache import caches

    return store_for(caches["default"])
