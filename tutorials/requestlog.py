"""
One access line and the request metrics for every request, under a request id.

``RequestLogMiddleware`` is the first middleware, so it sees everything: static
files from whitenoise, pages from the page cache, refusals. The id comes from
the balancer's ``X-Request-ID`` when it is a sane token, otherwise a new one;
it is returned in the response's ``X-Request-ID`` and stamped on every log line
written while the request is served (tutorials/logformat.py).
"""

from __future__ import annotations

import functools
import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, resolve

from . import metrics
from .clients import client_address
from .logformat import access_message, request_id

HEADER = "X-Request-ID"
# What we accept from a client or balancer: no spaces or control characters that
# could forge a log line, and not so long it floods one.
VALID_ID = re.compile(r"[A-Za-z0-9._:+/=@-]{1,128}")

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

access_log = logging.getLogger("tutorials.access")


def incoming_id(request: HttpRequest) -> str:
    """The request id sent with the request if valid, else a new random one."""
    # META, not request.headers: building that mapping costs more than the rest.
    sent = request.META.get("HTTP_X_REQUEST_ID", "")
    return sent if VALID_ID.fullmatch(sent) else uuid.uuid4().hex


def view_name(request: HttpRequest) -> str:
    """The view that answered, for metrics: its URL name, also for page-cache hits."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or "unnamed"
    return _view_for_path(request.path_info)


@functools.lru_cache(maxsize=4096)
def _view_for_path(path: str) -> str:
    # A page-cache hit or a static file never reached URL resolution; resolving
    # costs more than serving the page, so each path is resolved once.
    if path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"
    try:
        return resolve(path).view_name or "unnamed"
    except Resolver404:
        return "unresolved"


@functools.lru_cache(maxsize=4096)
def _latency(view: str, method: str):
    return metrics.LATENCY.labels(view=view, method=method)


@functools.lru_cache(maxsize=4096)
def _count(view: str, method: str, status: int):
    return metrics.REQUESTS.labels(view=view, method=method, status=status)


class RequestLogMiddleware:
    """Give each request its id, then log and measure it once it is answered."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        rid = request.request_id = incoming_id(request)
        # Forgotten by a request_finished receiver (tutorials/signals.py), after
        # Django has logged a 4xx/5xx: that line is written after this returns.
        request_id.set(rid)
        response = self.get_response(request)
        response.headers[HEADER] = rid
        duration = time.perf_counter() - started
        view = view_name(request)
        method = request.method or "-"
        # A label per made-up method would grow without bound.
        label = method if method in METHODS else "other"
        _latency(view, label).observe(duration)
        _count(view, label, response.status_code).inc()
        client, path = client_address(request), request.get_full_path()
        duration_ms = round(duration * 1000, 2)
        access_log.info(
            access_message(method, path, response.status_code, duration_ms, client, view),
            extra={
                "client": client,
                "method": method,
                "path": path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "view": view,
            },
        )
        return response


def forget_request_id() -> None:
    """Lines logged outside a request carry ``-`` again."""
    request_id.set("-")
