"""
The run endpoint.

``POST run/`` with ``{"code": "..."}`` (JSON, CSRF token in ``X-CSRFToken``)
answers with ``RunResult.to_dict()``; ``GET run/status/`` tells which sandbox
runs will use and starts the warm pool, so the first run is fast.
"""

import json
import threading

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from .. import exercises, metrics
from . import limits as limits_module
from . import pool, throttle
from .sandbox import FALLBACK_WARNING, availability, refusal


def _error(message: str, status: int, retry_after: int | None = None) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@never_cache
@require_POST
def run(request: HttpRequest) -> JsonResponse:
    """Run the posted code in a sandbox and answer with its output and signal trace."""
    limits = limits_module.current()
    if request.content_type != "application/json":
        return _error('Send JSON: {"code": "..."}.', 415)
    try:
        payload = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return _error("The request body is not valid JSON.", 400)
    code = payload.get("code") if isinstance(payload, dict) else None
    if not isinstance(code, str):
        return _error('"code" must be a string.', 400)
    if len(code.encode("utf-8", "surrogatepass")) > limits.code_max_bytes:
        return _error(f"The code is larger than {limits.code_max_bytes // 1024} KB.", 413)

    # Exercises: the checks come from the server, looked up by the exercise's id.
    payload.pop("checks", None)
    if "exercise" in payload:
        try:
            payload = exercises.prepare(payload)
        except exercises.ExerciseError as error:
            return _error(error.message, error.status)

    client = throttle.client_id(request)
    wait = throttle.rate_limit(client)
    if wait is not None:
        metrics.record_refused_run()
        return _error("Too many runs; please wait a little.", 429, retry_after=wait)
    try:
        with throttle.client_slot(client):
            result = pool.run(code, checks=payload.get("checks"))
    except pool.Busy as busy:
        metrics.record_refused_run()
        return _error("The code runner is busy; try again shortly.", 429, busy.retry_after)
    except pool.SandboxUnavailable as unavailable:
        metrics.record_refused_run()
        return _error(str(unavailable), 503)
    metrics.record_run(result)
    if "exercise" in payload:
        exercises.record(payload, result)
    return JsonResponse(result.to_dict())


@never_cache
@require_GET
def status(request: HttpRequest) -> JsonResponse:
    """Which sandbox runs use, the limits, and a warm pool started for the page."""
    state = availability()
    refused = not state.sandboxed and pool.require_sandbox()
    if not refused:
        threading.Thread(target=pool.get_pool, daemon=True).start()
    limits = limits_module.current()
    return JsonResponse(
        {
            "sandbox": state.kind,
            "available": not refused,
            "reason": refusal() if refused else None,
            "warning": None if state.sandboxed else FALLBACK_WARNING,
            "limits": {
                "code_max_bytes": limits.code_max_bytes,
                "output_max_bytes": limits.output_max_bytes,
                "wall_timeout": limits.wall_timeout,
                "cpu_seconds": limits.cpu_seconds,
            },
        }
    )
