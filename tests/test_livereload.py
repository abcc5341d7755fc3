"""
Live reload under the real development server: `manage.py runserver` in a
subprocess, a lesson file saved on disk, and Chromium seeing the page change by
itself (or the error overlay), with no reload when the edit changes nothing shown.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings

from tests.browser import new_context
from tests.conftest import write

SECTION = "title: Basics\nslug: basics\norder: 1\n"
LESSON = "---\ntitle: {title}\nslug: {slug}\norder: {order}\n---\n\n{body}\n"
FILLER = "\n\n".join(f"## Part {n}\n\nParagraph {n} of a long lesson." for n in range(1, 30))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def dev_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    content = tmp_path / "content"
    write(content / "01-basics" / "_section.yml", SECTION)
    write(
        content / "01-basics" / "first.md",
        LESSON.format(title="First", slug="first", order=1, body="Version one.\n\n" + FILLER),
    )
    write(
        content / "01-basics" / "other.md",
        LESSON.format(title="Other", slug="other", order=2, body="Unrelated."),
    )
    env = {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_CONTENT_DIR": str(content),
        "CACHE_URL": "",
        "PYTHONUNBUFFERED": "1",
    }
    manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
    subprocess.run([*manage, "migrate", "--verbosity", "0"], env=env, check=True)
    subprocess.run([*manage, "sync_content", "--verbosity", "0"], env=env, check=True)
    port = free_port()
    log = (tmp_path / "runserver.log").open("wb")
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("runserver did not start: " + (tmp_path / "runserver.log").read_text())
        yield url, content
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the reloader and the server it started
        server.wait(timeout=10)
        log.close()


@pytest.mark.browser
def test_saving_a_lesson_refreshes_its_page_keeping_the_scroll_and_shows_sync_errors(
    browser, dev_server
):
    url, content = dev_server
    context = new_context(browser, url)
    page = context.new_page()
    page.goto("/basics/first/")
    page.locator("html[data-livereload=connected]").wait_for(state="attached")
    page.wait_for_timeout(500)  # the page has read its baseline
    page.evaluate("window.scrollTo(0, 900); window.__sameDocument = true")
    lesson = content / "01-basics" / "first.md"

    # An edit to another lesson that this page does not show: no reload.
    write(
        content / "01-basics" / "other.md",
        LESSON.format(title="Other", slug="other", order=2, body="Still unrelated."),
    )
    page.wait_for_timeout(2500)  # the autoreloader polls every second
    assert page.evaluate("window.__sameDocument") is True

    # This lesson's own file: the page shows the new text by itself.
    started = time.monotonic()
    write(lesson, LESSON.format(title="First", slug="first", order=1,
                                body="Version two.\n\n" + FILLER))  # fmt: skip
    page.get_by_text("Version two.").wait_for(timeout=8000)
    print(f"save-to-refresh: {time.monotonic() - started:.2f} s")
    assert page.evaluate("window.__sameDocument") is None  # it was reloaded
    assert 850 <= page.evaluate("window.scrollY") <= 950

    # A broken save: the error overlay, the last good page stays.
    write(lesson, "---\ntitle: First\nslug: first\n---\n\nNo order.\n")
    overlay = page.get_by_role("alert").filter(has_text="failed to sync")
    overlay.wait_for(timeout=8000)
    assert "01-basics/first.md" in overlay.inner_text()
    assert "order" in overlay.inner_text()
    assert page.get_by_text("Version two.").is_visible()

    # Fixed: the overlay goes and the page shows the fix.
    write(lesson, LESSON.format(title="First", slug="first", order=1, body="Version three."))
    page.get_by_text("Version three.").wait_for(timeout=8000)
    assert page.get_by_role("alert").count() == 0
    context.close()


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_live_reload_does_not_exist_when_debug_is_off():
    client = Client()
    assert "livereload.js" not in client.get("/").content.decode()
    assert client.get("/__livereload__/events").status_code == 404


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_in_development_pages_load_the_live_reload_module():
    html = Client().get("/").content.decode()
    assert 'js/livereload.js"' in html and 'data-events-url="/__livereload__/events"' in html
