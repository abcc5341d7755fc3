"""
Live reload for authors under ``runserver`` (DEBUG only): pages refresh themselves
when what they show changes, and a file that fails to sync shows its error.

The autoreloader's ``file_changed`` signal (tutorials/autoreload.py) calls
``notify()`` after it re-syncs content/ or sees a template or static file change.
``events`` streams each change to the open pages as server-sent events; the page
(static/js/livereload.js) fetches itself again and reloads only when the HTML it
would show differs, or when a stylesheet or script it uses changed. A restarted
server (a Python change) is a new ``boot`` id: pages check themselves on reconnect.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator

from django.conf import settings
from django.http import Http404, HttpRequest, StreamingHttpResponse

HEARTBEAT = 15.0  # seconds between keep-alive comments on an idle stream
STREAM_LIFETIME = 300.0  # seconds; the browser reconnects by itself (a bounded thread)

BOOT = uuid.uuid4().hex  # this server process
_changed = threading.Condition()
_state = {"version": 0, "errors": [], "static": []}


def enabled() -> bool:
    return settings.DEBUG


def notify(*, errors: list[str] | None = None, static: list[str] | None = None) -> None:
    """Tell the open pages that something changed (and which sync errors stand now)."""
    with _changed:
        _state["version"] += 1
        if errors is not None:
            _state["errors"] = list(errors)
        _state["static"] = list(static or [])
        _changed.notify_all()


def _message(kind: str) -> str:
    data = {
        "boot": BOOT,
        "version": _state["version"],
        "errors": _state["errors"],
        "static": _state["static"],
    }
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n"


def _stream() -> Iterator[str]:
    yield "retry: 500\n\n"
    with _changed:
        seen = _state["version"]
        yield _message("hello")
    deadline = time.monotonic() + STREAM_LIFETIME
    while time.monotonic() < deadline:
        with _changed:
            _changed.wait_for(lambda seen=seen: _state["version"] != seen, timeout=HEARTBEAT)
            if _state["version"] == seen:
                message = ": ping\n\n"
            else:
                seen = _state["version"]
                message = _message("change")
        yield message


def events(request: HttpRequest) -> StreamingHttpResponse:
    """The change stream (text/event-stream); a 404 unless DEBUG is on."""
    if not enabled():
        raise Http404("Live reload is for development only.")
    response = StreamingHttpResponse(_stream(), content_type="text/event-stream")
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"
    return response
