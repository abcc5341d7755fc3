"""
Logging filters, used by ``settings.LOGGING``.

Imported while logging is configured, before the app registry is ready: this
module must not import models or read settings.
"""

import logging
import threading
import time


class SecurityWithoutTraceback(logging.Filter):
    """
    Keep ``django.security.*`` records (a bad Host header, an oversized body) to
    their one-line message.

    Django logs these refused requests with the exception attached, so every
    scanner probing the Host header would otherwise write a traceback. The
    request was answered with a 400; there is no bug to debug.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("django.security."):
            record.exc_info = None
            record.exc_text = None
        return True


class RepeatedExceptions(logging.Filter):
    """
    Collapse the same exception logged again and again (Redis unreachable, the
    database down) to one line per ``window`` seconds, instead of a traceback
    per request.

    The first record of a kind (logger, exception type and message) in this
    process keeps its traceback. Repeats within ``window`` seconds are dropped
    and counted; the first repeat after the window is one line, without a
    traceback, that says how many were dropped.
    """

    MAX_KINDS = 1000  # remembered kinds of exception, so memory stays bounded

    def __init__(self, window: float = 10.0, clock=time.monotonic) -> None:
        super().__init__()
        self.window = float(window)
        self.clock = clock
        self.lock = threading.Lock()
        self.seen: dict[tuple[str, str, str], list] = {}  # kind -> [window start, dropped]

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None:
            return True
        kind = (record.name, type(exc).__qualname__, str(exc)[:200])
        now = self.clock()
        with self.lock:
            entry = self.seen.get(kind)
            if entry is None:
                if len(self.seen) >= self.MAX_KINDS:
                    self.seen.clear()
                self.seen[kind] = [now, 0]
                return True
            if now - entry[0] < self.window:
                entry[1] += 1
                return False
            dropped = entry[1]
            self.seen[kind] = [now, 0]
        record.msg = (
            f"{record.getMessage()} [{type(exc).__qualname__}: {str(exc)[:200]}; again, "
            f"{dropped} more dropped in the last {self.window:g} s; traceback logged once]"
        )
        record.args = None
        record.exc_info = None
        record.exc_text = None
        return True
