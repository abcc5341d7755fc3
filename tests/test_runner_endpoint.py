"""The run endpoint: JSON in and out, CSRF, limits, 429s, the warm pool, the system check."""

from __future__ import annotations

import json
import time

import pytest
from django.core.checks import Tags, run_checks
from django.test import Client
from django.urls import reverse

from tutorials.runner import pool
from tutorials.runner.checks import check_sandbox
from tutorials.runner.testing import finish, isolate, run_url

SIGNAL_SAMPLE = """\
from django.db import models
from django.db.models.signals import post_save

class Article(models.Model):
    title = models.CharField(max_length=100)

def announce(sender, instance, created, **kwargs):
    print(f"Saved {instance.title}")

post_save.connect(announce, sender=Article)
Article.objects.create(title="Hello")
"""


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path_factory):
    isolate(settings, tmp_path_factory.getbasetemp())
    settings.RUNNER_POOL_SIZE = 0


def post(client, url, code, **extra):
    """Post a run and follow its polls to the result."""
    response = client.post(url, {"code": code}, content_type="application/json", **extra)
    return finish(client, response)


def test_run_answers_with_output_status_duration_sandbox_and_trace(client, url):
    response = post(client, url, SIGNAL_SAMPLE)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    data = response.json()
    assert data["output"] == [{"stream": "stdout", "text": "Saved Hello\n"}]
    assert data["exit_status"] == 0
    assert data["stopped"] is False
    assert data["reason"] is None
    assert data["truncated"] is False
    assert data["sandbox"] == "bwrap"
    assert data["warning"] is None
    assert 0 < data["duration_ms"] < 5000
    post_save = [e for e in data["trace"] if e["signal"] == "post_save"]
    assert post_save[0]["sender"] == "Article"
    (announce,) = post_save[0]["receivers"]
    assert (announce["name"], announce["result"]) == ("announce", "None")


def test_stderr_is_distinguished_from_stdout(client, url):
    data = post(client, url, "import sys\nprint('out')\nprint('err', file=sys.stderr)").json()
    assert data["output"] == [
        {"stream": "stdout", "text": "out\n"},
        {"stream": "stderr", "text": "err\n"},
    ]


def test_run_requires_a_csrf_token(url):
    client = Client(enforce_csrf_checks=True)
    assert post(client, url, "print(1)").status_code == 403
    token = client.get(reverse("tutorials:csrf-token")).json()["token"]
    response = post(client, url, "print(1)", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    assert response.json()["output"][0]["text"] == "1\n"


def test_only_post_is_allowed(client, url):
    assert client.get(url).status_code == 405


def test_bad_requests_are_refused_with_json_errors(client, url):
    assert client.post(url, "code=1", content_type="text/plain").status_code == 415
    bad_json = client.post(url, "{nope", content_type="application/json")
    assert bad_json.status_code == 400
    assert "error" in bad_json.json()
    assert post(client, url, None).status_code == 400
    assert client.post(url, "[1]", content_type="application/json").status_code == 400


def test_code_over_20_kb_is_refused(client, url):
    assert post(client, url, "#" * (20 * 1024 + 1)).status_code == 413
    assert post(client, url, "#" * (20 * 1024)).status_code == 200


def test_per_client_rate_limit_answers_429_with_retry_after(client, url, settings):
    settings.RUNNER_RATE_LIMIT = 2
    settings.RUNNER_RATE_WINDOW = 86400  # fixed windows: keep all three runs in one
    assert post(client, url, "pass").status_code == 200
    assert post(client, url, "pass").status_code == 200
    limited = post(client, url, "pass")
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 86400
    other = post(client, url, "pass", REMOTE_ADDR="127.0.0.9")
    assert other.status_code == 200


def test_a_run_never_holds_the_worker_longer_than_its_timeout(client, url, settings):
    settings.RUNNER_WALL_TIMEOUT = 1
    data = post(client, url, "import time\ntime.sleep(3600)").json()
    # Timed from the code reaching the sandbox; the cold start before it is not the run's.
    assert 1000 <= data["duration_ms"] < 2000
    assert data["stopped"] is True
    assert data["reason"] == "wall"
    assert "time limit" in data["message"]


def test_warm_pool_serves_runs_from_pre_started_sandboxes(client, url, settings):
    settings.RUNNER_POOL_SIZE = 1
    warm_pool = pool.get_pool()
    deadline = time.monotonic() + 30
    while not warm_pool.ready and time.monotonic() < deadline:
        time.sleep(0.05)
    first = post(client, url, "print('warm')").json()
    assert first["warm"] is True
    assert first["output"][0]["text"] == "warm\n"
    assert first["duration_ms"] < 1000
    # Each sandbox serves one run: the next one is another, fresh sandbox.
    second = post(client, url, "import os\nprint(os.path.exists('/tmp/x'))\nopen('/tmp/x','w')")
    third = post(client, url, "import os\nprint(os.path.exists('/tmp/x'))")
    assert second.json()["output"][0]["text"] == "False\n"
    assert third.json()["output"][0]["text"] == "False\n"


def test_status_reports_the_sandbox_and_limits(client, settings):
    run_url(settings)
    data = client.get(reverse("runner:status")).json()
    assert data["sandbox"] == "bwrap"
    assert data["available"] is True
    assert data["limits"]["code_max_bytes"] == 20 * 1024
    assert data["limits"]["output_max_bytes"] == 64 * 1024


def test_fallback_runs_say_so_in_the_response(client, url, settings):
    settings.RUNNER_BWRAP = ""
    settings.RUNNER_ALLOW_UNSANDBOXED = True
    data = post(client, url, "print('unsafe but running')").json()
    assert data["sandbox"] == "fallback"
    assert "WITHOUT the bubblewrap sandbox" in data["warning"]
    assert data["output"][0]["text"] == "unsafe but running\n"
    assert data["exit_status"] == 0


def test_fallback_is_refused_unless_the_operator_allows_it(client, url, settings):
    settings.RUNNER_BWRAP = ""
    response = post(client, url, "print(1)")
    assert response.status_code == 503
    assert "unavailable" in response.json()["error"]
    assert client.get(reverse("runner:status")).json()["available"] is False


def test_debug_never_implies_running_without_the_sandbox(settings):
    for debug in (False, True):
        settings.DEBUG = debug
        assert pool.require_sandbox() is True
    settings.RUNNER_ALLOW_UNSANDBOXED = True
    assert pool.require_sandbox() is False


def test_system_check_warns_when_bubblewrap_is_unavailable(settings):
    assert check_sandbox() == []
    settings.RUNNER_BWRAP = "/nonexistent/bwrap"
    (warning,) = check_sandbox()
    assert warning.id == "runner.W002"
    assert "runner.W002" in [m.id for m in run_checks(tags=[Tags.security])]
    settings.RUNNER_ALLOW_UNSANDBOXED = True
    (warning,) = check_sandbox()
    assert warning.id == "runner.W001"
    assert "UNCONFINED" in warning.msg


def test_trace_and_output_are_json_serializable_for_odd_text(client, url):
    data = post(client, url, "print('\\u00e9\\x00\\ud800'.encode('utf-8', 'replace').decode())")
    assert data.status_code == 200
    json.dumps(data.json())
