"""
The shared HTTP cache in front of the origin (nginx ``proxy_cache``, see
deploy/nginx/cache.conf and docs/search.md): what it may keep, and how a publish
reaches it.

Anonymous course pages say ``Cache-Control: public, max-age=0, s-maxage=S,
stale-while-revalidate=W``: browsers revalidate every time (as before), the proxy
keeps a page for ``S`` seconds and then revalidates it with the page's ETag in the
background (a 304 from the origin's page cache costs a fraction of a millisecond).
So every page, a roadmap change on every lesson included, is fresh within ``S``
seconds, whatever the course's size.

The lesson that changed is refreshed at once: the ``post_save`` receivers
(tutorials/signals.py) call ``refresh_lesson()`` after the commit, which asks the
proxy for the lesson's, its section's and the home page with the secret
``X-Cache-Refresh`` header; nginx then bypasses its entry, fetches the new page and
stores it (``proxy_cache_bypass``). Nothing happens unless
``DJANGO_PROXY_CACHE_URL`` names the proxy.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from functools import cache

from django.conf import settings
from django.http import HttpResponseBase
from django.utils.cache import patch_cache_control

logger = logging.getLogger(__name__)

REFRESH_HEADER = "X-Cache-Refresh"
REFRESH_TIMEOUT = 5  # seconds per page fetched through the proxy

DEFAULTS = {
    "SECONDS": 1,  # s-maxage: how long the proxy serves a page without asking
    "STALE_SECONDS": 30,  # stale-while-revalidate: served while a fresh copy is fetched
    "URL": "",  # where the proxy listens, e.g. http://127.0.0.1:8080 ("" = no proxy)
    "HOST": "",  # the Host visitors send (part of the cache key); default: URL's host
    "SECRET": "",  # the X-Cache-Refresh value nginx accepts (deploy/nginx/cache.conf)
}


def get_config() -> dict:
    """``settings.PROXY_CACHE`` (from ``DJANGO_PROXY_CACHE_*``) over the defaults."""
    config = {**DEFAULTS, **getattr(settings, "PROXY_CACHE", {})}
    for name in ("SECONDS", "STALE_SECONDS"):
        config[name] = int(config[name])
    return config


def mark_shared(response: HttpResponseBase) -> None:
    """Let shared caches keep ``response`` (an anonymous, public page) for a while."""
    config = get_config()
    if config["SECONDS"] <= 0:
        patch_cache_control(response, no_cache=True)
        return
    patch_cache_control(
        response,
        public=True,
        max_age=0,  # browsers revalidate with the ETag, as with no-cache
        s_maxage=config["SECONDS"],
        stale_while_revalidate=config["STALE_SECONDS"],
    )


def lesson_urls(tutorial_id: int) -> list[str]:
    """The pages a change to this lesson shows on first: itself, its section, home."""
    from django.urls import reverse

    from .models import Tutorial

    lesson = Tutorial.objects.select_related("section").filter(pk=tutorial_id).first()
    urls = [reverse("tutorials:home")]
    if lesson is not None and lesson.section is not None:
        urls[:0] = [lesson.get_absolute_url(), lesson.section.get_absolute_url()]
    return urls


def refresh_lesson(tutorial_id: int) -> threading.Thread | None:
    """Refresh the proxy's copies of the pages a change to this lesson affects most.

    Called once the change is committed. The fetches run in a thread (the proxy
    asks this origin for the pages, which a busy single worker could not answer
    while it waits); returns the thread, or None when no proxy is configured.
    """
    if not get_config()["URL"]:
        return None
    return refresh(lesson_urls(tutorial_id))


def refresh(paths: Iterable[str]) -> threading.Thread | None:
    """Fetch ``paths`` through the proxy with the refresh header, in a thread."""
    config = get_config()
    if not config["URL"] or not config["SECRET"]:
        return None
    base = config["URL"].rstrip("/")
    host = config["HOST"] or urllib.parse.urlsplit(base).netloc
    headers = {REFRESH_HEADER: config["SECRET"], "Host": host, "Accept-Encoding": "gzip"}
    paths = list(dict.fromkeys(paths))

    def fetch_all() -> None:
        for path in paths:
            # Both copies the proxy keeps: gzipped and not (deploy/nginx/cache.conf).
            for encoding in ("gzip", "identity"):
                request = urllib.request.Request(
                    base + path, headers={**headers, "Accept-Encoding": encoding}
                )
                try:
                    _opener().open(request, timeout=REFRESH_TIMEOUT).close()
                except urllib.error.HTTPError as error:  # a 404 is an answer too
                    error.close()
                except OSError as error:
                    logger.warning("Could not refresh %s through the proxy: %s", path, error)
                    return

    # Not a daemon: a command that saves and exits (sync_content) still refreshes.
    thread = threading.Thread(target=fetch_all, name="proxy-cache-refresh")
    thread.start()
    return thread


@cache
def _opener() -> urllib.request.OpenerDirector:
    # The proxy is named explicitly: no http_proxy environment variable applies.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))
