"""sync_content: idempotency, bad input, conflicts, unpublishing, --check."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import write
from tutorials.models import Section, Tutorial

pytestmark = pytest.mark.django_db

SECTION = "title: Django Signals\nslug: django-signals\norder: 1\ndescription: The course.\n"


def lesson(
    title="Signals home", slug="signals-home", order=1, body="## Intro\n\nHello.\n", extra=""
):
    return (
        f"---\ntitle: {title}\nslug: {slug}\norder: {order}\nsummary: About {title}.\n{extra}---\n"
        f"{body}"
    )


def sync(directory: Path, *args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("sync_content", "--content-dir", str(directory), *args, stdout=out, stderr=err)
    except CommandError as exc:
        err.write(f"\nCommandError: {exc}")
        raise SyncFailed(out.getvalue(), err.getvalue()) from exc
    return out.getvalue(), err.getvalue()


class SyncFailed(Exception):
    def __init__(self, out: str, err: str) -> None:
        super().__init__(err)
        self.out, self.err = out, err


@pytest.fixture
def course(content_dir: Path) -> Path:
    write(content_dir / "01-signals" / "_section.yml", SECTION)
    write(
        content_dir / "01-signals" / "home.md",
        lesson(body="## Intro\n\nSee [custom](custom.md).\n"),
    )
    write(content_dir / "01-signals" / "custom.md", lesson("Custom signals", "custom-signals", 2))
    return content_dir


def test_sync_creates_sections_and_lessons_with_rendered_html(course):
    out, _ = sync(course)
    assert "2 created, 0 updated, 0 unchanged, 0 unpublished" in out
    section = Section.objects.get()
    assert (section.title, section.slug, section.order) == ("Django Signals", "django-signals", 1)
    home = Tutorial.objects.get(slug="signals-home")
    assert home.section == section
    assert home.summary == "About Signals home."
    assert '<h2 id="intro">' in home.body_html
    assert home.toc[0]["id"] == "intro"
    assert home.source_path == "01-signals/home.md"


def test_links_between_lessons_are_rendered_to_lesson_urls(course):
    sync(course)
    home = Tutorial.objects.get(slug="signals-home")
    assert 'href="/django-signals/custom-signals/"' in home.body_html


def test_second_sync_with_no_change_writes_nothing(course, django_assert_num_queries):
    sync(course)
    before = list(Tutorial.objects.values_list("pk", "updated_at"))
    with django_assert_num_queries(3):  # sections, lessons, gone lessons: no write
        out, _ = sync(course)
    assert "0 created, 0 updated, 2 unchanged" in out
    assert list(Tutorial.objects.values_list("pk", "updated_at")) == before


def test_changed_file_is_updated(course):
    sync(course)
    write(course / "01-signals" / "custom.md", lesson("Custom signals v2", "custom-signals", 2))
    out, _ = sync(course)
    assert "0 created, 1 updated, 1 unchanged" in out
    assert Tutorial.objects.get(slug="custom-signals").title == "Custom signals v2"


REFERENCES = "references:\n  - title: Signals\n    url: https://docs.djangoproject.com/en/5.2/topics/signals/\n"


def test_changed_file_with_references_is_updated_not_reported_as_a_conflict(course):
    """Issue 12: on PostgreSQL, jsonb gives the references' keys back in another
    order, so every changed file looked edited in admin ("1 conflicts", exit 1)."""
    write(
        course / "01-signals" / "custom.md", lesson("Custom", "custom-signals", 2, extra=REFERENCES)
    )
    sync(course)
    write(
        course / "01-signals" / "custom.md",
        lesson("Custom", "custom-signals", 2, body="Appended.\n", extra=REFERENCES),
    )
    out, err = sync(course)
    assert "1 updated" in out and "0 conflicts" in out, err
    custom = Tutorial.objects.get(slug="custom-signals")
    assert "Appended." in custom.body_html
    assert not custom.edited_since_sync


def test_renamed_target_slug_rerenders_the_lessons_linking_to_it(course):
    sync(course)
    write(course / "01-signals" / "custom.md", lesson("Custom signals", "custom", 2))
    out, _ = sync(course)
    assert "0 created, 2 updated" in out
    assert 'href="/django-signals/custom/"' in Tutorial.objects.get(slug="signals-home").body_html


def test_lesson_whose_file_is_gone_is_unpublished_not_deleted(course):
    sync(course)
    (course / "01-signals" / "custom.md").unlink()
    write(course / "01-signals" / "home.md", lesson())  # drop the link to the gone file
    out, _ = sync(course)
    assert "1 unpublished" in out
    gone = Tutorial.objects.get(slug="custom-signals")
    assert gone.published is False


def test_file_that_comes_back_is_published_again(course):
    sync(course)
    path = course / "01-signals" / "custom.md"
    text = path.read_text()
    path.unlink()
    write(course / "01-signals" / "home.md", lesson())
    sync(course)
    write(path, text)
    sync(course)
    assert Tutorial.objects.get(slug="custom-signals").published is True


def test_draft_front_matter_keeps_a_lesson_unpublished(course):
    write(
        course / "01-signals" / "draft.md", lesson("Draft", "draft", 3, extra="published: false\n")
    )
    sync(course)
    assert Tutorial.objects.get(slug="draft").published is False


BAD_FILES = {
    "bad YAML": (lesson(extra="references: [unclosed\n"), "bad YAML", 7),
    "missing title": ("---\nslug: x\norder: 1\n---\nBody\n", "missing 'title'", None),
    "no front matter": ("# Just markdown\n", "must start with front matter", 1),
    "unclosed front matter": ("---\ntitle: x\n", "not closed", 1),
    "bad slug": (lesson(slug="Not A Slug"), "slug 'Not A Slug'", None),
    "unknown key": (lesson(extra="titel: typo\n"), "unknown key 'titel'", None),
    "bad order": (lesson(order="first"), "'order' must be a whole number", None),
    "bad reference": (lesson(extra="references:\n  - title: x\n"), "reference 1", None),
    "broken link": (
        lesson("Links", "links", body="Intro\n\nSee [nope](nope.md).\n"),
        "link to 'nope.md'",
        9,
    ),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_broken_file_gets_one_clear_line_and_the_rest_still_syncs(course, case):
    text, message, line = BAD_FILES[case]
    write(course / "01-signals" / "broken.md", text)
    with pytest.raises(SyncFailed) as failure:
        sync(course)
    errors = [line for line in failure.value.err.splitlines() if "broken.md" in line]
    assert len(errors) == 1, failure.value.err
    assert message in errors[0]
    location = f"01-signals/broken.md:{line}:" if line else "01-signals/broken.md:"
    assert errors[0].startswith(location), errors[0]
    assert "2 created" in failure.value.out
    assert Tutorial.objects.count() == 2


def test_invalid_utf8_is_reported_with_its_line(course):
    write(course / "01-signals" / "latin1.md", lesson().encode() + b"caf\xe9\n")
    with pytest.raises(SyncFailed) as failure:
        sync(course)
    assert "01-signals/latin1.md:10: invalid UTF-8" in failure.value.err


def test_duplicate_slug_is_reported_and_the_first_lesson_kept(course):
    write(course / "01-signals" / "zz-copy.md", lesson("Copy", "signals-home", 5))
    with pytest.raises(SyncFailed) as failure:
        sync(course)
    assert (
        "zz-copy.md: duplicate slug 'signals-home' (also in 01-signals/home.md)"
        in failure.value.err
    )
    assert Tutorial.objects.get(slug="signals-home").title == "Signals home"


def test_lesson_in_a_folder_without_section_file_is_an_unknown_section(course):
    write(course / "99-orphans" / "orphan.md", lesson("Orphan", "orphan"))
    with pytest.raises(SyncFailed) as failure:
        sync(course)
    assert (
        "99-orphans/orphan.md: unknown section: no _section.yml in 99-orphans/" in failure.value.err
    )


def test_broken_section_file_is_reported_with_its_line(course):
    write(course / "02-more" / "_section.yml", "title: More\nslug: [oops\n")
    write(course / "02-more" / "x.md", lesson("X", "x"))
    with pytest.raises(SyncFailed) as failure:
        sync(course)
    assert "02-more/_section.yml:" in failure.value.err
    assert "bad YAML" in failure.value.err


def test_broken_edit_keeps_the_last_good_published_version(course):
    sync(course)
    write(course / "01-signals" / "custom.md", "---\ntitle: [broken\n---\nNew body\n")
    with pytest.raises(SyncFailed):
        sync(course)
    custom = Tutorial.objects.get(slug="custom-signals")
    assert custom.published is True
    assert custom.title == "Custom signals"
    assert "Hello." in custom.body_html


def test_check_validates_and_writes_nothing(course):
    out, _ = sync(course, "--check")
    assert "2 created" in out
    assert Tutorial.objects.count() == 0
    assert Section.objects.count() == 0


def test_check_fails_on_a_broken_file(course):
    write(course / "01-signals" / "broken.md", "---\ntitle: x\n")
    with pytest.raises(SyncFailed):
        sync(course, "--check")
    assert Tutorial.objects.count() == 0


def edit_in_admin_and_in_file(course: Path) -> Tutorial:
    """Sync, then change the same lesson both in admin and in its file."""
    sync(course)
    custom = Tutorial.objects.get(slug="custom-signals")
    custom.body_markdown = "Edited in admin.\n"
    custom.save()
    write(
        course / "01-signals" / "custom.md",
        lesson("Custom signals", "custom-signals", 2, body="From file.\n"),
    )
    return custom


def test_admin_edit_is_not_overwritten_when_the_file_changed_too(course):
    custom = edit_in_admin_and_in_file(course)
    with pytest.raises(SyncFailed) as failure:
        sync(course)
    assert "conflict: 01-signals/custom.md" in failure.value.err
    custom.refresh_from_db()
    assert custom.body_markdown == "Edited in admin.\n"


def test_force_takes_the_files_version_over_an_admin_edit(course):
    custom = edit_in_admin_and_in_file(course)
    out, _ = sync(course, "--force")
    assert "1 updated" in out
    custom.refresh_from_db()
    assert custom.body_markdown == "From file.\n"
    assert not custom.edited_since_sync


def test_admin_edit_survives_a_sync_when_the_file_did_not_change(course):
    sync(course)
    custom = Tutorial.objects.get(slug="custom-signals")
    custom.title = "Renamed in admin"
    custom.save()
    out, _ = sync(course)
    assert "2 unchanged" in out
    custom.refresh_from_db()
    assert custom.title == "Renamed in admin"


def test_the_real_content_folder_passes_validation():
    from django.conf import settings

    from tutorials.content import load

    content = load(settings.CONTENT_DIR)
    assert content.errors == []
    assert len(content.lessons) >= 3
    slugs = {lesson.slug for lesson in content.lessons}
    assert {"signals-home", "built-in-signals", "custom-signals"} <= slugs
