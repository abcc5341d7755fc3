"""
Logging filters, used by ``settings.LOGGING``.

Imported while logging is configured, before the app registry is ready: this
module must not import models or read settings.
"""

import logging


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
