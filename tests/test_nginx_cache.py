"""The shared HTTP cache for real: Debian's nginx with deploy/nginx/cache.conf in
front of gunicorn, on a scratch course. A publish (a Tutorial save, in another
process, as an author's) is visible through the proxy within two seconds: the
saved lesson at once (the post_save refresh), every other page by s-maxage.

Needs nginx (``make system-deps``); fails, never skips, without it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.benchmarks.bench_http import Server, free_port, prepare, site_env
from tools.nginx_cache import Proxy

ROOT = Path(__file__).resolve().parents[1]
SECRET = "test-refresh-secret"
LESSON = "/django-signals/signals-home/"
OTHER = "/django-signals/m2m-changed/"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("nginx-cache")
    proxy_port, origin_port = free_port(), free_port()
    # nginx runs as an ordinary user (tools/nginx_cache.py): a directory it can reach.
    proxy_dir = Path(tempfile.mkdtemp(prefix="nginx-cache-"))
    env = {
        **site_env(scratch, origin_port),
        "DJANGO_PROXY_CACHE_URL": f"http://127.0.0.1:{proxy_port}",
        "DJANGO_PROXY_CACHE_SECRET": SECRET,
        "WEB_CONCURRENCY": "2",
    }
    prepare(env, scratch)
    origin = Server(env, origin_port, scratch / "gunicorn.log")
    try:
        proxy = Proxy(
            proxy_dir,
            listen=f"127.0.0.1:{proxy_port}",
            origin=f"127.0.0.1:{origin_port}",
            secret=SECRET,
        )
    except Exception:
        origin.stop()
        raise
    yield env, proxy.url
    proxy.stop()
    origin.stop()
    shutil.rmtree(proxy_dir, ignore_errors=True)


def fetch(url: str, **headers: str) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def save_lesson(env: dict[str, str], slug: str, **fields) -> float:
    """Save a lesson in another process, as an author would; return when it committed."""
    assignments = "; ".join(f"t.{name} = {value!r}" for name, value in fields.items())
    code = (
        "import time\nfrom tutorials.models import Tutorial\n"
        f"t = Tutorial.objects.get(slug={slug!r}); {assignments}; t.save()\n"
        "print(time.time())"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return float(out.split()[-1])


def visible_after(url: str, text: str, since: float, limit: float = 5.0) -> float:
    """Seconds from ``since`` until a GET through the proxy shows ``text``."""
    while time.time() - since < limit:
        if text in fetch(url)[2]:
            return time.time() - since
        time.sleep(0.02)
    return float("inf")


def test_pages_are_served_from_the_proxy_cache_with_shared_cache_headers(stack):
    _env, url = stack
    fetch(url + LESSON)
    status, headers, _ = fetch(url + LESSON)
    assert status == 200
    assert headers["X-Cache-Status"] in {"HIT", "STALE", "UPDATING"}
    cache_control = headers["Cache-Control"]
    assert "s-maxage=1" in cache_control and "stale-while-revalidate=" in cache_control
    assert "max-age=0" in cache_control and "public" in cache_control


def test_a_publish_is_visible_through_the_proxy_within_two_seconds(stack):
    env, url = stack
    for page in (LESSON, OTHER):
        fetch(url + page)  # both pages cached
    saved = save_lesson(env, "signals-home", title="Signals home, revised")
    # The saved lesson is refreshed by its post_save path before the save returns.
    assert visible_after(url + LESSON, "Signals home, revised", saved) < 2.0
    status, headers, _ = fetch(url + LESSON)
    assert headers["X-Cache-Status"] == "HIT"  # the proxy stored the fresh copy
    # Another lesson's roadmap shows the new title once its s-maxage runs out.
    assert visible_after(url + OTHER, "Signals home, revised", saved) < 2.0


def test_a_refreshed_page_is_served_new_at_once_though_nginx_keeps_cache_files_open(stack):
    # cache.conf keeps the files of popular pages open (open_file_cache, checked
    # every second): the refreshed copy must still be what the very next hit reads,
    # not the old file nginx holds open, after the lesson was read many times.
    env, url = stack
    for _ in range(20):
        fetch(url + LESSON)
    save_lesson(env, "signals-home", title="Signals home, read at once")
    status, headers, body = fetch(url + LESSON)  # no waiting: the refresh is done
    assert "Signals home, read at once" in body
    assert headers["X-Cache-Status"] == "HIT"


def test_an_unpublished_lesson_is_gone_from_the_proxy_within_two_seconds(stack):
    env, url = stack
    assert fetch(url + "/django-signals/custom-signals/")[0] == 200
    saved = save_lesson(env, "custom-signals", published=False)
    deadline = saved + 2.0
    while fetch(url + "/django-signals/custom-signals/")[0] != 404:
        assert time.time() < deadline, "the unpublished lesson is still served"
        time.sleep(0.05)
    save_lesson(env, "custom-signals", published=True)


def test_the_refresh_header_needs_the_secret(stack):
    _env, url = stack
    fetch(url + LESSON)
    assert fetch(url + LESSON, **{"X-Cache-Refresh": SECRET})[1]["X-Cache-Status"] == "BYPASS"
    wrong = fetch(url + LESSON, **{"X-Cache-Refresh": "guess"})[1]["X-Cache-Status"]
    assert wrong != "BYPASS"


def test_a_signed_in_editor_bypasses_the_proxy_cache(stack):
    _env, url = stack
    fetch(url + LESSON)
    headers = fetch(url + LESSON, Cookie="sessionid=abc")[1]
    assert headers["X-Cache-Status"] == "BYPASS"
