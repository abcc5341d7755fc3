"""
``manage.py runner_worker``: run learners' code from the Redis queue (RUNNER_QUEUE=redis).

Each process runs one job at a time, next to its own warm pool; start about
RUNNER_MAX_CONCURRENCY of them per host (the host's run slots cap them anyway), on
as many hosts as needed. SIGTERM finishes the current run and exits.
"""

from django.core.management.base import BaseCommand, CommandError

from tutorials.runner import limits, pool, queues
from tutorials.runner.sandbox import availability


class Command(BaseCommand):
    help = (
        "Run code samples queued on Redis (RUNNER_QUEUE=redis, RUNNER_REDIS_URL); "
        "one run at a time per process."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--burst", action="store_true", help="Exit once the queues are empty (for tests)."
        )
        parser.add_argument("--name", help="The worker's name in RQ (default: host and pid).")

    def handle(self, *args, **options):
        from tutorials.runner.queues.redis import RedisQueue
        from tutorials.runner.worker import RunnerWorker

        try:
            url = queues.redis_url()
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        state = availability()
        if not state.sandboxed and pool.require_sandbox():
            raise CommandError(f"Cannot run code here: {state.reason}")
        backend = RedisQueue(url)
        pool.get_pool()  # start warming sandboxes before the first job
        worker = RunnerWorker(
            backend.queues, connection=backend.connection, name=options["name"] or None
        )
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"Runner worker {worker.name}: {limits.get('POOL_SIZE')} warm sandboxes, "
                f"listening on {len(backend.queues)} priority queues."
            )
        worker.work(
            burst=options["burst"],
            logging_level="INFO" if options["verbosity"] >= 2 else "WARNING",
            with_scheduler=False,
        )
