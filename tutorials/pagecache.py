"""
A whole-page cache for anonymous reads of the course pages.

A lesson, section, home or search page is the same for every anonymous visitor
and changes only when the course does. Views opt in with ``@cacheable_page``;
``PageCacheMiddleware`` (tutorials/middleware.py) stores their responses and
answers later GET and HEAD requests from the cache before the session,
authentication and message middleware run, so a warm page costs no query and no
template or Markdown work.

Invalidation is by *content version*: a token in the default cache, which is
shared by every process (a file cache in production, Redis with ``CACHE_URL``).
Each stored page records the version it was rendered at, and a page whose
version is no longer current is a miss. ``bump_content_version()`` replaces the
token; the Section and Tutorial ``post_save``/``post_delete`` receivers in
tutorials/signals.py call it once the transaction has committed, so a page
rendered from the new rows is never tagged with the old version.

Pages themselves live in the per-process ``pages`` cache: a hit never copies a
page over the network, and a deploy starts with an empty page cache.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date

from . import proxycache

VERSION_KEY = "pagecache:content-version"
PAGE_KEY_PREFIX = "pagecache:page:"
# Cache-Control directives that say "this response is not for everyone".
PRIVATE_DIRECTIVES = ("private", "no-store")
# What @cacheable_page asks of PageCacheMiddleware.
STORE, VALIDATE = "store", "validate"
# Stored pages are also kept gzipped (compressed once, not per request). They hold
# no secret (no CSRF token, no session), so compression cannot leak one (BREACH).
GZIP_MIN_SIZE = 1024  # bytes; smaller bodies are not worth it
ACCEPTS_GZIP = re.compile(r"\bgzip\b")


@dataclass(frozen=True)
class CachedPage:
    """A stored response and the content version it was rendered at.

    The response is stored whole, as Django's own cache middleware does: the
    cache unpickles a fresh copy on every hit, which is faster than rebuilding
    one header by header.
    """

    version: str
    response: HttpResponse
    etag: str
    last_modified: int  # seconds since the epoch
    gzipped: bytes | None = None


def _version_cache():
    return caches["default"]


def _page_cache():
    return caches[getattr(settings, "PAGE_CACHE_ALIAS", "pages")]


def _new_version() -> str:
    # Nanoseconds keep versions ordered and give Last-Modified; the random part
    # keeps two processes bumping in the same instant from producing one token.
    return f"{time.time_ns()}-{secrets.token_hex(4)}"


def content_version() -> str:
    """The current content version, created on first use (or after an eviction)."""
    cache = _version_cache()
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, _new_version(), timeout=None)
        version = cache.get(VERSION_KEY) or _new_version()
    return version


def bump_content_version() -> str:
    """Start a new content version, making every stored page stale. Returns it."""
    version = _new_version()
    _version_cache().set(VERSION_KEY, version, timeout=None)
    return version


def version_timestamp(version: str) -> int:
    """When ``version`` was started, in whole seconds: the pages' Last-Modified."""
    return int(version.partition("-")[0]) // 1_000_000_000


View = Callable[..., HttpResponseBase]


def cacheable_page(
    view: View | None = None, *, store: bool = True
) -> View | Callable[[View], View]:
    """
    Mark a view whose successful GET response depends only on the URL and the
    published content, never on the visitor.

    Its responses get an ETag, a Last-Modified and ``Cache-Control: no-cache``
    (browsers revalidate and usually get a 304; anonymous ones ``max-age=0`` and
    an ``s-maxage`` for the shared cache, see proxycache.py), and anonymous ones are stored
    by ``PageCacheMiddleware``. Use ``@cacheable_page(store=False)`` for a view
    that must run on every request (search records queries that found nothing)
    but still answers conditional requests.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
            response = view(request, *args, **kwargs)
            response.cacheable_page = STORE if store else VALIDATE
            return response

        # PageCacheMiddleware looks at the view before calling it.
        wrapper.cacheable_page = STORE if store else VALIDATE
        return wrapper

    return decorator(view) if view is not None else decorator


def enabled() -> bool:
    """The page cache is off with DEBUG (templates change under runserver)."""
    return not settings.DEBUG and getattr(settings, "PAGE_CACHE_SECONDS", 0) > 0


def is_anonymous_read(request: HttpRequest) -> bool:
    """A GET or HEAD from someone without a session or pending messages."""
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and getattr(settings, "MESSAGE_COOKIE_NAME", "messages") not in request.COOKIES
    )


def page_key(request: HttpRequest) -> str:
    """The key of the page at this URL (scheme and host included: pages may link absolutely)."""
    url = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    return PAGE_KEY_PREFIX + hashlib.md5(url.encode(), usedforsecurity=False).hexdigest()


def lookup(request: HttpRequest, version: str) -> CachedPage | None:
    """The stored page for this request if it was rendered at ``version``."""
    page = _page_cache().get(page_key(request))
    if page is None or page.version != version:
        return None
    return page


def response_from(request: HttpRequest, page: CachedPage) -> HttpResponseBase:
    """The stored response (gzipped if the client accepts it), or a 304 when the
    client's copy is current."""
    response, etag = page.response, page.etag
    if page.gzipped is not None and ACCEPTS_GZIP.search(request.headers.get("Accept-Encoding", "")):
        response.content = page.gzipped
        response.headers["Content-Encoding"] = "gzip"
        response.headers["Content-Length"] = str(len(page.gzipped))
        # Another representation, so another (strong) validator.
        etag = response.headers["ETag"] = etag[:-1] + '-gzip"'
    if request.method == "HEAD":
        response.content = b""  # Content-Length still gives the GET's length
    return get_conditional_response(
        request, etag=etag, last_modified=page.last_modified, response=response
    )


def is_storable(response: HttpResponseBase) -> bool:
    """A complete 200 that sets no cookie and is not marked private."""
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    cache_control = response.headers.get("Cache-Control", "").lower()
    return not any(directive in cache_control for directive in PRIVATE_DIRECTIVES)


def finish(request: HttpRequest, response: HttpResponseBase, version: str) -> HttpResponseBase:
    """
    Give a ``@cacheable_page`` response its validators, store it when the view
    allows and the request was anonymous, and answer a conditional request with 304.
    """
    if request.method not in ("GET", "HEAD") or not is_storable(response):
        return response
    last_modified = version_timestamp(version)
    if not response.has_header("ETag"):
        digest = hashlib.md5(response.content, usedforsecurity=False).hexdigest()
        response.headers["ETag"] = f'"{digest}"'
    response.headers.setdefault("Last-Modified", http_date(last_modified))
    wanted = getattr(response, "cacheable_page", None) == STORE
    if wanted and is_anonymous_read(request):
        proxycache.mark_shared(response)  # s-maxage for the shared HTTP cache
    else:
        patch_cache_control(response, no_cache=True)
    if wanted and request.method == "GET" and enabled() and is_anonymous_read(request):
        return response_from(request, store(request, response, version, last_modified))
    return get_conditional_response(
        request, etag=response.headers["ETag"], last_modified=last_modified, response=response
    )


def store(
    request: HttpRequest, response: HttpResponse, version: str, last_modified: int
) -> CachedPage:
    content = response.content
    response.headers["Content-Length"] = str(len(content))
    gzipped = None
    if len(content) >= GZIP_MIN_SIZE and not response.has_header("Content-Encoding"):
        gzipped = gzip.compress(content, compresslevel=6, mtime=0)
        patch_vary_headers(response, ["Accept-Encoding"])
    page = CachedPage(version, response, response.headers["ETag"], last_modified, gzipped)
    _page_cache().set(page_key(request), page, settings.PAGE_CACHE_SECONDS)
    return page
