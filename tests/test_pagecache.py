"""The anonymous page cache: hits, invalidation by content version, validators and 304s."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings

from tests.factories import make_section, make_tutorial
from tutorials import navigation, pagecache

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _empty_page_cache():
    caches["pages"].clear()
    yield
    caches["pages"].clear()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what a change defers to its commit (test transactions never commit)."""
    return django_capture_on_commit_callbacks


@pytest.fixture
def lesson():
    section = make_section(title="Basics", slug="basics")
    make_tutorial(section, title="First", slug="first", order=1)
    return make_tutorial(
        section,
        title="Receivers",
        slug="receivers",
        order=2,
        body_markdown="## Wiring\n\nOld text.\n",
    )


LESSON_URL = "/basics/receivers/"
PAGE_URLS = ["/", "/basics/", LESSON_URL]


def queries_for(client, url: str, **headers) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    return len(queries), response


@pytest.mark.parametrize("url", PAGE_URLS)
def test_warm_page_is_answered_without_a_query_or_a_template(client, lesson, url):
    cold_queries, cold = queries_for(client, url)
    warm_queries, warm = queries_for(client, url)
    assert cold.status_code == warm.status_code == 200
    assert cold_queries > 0 and cold.templates
    assert warm_queries == 0
    assert warm.templates == []
    assert warm.content == cold.content


def test_warm_lesson_request_does_no_markdown_work(client, lesson, monkeypatch):
    client.get(LESSON_URL)

    def fail(*args, **kwargs):
        raise AssertionError("Markdown rendered while serving a page")

    monkeypatch.setattr("tutorials.markdown.render", fail)
    monkeypatch.setattr("tutorials.models.markdown.render", fail)
    response = client.get(LESSON_URL)
    assert response.status_code == 200
    assert "Old text." in response.content.decode()


def test_saving_a_lesson_shows_its_new_text_on_the_next_request(client, lesson, committed):
    assert "Old text." in client.get(LESSON_URL).content.decode()
    lesson.body_markdown = "## Wiring\n\nNew text.\n"
    with committed(execute=True):
        lesson.save()
    html = client.get(LESSON_URL).content.decode()
    assert "New text." in html and "Old text." not in html


def test_unpublishing_a_lesson_makes_its_cached_page_404(client, lesson, committed):
    assert client.get(LESSON_URL).status_code == 200
    lesson.published = False
    with committed(execute=True):
        lesson.save()
    assert client.get(LESSON_URL).status_code == 404


def test_deleting_a_lesson_removes_it_from_the_cached_roadmap(client, lesson, committed):
    assert ">Receivers</a>" in client.get("/").content.decode()
    with committed(execute=True):
        lesson.delete()
    assert ">Receivers</a>" not in client.get("/").content.decode()


def test_renaming_a_section_updates_every_cached_page(client, lesson, committed):
    for url in PAGE_URLS:
        assert "Basics" in client.get(url).content.decode()
    lesson.section.title = "Fundamentals"
    with committed(execute=True):
        lesson.section.save()
    for url in PAGE_URLS:
        html = client.get(url).content.decode()
        assert "Fundamentals" in html and ">Basics<" not in html


@pytest.mark.parametrize("change", ["save lesson", "delete lesson", "save section"])
def test_content_version_changes_when_a_change_commits_not_before(lesson, committed, change):
    before = pagecache.content_version()
    with committed(execute=True):
        if change == "save lesson":
            lesson.save()
        elif change == "delete lesson":
            lesson.delete()
        else:
            lesson.section.save()
        assert pagecache.content_version() == before  # not yet: the rows may roll back
    assert pagecache.content_version() != before


def test_rolled_back_change_keeps_the_cached_pages(client, lesson, committed):
    client.get(LESSON_URL)
    with committed(execute=True) as callbacks, transaction.atomic():
        lesson.save()
        transaction.set_rollback(True)
    assert callbacks == []
    assert queries_for(client, LESSON_URL)[0] == 0


def test_page_rendered_while_content_changes_is_not_served_afterwards(client, lesson, monkeypatch):
    build = navigation.build_roadmap

    def build_during_a_save():
        roadmap = build()
        pagecache.bump_content_version()  # another process commits mid-render
        return roadmap

    monkeypatch.setattr(navigation, "build_roadmap", build_during_a_save)
    client.get(LESSON_URL)
    monkeypatch.setattr(navigation, "build_roadmap", build)
    queries, response = queries_for(client, LESSON_URL)
    assert response.status_code == 200
    assert queries > 0, "a page rendered from old rows was served from the cache"


def test_visitor_with_a_session_is_never_served_a_cached_page(client, lesson, django_user_model):
    client.get(LESSON_URL)
    client.force_login(django_user_model.objects.create_user("editor"))
    queries, response = queries_for(client, LESSON_URL)
    assert response.status_code == 200
    assert queries > 0


def test_pages_set_no_cookie_cold_or_warm(client, lesson):
    for _ in range(2):
        response = client.get(LESSON_URL)
        assert response.cookies == {}
        assert "Set-Cookie" not in response.headers
        assert "Cookie" not in response.headers.get("Vary", "")


def test_cache_is_off_when_debug_is_on(client, lesson):
    with override_settings(DEBUG=True):
        client.get(LESSON_URL)
        queries, _ = queries_for(client, LESSON_URL)
    assert queries > 0


def test_head_request_gets_the_cached_headers_and_no_body(client, lesson):
    full = client.get(LESSON_URL)
    head = client.head(LESSON_URL)
    assert head.status_code == 200
    assert head.content == b""
    assert head["Content-Length"] == str(len(full.content))
    assert head["ETag"] == full["ETag"]


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_clients_that_accept_gzip_get_the_page_compressed(client, lesson, warm):
    plain = client.get(LESSON_URL)
    if not warm:
        caches["pages"].clear()
    response = client.get(LESSON_URL, headers={"accept-encoding": "gzip, deflate, br"})
    assert response["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.content) == plain.content
    assert int(response["Content-Length"]) == len(response.content) < len(plain.content) / 2
    assert "Accept-Encoding" in response["Vary"] and "Accept-Encoding" in plain["Vary"]
    assert response["ETag"] != plain["ETag"]  # another representation
    revalidated = client.get(
        LESSON_URL, headers={"accept-encoding": "gzip", "if-none-match": response["ETag"]}
    )
    assert revalidated.status_code == 304


def test_not_found_is_not_cached(client):
    assert client.get("/basics/later/").status_code == 404
    make_tutorial(make_section(slug="basics"), slug="later")
    assert client.get("/basics/later/").status_code == 200


@pytest.mark.parametrize("url", PAGE_URLS)
@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_pages_carry_validators_and_answer_a_matching_etag_with_304(client, lesson, url, warm):
    first = client.get(url)
    if not warm:
        caches["pages"].clear()
    etag, last_modified = first["ETag"], first["Last-Modified"]
    assert etag.startswith('"') and last_modified.endswith("GMT")
    # Browsers revalidate each time (max-age=0); the shared cache keeps it briefly.
    assert "max-age=0" in first["Cache-Control"] and "s-maxage=" in first["Cache-Control"]
    response = client.get(url, headers={"if-none-match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


@pytest.mark.parametrize("url", PAGE_URLS)
def test_if_modified_since_the_last_change_gets_304(client, lesson, url):
    last_modified = client.get(url)["Last-Modified"]
    assert client.get(url, headers={"if-modified-since": last_modified}).status_code == 304


def test_an_old_etag_gets_the_new_page_after_an_edit(client, lesson, committed):
    etag = client.get(LESSON_URL)["ETag"]
    lesson.title = "Receivers, revised"
    with committed(execute=True):
        lesson.save()
    response = client.get(LESSON_URL, headers={"if-none-match": etag})
    assert response.status_code == 200
    assert "Receivers, revised" in response.content.decode()
    assert response["ETag"] != etag


@pytest.mark.parametrize("url", ["/search/?q=wiring", "/search.json?q=wiring"])
def test_search_responses_carry_validators_and_answer_304(client, lesson, url):
    first = client.get(url)
    assert first.status_code == 200
    assert first["Last-Modified"].endswith("GMT")
    assert client.get(url, headers={"if-none-match": first["ETag"]}).status_code == 304


def test_search_page_runs_every_time_but_its_json_is_answered_from_the_cache(client, lesson):
    for _ in range(2):
        page_queries, page = queries_for(client, "/search/?q=wiring")
        json_queries, json = queries_for(client, "/search.json?q=wiring")
    assert page.status_code == json.status_code == 200
    assert page_queries > 0  # a search that finds nothing is recorded each time
    assert json_queries == 0


def test_csrf_token_endpoint_sets_the_cookie_and_is_never_cached(client):
    response = client.get("/csrf-token/")
    assert response.status_code == 200
    token = response.json()["token"]
    assert len(token) == 64
    assert response.cookies[settings.CSRF_COOKIE_NAME].value
    assert "no-store" in response["Cache-Control"]
    assert client.get("/csrf-token/").json()["token"] != token  # masked afresh each time


def test_token_from_the_endpoint_passes_csrf_on_a_post(lesson):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    token = client.get("/csrf-token/").json()["token"]
    # Any POST: without the token it is refused by CSRF, with it the view answers.
    assert client.post(LESSON_URL).status_code == 403
    assert client.post(LESSON_URL, headers={"x-csrftoken": token}).status_code == 405


def test_a_change_made_by_another_process_invalidates_this_ones_pages(client, lesson, tmp_path):
    """sync_content and the admin run in other processes than the one serving pages."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    overrides = {}
    if not settings.CACHE_URL:
        # Production's default cache without CACHE_URL: files shared by the processes.
        location = str(tmp_path / "cache")
        overrides["CACHES"] = {
            **settings.CACHES,
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": location,
            },
        }
        env.update(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 60, DJANGO_CACHE_DIR=location)
    with override_settings(**overrides):
        client.get(LESSON_URL)
        assert queries_for(client, LESSON_URL)[0] == 0
        subprocess.run(
            [sys.executable, "-c", BUMP_IN_ANOTHER_PROCESS],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=60,
        )
        queries, response = queries_for(client, LESSON_URL)
    assert response.status_code == 200
    assert queries > 0


BUMP_IN_ANOTHER_PROCESS = """
import django
django.setup()
from django.conf import settings
from tutorials.pagecache import bump_content_version
assert not settings.DEBUG or settings.CACHE_URL
bump_content_version()
"""


@pytest.mark.parametrize("url", ["/healthz", "/admin/login/", "/csrf-token/", "/sitemap.xml"])
def test_only_cacheable_views_read_the_content_version(client, lesson, url, monkeypatch):
    """Issue 12: the version was read for every URL, so a cache outage broke them all."""

    def fail():
        raise AssertionError("content version read for a view that is never cached")

    monkeypatch.setattr(pagecache, "content_version", fail)
    assert client.get(url).status_code == 200


def test_cacheable_views_are_marked_for_the_middleware():
    from django.urls import resolve

    assert resolve(LESSON_URL).func.cacheable_page == pagecache.STORE
    assert resolve("/search/").func.cacheable_page == pagecache.VALIDATE
    assert not getattr(resolve("/healthz").func, "cacheable_page", False)


def test_rebuild_search_index_starts_a_new_content_version(lesson):
    from django.core.management import call_command

    before = pagecache.content_version()
    call_command("rebuild_search_index", verbosity=0)
    assert pagecache.content_version() != before


def test_a_warm_hit_does_not_resolve_the_url_again(client, lesson, monkeypatch):
    """Which views are cacheable is remembered per path: a hit stays a dictionary lookup."""
    assert client.get(LESSON_URL).status_code == 200

    def fail(*args, **kwargs):
        raise AssertionError("URL resolved again on a warm hit")

    monkeypatch.setattr("tutorials.middleware.resolve", fail)
    response = client.get(LESSON_URL)
    assert response.status_code == 200
    assert response.templates == []  # from the page cache
