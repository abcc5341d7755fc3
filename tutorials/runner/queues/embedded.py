"""
The embedded queue: runs wait in this process's memory and are run by
``RUNNER_MAX_CONCURRENCY`` threads of this process.

A thread first waits for one of the host's run slots (``pool.slots.hold()``),
then takes the next job, lowest level first: every process of the host competes
for the same slots, and each picks its fairest job when it gets one. The job's
state and outcome go to the default cache under ``runner:job:<id>`` for polls
that any process of the host may answer; a job whose process died shows as lost
once its deadline has passed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

from django.core.cache import cache

from ... import metrics
from .. import jobs, limits, pool
from . import Pending

logger = logging.getLogger("tutorials.runner")

GRACE = 10  # seconds past a job's own deadline before a poll calls it lost


def _key(job_id: str) -> str:
    return f"runner:job:{job_id}"


class EmbeddedQueue:
    def __init__(self):
        self.levels: list[deque[jobs.Job]] = [
            deque() for _ in range(max(1, limits.get("PRIORITY_LEVELS")))
        ]
        self.condition = threading.Condition()
        self.done: dict[str, threading.Event] = {}
        self.handed: dict[str, jobs.Outcome] = {}  # outcomes for run requests still waiting
        self.threads: list[threading.Thread] = []
        self.active = 0  # jobs submitted and not yet run and counted
        self.closed = False

    # The web side.

    def submit(self, job: jobs.Job) -> None:
        deadline = job.submitted + limits.get("QUEUE_TIMEOUT") + self._run_time()
        cache.set(_key(job.id), {"state": "queued", "deadline": deadline}, self._ttl())
        with self.condition:
            self.done[job.id] = threading.Event()
            self.active += 1
            self.levels[min(job.level, len(self.levels) - 1)].append(job)
            metrics.RUNNER_QUEUE_DEPTH.inc()
            self._start_threads()
            self.condition.notify_all()  # each slot's thread waits for its slot

    def wait(self, job_id: str, timeout: float) -> jobs.Outcome | None:
        event = self.done.get(job_id)
        if event is not None:
            event.wait(timeout)
        with self.condition:  # only the run request waits on it
            self.done.pop(job_id, None)
            handed = self.handed.pop(job_id, None)
        if handed is not None:
            return handed  # straight from the thread that ran it: no cache read
        found = self.outcome(job_id)
        return found if isinstance(found, jobs.Outcome) else None

    def outcome(self, job_id: str) -> jobs.Outcome | Pending | None:
        record = cache.get(_key(job_id))
        if record is None:
            return None
        if "outcome" in record:
            return jobs.Outcome(**record["outcome"])
        if time.time() > record["deadline"] + GRACE:
            return jobs.Outcome(503, {"error": jobs.LOST})  # its process died
        return Pending(record["state"])

    def waiting(self) -> int:
        with self.condition:
            return sum(len(level) for level in self.levels)

    # The running side.

    def _start_threads(self) -> None:
        """One thread per run slot of the host (called with the condition held)."""
        running = {thread.index for thread in self.threads if thread.is_alive()}
        self.threads = [thread for thread in self.threads if thread.is_alive()]
        for index in range(limits.get("MAX_CONCURRENCY")):
            if index not in running:
                thread = threading.Thread(
                    target=self._dispatch, args=(index,), name=f"runner-queue-{index}", daemon=True
                )
                thread.index = index
                thread.start()
                self.threads.append(thread)

    def _dispatch(self, index: int) -> None:
        while not self.closed:
            with self.condition:
                while not self.closed and not self.waiting_unlocked():
                    self.condition.wait()
            if self.closed or index >= limits.get("MAX_CONCURRENCY"):
                return  # fewer slots now (a changed setting)
            # Blocked in flock until slot ``index`` is free, then the fairest job.
            later: list = []
            job = None
            try:
                with pool.slots.hold(wanted=self.waiting, index=index) as held:
                    job = self._next() if held else None
                    if job is not None:
                        self._run(job, later)
            finally:
                if job is not None:
                    self._count(later)

    def waiting_unlocked(self) -> bool:
        return any(self.levels)

    def _next(self) -> jobs.Job | None:
        with self.condition:
            for level in self.levels:
                if level:
                    metrics.RUNNER_QUEUE_DEPTH.dec()
                    return level.popleft()
        return None

    def _run(self, job: jobs.Job, later: list) -> None:
        deadline = time.time() + self._run_time()
        cache.set(_key(job.id), {"state": "running", "deadline": deadline}, self._ttl())
        published = False

        def publish(outcome: jobs.Outcome) -> None:
            # The waiting run request first (it answers with it), then the cache,
            # for polls, which any process of the host may answer.
            nonlocal published
            published = True
            with self.condition:
                event = self.done.get(job.id)
                if event is not None:
                    self.handed[job.id] = outcome
                    event.set()
            cache.set(_key(job.id), {"outcome": outcome.to_dict()}, limits.get("RESULT_TTL"))

        try:
            jobs.execute(job, publish, later)
        except Exception:
            logger.exception("Code runner: a queued run failed")
            if not published:
                publish(jobs.Outcome(503, {"error": jobs.LOST}))

    def _count(self, later: list) -> None:
        """The run's bookkeeping, out of its slot; then the job is no longer active."""
        try:
            for bookkeeping in later:
                bookkeeping()
        finally:
            with self.condition:
                self.active -= 1
                self.condition.notify_all()

    def idle(self, timeout: float) -> bool:
        """Wait until every job submitted here has been run and counted (the
        counting comes after the answer); False if that took over ``timeout``."""
        deadline = time.monotonic() + timeout
        with self.condition:
            while self.active:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.condition.wait(remaining)
        return True

    @staticmethod
    def _run_time() -> float:
        current = limits.current()
        return current.wall_timeout + current.startup_timeout

    def _ttl(self) -> int:
        return int(limits.get("QUEUE_TIMEOUT") + self._run_time() + limits.get("RESULT_TTL"))

    def close(self) -> None:
        with self.condition:
            self.closed = True
            self.condition.notify_all()
