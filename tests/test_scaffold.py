"""manage.py new_lesson: a draft that passes sync_content --check as created."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import write

SECTION = "title: Basics\nslug: basics\norder: 1\n"
LESSON = """---
title: Existing
slug: existing
order: 7
---

Body.
"""


@pytest.fixture
def section_dir(content_dir: Path) -> Path:
    write(content_dir / "01-basics" / "_section.yml", SECTION)
    write(content_dir / "01-basics" / "existing.md", LESSON)
    return content_dir


def new_lesson(content_dir: Path, *args: str) -> str:
    out = StringIO()
    call_command("new_lesson", *args, content_dir=content_dir, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_new_lesson_creates_a_draft_that_passes_the_content_check(section_dir):
    output = new_lesson(section_dir, "basics", "Signals and caching")

    path = section_dir / "01-basics" / "signals-and-caching.md"
    assert f"Created {path}" in output
    assert "/basics/signals-and-caching/" in output
    text = path.read_text()
    assert "slug: signals-and-caching\n" in text
    assert "order: 8\n" in text  # the next free order after 7
    assert "published: false\n" in text
    assert "references:\n" in text and "summary:" in text
    assert "```python run" in text and "```python exercise id=" in text
    # The sample's output came from the runner, not from the template.
    assert "```output\npost_save: 'hello', created=True\n```" in text
    check = StringIO()
    call_command("sync_content", "--check", content_dir=section_dir, stdout=check)
    assert "2 created" in check.getvalue()


@pytest.mark.django_db
def test_new_lesson_refuses_to_overwrite_a_file(section_dir):
    new_lesson(section_dir, "basics", "Twice", "--no-run")
    with pytest.raises(CommandError, match="already exists"):
        new_lesson(section_dir, "basics", "Twice", "--no-run")


def test_new_lesson_names_the_known_sections_for_an_unknown_one(section_dir):
    with pytest.raises(CommandError, match=r"no section 'nope'.*known: basics"):
        new_lesson(section_dir, "nope", "Title", "--no-run")


def test_new_lesson_refuses_a_title_without_a_slug(section_dir):
    with pytest.raises(CommandError, match="cannot make a slug"):
        new_lesson(section_dir, "basics", "!!!", "--no-run")
