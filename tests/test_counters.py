"""
tutorials/counters.py under parallel bursts, on the in-memory cache, the file cache
(threads and separate processes) and Redis (when REDIS_URL is set, as .ci/run does).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.locmem import LocMemCache

from tutorials import counters

REDIS_URL = os.environ.get("REDIS_URL", "")


def _redis_store():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter("test-counters:*"):
        client.delete(key)
    return counters.RedisStore(client, prefix="test-counters:")


@pytest.fixture(params=["locmem", "file", pytest.param("redis", marks=pytest.mark.redis)])
def store(request, tmp_path):
    if request.param == "locmem":
        yield counters.store_for(LocMemCache(f"counters-{time.time()}", {}))
    elif request.param == "file":
        yield counters.store_for(FileBasedCache(str(tmp_path / "cache"), {}))
    else:
        if not REDIS_URL:
            pytest.fail("REDIS_URL is not set: run the redis tests with make test-runner-redis")
        yield _redis_store()


def burst(count: int, action):
    """Run ``action(i)`` in ``count`` threads released at the same moment."""
    barrier = threading.Barrier(count)

    def go(index):
        barrier.wait()
        return action(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(go, range(count)))


def test_parallel_hits_allow_exactly_the_limit(store):
    results = burst(30, lambda _: store.hit("login:1.2.3.4", limit=5, window=60))
    assert sum(hit.allowed for hit in results) == 5
    assert store.count("login:1.2.3.4") == 5
    refused = [hit for hit in results if not hit.allowed]
    assert all(1 <= hit.retry_after <= 60 for hit in refused)


def test_refused_hits_do_not_extend_the_window(store):
    assert store.hit("rate", limit=1, window=1).allowed
    for _ in range(5):
        time.sleep(0.1)
        assert not store.hit("rate", limit=1, window=1).allowed
    time.sleep(0.7)
    assert store.hit("rate", limit=1, window=1).allowed


def test_renewed_window_runs_from_the_last_counted_hit(store):
    assert store.hit("login", limit=3, window=1, renew=True).allowed
    time.sleep(0.6)
    assert store.hit("login", limit=3, window=1, renew=True).count == 2
    time.sleep(0.6)  # 1.2 s after the first hit, 0.6 s after the last
    assert store.count("login") == 2
    time.sleep(0.6)
    assert store.count("login") == 0


def test_parallel_takes_hand_out_exactly_limit_tickets_and_all_come_back(store):
    tickets = burst(20, lambda _: store.take("client", limit=3, ttl=60))
    taken = [ticket for ticket in tickets if ticket is not None]
    assert len(taken) == 3
    assert sorted(ticket.place for ticket in taken) == [0, 1, 2]
    assert store.count("client") == 3
    burst(3, lambda i: store.give_back("client", taken[i].token))
    assert store.count("client") == 0
    assert store.take("client", limit=3, ttl=60).place == 0


def test_a_ticket_whose_holder_died_expires_by_itself(store):
    for _ in range(2):
        assert store.take("client", limit=2, ttl=0.5) is not None  # never given back
    assert store.take("client", limit=2, ttl=0.5) is None
    time.sleep(0.7)
    assert store.count("client") == 0
    assert store.take("client", limit=2, ttl=0.5) is not None


def test_refresh_extends_a_ticket_and_only_a_live_one(store):
    ticket = store.take("client", limit=1, ttl=0.5)
    time.sleep(0.3)
    assert store.refresh("client", ticket.token, ttl=1) is True
    time.sleep(0.4)
    assert store.count("client") == 1  # past its first expiry
    time.sleep(0.8)
    assert store.refresh("client", ticket.token, ttl=1) is False


def test_a_later_ticket_never_gets_a_smaller_place_than_an_earlier_live_one(store):
    first = store.take("client", limit=10, ttl=60)
    second = store.take("client", limit=10, ttl=60)
    third = store.take("client", limit=10, ttl=60)
    assert (first.place, second.place, third.place) == (0, 1, 2)
    store.give_back("client", first.token)
    store.give_back("client", second.token)
    # One ticket is left (at place 2): a newcomer waits behind it, not before it.
    assert store.take("client", limit=10, ttl=60).place == 2


def _hit_in_process(directory: str, barrier, results) -> None:
    store = counters.store_for(FileBasedCache(directory, {}))
    barrier.wait()
    results.put(store.hit("shared", limit=5, window=60).allowed)


def test_file_cache_counts_hold_across_processes(tmp_path):
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(12)
    results = context.Queue()
    processes = [
        context.Process(target=_hit_in_process, args=(str(tmp_path), barrier, results))
        for _ in range(12)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(30)
    allowed = [results.get(timeout=5) for _ in processes]
    assert sum(allowed) == 5


def test_django_incr_on_the_file_cache_is_what_these_counters_replace(tmp_path):
    """The bug the counters fix, kept visible: FileBasedCache.incr re-saves the value
    with the default timeout, so a 2-second counter lives 300 seconds."""
    cache = FileBasedCache(str(tmp_path), {})
    cache.add("n", 0, timeout=2)
    cache.incr("n")
    with open(cache._key_to_file("n"), "rb") as handle:
        expires = pickle.load(handle)
    assert expires - time.time() > 200
    store = counters.store_for(cache)
    store.hit("m", limit=5, window=2)
    with open(cache._key_to_file("m"), "rb") as handle:
        expires = pickle.load(handle)
    assert expires - time.time() < 4
