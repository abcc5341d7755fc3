"""What the origin tells the shared HTTP cache (tutorials/proxycache.py): which
responses it may keep, and the refresh requests a publish sends it. The real nginx
is exercised in tests/test_nginx_cache.py."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings

from tests.factories import make_section, make_tutorial
from tutorials import proxycache

pytestmark = pytest.mark.django_db
LESSON_URL = "/basics/receivers/"


@pytest.fixture
def lesson():
    return make_tutorial(make_section(title="Basics", slug="basics"), slug="receivers")


@pytest.fixture
def fake_proxy():
    """An HTTP server that records the requests a refresh sends it."""
    seen: list[tuple[str, dict[str, str]]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append((self.path, dict(self.headers)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()
    server.server_close()


def test_anonymous_lesson_may_be_kept_by_a_shared_cache_for_s_maxage(client, lesson):
    cache_control = client.get(LESSON_URL)["Cache-Control"]
    directives = {d.strip() for d in cache_control.split(",")}
    assert {"public", "max-age=0", "s-maxage=1", "stale-while-revalidate=30"} <= directives


def test_a_visitor_with_a_session_gets_no_shared_cache_headers(client, lesson):
    client.cookies["sessionid"] = "anything"
    cache_control = client.get(LESSON_URL)["Cache-Control"]
    assert "no-cache" in cache_control and "s-maxage" not in cache_control


def test_search_page_is_never_kept_by_a_shared_cache(client, lesson):
    # It records searches that found nothing: every request must reach the origin.
    cache_control = client.get("/search/?q=zzzz")["Cache-Control"]
    assert "no-cache" in cache_control and "s-maxage" not in cache_control


@override_settings(PROXY_CACHE={"SECONDS": 0})
def test_shared_caching_can_be_turned_off(client, lesson):
    assert "s-maxage" not in client.get(LESSON_URL)["Cache-Control"]


def test_publishing_refreshes_the_lesson_its_section_and_home_through_the_proxy(
    lesson, fake_proxy, django_capture_on_commit_callbacks, monkeypatch
):
    url, seen = fake_proxy
    threads = []
    refresh = proxycache.refresh
    monkeypatch.setattr(proxycache, "refresh", lambda paths: threads.append(refresh(paths)))
    config = {"URL": url, "SECRET": "s3cret", "HOST": "docs.example.com"}
    with override_settings(PROXY_CACHE=config), django_capture_on_commit_callbacks(execute=True):
        lesson.title = "Receivers, revised"
        lesson.save()
    for thread in threads:
        thread.join(5)
    assert {path for path, _ in seen} == {LESSON_URL, "/basics/", "/"}
    assert all(h["X-Cache-Refresh"] == "s3cret" for _, h in seen)
    assert all(h["Host"] == "docs.example.com" for _, h in seen)
    # Both copies the proxy keeps apart (deploy/nginx/cache.conf): gzipped and not.
    encodings = sorted(h["Accept-Encoding"] for p, h in seen if p == LESSON_URL)
    assert encodings == ["gzip", "identity"]


def test_without_a_proxy_a_publish_sends_nothing(lesson, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        lesson.save()
    assert proxycache.refresh_lesson(lesson.pk) is None


def test_an_unreachable_proxy_does_not_fail_the_save(lesson, django_capture_on_commit_callbacks):
    config = {"URL": "http://127.0.0.1:9", "SECRET": "s3cret"}
    with override_settings(PROXY_CACHE=config):
        with django_capture_on_commit_callbacks(execute=True):
            lesson.title = "Still saved"
            lesson.save()
        proxycache.refresh_lesson(lesson.pk).join(5)  # logs a warning, raises nothing
    lesson.refresh_from_db()
    assert lesson.title == "Still saved"
