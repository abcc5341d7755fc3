"""
The state of the services a page depends on, for ``/healthz``.

The database is required (without it nothing can be served); the shared cache is
not (the page cache and throttles degrade without it), so a cache failure makes
the site *degraded*, not unavailable.
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import connection

logger = logging.getLogger(__name__)

PROBE_KEY = "healthz:probe"


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means unhealthy, not a 500
        return False
    return True


def _cache_ok() -> bool:
    try:
        cache.set(PROBE_KEY, "1", timeout=10)
        return cache.get(PROBE_KEY) == "1"
    except Exception as exc:  # Redis down, file cache unwritable: degraded, not a 500
        logger.warning("health: cache unavailable (%s: %s)", type(exc).__name__, exc)
        return False


def check() -> dict:
    """``{"status": "ok" | "degraded" | "unavailable", "database": ..., "cache": ...}``."""
    database, shared_cache = _database_ok(), _cache_ok()
    report = {
        "status": "ok",
        "database": "ok" if database else "error",
        "cache": "ok" if shared_cache else "error",
    }
    if not database:
        report["status"] = "unavailable"
    elif not shared_cache:
        report["status"] = "degraded"
        report["degraded"] = ["cache"]
    return report
