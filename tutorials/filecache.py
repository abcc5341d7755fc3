"""
The default cache on one host without Redis: Django's ``FileBasedCache``, culled
at most once a second per process.

``FileBasedCache`` lists every file of its directory on every ``set()`` to see
whether it is over ``MAX_ENTRIES``; the code runner writes a few entries per run
(its tickets and the job's state), so with a few hundred entries that listing was
most of a run's cost outside the sandbox (about 1 ms of 1.3 for the tickets).
Here the count is made at most every ``CULL_INTERVAL`` seconds: the cache may go
over ``MAX_ENTRIES`` by the entries written in between, then is culled as before.
"""

from __future__ import annotations

import time

from django.core.cache.backends.filebased import FileBasedCache

CULL_INTERVAL = 1.0  # seconds


class FileCache(FileBasedCache):
    def __init__(self, dir, params):
        super().__init__(dir, params)
        self._next_cull = 0.0

    def _cull(self):
        now = time.monotonic()
        if now < self._next_cull:
            return
        self._next_cull = now + CULL_INTERVAL
        super()._cull()
