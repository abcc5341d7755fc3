"""Shared fixtures. Feature-specific fixtures live beside their tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.cache import cache

# Browser tests: Chromium through Playwright, live_server serving static files through
# whitenoise (see tests/browser.py).
from tests.browser import browser, context, course, live_server, page  # noqa: F401


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty cache (page cache, rate limits)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _runs_counted():
    """A run is counted (metrics, an exercise's attempts) just after its answer: let
    the runner's threads finish that before the test's database is emptied."""
    yield
    from tutorials.runner import queues

    assert queues.wait_idle(30), "a queued run was still going 30 s after its test"


@pytest.fixture
def url(settings) -> str:
    """The code runner's endpoint, ``/run/`` (tutorials.runner.testing.run_url)."""
    from tutorials.runner.testing import run_url

    return run_url(settings)


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """An empty content/ folder to write lesson files into."""
    directory = tmp_path / "content"
    directory.mkdir()
    return directory


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path
