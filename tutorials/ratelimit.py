"""
The admin login throttle: at most ``LOGIN_FAILURE_LIMIT`` password checks per
client address until ``LOGIN_FAILURE_WINDOW`` seconds pass without one.

``LoginRateLimitMiddleware`` reserves an attempt *before* the password is
checked, in one atomic step (``tutorials/counters.py``), so parallel attempts
cannot all slip past the count; a refused attempt gets 429 and is not counted.
A successful login clears the count (the ``user_logged_in`` receiver in
tutorials/signals.py). Clients are told apart by ``tutorials/clients.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from . import counters
from .clients import client_address

KEY_PREFIX = "login-failures:"


def limit() -> int:
    """Password checks allowed from one address before it is locked out."""
    return getattr(settings, "LOGIN_FAILURE_LIMIT", 5)


def window() -> int:
    """How long a lock-out lasts after the last counted attempt, in seconds."""
    return getattr(settings, "LOGIN_FAILURE_WINDOW", 15 * 60)


def _key(request: HttpRequest) -> str:
    return KEY_PREFIX + client_address(request)


def reserve(request: HttpRequest) -> counters.Hit:
    """Count a login attempt from this request's address before it is checked;
    ``allowed`` is False (and nothing is counted) once the limit is reached."""
    return counters.default_store().hit(_key(request), limit(), window(), renew=True)


def failures(request: HttpRequest) -> int:
    """Attempts counted for this address (each reserved attempt that did not log in)."""
    return counters.default_store().count(_key(request))


def is_locked_out(request: HttpRequest) -> bool:
    return failures(request) >= limit()


def clear(request: HttpRequest) -> None:
    """Forget this address's attempts (after a successful login)."""
    cache.delete(_key(request))
