"""Models: Markdown is rendered at save, never while serving a page."""

from unittest import mock

import pytest

from tests.factories import make_section, make_tutorial
from tutorials.models import Tutorial

pytestmark = pytest.mark.django_db


def test_saving_a_lesson_stores_rendered_html_toc_and_reading_time():
    lesson = make_tutorial(body_markdown="## Receivers\n\n" + "word " * 450)
    stored = Tutorial.objects.get(pk=lesson.pk)
    assert stored.body_html.startswith('<h2 id="receivers">')
    assert stored.toc[0]["name"] == "Receivers"
    assert stored.reading_minutes == 2


def test_serving_a_lesson_does_no_markdown_work(client):
    make_tutorial(make_section(slug="s"), slug="l")
    with mock.patch(
        "tutorials.markdown.render", side_effect=AssertionError("rendered per request")
    ):
        response = client.get("/s/l/")
    assert response.status_code == 200


def test_link_to_another_lesson_resolves_from_the_database_on_admin_save():
    section = make_section(slug="basics")
    make_tutorial(section, slug="custom", source_path="basics/custom.md")
    lesson = make_tutorial(section, slug="home", source_path="basics/home.md",
                           body_markdown="[custom](custom.md)\n")  # fmt: skip
    assert 'href="/basics/custom/"' in lesson.body_html


def test_published_queryset_excludes_drafts():
    section = make_section()
    live = make_tutorial(section)
    make_tutorial(section, published=False)
    assert list(Tutorial.objects.published()) == [live]


def test_edited_since_sync_detects_a_change_after_sync():
    lesson = make_tutorial()
    lesson.synced_content_hash = lesson.content_hash()
    assert not lesson.edited_since_sync
    lesson.summary = "changed"
    assert lesson.edited_since_sync
