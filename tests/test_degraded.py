"""
Faults in shared services degrade, never break: with the shared cache (Redis) down,
pages are served uncached and /healthz says what is degraded.

`make test-degraded` (run by .ci/run) runs this file with ``CACHE_URL`` pointing at
a closed port, as an outage looks to the site; run alone, the ``down`` fixture points
the cache there itself.
"""

from __future__ import annotations

import logging

import pytest
from django.core.cache import cache, caches

from tests.factories import make_section, make_tutorial

pytestmark = pytest.mark.django_db

CLOSED_PORT_URL = "redis://127.0.0.1:9/0"  # discard: nothing listens there


@pytest.fixture(autouse=True)
def _clear_cache():
    """Replaces conftest's: clearing a cache that is down would fail every test."""
    caches["pages"].clear()
    yield
    caches["pages"].clear()


@pytest.fixture(autouse=True)
def down(settings):
    """The shared cache at a closed port (already so under `make test-degraded`)."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CLOSED_PORT_URL,
        },
    }
    with pytest.raises(Exception):  # noqa: B017  (redis-py's ConnectionError)
        cache.get("anything")


@pytest.fixture
def lesson():
    section = make_section(title="Basics", slug="basics")
    return make_tutorial(section, title="Receivers", slug="receivers", body_markdown="## Wiring\n")


@pytest.mark.parametrize("url", ["/", "/basics/", "/basics/receivers/", "/search/?q=wiring"])
def test_pages_are_served_uncached_while_the_cache_is_down(client, lesson, url, caplog):
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 200
    assert "Receivers" in response.content.decode()
    assert "page cache off, shared cache failed" in caplog.text


def test_healthz_answers_200_naming_the_degraded_cache(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "cache": "error",
        "degraded": ["cache"],
    }


def test_a_cache_outage_is_a_warning_line_not_a_traceback(client, lesson, caplog):
    caplog.set_level(logging.WARNING)
    client.get("/basics/receivers/")
    warnings = [r for r in caplog.records if r.name == "tutorials.middleware"]
    assert len(warnings) == 1
    assert warnings[0].exc_info is None


def test_saving_a_lesson_while_the_cache_is_down_still_saves(
    django_capture_on_commit_callbacks, caplog
):
    with django_capture_on_commit_callbacks(execute=True):
        lesson = make_tutorial(title="Saved anyway")
    assert lesson.pk is not None
    assert "bump_content_version" in caplog.text  # robust on_commit: logged, not raised


def test_unknown_page_is_still_a_404(client):
    assert client.get("/no/such-lesson/").status_code == 404
