"""
The site's own middleware: the anonymous page cache, security headers Django has
no setting for, request limits and the admin login throttle.

Their place in ``settings.MIDDLEWARE`` matters and is explained there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import Resolver404, resolve, reverse

from . import metrics, pagecache, ratelimit

GetResponse = Callable[[HttpRequest], HttpResponseBase]

logger = logging.getLogger(__name__)


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
        if not _is_cacheable_view(request):
            # Only @cacheable_page views touch the cache: admin, /healthz and the
            # runner never depend on it.
            return self.get_response(request)
        version = None
        if pagecache.enabled() and pagecache.is_anonymous_read(request):
            # Read before rendering: a page is stored under the version it started
            # at, so one rendered during a save is stale as soon as the save commits.
            version = _content_version()
            if version is None:  # the shared cache is down: serve, uncached
                return self.get_response(request)
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
            version = version or _content_version()
            if version is not None:
                response = pagecache.finish(request, response, version)
        return response


def _content_version() -> str | None:
    """The content version, or None (logged) when the shared cache fails: the page
    is then served without the cache rather than not at all."""
    try:
        return pagecache.content_version()
    except Exception as exc:  # Redis down, a full disk: any cache error degrades
        # One line; RepeatedExceptions (tutorials/logfilters.py) keeps an outage to one
        # line per window, not one per request.
        logger.warning(
            "page cache off, shared cache failed: %s: %s", type(exc).__name__, exc,
            extra={"repeated": True},
        )  # fmt: skip
        return None


def _is_cacheable_view(request: HttpRequest) -> bool:
    urlconf = getattr(request, "urlconf", None) or settings.ROOT_URLCONF
    return _resolves_to_cacheable_view(urlconf, request.path_info)


@lru_cache(maxsize=4096)  # paths; resolving on every hit would cost more than the hit
def _resolves_to_cacheable_view(urlconf: str, path: str) -> bool:
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return False
    return bool(getattr(match.func, "cacheable_page", False))


class LoginRateLimitMiddleware:
    """
    Reserve one attempt of the client's admin-login allowance before the password
    is checked (tutorials/ratelimit.py); answer 429 when none is left.

    Reserving first, atomically, is what keeps parallel attempts from all being
    checked; a successful login gives the allowance back.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method == "POST" and request.path_info == reverse("admin:login"):
            attempt = ratelimit.reserve(request)
            if not attempt.allowed:
                minutes = max(1, ratelimit.window() // 60)
                response = _refusal(
                    429,
                    "Too many failed login attempts from your address. "
                    f"Try again in {minutes} minutes.",
                )
                response.headers["Retry-After"] = str(attempt.retry_after)
                return response
        return self.get_response(request)
