"""
gunicorn's logger in the site's log line (tutorials/logformat.py).

gunicorn.conf.py names it as ``logger_class``. gunicorn's own lines (workers
booting, timeouts) get the same timestamp, level and logger fields as Django's,
as text or JSON (``DJANGO_LOG_FORMAT``). Its access log is off by default: the
site's RequestLogMiddleware writes the access line, with the view. Turned on
(``GUNICORN_ACCESS_LOG=-``), it writes the same fields: the request id from the
response's ``X-Request-ID`` and the client from tutorials/clients.py.
"""

from __future__ import annotations

import logging
import os
import types

from gunicorn.glogging import Logger as GunicornLogger

from tutorials.logformat import Formatter, access_message


def _json() -> bool:
    return os.environ.get("DJANGO_LOG_FORMAT", "text").strip().lower() == "json"


def _client(environ: dict) -> str:
    try:
        from django.conf import settings

        if settings.configured:
            from tutorials.clients import client_address

            return client_address(types.SimpleNamespace(META=environ))
    except Exception:  # never lose the access line over the client's address
        pass
    return environ.get("REMOTE_ADDR") or "-"


class Logger(GunicornLogger):
    """gunicorn's ``glogging.Logger`` with the site's formatter on every handler."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        formatter = Formatter(json=_json())
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter)

    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log_enabled:
            return
        headers = {name.lower(): value for name, value in resp.headers}
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        method = environ.get("REQUEST_METHOD", "-")
        path = environ.get("RAW_URI") or environ.get("PATH_INFO", "-")
        duration_ms = round(request_time.total_seconds() * 1000, 2)
        client = _client(environ)
        record = {
            "client": client,
            "method": method,
            "path": path,
            "status": int(status),
            "duration_ms": duration_ms,
            "view": "-",
            "request_id": headers.get("x-request-id", "-"),
        }
        message = access_message(method, path, int(status), duration_ms, client, "-")
        self.access_log.log(logging.INFO, message, extra=record)
