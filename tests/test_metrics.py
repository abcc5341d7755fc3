"""Metrics: who may read /metrics, and that each named metric moves when its event happens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import make_section, make_tutorial
from tutorials import metrics, search
from tutorials.runner.result import RunResult

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
LESSON_URL = "/basics/receivers/"


@pytest.fixture(autouse=True)
def _empty_page_cache():
    caches["pages"].clear()
    yield
    caches["pages"].clear()


@pytest.fixture
def lesson():
    section = make_section(title="Basics", slug="basics")
    return make_tutorial(section, title="Receivers", slug="receivers")


def scrape(client, **extra) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted((k, str(v)) for k, v in labels.items()))), 0.0)


# --- who may read them -------------------------------------------------------


def test_metrics_are_served_to_a_direct_connection_from_the_private_network(client):
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200


def test_metrics_are_refused_to_other_addresses(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 403
    assert b"tutorials_" not in response.content


def test_metrics_are_refused_through_the_balancer_even_from_loopback(client):
    # nginx connects from 127.0.0.1 too: what it forwards is the public's.
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert response.status_code == 403


@override_settings(METRICS_ALLOWED_NETWORKS=["10.0.0.0/8"])
def test_the_allowed_networks_are_configurable(client):
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


@override_settings(METRICS_TOKEN="s3cret-token", METRICS_ALLOWED_NETWORKS=[])
def test_a_bearer_token_opens_metrics_from_anywhere(client):
    url, addr = "/metrics", "198.51.100.1"
    assert client.get(url, REMOTE_ADDR=addr).status_code == 403
    wrong = client.get(url, REMOTE_ADDR=addr, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    right = client.get(url, REMOTE_ADDR=addr, headers={"Authorization": "Bearer s3cret-token"})
    assert right.status_code == 200


def test_metrics_are_never_stored_by_a_cache(client):
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


# --- what they count ---------------------------------------------------------


def test_requests_are_counted_and_timed_by_view_page_cache_hits_included(client, lesson):
    before = scrape(client)
    for _ in range(3):
        assert client.get(LESSON_URL).status_code == 200
    after = scrape(client)
    name = "tutorials_http_requests_total"
    labels = {"view": "tutorials:lesson", "method": "GET", "status": "200"}
    assert value(after, name, **labels) - value(before, name, **labels) == 3
    latency = "tutorials_http_request_duration_seconds_count"
    lesson_get = {"view": "tutorials:lesson", "method": "GET"}
    assert value(after, latency, **lesson_get) - value(before, latency, **lesson_get) == 3


def test_page_cache_hits_and_misses_give_the_hit_ratio(client, lesson):
    before = scrape(client)
    for _ in range(4):
        client.get(LESSON_URL)
    after = scrape(client)
    name = "tutorials_page_cache_requests_total"
    assert value(after, name, result="miss") - value(before, name, result="miss") == 1
    assert value(after, name, result="hit") - value(before, name, result="hit") == 3


def test_a_made_up_method_does_not_add_a_label(client, lesson):
    client.generic("BREW", LESSON_URL)
    after = scrape(client)
    methods = {dict(labels).get("method") for (_, labels) in after}
    assert "BREW" not in methods and "other" in methods


@pytest.mark.parametrize(
    ("result", "outcome"),
    [
        (RunResult(sandbox="bwrap", exit_status=0, duration_ms=12), "ok"),
        (RunResult(sandbox="bwrap", exit_status=1, duration_ms=12), "error"),
        (RunResult(sandbox="bwrap", stopped="wall", duration_ms=5000), "timeout"),
        (RunResult(sandbox="bwrap", stopped="cpu", duration_ms=3000), "timeout"),
        (RunResult(sandbox="bwrap", stopped="memory", duration_ms=40), "memory"),
        (RunResult(sandbox="bwrap", stopped="error", error="x"), "sandbox"),
    ],
)
def test_runs_are_counted_by_outcome(client, result, outcome):
    before = scrape(client)
    metrics.record_run(result)
    after = scrape(client)
    name = "tutorials_runner_runs_total"
    assert value(after, name, outcome=outcome) - value(before, name, outcome=outcome) == 1


@override_settings(RUNNER_RATE_LIMIT=0)
def test_a_refused_run_is_counted(client):
    before = scrape(client)
    response = client.post("/run/", {"code": "print(1)"}, content_type="application/json")
    assert response.status_code == 429
    after = scrape(client)
    name = "tutorials_runner_runs_total"
    assert value(after, name, outcome="refused") - value(before, name, outcome="refused") == 1


def test_runner_queue_depth_and_pool_gauges_are_exposed(client):
    metrics.RUNNER_QUEUE_DEPTH.inc(2)
    metrics.RUNNER_POOL_SIZE.set(3)
    try:
        samples = scrape(client)
        assert value(samples, "tutorials_runner_queue_depth") >= 2
        assert value(samples, "tutorials_runner_pool_ready") == 3
    finally:
        metrics.RUNNER_QUEUE_DEPTH.dec(2)
        metrics.RUNNER_POOL_SIZE.set(0)


def test_search_latency_is_observed_by_backend(client, lesson):
    from django.db import connection

    before = scrape(client)
    search.search("receivers")
    search.search("nothing-like-this")
    after = scrape(client)
    name = "tutorials_search_duration_seconds_count"
    backend = connection.vendor
    assert value(after, name, backend=backend) - value(before, name, backend=backend) == 2


def test_the_last_sync_is_reported_from_the_shared_cache(client, content_dir):
    section = content_dir / "basics"
    section.mkdir()
    (section / "_section.yml").write_text("title: Basics\nslug: basics\norder: 1\n")
    (section / "one.md").write_text("---\ntitle: One\nslug: one\norder: 1\n---\n\n## A\n\nText.\n")
    (section / "broken.md").write_text("---\ntitle: [\n---\n")
    with pytest.raises(Exception, match="error"):
        call_command("sync_content", content_dir=content_dir, verbosity=0)
    samples = scrape(client)
    assert value(samples, "tutorials_sync_last_lessons", result="created") == 1
    assert value(samples, "tutorials_sync_last_lessons", result="failed") == 1
    assert value(samples, "tutorials_sync_runs_total") == 1
    assert value(samples, "tutorials_sync_last_finished_timestamp_seconds") > 1.7e9


def test_metrics_of_every_gunicorn_worker_are_summed(tmp_path):
    """prometheus_client's multiprocess mode: two processes, one scrape."""
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    count = (
        "import django; django.setup(); from tutorials import metrics; "
        "metrics.PAGE_CACHE_HITS.inc(5); metrics.RUNNER_QUEUE_DEPTH.set(1)"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count], cwd=ROOT, env=env, check=True, timeout=60)
    read = (
        "import django; django.setup(); from tutorials import metrics; "
        "from prometheus_client import generate_latest; "
        "print(generate_latest(metrics.registry()).decode())"
    )
    result = subprocess.run(
        [sys.executable, "-c", read], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert 'tutorials_page_cache_requests_total{result="hit"} 10.0' in result.stdout
