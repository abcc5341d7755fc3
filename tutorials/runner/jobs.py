"""
A run as a job: what the queue carries, and the one function that carries it out.

A job's ``payload`` is the dict the run endpoint built (``code``, and ``checks`` and
``exercise`` for an exercise); it is passed through untouched, so fields can be
added. ``execute()`` runs it with ``pool.run()`` and answers with an ``Outcome``:
the HTTP status and JSON body the page gets, whichever process ran it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from django.db.utils import OperationalError

from .. import exercises, metrics
from . import limits, pool, throttle

logger = logging.getLogger("tutorials.runner")

GAVE_UP = "The code runner was too busy to start your run in time; please run it again."
LOST = "The code runner stopped while running your code; please run it again."
UNAVAILABLE = "Running code is unavailable on this server right now."


@dataclass
class Job:
    """One run waiting for, or having, its turn."""

    payload: dict
    client: str
    admission: throttle.Admission
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    submitted: float = field(default_factory=time.time)  # seconds since the epoch

    @property
    def level(self) -> int:
        """The priority level it waits at: its place among its client's runs."""
        return min(self.admission.place, max(1, limits.get("PRIORITY_LEVELS")) - 1)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Job:
        return cls(**{**data, "admission": throttle.Admission(**data["admission"])})


@dataclass
class Outcome:
    """What the page gets for a finished job: an HTTP status and a JSON body."""

    status: int
    body: dict

    def to_dict(self) -> dict:
        return asdict(self)


def execute(
    job: Job,
    publish: Callable[[Outcome], None] | None = None,
    later: list[Callable[[], None]] | None = None,
) -> Outcome:
    """
    Run the job's payload in a sandbox (the caller holds a run slot, see
    ``pool.slots.hold()``) and give back its client's tickets, whatever happens.
    A job that waited longer than ``RUNNER_QUEUE_TIMEOUT`` is not run.

    ``publish``, if given, gets the outcome as soon as it is known; the
    bookkeeping (metrics, an exercise's counters) comes after it, so the learner
    does not wait for a database write. With ``later``, that bookkeeping is
    appended to it instead, for the caller to do once it has let go of its run
    slot: a database write should not keep the next run waiting.
    """
    result = None
    try:
        if time.time() - job.submitted > limits.get("QUEUE_TIMEOUT"):
            outcome = Outcome(503, {"error": GAVE_UP})
        else:
            throttle.started(job.client, job.admission)
            try:
                result = run_payload(job.payload)
                outcome = Outcome(200, result.to_dict())
            except pool.SandboxUnavailable as unavailable:
                metrics.record_refused_run()
                outcome = Outcome(503, {"error": str(unavailable) or UNAVAILABLE})
        if publish is not None:
            publish(outcome)
        if result is not None:
            if later is None:
                _count(job, result)
            else:
                later.append(lambda: _count(job, result))
        return outcome
    finally:
        throttle.finished(job.client, job.admission)


COUNT_ATTEMPTS = 20  # tries of an exercise's count while its table is locked
COUNT_RETRY_SECONDS = 0.05


def _count(job: Job, result) -> None:
    """The run's metrics and, for an exercise, its counters; a failure here is
    logged and never costs the learner the result. A locked table (another
    request reading it, on an SQLite shared cache) is waited out for about a
    second, so that the count is not lost either."""
    try:
        metrics.record_run(result)
        if "exercise" not in job.payload:
            return
        for attempt in range(COUNT_ATTEMPTS):
            try:
                exercises.record(job.payload, result)  # counts only: attempts and passes
                return
            except OperationalError:
                if attempt == COUNT_ATTEMPTS - 1:
                    raise
                time.sleep(COUNT_RETRY_SECONDS)
    except Exception:
        logger.exception("Code runner: could not count a finished run")


def run_payload(payload: dict):
    """``pool.run()`` with what the payload carries: the code, and checks if any."""
    extra = {"checks": payload["checks"]} if payload.get("checks") is not None else {}
    return pool.run(payload["code"], **extra)


def run_job(data: dict) -> dict:
    """The function runner workers call (``manage.py runner_worker``): one slot, one job."""
    job = Job.from_dict(data)
    later = []
    with pool.slots.hold():
        outcome = execute(job, later=later)
    for bookkeeping in later:
        bookkeeping()
    return outcome.to_dict()
