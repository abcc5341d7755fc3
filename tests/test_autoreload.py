"""runserver's autoreloader re-syncs content/ through Django's own signals."""

from pathlib import Path

import pytest
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
