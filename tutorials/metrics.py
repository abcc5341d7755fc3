"""
The site's Prometheus metrics, and the non-public endpoint that serves them.

Metrics are prometheus_client objects, named here so any module can record to
them (``metrics.RUNS.labels(outcome="ok").inc()``). Under gunicorn each worker
is a process: with ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn.conf.py sets it)
prometheus_client's multiprocess mode keeps each process's values in that
directory and ``/metrics`` sums them. The last content sync, which runs in its
own process (``sync_content``), is kept in the shared cache instead and read at
scrape time.

``/metrics`` answers only requests that did not come through the balancer (no
``X-Forwarded-For``) from ``METRICS_ALLOWED_NETWORKS``, or any request with
``Authorization: Bearer <METRICS_TOKEN>``; everyone else gets 403.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import os
import secrets
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Seconds; pages from the page cache take well under a millisecond.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

REQUESTS = Counter(
    "tutorials_http_requests", "Requests answered, by view, method and status.",
    ["view", "method", "status"],
)  # fmt: skip
LATENCY = Histogram(
    "tutorials_http_request_duration_seconds", "Time to answer a request, by view and method.",
    ["view", "method"], buckets=LATENCY_BUCKETS,
)  # fmt: skip
PAGE_CACHE = Counter(
    "tutorials_page_cache_requests",
    "Anonymous reads of cacheable pages: result=hit (answered from the page cache) or miss.",
    ["result"],
)
PAGE_CACHE_HITS = PAGE_CACHE.labels(result="hit")
PAGE_CACHE_MISSES = PAGE_CACHE.labels(result="miss")

# The runner. Gauges are summed over the live worker processes.
RUNNER_QUEUE_DEPTH = Gauge(
    "tutorials_runner_queue_depth", "Runs waiting for a run slot.", multiprocess_mode="livesum"
)
RUNNER_POOL_SIZE = Gauge(
    "tutorials_runner_pool_ready", "Warm sandboxes ready for a run.", multiprocess_mode="livesum"
)
RUNS = Counter(
    "tutorials_runner_runs",
    "Runs by outcome: ok, error (the code failed), timeout, memory, output, signal, "
    "sandbox (the sandbox failed) or refused (429/503, never started).",
    ["outcome"],
)
RUN_DURATION = Histogram(
    "tutorials_runner_run_duration_seconds", "Time from a run request to its result.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)  # fmt: skip
SEARCH_LATENCY = Histogram(
    "tutorials_search_duration_seconds", "Time to run one search query, by backend.",
    ["backend"], buckets=LATENCY_BUCKETS,
)  # fmt: skip

SYNC_KEY = "metrics:sync:last"
SYNC_RESULTS = ("created", "updated", "unchanged", "unpublished", "conflicts", "failed")

# RunResult.stopped -> outcome label.
_STOPPED_OUTCOMES = {
    "cpu": "timeout",
    "wall": "timeout",
    "memory": "memory",
    "output": "output",
    "signal": "signal",
    "error": "sandbox",
}


def observe_search(search: Callable[..., T]) -> Callable[..., T]:
    """Decorate the search function: time each query under the database's backend."""

    @functools.wraps(search)
    def timed(*args, **kwargs):
        with SEARCH_LATENCY.labels(backend=connection.vendor).time():
            return search(*args, **kwargs)

    return timed


def record_run(result) -> None:
    """Count a finished run (a ``RunResult``) under its outcome."""
    if result.stopped:
        outcome = _STOPPED_OUTCOMES.get(result.stopped, result.stopped)
    else:
        outcome = "ok" if result.exit_status == 0 else "error"
    RUNS.labels(outcome=outcome).inc()
    if getattr(result, "duration_ms", None) is not None:
        RUN_DURATION.observe(result.duration_ms / 1000)


def record_refused_run() -> None:
    """Count a run refused before it started (429 busy/rate limit, 503 no sandbox)."""
    RUNS.labels(outcome="refused").inc()


def record_sync(counts: dict[str, int]) -> None:
    """
    Keep the result of one content sync (``created``, ``updated``… → numbers)
    in the shared cache, where every web process's ``/metrics`` reads it.
    A metric must never break a sync: cache errors are logged and ignored.
    """
    value = {name: int(counts.get(name, 0)) for name in SYNC_RESULTS}
    value["finished"] = time.time()
    try:
        runs = cache.get(SYNC_KEY, {}).get("runs", 0)
        value["runs"] = runs + 1
        cache.set(SYNC_KEY, value, timeout=None)
    except Exception:
        logger.warning("Metrics: could not record the sync result", exc_info=True)


class SyncCollector:
    """The last content sync's results, read from the shared cache at scrape time."""

    def collect(self):
        try:
            last = cache.get(SYNC_KEY)
        except Exception:
            logger.warning("Metrics: could not read the sync result", exc_info=True)
            return
        if not last:
            return
        lessons = GaugeMetricFamily(
            "tutorials_sync_last_lessons", "Lessons in the last content sync, by result.",
            labels=["result"],
        )  # fmt: skip
        for name in SYNC_RESULTS:
            lessons.add_metric([name], last.get(name, 0))
        yield lessons
        yield GaugeMetricFamily(
            "tutorials_sync_last_finished_timestamp_seconds",
            "When the last content sync finished (Unix time).",
            value=last["finished"],
        )
        runs = CounterMetricFamily("tutorials_sync_runs", "Content syncs recorded.")
        runs.add_metric([], last.get("runs", 0))
        yield runs


def registry() -> CollectorRegistry:
    """What ``/metrics`` serves: every worker's metrics (multiprocess mode) or this one's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        collected = CollectorRegistry()
        multiprocess.MultiProcessCollector(collected)
    else:
        collected = CollectorRegistry()
        collected.register(_ThisProcess())
    collected.register(SyncCollector())
    return collected


class _ThisProcess:
    def collect(self):
        yield from REGISTRY.collect()


@functools.cache
def _allowed_networks(networks: tuple[str, ...]) -> tuple:
    try:
        return tuple(ipaddress.ip_network(network, strict=False) for network in networks)
    except ValueError as error:
        raise ImproperlyConfigured(f"DJANGO_METRICS_ALLOWED_NETWORKS: {error}") from None


def is_allowed(request: HttpRequest) -> bool:
    """The token, or a direct connection (not through the balancer) from an allowed network."""
    token = getattr(settings, "METRICS_TOKEN", "")
    if token:
        sent = request.headers.get("Authorization", "")
        if secrets.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return True
    if "HTTP_X_FORWARDED_FOR" in request.META:
        # The balancer connects from an allowed address too: what comes through it is public.
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    networks = _allowed_networks(tuple(getattr(settings, "METRICS_ALLOWED_NETWORKS", ())))
    return any(address in network for network in networks)


@never_cache
def endpoint(request: HttpRequest) -> HttpResponse:
    """``GET /metrics``: the Prometheus text format, for the allowed only."""
    if not is_allowed(request):
        return HttpResponse(
            "Metrics are served only on the private network (see docs/deploying.md).\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
