"""
The site's log line: one line per event, as text or JSON (``DJANGO_LOG_FORMAT``).

Every line carries a UTC timestamp, the level, the logger and the request id of
the request being served (``-`` outside one); access lines also carry the client,
method, path, status, duration and view. ``settings.LOGGING`` and gunicorn's
logger (config/gunicornlog.py) both use ``Formatter``, so all lines look alike.

Imported while logging is configured, before the app registry is ready: this
module must not import models or read settings.
"""

from __future__ import annotations

import json
import logging
import time
from contextvars import ContextVar

# The id of the request this thread is serving; set by RequestLogMiddleware.
request_id: ContextVar[str] = ContextVar("request_id", default="-")

# Fields an access line adds to the record (``logger.info(..., extra=...)``), in order.
ACCESS_FIELDS = ("client", "method", "path", "status", "duration_ms", "view")
FORMATS = ("text", "json")


class RequestContextFilter(logging.Filter):
    """Stamp each record with the current request id (unless it brings its own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class Formatter(logging.Formatter):
    """
    ``2026-11-29T17:40:01.123Z INFO tutorials.access 3f2a… GET /x 200 1.2 ms``,
    or the same fields as one JSON object per line when ``json`` is true.

    A traceback stays on the line in JSON (an ``exc`` field); in text it follows
    the line, as Python prints it.
    """

    def __init__(self, json: bool = False) -> None:  # noqa: A002 (the LOGGING key)
        super().__init__()
        self.json = json

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{seconds}.{int(record.msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        when = self.formatTime(record)
        rid = getattr(record, "request_id", None) or request_id.get()
        exc = self.formatException(record.exc_info) if record.exc_info else record.exc_text
        if self.json:
            line = {
                "time": when,
                "level": record.levelname,
                "logger": record.name,
                "request_id": rid,
                "message": message,
            }
            for field in ACCESS_FIELDS:
                value = getattr(record, field, None)
                if value is not None:
                    line[field] = value
            if exc:
                line["exc"] = exc
            return json.dumps(line, ensure_ascii=False, default=str)
        text = f"{when} {record.levelname} {record.name} {rid} {message}"
        return f"{text}\n{exc}" if exc else text


def access_message(
    method: str, path: str, status: int, duration_ms: float, client: str, view: str
) -> str:
    """The message of an access line (the JSON form has the fields separately)."""
    return f"{method} {path} {status} {duration_ms:.1f}ms client={client} view={view}"
