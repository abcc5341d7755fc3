"""runserver's autoreloader re-syncs content/ through Django's own signals."""

from pathlib import Path
from unittest import mock

import pytest
from django.db import OperationalError
from django.utils.autoreload import autoreload_started, file_changed

from tests.conftest import write
from tutorials.models import Tutorial

pytestmark = pytest.mark.django_db

SECTION = "title: S\nslug: s\norder: 1\n"
LESSON = "---\ntitle: {title}\nslug: l\norder: 1\n---\nBody\n"


class FakeReloader:
    def __init__(self):
        self.watched = []

    def watch_dir(self, path, glob):
        self.watched.append((Path(path), glob))


def test_autoreload_started_watches_the_content_folder(settings, content_dir):
    settings.CONTENT_DIR = content_dir
    reloader = FakeReloader()
    autoreload_started.send(sender=reloader)
    assert (content_dir, "**/*.md") in reloader.watched
    assert (content_dir, "**/*.yml") in reloader.watched


def test_changed_lesson_file_is_synced_without_restarting_the_server(settings, content_dir):
    settings.CONTENT_DIR = content_dir
    write(content_dir / "s" / "_section.yml", SECTION)
    path = write(content_dir / "s" / "l.md", LESSON.format(title="First"))
    results = file_changed.send(sender=FakeReloader(), file_path=path)
    assert any(handled for _receiver, handled in results)  # True: no reload
    assert Tutorial.objects.get().title == "First"
    write(path, LESSON.format(title="Second"))
    file_changed.send(sender=FakeReloader(), file_path=path)
    assert Tutorial.objects.get().title == "Second"


def test_python_file_changes_still_restart_the_server(settings, content_dir):
    settings.CONTENT_DIR = content_dir
    results = file_changed.send(sender=FakeReloader(), file_path=Path(__file__))
    assert not any(handled for _receiver, handled in results)


def test_hostile_file_saved_while_serving_is_one_line_and_the_server_keeps_serving(
    settings, content_dir, caplog
):
    """Issue 12: a list nested 1,000 deep killed the development server."""
    settings.CONTENT_DIR = content_dir
    write(content_dir / "s" / "_section.yml", SECTION)
    path = write(content_dir / "s" / "l.md", LESSON.format(title="First"))
    file_changed.send(sender=FakeReloader(), file_path=path)
    write(path, "---\ntitle: Deep\nslug: l\norder: 1\n---\n" + "- " * 1000 + "x\n")
    results = file_changed.send(sender=FakeReloader(), file_path=path)
    assert any(handled for _receiver, handled in results)
    assert "content: s/l.md:6: nested 1000 levels deep" in caplog.text
    assert "Traceback" not in caplog.text
    assert Tutorial.objects.get().title == "First"  # the last good version


def test_any_error_of_the_resync_is_one_line_and_no_restart(
    settings, content_dir, caplog, monkeypatch
):
    settings.CONTENT_DIR = content_dir
    monkeypatch.setattr("tutorials.content.sync", mock.Mock(side_effect=RuntimeError("boom")))
    path = write(content_dir / "s" / "l.md", LESSON.format(title="First"))
    results = file_changed.send(sender=FakeReloader(), file_path=path)
    assert any(handled for _receiver, handled in results)
    [record] = [r for r in caplog.records if r.name == "tutorials.autoreload"]
    assert record.getMessage().startswith("content: sync failed: RuntimeError: boom")
    assert record.exc_info is None


def test_a_locked_database_is_retried(settings, content_dir, caplog, monkeypatch):
    """Issue 12: "database is locked" (a sync_content running at the same time) killed it."""
    settings.CONTENT_DIR = content_dir
    monkeypatch.setattr("tutorials.autoreload.LOCKED_PAUSE", 0)
    write(content_dir / "s" / "_section.yml", SECTION)
    path = write(content_dir / "s" / "l.md", LESSON.format(title="First"))
    from tutorials import content

    real_sync = content.sync
    attempts = []

    def locked_twice(*args, **kwargs):
        attempts.append(1)
        if len(attempts) <= 2:
            raise OperationalError("database is locked")
        return real_sync(*args, **kwargs)

    monkeypatch.setattr("tutorials.content.sync", locked_twice)
    file_changed.send(sender=FakeReloader(), file_path=path)
    assert len(attempts) == 3
    assert Tutorial.objects.get().title == "First"
    assert caplog.text.count("database is locked, retrying") == 2
