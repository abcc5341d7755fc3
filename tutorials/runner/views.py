"""
The run endpoint.

``POST run/`` with ``{"code": "..."}`` (JSON, CSRF token in ``X-CSRFToken``)
queues the run and waits ``RUNNER_ANSWER_WAIT`` for it: a fast run is answered
at once with ``RunResult.to_dict()`` (200); otherwise the answer is 202 with the
URL to poll, ``GET run/jobs/<id>/``, which answers 202 while the run waits or
runs and then its result. A run never holds a web thread longer than that wait.
``GET run/status/`` tells which sandbox runs will use and warms the pool.
"""

from __future__ import annotations

import json
import logging
import threading

from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from redis.exceptions import RedisError

from .. import exercises, metrics
from ..clients import client_key
from . import jobs, limits, pool, queues, throttle
from .sandbox import FALLBACK_WARNING, availability, refusal

logger = logging.getLogger("tutorials.runner")

# A queue or cache that cannot be reached (or a misconfigured one): 503, not 500.
SHARED_SERVICE_ERRORS = (RedisError, OSError, ValueError)
QUEUE_DOWN = "The code runner cannot take runs right now; please try again shortly."


class BadRun(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def _error(message: str, status: int, retry_after: int | None = None) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _payload(request: HttpRequest) -> dict:
    """The job payload from the request body, or ``BadRun`` with a clear message."""
    current = limits.current()
    if request.content_type != "application/json":
        raise BadRun('Send JSON: {"code": "..."}.', 415)
    try:
        data = json.loads(request.body)
    except RecursionError:
        raise BadRun("The request body is nested too deeply.") from None
    except ValueError:  # includes UnicodeDecodeError and over-long integers
        raise BadRun("The request body is not valid JSON.") from None
    code = data.get("code") if isinstance(data, dict) else None
    if not isinstance(code, str):
        raise BadRun('"code" must be a string.')
    if len(code.encode("utf-8", "surrogatepass")) > current.code_max_bytes:
        raise BadRun(f"The code is larger than {current.code_max_bytes // 1024} KB.", 413)
    payload = {"code": code}
    if "exercise" in data:
        # An exercise's checks come from the server, looked up by its id (never from
        # the request: "checks" in the body is ignored), before the run is queued.
        if not isinstance(data["exercise"], str):
            raise BadRun('"exercise" must be a string.')
        payload["exercise"] = data["exercise"]
        if "answer" in data:
            payload["answer"] = data["answer"]
        try:
            payload = exercises.prepare(payload)
        except exercises.ExerciseError as error:
            raise BadRun(error.message, error.status) from None
    return payload


def _pending(job_id: str, state: str) -> JsonResponse:
    url = reverse("runner:job", args=[job_id])
    response = JsonResponse(
        {"status": state, "job": job_id, "poll": url, "poll_after": limits.get("POLL_INTERVAL")},
        status=202,
    )
    response["Location"] = url
    return response


@never_cache
@require_POST
def run(request: HttpRequest) -> JsonResponse:
    """Queue the posted code; answer with its result if it is fast, else where to poll."""
    try:
        payload = _payload(request)
    except BadRun as bad:
        return _error(bad.message, bad.status)
    client = client_key(request)
    try:
        if queues.mode() == "embedded":
            state = availability()
            if not state.sandboxed and pool.require_sandbox():
                metrics.record_refused_run()
                return _error(refusal() or jobs.UNAVAILABLE, 503)
        admission = throttle.admit(client)
        job = jobs.Job(payload=payload, client=client, admission=admission)
        backend = queues.backend()
        try:
            backend.submit(job)
        except Exception:
            throttle.finished(client, admission)
            raise
        outcome = backend.wait(job.id, limits.get("ANSWER_WAIT"))
    except throttle.Refused as refused:
        metrics.record_refused_run()
        return _error(refused.message, 429, refused.retry_after)
    except SHARED_SERVICE_ERRORS:
        logger.exception("Code runner: the queue cannot be reached")
        return _error(QUEUE_DOWN, 503, limits.get("RETRY_AFTER"))
    if outcome is None:
        return _pending(job.id, "queued")
    return JsonResponse(outcome.body, status=outcome.status)


@never_cache
@require_GET
def job(request: HttpRequest, job_id: str) -> JsonResponse:
    """A queued run: 202 while it waits or runs, then its result (or a clear error)."""
    try:
        found = queues.backend().outcome(job_id)
    except SHARED_SERVICE_ERRORS:
        logger.exception("Code runner: the queue cannot be reached")
        return _error(QUEUE_DOWN, 503, limits.get("RETRY_AFTER"))
    if found is None:
        return _error("This run is unknown or its result has expired; please run it again.", 404)
    if isinstance(found, queues.Pending):
        return _pending(job_id, found.state)
    return JsonResponse(found.body, status=found.status)


@never_cache
@require_GET
def status(request: HttpRequest) -> JsonResponse:
    """Which sandbox runs use, the limits, and a warm pool started for the page."""
    current = limits.current()
    body = {
        "queue": queues.mode(),
        "limits": {
            "code_max_bytes": current.code_max_bytes,
            "output_max_bytes": current.output_max_bytes,
            "wall_timeout": current.wall_timeout,
            "cpu_seconds": current.cpu_seconds,
        },
    }
    if queues.mode() == "redis":
        # The sandboxes live on the runner workers' hosts.
        workers = queues.backend().workers()
        body.update(sandbox="worker", available=workers > 0, warning=None, workers=workers)
        if not workers:
            body["reason"] = "No runner worker is running."
        return JsonResponse(body)
    state = availability()
    refused = not state.sandboxed and pool.require_sandbox()
    if not refused:
        threading.Thread(target=pool.get_pool, daemon=True).start()
    body.update(
        sandbox=state.kind,
        available=not refused,
        reason=refusal() if refused else None,
        warning=None if state.sandboxed else FALLBACK_WARNING,
        # Of the process that answered: sandboxes started and waiting for a run.
        warm_sandboxes=len(pool._pool.ready) if pool._pool is not None else 0,
    )
    return JsonResponse(body)
