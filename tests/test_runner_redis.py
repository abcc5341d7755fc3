"""
The scale-out mode for real: runs queued on Redis (RQ) and run by two
``manage.py runner_worker`` processes, one of them killed mid-run.

Skipped unless REDIS_URL points at a Redis database these tests may flush
(``make test-runner-redis`` sets it; .ci/run calls that).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.factories import make_section, make_tutorial
from tutorials.runner import queues
from tutorials.runner.testing import finish, isolate, run_url

REDIS_URL = os.environ.get("REDIS_URL", "")

# Run by make test-runner-redis (REDIS_URL set); `make test` deselects the marker.
pytestmark = pytest.mark.redis


@pytest.fixture(autouse=True)
def _redis_url_is_set():
    if not REDIS_URL:
        pytest.fail("REDIS_URL is not set: run the redis tests with make test-runner-redis")


LOST_AFTER = 3  # seconds: how soon a killed worker's run is noticed, kept short here


@pytest.fixture
def redis_mode(settings, tmp_path_factory):
    isolate(settings, tmp_path_factory.getbasetemp())
    settings.RUNNER_QUEUE = "redis"
    settings.RUNNER_REDIS_URL = REDIS_URL
    settings.RUNNER_LOST_AFTER = LOST_AFTER
    queues.reset()
    queues.backend().connection.flushdb()
    yield queues.backend()
    queues.reset()


class Workers:
    """Runner worker processes, started and stopped by PID."""

    def __init__(self, lock_dir: Path):
        self.lock_dir = lock_dir
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, count: int, *extra: str, **env) -> list[str]:
        names = []
        for index in range(count):
            name = f"test-{uuid.uuid4().hex[:8]}"
            environment = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "RUNNER_QUEUE": "redis",
                "RUNNER_REDIS_URL": REDIS_URL,
                "RUNNER_LOST_AFTER": str(LOST_AFTER),
                "RUNNER_POOL_SIZE": "1",
                # Their own slots and uids, apart from this test process's.
                "RUNNER_LOCK_DIR": str(self.lock_dir),
                "RUNNER_UID_BASE": str(64000 + 40 * len(self.processes) + 40 * index),
                "RUNNER_UID_COUNT": "32",
                **env,
            }
            self.processes[name] = subprocess.Popen(
                [sys.executable, "manage.py", "runner_worker", "--name", name, *extra],
                cwd=django_settings.BASE_DIR,
                env=environment,
            )
            names.append(name)
        return names

    def wait_registered(self, backend, count: int) -> None:
        deadline = time.monotonic() + 60
        while backend.workers() < count:
            assert time.monotonic() < deadline, "runner workers did not start"
            time.sleep(0.1)

    def kill(self, name: str) -> None:
        process = self.processes[name]
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(5)


@pytest.fixture
def workers(redis_mode, tmp_path):
    group = Workers(tmp_path / "worker-locks")
    yield group
    group.stop()


def submit(code, address="127.0.0.1", client=None):
    client = client or Client()
    return client.post(
        run_url_cached(), {"code": code}, content_type="application/json", REMOTE_ADDR=address
    )


def run_url_cached():
    from django.urls import reverse

    return reverse("runner:run")


def job_of(backend, response):
    from rq.job import Job

    return Job.fetch(response.json()["job"], connection=backend.connection)


def test_runs_are_run_by_the_runner_workers_warm(workers, redis_mode, settings):
    run_url(settings)
    workers.start(2)
    workers.wait_registered(redis_mode, 2)
    status = Client().get("/run/status/").json()
    assert status["queue"] == "redis"
    assert status["available"] is True
    assert status["workers"] == 2
    client = Client()
    result = finish(client, submit("print('hello from a worker')", client=client))
    assert result.status_code == 200
    data = result.json()
    assert data["output"][0]["text"] == "hello from a worker\n"
    assert data["sandbox"] == "bwrap"
    # The warm pools live in the workers: once they have warmed up, runs are warm.
    deadline = time.monotonic() + 60
    while not data["warm"]:
        assert time.monotonic() < deadline, "no warm run from the workers"
        time.sleep(1)
        data = finish(client, submit("print(2)", client=client)).json()
    # Nothing is left counted once the run is over.
    assert redis_mode.store.count("runner:site") == 0


def test_a_worker_killed_mid_run_gives_the_learner_a_retried_result_and_pages_stay_up(
    workers, redis_mode, settings, db
):
    run_url(settings)
    settings.RUNNER_ANSWER_WAIT = 0
    lesson = make_tutorial(make_section(slug="basics"), slug="receivers")
    workers.start(2)
    workers.wait_registered(redis_mode, 2)
    client = Client()
    response = submit("import time\ntime.sleep(2)\nprint('survived')", client=client)
    assert response.status_code == 202
    job = job_of(redis_mode, response)
    deadline = time.monotonic() + 30
    while job.get_status(refresh=True) != "started":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    job.refresh()
    workers.kill(job.worker_name)
    assert Client().get(lesson.get_absolute_url()).status_code == 200
    result = finish(client, response, timeout=60)
    assert result.status_code == 200
    assert result.json()["output"] == [{"stream": "stdout", "text": "survived\n"}]
    assert job_of(redis_mode, response).worker_name != job.worker_name
    assert Client().get(lesson.get_absolute_url()).status_code == 200


def test_a_run_whose_every_worker_dies_gets_a_clear_error(workers, redis_mode, settings):
    run_url(settings)
    settings.RUNNER_ANSWER_WAIT = 0
    workers.start(2)
    workers.wait_registered(redis_mode, 2)
    client = Client()
    response = submit("import time\ntime.sleep(20)", client=client)
    job = job_of(redis_mode, response)
    killed = set()
    deadline = time.monotonic() + 60
    # Kill whichever worker runs it, twice: its one retry dies too.
    while len(killed) < 2:
        assert time.monotonic() < deadline
        Client().get(response.json()["poll"])  # polls are what notice the lost run
        job.refresh()
        if job.get_status() == "started" and job.worker_name not in killed:
            workers.kill(job.worker_name)
            killed.add(job.worker_name)
        time.sleep(0.1)
    result = finish(client, response, timeout=60)
    assert result.status_code == 503
    assert "stopped while running your code" in result.json()["error"]


def test_runs_are_taken_round_robin_between_clients(workers, redis_mode, settings):
    run_url(settings)
    settings.RUNNER_ANSWER_WAIT = 0
    # Queued while no worker runs: then one worker takes them in its order.
    pending = [submit(f"print('class {n}')", "203.0.113.1") for n in range(4)]
    pending.append(submit("print('other')", "203.0.113.2"))
    assert {response.status_code for response in pending} == {202}
    workers.start(1, "--burst", RUNNER_MAX_CONCURRENCY="1")
    results = [finish(Client(), response, timeout=120) for response in pending]
    assert all(result.status_code == 200 for result in results)
    started = sorted(pending, key=lambda response: job_of(redis_mode, response).started_at)
    assert [job_of(redis_mode, r).id for r in started] == [
        job_of(redis_mode, r).id for r in (pending[0], pending[4], *pending[1:4])
    ]
