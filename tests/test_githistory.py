"""A lesson's "Updated" date comes from its file's last commit; "Edit this page" from
CONTENT_EDIT_URL."""

import datetime
import os
import subprocess
from pathlib import Path

import pytest
from django.test import Client, override_settings

from tests.conftest import write
from tutorials import content
from tutorials.githistory import last_changed
from tutorials.models import Tutorial

pytestmark = pytest.mark.django_db(transaction=True)

LESSON = "---\ntitle: {title}\nslug: {slug}\norder: {order}\n---\n\nBody of {slug}.\n"
OLD = "2021-03-04T05:06:07+00:00"


def git(repo: Path, *args: str, date: str = OLD) -> None:
    env = {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    subprocess.run(
        ["git", "-c", "user.email=a@example.com", "-c", "user.name=Author", *args],
        cwd=repo, env=env, check=True, capture_output=True,
    )  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write(root / "content" / "01-b" / "_section.yml", "title: B\nslug: b\norder: 1\n")
    write(root / "content" / "01-b" / "old.md", LESSON.format(title="Old", slug="old", order=1))
    write(root / "content" / "01-b" / "new.md", LESSON.format(title="New", slug="new", order=2))
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "first")
    return root


def test_last_changed_reads_commit_dates_and_leaves_out_uncommitted_files(repo):
    (repo / "content" / "01-b" / "new.md").write_text("changed\n")
    dates = last_changed(repo / "content")
    assert dates["01-b/old.md"] == datetime.datetime.fromisoformat(OLD)
    assert "01-b/new.md" not in dates


def test_a_folder_outside_git_has_no_history(tmp_path):
    assert last_changed(tmp_path) == {}


def test_the_lesson_page_shows_the_commit_date_else_the_sync_time(repo):
    (repo / "content" / "01-b" / "new.md").write_text(
        LESSON.format(title="New", slug="new", order=2) + "More.\n"
    )
    before = datetime.datetime.now(datetime.UTC)
    report = content.sync(repo / "content")
    assert not report.errors
    old = Client().get("/b/old/").content.decode()
    assert '<time datetime="2021-03-04T05:06:07+00:00">4 Mar 2021</time>' in old
    assert Tutorial.objects.get(slug="new").source_updated_at >= before


def test_committing_a_synced_file_moves_its_date_without_a_text_change(repo):
    new = repo / "content" / "01-b" / "new.md"
    new.write_text(LESSON.format(title="New", slug="new", order=2) + "More.\n")
    content.sync(repo / "content")  # uncommitted: dated by the sync
    git(repo, "commit", "-qam", "more", date="2024-01-02T00:00:00+00:00")
    report = content.sync(repo / "content")
    assert report.unchanged == 2
    assert Tutorial.objects.get(slug="new").source_updated_at.year == 2024


@override_settings(CONTENT_EDIT_URL="https://git.example.com/site/edit/main/content/{path}")
def test_edit_this_page_links_to_the_file(repo):
    content.sync(repo / "content")
    html = Client().get("/b/old/").content.decode()
    assert 'href="https://git.example.com/site/edit/main/content/01-b/old.md"' in html


def test_no_edit_link_when_unset(repo):
    content.sync(repo / "content")
    assert "Edit this page" not in Client().get("/b/old/").content.decode()
