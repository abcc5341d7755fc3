"""
The embedded queue through the run endpoint: runs wait in a queue, not in a web
thread; clients share it round-robin; tickets and counters heal by themselves;
malformed JSON of any shape is a 400.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time

import pytest
from django.core.cache import cache
from django.db.utils import OperationalError
from django.test import Client, RequestFactory

from tutorials.clients import client_key
from tutorials.runner import jobs, limits, pool, queues, throttle
from tutorials.runner.testing import finish, isolate
from tutorials.runner.uids import lock_dir


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path_factory):
    isolate(settings, tmp_path_factory.getbasetemp())
    settings.RUNNER_POOL_SIZE = 0


def submit(url, code, address="127.0.0.1", client=None):
    client = client or Client()
    return client.post(url, {"code": code}, content_type="application/json", REMOTE_ADDR=address)


class HeldSlots:
    """Every run slot of the host taken, as by runs of other processes."""

    def __init__(self, count):
        self.fds = []
        for index in range(count):
            fd = os.open(os.path.join(lock_dir(), f"slot-{index}.lock"), os.O_RDWR | os.O_CREAT)
            fcntl.flock(fd, fcntl.LOCK_EX)
            self.fds.append(fd)

    def release(self):
        for fd in self.fds:
            os.close(fd)
        self.fds = []


def test_a_slow_run_answers_202_at_once_then_its_result_by_polling(url, settings):
    settings.RUNNER_ANSWER_WAIT = 0.2
    client = Client()
    client.get("/run/status/")  # probes bubblewrap once, before the timing
    started = time.monotonic()
    response = submit(url, "import time\ntime.sleep(1.5)\nprint('done')", client=client)
    answered = time.monotonic() - started
    assert response.status_code == 202
    assert answered < 1.0  # the web thread is free long before the run ends
    body = response.json()
    assert body["status"] in ("queued", "running")
    assert body["poll"] == response["Location"] == f"/run/jobs/{body['job']}/"
    assert client.get(body["poll"]).status_code == 202
    result = finish(client, response)
    assert result.status_code == 200
    assert result.json()["output"] == [{"stream": "stdout", "text": "done\n"}]
    # A result can be fetched again (another tab, a retried poll) until it expires.
    assert client.get(body["poll"]).json()["output"][0]["text"] == "done\n"


def test_a_fast_warm_run_is_answered_by_the_run_request_itself(url, settings):
    settings.RUNNER_POOL_SIZE = 1
    warm = pool.get_pool()
    deadline = time.monotonic() + 30
    while not warm.ready and time.monotonic() < deadline:
        time.sleep(0.05)
    response = submit(url, "print('quick')")
    assert response.status_code == 200
    assert response.json()["output"][0]["text"] == "quick\n"
    assert response.json()["warm"] is True


def test_the_run_request_gets_its_outcome_from_the_running_thread_not_the_cache(
    url, monkeypatch, settings
):
    # The cache copy is for polls; the request that waits is handed the outcome.
    from tutorials.runner.queues.embedded import EmbeddedQueue

    settings.RUNNER_ANSWER_WAIT = 20  # a cold sandbox here: wait for it

    monkeypatch.setattr(EmbeddedQueue, "outcome", lambda self, job_id: None)
    response = submit(url, "print('handed over')")
    assert response.status_code == 200
    assert response.json()["output"][0]["text"] == "handed over\n"


def test_unknown_or_malformed_job_ids_are_404(client, db):
    assert client.get("/run/jobs/" + "0" * 32 + "/").status_code == 404
    assert "run it again" in client.get("/run/jobs/" + "0" * 32 + "/").json()["error"]
    assert client.get("/run/jobs/not-a-job/").status_code == 404


def test_clients_take_turns_and_each_clients_runs_keep_their_order(url, settings, monkeypatch):
    settings.RUNNER_MAX_CONCURRENCY = 1
    settings.RUNNER_ANSWER_WAIT = 0
    order = []
    real = jobs.run_payload

    def recording(payload):
        order.append(payload["code"])
        return real(payload)

    monkeypatch.setattr(jobs, "run_payload", recording)
    slots = HeldSlots(1)
    try:
        pending = [submit(url, f"print('class {n}')", "203.0.113.1") for n in range(5)]
        pending.append(submit(url, "print('other')", "203.0.113.2"))
        assert {response.status_code for response in pending} == {202}
    finally:
        slots.release()
    results = [finish(Client(), response) for response in pending]
    assert [r.json()["output"][0]["text"] for r in results] == [
        *(f"class {n}\n" for n in range(5)),
        "other\n",
    ]
    # The other address's one run went right after the classroom's first.
    assert order == [
        "print('class 0')",
        "print('other')",
        *(f"print('class {n}')" for n in range(1, 5)),
    ]


def test_a_full_client_queue_answers_429_other_clients_still_queue(url, settings):
    settings.RUNNER_CLIENT_QUEUE = 2
    settings.RUNNER_ANSWER_WAIT = 0
    slots = HeldSlots(limits.get("MAX_CONCURRENCY"))
    try:
        first = [submit(url, "print(1)", "203.0.113.5") for _ in range(2)]
        refused = submit(url, "print(1)", "203.0.113.5")
        other = submit(url, "print(2)", "203.0.113.6")
    finally:
        slots.release()
    assert [r.status_code for r in first] == [202, 202]
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert "most runs waiting" in refused.json()["error"]
    assert other.status_code == 202
    for response in [*first, other]:
        assert finish(Client(), response).status_code == 200
    # All given back: the client can queue again.
    assert throttle.queued(_key("203.0.113.5")) == 0
    assert submit(url, "print(3)", "203.0.113.5").status_code in (200, 202)


def _key(address):
    return client_key(RequestFactory().get("/", REMOTE_ADDR=address))


def test_a_saturated_site_answers_429_with_retry_after(url, settings):
    settings.RUNNER_QUEUE_LIMIT = 1
    settings.RUNNER_ANSWER_WAIT = 0
    slots = HeldSlots(limits.get("MAX_CONCURRENCY"))
    try:
        queued = submit(url, "print(1)", "203.0.113.7")
        refused = submit(url, "print(1)", "203.0.113.8")
    finally:
        slots.release()
    assert queued.status_code == 202
    assert refused.status_code == 429
    assert refused["Retry-After"] == "2"
    assert finish(Client(), queued).status_code == 200


def test_a_burst_from_one_address_never_sticks(url, settings):
    """The counter_race reproduction: 12 parallel runs from one address, then nothing
    of them is left counted and the next run is accepted."""
    barrier = threading.Barrier(12)
    answers = []

    def run(_):
        client = Client()
        barrier.wait()
        answers.append(finish(client, submit(url, "print('x')", "203.0.113.9", client)))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert [a.status_code for a in answers] == [200] * 12
    assert throttle.queued(_key("203.0.113.9")) == 0
    assert throttle.store().count(throttle.SITE) == 0


def test_tickets_of_runs_lost_with_their_process_expire_by_themselves(settings):
    settings.RUNNER_CLIENT_QUEUE = 2
    settings.RUNNER_QUEUE_TIMEOUT = 0.5
    client = _key("203.0.113.10")
    throttle.admit(client)
    throttle.admit(client)  # both lost: never finished
    with pytest.raises(throttle.Refused):
        throttle.admit(client)
    time.sleep(0.5 + throttle.GRACE + 0.2)
    assert throttle.queued(client) == 0
    throttle.admit(client)


def test_a_run_that_waited_too_long_is_answered_busy_not_run(url, settings):
    settings.RUNNER_QUEUE_TIMEOUT = 0.3
    settings.RUNNER_ANSWER_WAIT = 0
    slots = HeldSlots(limits.get("MAX_CONCURRENCY"))
    try:
        response = submit(url, "print('late')")
        time.sleep(0.5)
    finally:
        slots.release()
    result = finish(Client(), response)
    assert result.status_code == 503
    assert "too busy" in result.json()["error"]


def test_a_run_whose_process_died_is_reported_lost(client):
    # What a web process that died mid-run leaves behind: a state past its deadline.
    job_id = "a" * 32
    cache.set(f"runner:job:{job_id}", {"state": "running", "deadline": time.time() - 60})
    response = client.get(f"/run/jobs/{job_id}/")
    assert response.status_code == 503
    assert "stopped while running your code" in response.json()["error"]


def test_job_payload_fields_are_passed_through_to_the_run(monkeypatch):
    seen = {}

    def fake_run(code, **extra):
        seen.update(code=code, **extra)
        return jobs.pool.RunResult()

    monkeypatch.setattr(jobs.pool, "run", fake_run)
    checks = [{"name": "saves once", "source": "assert True, 'saves once'"}]
    jobs.run_payload({"code": "x = 1", "checks": checks, "exercise": "a/b"})
    assert seen == {"code": "x = 1", "checks": checks}
    seen.clear()
    jobs.run_payload({"code": "y = 2"})
    assert seen == {"code": "y = 2"}


def test_the_answer_is_published_before_the_counting_which_cannot_lose_it(monkeypatch):
    # An exercise's counters are a database write: the learner's result goes out
    # first; a locked table (another request reading it) is waited out, and a write
    # that keeps failing is logged, the result kept.
    events = []
    monkeypatch.setattr(jobs.pool, "run", lambda code, **extra: jobs.pool.RunResult())
    monkeypatch.setattr(jobs.metrics, "record_run", lambda result: events.append("metrics"))
    monkeypatch.setattr(jobs, "COUNT_RETRY_SECONDS", 0.001)

    def locked_twice(payload, result):
        events.append("record")
        if events.count("record") <= 2:
            raise OperationalError("database table is locked: tutorials_exercise")
        events.append("counted")

    def job():
        return jobs.Job(
            payload={"code": "x = 1", "exercise": "a/b"},
            client="client-a",
            admission=throttle.admit("client-a"),
        )

    monkeypatch.setattr(jobs.exercises, "record", locked_twice)
    outcome = jobs.execute(job(), publish=lambda outcome: events.append(outcome.status))
    assert events == [200, "metrics", "record", "record", "record", "counted"]
    assert outcome.status == 200

    def always_locked(payload, result):
        raise OperationalError("database is locked")

    monkeypatch.setattr(jobs.exercises, "record", always_locked)
    assert jobs.execute(job()).status == 200
    assert throttle.admit("client-a").place == 0  # the tickets were given back too


def test_a_run_is_counted_after_its_run_slot_is_free(url, settings, monkeypatch):
    # Counting is a database write: the next run must not wait for it.
    settings.RUNNER_MAX_CONCURRENCY = 1
    slot_free_while_counting = []

    def record_run(result):
        # The sandbox's clean-up keeps the slot for a few ms more; the count must not.
        deadline, fd = time.monotonic() + 5, None
        while fd is None and time.monotonic() < deadline:
            fd = pool.slots._try(1)
            time.sleep(0.01)
        slot_free_while_counting.append(fd is not None)
        if fd is not None:
            os.close(fd)

    monkeypatch.setattr(jobs.metrics, "record_run", record_run)
    response = submit(url, "print('counted')")
    assert finish(Client(), response).status_code == 200
    assert queues.wait_idle(30)
    assert slot_free_while_counting == [True]


def test_sandboxes_run_at_the_lowest_cpu_priority(url, settings):
    del settings.RUNNER_NICE  # the production default
    data = finish(Client(), submit(url, "import os\nprint(os.nice(0))")).json()
    assert data["output"][0]["text"] == "19\n"


def test_runner_settings_are_read_from_the_environment_too(monkeypatch, settings):
    monkeypatch.setenv("RUNNER_QUEUE_LIMIT", "7")
    monkeypatch.setenv("RUNNER_ANSWER_WAIT", "0.5")
    monkeypatch.setenv("RUNNER_WALL_TIMEOUT", "3")
    monkeypatch.setenv("RUNNER_QUEUE", "redis")
    monkeypatch.setenv("RUNNER_REDIS_URL", "redis://127.0.0.1:6379/11")
    assert limits.get("QUEUE_LIMIT") == 7
    assert limits.get("ANSWER_WAIT") == 0.5
    assert limits.current().wall_timeout == 3.0
    assert queues.mode() == "redis"
    assert queues.redis_url() == "redis://127.0.0.1:6379/11"
    settings.RUNNER_QUEUE_LIMIT = 9  # a Django setting wins over the environment
    assert limits.get("QUEUE_LIMIT") == 9
    monkeypatch.setenv("RUNNER_QUEUE", "carrier-pigeon")
    with pytest.raises(ValueError, match="embedded"):
        queues.mode()


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b"{" * 100_000,
        b'{"code": ' + b"[" * 100_000 + b"}",
        b'{"code": "x"' + b"," * 10,
        b"\xff\xfe\x00",
        b'{"code": ' + b"9" * 5000 + b"}",
        b'"just a string"',
        b"null",
        b'{"code": ["print(1)"]}',
        b'{"code": "print(1)", "exercise": 3}',
    ],
)
def test_malformed_json_of_any_shape_is_a_400(client, url, body):
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]


def test_an_unreachable_queue_is_a_503_not_a_500(client, url, settings):
    settings.RUNNER_QUEUE = "redis"
    settings.RUNNER_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    queues.reset()
    try:
        response = submit(url, "print(1)", client=client)
        assert response.status_code == 503
        assert "try again" in response.json()["error"]
        assert client.get("/run/jobs/" + "b" * 32 + "/").status_code == 503
    finally:
        queues.reset()
