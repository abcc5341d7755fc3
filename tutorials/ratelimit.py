"""
Login throttling built on the ``user_login_failed`` signal and the cache.

``django.contrib.auth.authenticate()`` sends ``user_login_failed`` whenever
credentials are wrong. The receiver in tutorials/signals.py calls
``record_failure()``, which counts failures per client address in the default
cache (shared by every process and host). Once an address reaches
``LOGIN_FAILURE_LIMIT`` failures, ``LoginRateLimitMiddleware`` answers its admin
login attempts with 429 until ``LOGIN_FAILURE_WINDOW`` seconds have passed
without a new failure. A successful login clears the count.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from .clients import client_address

KEY_PREFIX = "login-failures:"


def limit() -> int:
    """Failed logins allowed from one address before it is locked out."""
    return getattr(settings, "LOGIN_FAILURE_LIMIT", 5)


def window() -> int:
    """How long a lock-out lasts after the last failure, in seconds."""
    return getattr(settings, "LOGIN_FAILURE_WINDOW", 15 * 60)


def _key(request: HttpRequest) -> str:
    return KEY_PREFIX + client_address(request)


def record_failure(request: HttpRequest) -> int:
    """Count a failed login from this request's address; return the count."""
    key = _key(request)
    cache.add(key, 0, timeout=window())
    try:
        failures = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=window())
        failures = 1
    # incr() keeps Redis's expiry but not every backend's: set it explicitly.
    cache.touch(key, timeout=window())
    return failures


def failures(request: HttpRequest) -> int:
    return cache.get(_key(request), 0)


def is_locked_out(request: HttpRequest) -> bool:
    return failures(request) >= limit()


def clear(request: HttpRequest) -> None:
    """Forget this address's failures (after a successful login)."""
    cache.delete(_key(request))
