"""
The scale-out queue: runs are RQ jobs on Redis, run by ``manage.py runner_worker``.

Each priority level is an RQ queue (``runner-00``, ``runner-01``...); a worker
listens on all of them in that order, so it always takes the lowest level's
oldest job. Outcomes are the jobs' return values, kept ``RUNNER_RESULT_TTL``.

A worker that dies mid-run stops its heartbeats; ``LOST_AFTER`` seconds later
RQ's started-job registry counts the job as abandoned, and its cleanup (run by
any poll of the job, and by the workers' maintenance) puts it back at the front
of its queue once (``Retry(max=1)``) or marks it failed: the learner gets the
retried result or a clear error.
"""

from __future__ import annotations

import redis as redis_client
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job as RQJob
from rq.job import JobStatus
from rq.registry import StartedJobRegistry
from rq.results import Result

from ... import counters
from .. import jobs, limits
from . import Pending

PREFIX = "runner-"


def queue_names() -> list[str]:
    """The queues, highest priority first."""
    return [f"{PREFIX}{level:02d}" for level in range(max(1, limits.get("PRIORITY_LEVELS")))]


class RedisQueue:
    def __init__(self, url: str):
        self.connection = redis_client.Redis.from_url(url)
        self.store = counters.RedisStore(self.connection)
        self.queues = [Queue(name, connection=self.connection) for name in queue_names()]

    def submit(self, job: jobs.Job) -> None:
        current = limits.current()
        self.queues[min(job.level, len(self.queues) - 1)].enqueue(
            jobs.run_job,
            job.to_dict(),
            job_id=job.id,
            description="code run",
            # RQ's own backstop; the sandbox enforces the real limits.
            job_timeout=int(current.wall_timeout + current.startup_timeout + 10),
            ttl=int(limits.get("QUEUE_TIMEOUT")),
            result_ttl=limits.get("RESULT_TTL"),
            failure_ttl=limits.get("RESULT_TTL"),
            retry=Retry(max=1),
            on_failure=None,
        )

    def wait(self, job_id: str, timeout: float) -> jobs.Outcome | None:
        block = int(timeout * 1000)
        if block > 0:
            # RQ appends each result to a stream: block on it, as Job.latest_result does.
            self.connection.xread({Result.get_key(job_id): "0-0"}, block=block)
        found = self.outcome(job_id)
        return found if isinstance(found, jobs.Outcome) else None

    def outcome(self, job_id: str) -> jobs.Outcome | Pending | None:
        try:
            job = RQJob.fetch(job_id, connection=self.connection)
        except NoSuchJobError:
            return None
        status = job.get_status()
        if status == JobStatus.STARTED:
            # Retry it (or fail it) if its worker stopped beating.
            StartedJobRegistry(job.origin, connection=self.connection).cleanup()
            status = job.get_status()
        if status == JobStatus.FINISHED:
            value = job.return_value()
            return jobs.Outcome(**value) if value else None
        if status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
            return jobs.Outcome(503, {"error": jobs.LOST})
        return Pending("running" if status == JobStatus.STARTED else "queued")

    def workers(self) -> int:
        """Runner workers alive (registered and beating)."""
        from rq import Worker

        return Worker.count(connection=self.connection)

    def close(self) -> None:
        self.connection.close()
