"""
The server-error page (``handler500``): while the database cannot be reached (a
PostgreSQL restart, an SQLite file locked for too long), 503 with ``Retry-After``
and a page that says so; any other error, Django's own 500.

Pages already in the page cache are still served then (the cache sits before the
views); only those that need the database get this page.
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader
from django.views import defaults

RETRY_AFTER = 30  # seconds


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """Called by Django while it handles the exception, so ``sys.exc_info()`` is it."""
    if not isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        return defaults.server_error(request, template_name)
    page = loader.get_template(template_name).render(
        {
            "code": 503,
            "heading": "The site is briefly unavailable",
            "message": "Its database cannot be reached right now. Please try again in a minute, or",
        }
    )
    response = HttpResponseServerError(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    return response
