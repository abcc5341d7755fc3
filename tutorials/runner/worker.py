"""
The runner worker of the "redis" queue: an RQ ``SimpleWorker`` (jobs run in this
process, next to its warm pool; no fork per job) that keeps beating while a job
runs, so that a worker killed mid-run is noticed within ``RUNNER_LOST_AFTER``
seconds rather than RQ's default of the job's timeout plus a minute.
"""

from __future__ import annotations

import logging
import threading

from rq import SimpleWorker

from . import limits

logger = logging.getLogger("tutorials.runner")


class RunnerWorker(SimpleWorker):
    def get_heartbeat_ttl(self, job) -> int:
        return max(2, int(limits.get("LOST_AFTER")))

    def execute_job(self, job, queue) -> None:
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(limits.get("HEARTBEAT")):
                try:
                    if self.execution is not None:
                        self.maintain_heartbeats(job)
                except Exception:  # a missed beat only makes the job look lost sooner
                    logger.warning("Code runner: a worker heartbeat failed", exc_info=True)

        thread = threading.Thread(target=beat, name="runner-heartbeat", daemon=True)
        thread.start()
        try:
            super().execute_job(job, queue)
        finally:
            stop.set()
            thread.join()
