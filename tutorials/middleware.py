"""
The site's own middleware: the anonymous page cache, security headers Django has
no setting for, request limits and the admin login throttle.

Their place in ``settings.MIDDLEWARE`` matters and is explained there.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse

from . import metrics, pagecache, ratelimit

GetResponse = Callable[[HttpRequest], HttpResponseBase]


class RequestLimitsMiddleware:
    """
    Refuse an over-long URL (414) or a declared body larger than
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413) before anything reads them.

    gunicorn's ``limit_request_line`` and ``limit_request_field_size`` refuse
    longer lines earlier still; this keeps the same rule under any server.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.max_url_length = settings.REQUEST_MAX_URL_LENGTH
        self.max_body_size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        url_length = len(request.path_info) + len(request.META.get("QUERY_STRING", ""))
        if url_length > self.max_url_length:
            return _refusal(414, f"The address is longer than {self.max_url_length} characters.")
        if self.max_body_size is not None and _content_length(request) > self.max_body_size:
            return _refusal(413, f"The request body is larger than {self.max_body_size} bytes.")
        return self.get_response(request)


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _refusal(status: int, message: str) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


class SecurityHeadersMiddleware:
    """
    Add the headers Django's SecurityMiddleware has no setting for:
    ``Permissions-Policy`` (from ``settings.PERMISSIONS_POLICY``, a dict of
    feature -> allow-list) and ``Cross-Origin-Resource-Policy``.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        policy = getattr(settings, "PERMISSIONS_POLICY", {})
        self.headers = {
            "Permissions-Policy": ", ".join(
                f"{feature}=({' '.join(allowed)})" for feature, allowed in policy.items()
            ),
            "Cross-Origin-Resource-Policy": getattr(
                settings, "SECURE_CROSS_ORIGIN_RESOURCE_POLICY", "same-origin"
            ),
        }

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        for name, value in self.headers.items():
            if value:
                response.headers.setdefault(name, value)
        return response


class PageCacheMiddleware:
    """
    Answer anonymous GET/HEAD requests for ``@cacheable_page`` views from the page
    cache, and store their responses on the way out (see tutorials/pagecache.py).

    It sits right below SecurityMiddleware and whitenoise, so a hit skips the
    session, CSRF, authentication and message middleware. The headers of the
    middleware below it (Content-Security-Policy, Permissions-Policy,
    X-Frame-Options) are part of the stored response; SecurityMiddleware adds its
    own to every response, cached or not.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        version = None
        if pagecache.enabled() and pagecache.is_anonymous_read(request):
            # Read before rendering: a page is stored under the version it started
            # at, so one rendered during a save is stale as soon as the save commits.
            version = pagecache.content_version()
            # lookup() reads the Host header through get_host(): a bad Host gets
            # its 400 here, never a stored page.
            page = pagecache.lookup(request, version)
            if page is not None:
                metrics.PAGE_CACHE_HITS.inc()
                return pagecache.response_from(request, page)
        response = self.get_response(request)
        if getattr(response, "cacheable_page", False):
            if version is not None and response.cacheable_page == pagecache.STORE:
                metrics.PAGE_CACHE_MISSES.inc()
            response = pagecache.finish(request, response, version or pagecache.content_version())
        return response


class LoginRateLimitMiddleware:
    """
    Answer 429 to admin login attempts from an address that has failed too often.

    Failures are counted by a ``user_login_failed`` receiver (tutorials/signals.py,
    tutorials/ratelimit.py); this only refuses, before the password is checked.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if (
            request.method == "POST"
            and request.path_info == reverse("admin:login")
            and ratelimit.is_locked_out(request)
        ):
            minutes = max(1, ratelimit.window() // 60)
            response = _refusal(
                429,
                "Too many failed login attempts from your address. "
                f"Try again in {minutes} minutes.",
            )
            response.headers["Retry-After"] = str(ratelimit.window())
            return response
        return self.get_response(request)
