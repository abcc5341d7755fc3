"""
Browser fixtures: Debian's Chromium, driven by Playwright, against the live server.

Imported by ``tests/conftest.py``. Playwright's own browser download needs the
internet, so the fixtures launch ``/usr/bin/chromium`` (``make system-deps``
installs it). One browser per test session (so one per xdist worker); each test
gets a fresh context, so localStorage (theme, progress) never leaks between tests.

``live_server`` is pytest-django's, with one change: static files are answered by
the site's own whitenoise middleware from ``STATIC_ROOT`` (hashed, compressed,
exactly as in production) instead of Django's finder-based handler, which knows
nothing of the manifest's hashed names. Run ``make collectstatic`` first;
``make test`` does.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from pytest_django.live_server_helper import LiveServer

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
NODE_MODULES = Path(__file__).resolve().parent / "node" / "node_modules"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"  # git-ignored


def _serve_through_the_app(application):
    """A live-server "static handler" that hands /static/ to the app's middleware."""
    return application


class WhiteNoiseLiveServer(LiveServer):
    """pytest-django's LiveServer, with static files served by whitenoise."""

    def __init__(self, addr: str) -> None:
        super().__init__(addr, start=False)
        self.thread.static_handler = _serve_through_the_app
        self.start()


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """The site on a local port, as pytest-django's ``live_server`` (same options)."""
    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        pytest.fail("No static files manifest: run `make collectstatic` (make test does).")
    addr = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = WhiteNoiseLiveServer(addr)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole session (each xdist worker)."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"No Chromium at {CHROMIUM}: run `make system-deps` (make test does).")
    # Playwright's sync API keeps an event loop in this thread; the ORM calls that
    # tests make between browser steps are synchronous and safe here.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def course(live_server: LiveServer) -> list[str]:
    """The real course from content/, synced into the test database.

    Returns the published lessons' URLs in reading order. A lesson file that is
    broken while an author works on it is skipped by the sync, as in production.
    """
    from tutorials import content
    from tutorials.models import Tutorial

    content.sync(Path(settings.CONTENT_DIR))
    urls = [t.get_absolute_url() for t in Tutorial.objects.published().in_roadmap_order()]
    assert urls, "content/ has no lesson that syncs"
    return urls


def new_context(
    browser: Browser, base_url: str, *, colour_scheme: str = "light", phone: bool = False
) -> BrowserContext:
    """A fresh browser profile: empty localStorage, the given system colour scheme."""
    return browser.new_context(
        base_url=base_url,
        viewport=PHONE if phone else DESKTOP,
        color_scheme=colour_scheme,
        reduced_motion="reduce",
        has_touch=phone,
        is_mobile=phone,
    )


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    """A fresh desktop-sized profile with a light system theme."""
    ctx = new_context(browser, live_server.url)
    ctx.set_default_timeout(10_000)  # ms: a local page that takes longer is a failure
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A tab in ``context``; ``page.problems`` collects script errors and CSP refusals."""
    tab = context.new_page()
    tab.problems = []
    tab.on("pageerror", lambda error: tab.problems.append(f"pageerror: {error}"))
    tab.on(
        "console",
        lambda message: message.type == "error" and tab.problems.append(message.text),
    )
    return tab


def axe_source() -> str:
    """axe-core's script, from the npm package ``make node-deps`` installs."""
    path = NODE_MODULES / "axe-core" / "axe.min.js"
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make node-deps` (make test does).")
    return path.read_text(encoding="utf-8")
