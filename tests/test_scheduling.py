"""Scheduled publishing: a lesson appears everywhere at its publish_at, not before."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.conftest import write
from tests.factories import make_section, make_tutorial
from tutorials import content, search
from tutorials.models import Tutorial
from tutorials.scheduling import publish_due

pytestmark = pytest.mark.django_db(transaction=True)  # the index follows on_commit


def listings(client: Client) -> dict[str, str]:
    return {
        "home": client.get("/").content.decode(),
        "sitemap": client.get("/sitemap.xml").content.decode(),
    }


def scheduled(hours: float, **fields) -> Tutorial:
    return make_tutorial(
        published=False,
        publish_at=timezone.now() + datetime.timedelta(hours=hours),
        title="Zeppelin receivers",
        slug="zeppelin",
        body_markdown="## Zeppelin\n\nAbout zeppelins.\n",
        **fields,
    )


def test_a_scheduled_lesson_is_nowhere_before_its_time():
    section = make_section(slug="basics")
    make_tutorial(section=section)  # keeps the section in the roadmap
    scheduled(1, section=section)
    assert publish_due() == []
    pages = listings(Client())
    assert "Zeppelin receivers" not in pages["home"]
    assert "/basics/zeppelin/" not in pages["sitemap"]
    assert Client().get("/basics/zeppelin/").status_code == 404
    assert search.search("zeppelin").hits == []


def test_a_request_after_its_time_publishes_it_in_every_listing_and_the_index(monkeypatch):
    monkeypatch.setattr("tutorials.scheduling.CHECK_INTERVAL", 0)
    section = make_section(slug="basics")
    make_tutorial(section=section)
    lesson = scheduled(1, section=section)
    client = Client()
    assert "Zeppelin receivers" not in client.get("/").content.decode()  # now cached
    Tutorial.objects.filter(pk=lesson.pk).update(publish_at=timezone.now())

    pages = listings(Client())  # the middleware checks (every request, with interval 0)

    assert "Zeppelin receivers" in pages["home"]
    assert "/basics/zeppelin/" in pages["sitemap"]
    assert Client().get("/basics/zeppelin/").status_code == 200
    assert [hit.tutorial_id for hit in search.search("zeppelin").hits] == [lesson.pk]


def test_the_command_publishes_what_is_due_and_says_so():
    lesson = scheduled(-1)
    out = StringIO()
    call_command("publish_scheduled", stdout=out)
    assert f"published {lesson.get_absolute_url()}" in out.getvalue()
    assert "1 lesson(s) published." in out.getvalue()
    assert Tutorial.objects.get(pk=lesson.pk).published
    out = StringIO()
    call_command("publish_scheduled", stdout=out)  # idempotent
    assert "0 lesson(s) published." in out.getvalue()


def test_publish_at_in_front_matter_schedules_a_file_and_a_later_sync_is_no_conflict(
    content_dir,
):
    write(content_dir / "01-b" / "_section.yml", "title: B\nslug: b\norder: 1\n")
    write(content_dir / "01-b" / "now.md", "---\ntitle: Now\nslug: now\norder: 1\n---\n\nHi.\n")
    soon = (timezone.now() + datetime.timedelta(hours=2)).replace(microsecond=0)
    write(
        content_dir / "01-b" / "later.md",
        f"---\ntitle: Later\nslug: later\norder: 2\npublish_at: {soon.isoformat()}\n---\n\nHi.\n",
    )
    report = content.sync(content_dir)
    assert not report.errors, report.errors
    later = Tutorial.objects.get(slug="later")
    assert (later.published, later.publish_at) == (False, soon)

    assert [t.slug for t in publish_due(soon)] == ["later"]
    report = content.sync(content_dir)
    assert (report.conflicts, report.unchanged) == ([], 2)
    assert Tutorial.objects.get(slug="later").published


def test_published_false_with_publish_at_is_an_author_error(content_dir):
    write(content_dir / "01-b" / "_section.yml", "title: B\nslug: b\norder: 1\n")
    write(
        content_dir / "01-b" / "x.md",
        "---\ntitle: X\nslug: x\norder: 1\npublished: false\npublish_at: 2030-01-01\n---\n\nHi.\n",
    )
    loaded = content.load(content_dir)
    assert [e.message for e in loaded.errors] == [
        "'publish_at' publishes the lesson at that time: drop 'published: false'"
    ]
