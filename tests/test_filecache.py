"""The default cache without Redis: FileBasedCache, culled at most once a second."""

from __future__ import annotations

import pytest

from tutorials import filecache


@pytest.fixture
def cache(tmp_path):
    return filecache.FileCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 10, "CULL_FREQUENCY": 2}})


def test_sets_list_the_directory_at_most_once_per_interval(cache, monkeypatch):
    listings = []
    listing = cache._list_cache_files
    monkeypatch.setattr(cache, "_list_cache_files", lambda: listings.append(1) or listing())
    for n in range(50):
        cache.set(f"key-{n}", n)
    assert len(listings) == 1  # Django's FileBasedCache lists it on each of the 50 sets
    assert cache.get("key-49") == 49


def test_the_cache_is_still_culled_once_the_interval_has_passed(cache, monkeypatch):
    for n in range(30):
        cache.set(f"key-{n}", n)
    assert len(cache._list_cache_files()) == 30  # over MAX_ENTRIES between counts
    monkeypatch.setattr(filecache, "CULL_INTERVAL", 0.0)
    cache._next_cull = 0.0
    cache.set("one-more", 1)
    assert len(cache._list_cache_files()) <= 16  # culled: half of what was there, + 1
