"""
sync_content keeps the course whole: all or nothing per run, renames and moves in
one transaction, a broken file reported on one line while the rest syncs.

The reproductions of issue 12 are kept here as regression tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import write
from tests.test_content import SECTION, SyncFailed, lesson, sync
from tutorials import content
from tutorials.models import Redirect, Section, Tutorial, TutorialLink

pytestmark = pytest.mark.django_db

PRACTICE = "title: In practice\nslug: in-practice\norder: 2\n"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed():`` runs the block's on_commit callbacks, as a commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def course(content_dir: Path) -> Path:
    """Two sections; home links to custom, custom to home."""
    write(content_dir / "01-signals" / "_section.yml", SECTION)
    write(content_dir / "02-practice" / "_section.yml", PRACTICE)
    write(
        content_dir / "01-signals" / "home.md",
        lesson(body="## Intro\n\nSee [custom](custom.md).\n"),
    )
    write(
        content_dir / "01-signals" / "custom.md",
        lesson("Custom signals", "custom-signals", 2, body="Back [home](home.md).\n"),
    )
    write(content_dir / "02-practice" / "tips.md", lesson("Tips", "tips", 1))
    return content_dir


def urls() -> dict[str, str]:
    return {t.title: t.get_absolute_url() for t in Tutorial.objects.select_related("section")}


# -- fatal errors write nothing ------------------------------------------------------------


def test_missing_content_folder_aborts_and_unpublishes_nothing(course, tmp_path):
    sync(course)
    with pytest.raises(SyncFailed) as failure:
        sync(tmp_path / "no-such-folder")
    assert "content directory not found" in failure.value.err
    assert "Nothing was synced" in failure.value.err
    assert Tutorial.objects.filter(published=True).count() == 3


def test_folder_without_any_section_aborts(course, tmp_path):
    sync(course)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SyncFailed) as failure:
        sync(empty)
    assert "no section (_section.yml) found" in failure.value.err
    assert Tutorial.objects.filter(published=True).count() == 3


def test_broken_section_file_aborts_before_anything_is_written(course):
    write(course / "02-practice" / "_section.yml", "title: [unclosed\n")
    write(course / "01-signals" / "home.md", lesson(title="Home v2"))
    with pytest.raises(SyncFailed) as failure:
        sync(course)
    assert "02-practice/_section.yml:2: bad YAML" in failure.value.err
    assert Tutorial.objects.count() == 0
    assert Section.objects.count() == 0


def test_unreadable_section_file_aborts(course):
    sync(course)
    section_file = course / "01-signals" / "_section.yml"
    section_file.unlink()
    section_file.mkdir()  # reading a directory fails like an unreadable file
    with pytest.raises(SyncFailed) as failure:
        sync(course)
    assert "01-signals/_section.yml: cannot be read" in failure.value.err
    assert Tutorial.objects.filter(published=True).count() == 3


# -- renames, swaps and moves ---------------------------------------------------------------


def test_renaming_a_section_slug_moves_all_its_lessons_and_keeps_their_links(course, committed):
    """Issue 12: a renamed section slug split the course and left a 404 link."""
    with committed():
        sync(course)
    write(course / "01-signals" / "_section.yml", SECTION.replace("django-signals", "signals"))
    with committed():
        out, _ = sync(course)
    assert Section.objects.filter(slug="django-signals").count() == 0
    assert urls() == {
        "Signals home": "/signals/signals-home/",
        "Custom signals": "/signals/custom-signals/",
        "Tips": "/in-practice/tips/",
    }
    home = Tutorial.objects.get(slug="signals-home")
    assert 'href="/signals/custom-signals/"' in home.body_html
    assert Section.objects.count() == 2


def test_old_addresses_answer_301_after_a_section_rename(course, client):
    sync(course)
    write(course / "01-signals" / "_section.yml", SECTION.replace("django-signals", "signals"))
    sync(course)
    response = client.get("/django-signals/custom-signals/")
    assert response.status_code == 301
    assert response["Location"] == "/signals/custom-signals/"
    assert client.get("/django-signals/")["Location"] == "/signals/"
    assert client.get("/signals/custom-signals/").status_code == 200


def test_swapping_two_lesson_slugs_applies_in_one_run(course):
    """Issue 12: a slug swap crashed with an IntegrityError part-way through."""
    sync(course)
    ids = {t.slug: t.pk for t in Tutorial.objects.all()}
    write(
        course / "01-signals" / "home.md",
        lesson(slug="custom-signals", body="## Intro\n\nSee [custom](custom.md).\n"),
    )
    write(
        course / "01-signals" / "custom.md",
        lesson("Custom signals", "signals-home", 2, body="Back [home](home.md).\n"),
    )
    out, _ = sync(course)
    assert "2 updated" in out
    assert Tutorial.objects.get(title="Signals home").pk == ids["signals-home"]
    assert Tutorial.objects.get(title="Signals home").slug == "custom-signals"
    assert Tutorial.objects.get(title="Custom signals").slug == "signals-home"
    home = Tutorial.objects.get(title="Signals home")
    assert 'href="/django-signals/signals-home/"' in home.body_html


def test_swapping_two_section_slugs_applies_in_one_run(course):
    sync(course)
    write(course / "01-signals" / "_section.yml", SECTION.replace("django-signals", "in-practice"))
    write(
        course / "02-practice" / "_section.yml", PRACTICE.replace("in-practice", "django-signals")
    )
    sync(course)
    assert urls()["Tips"] == "/django-signals/tips/"
    assert urls()["Signals home"] == "/in-practice/signals-home/"


def test_a_failure_part_way_rolls_back_the_whole_run(course, monkeypatch):
    sync(course)
    write(course / "01-signals" / "_section.yml", SECTION.replace("django-signals", "signals"))
    write(course / "02-practice" / "tips.md", lesson("Tips v2", "tips", 1))
    original = Tutorial.save

    def failing_save(self, *args, **kwargs):
        if self.title == "Tips v2":
            raise RuntimeError("disk full")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Tutorial, "save", failing_save)
    with pytest.raises(RuntimeError):
        content.sync(course)
    assert Section.objects.filter(slug="django-signals").exists()
    assert urls()["Signals home"] == "/django-signals/signals-home/"


def test_moving_a_file_to_another_section_keeps_the_lesson_and_redirects(course, client):
    sync(course)
    before = Tutorial.objects.get(slug="tips").pk
    (course / "02-practice" / "tips.md").rename(course / "01-signals" / "tips.md")
    out, _ = sync(course)
    assert "0 unpublished" in out
    moved = Tutorial.objects.get(slug="tips")
    assert moved.pk == before
    assert moved.get_absolute_url() == "/django-signals/tips/"
    assert moved.source_path == "01-signals/tips.md"
    response = client.get("/in-practice/tips/")
    assert (response.status_code, response["Location"]) == (301, "/django-signals/tips/")


def test_renaming_a_lesson_slug_redirects_its_old_address(course, client):
    sync(course)
    write(course / "02-practice" / "tips.md", lesson("Tips", "good-tips", 1))
    sync(course)
    response = client.get("/in-practice/tips/")
    assert (response.status_code, response["Location"]) == (301, "/in-practice/good-tips/")


def test_redirect_to_an_unpublished_lesson_is_a_404(course, client):
    sync(course)
    write(course / "02-practice" / "tips.md", lesson("Tips", "good-tips", 1))
    sync(course)
    write(
        course / "02-practice" / "tips.md",
        lesson("Tips", "good-tips", 1, extra="published: false\n"),
    )
    sync(course)
    assert client.get("/in-practice/tips/").status_code == 404


# -- a broken file is one line; the rest syncs ---------------------------------------------

DEEP_LIST = "".join("    " * depth + "- item\n" for depth in range(1000))
HOSTILE = {
    "a list nested 1,000 levels deep": ("Intro\n\n" + "- " * 1000 + "x\n", 9),
    "a block quote 1,000 levels deep": ("Intro\n\n" + ">" * 1000 + " x\n", 9),
    "5,000 open brackets": ("Intro\n\n" + "[" * 5000 + "x\n", 9),
    "an indented list 1,000 deep": (DEEP_LIST[:280_000], 27),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_hostile_file_is_one_line_and_every_other_file_still_syncs(course, case):
    """Issue 12: a deeply nested list killed the sync with a RecursionError."""
    body, line = HOSTILE[case]
    sync(course)
    write(course / "02-practice" / "tips.md", lesson("Tips", "tips", 1, body=body))
    write(course / "01-signals" / "home.md", lesson(title="Home v2", body="New [c](custom.md).\n"))
    with pytest.raises(SyncFailed) as failure:
        sync(course)
    errors = [x for x in failure.value.err.splitlines() if "tips.md" in x]
    assert len(errors) == 1, failure.value.err
    assert errors[0].startswith(f"02-practice/tips.md:{line}: "), errors[0]
    assert "Traceback" not in failure.value.err
    assert Tutorial.objects.get(slug="signals-home").title == "Home v2"
    tips = Tutorial.objects.get(slug="tips")
    assert tips.published and "Hello." in tips.body_html  # the last good version


def test_any_render_exception_is_reported_and_the_lesson_keeps_its_last_version(
    course, monkeypatch
):
    sync(course)
    write(course / "02-practice" / "tips.md", lesson("Tips", "tips", 1, body="boom\n"))
    from tutorials import markdown

    real = markdown._render

    def exploding(text, resolve_link):
        if text.startswith("boom"):
            raise RecursionError("maximum recursion depth exceeded")
        return real(text, resolve_link)

    monkeypatch.setattr(markdown, "_render", exploding)
    with pytest.raises(SyncFailed) as failure:
        sync(course)
    assert "02-practice/tips.md:7: nested too deeply to render" in failure.value.err
    assert "Hello." in Tutorial.objects.get(slug="tips").body_html


def test_a_lesson_linking_to_a_broken_one_is_reported_too(course):
    write(course / "01-signals" / "custom.md", lesson("Custom", "custom", 2, body="- " * 500 + "x"))
    with pytest.raises(SyncFailed) as failure:
        sync(course)
    assert "01-signals/home.md:9: link to 'custom.md': lesson 01-signals/custom.md has errors" in (
        failure.value.err
    )
    assert set(Tutorial.objects.values_list("slug", flat=True)) == {"tips"}


# -- links are checked by the renderer's parser --------------------------------------------


def test_link_inside_code_is_not_a_link(course):
    body = "Write `[x](gone.md)` or:\n\n```markdown\n[x](gone.md)\n```\n"
    write(course / "02-practice" / "tips.md", lesson("Tips", "tips", 1, body=body))
    out, _ = sync(course)
    assert "3 created" in out


def test_reference_style_link_to_a_missing_lesson_is_an_error(course):
    """Issue 12: it shipped as href="gone.md"."""
    body = "See [the gone lesson][gone].\n\n[gone]: gone.md\n"
    write(course / "02-practice" / "tips.md", lesson("Tips", "tips", 1, body=body))
    with pytest.raises(SyncFailed) as failure:
        sync(course)
    assert (
        "02-practice/tips.md:9: link to 'gone.md': lesson 02-practice/gone.md does not exist"
        in failure.value.err
    )


def test_reference_style_link_to_a_lesson_is_rendered_to_its_url(course):
    body = "See [home][h].\n\n[h]: ../01-signals/home.md#intro\n"
    write(course / "02-practice" / "tips.md", lesson("Tips", "tips", 1, body=body))
    sync(course)
    assert (
        'href="/django-signals/signals-home/#intro"' in Tutorial.objects.get(slug="tips").body_html
    )


def test_published_lesson_linking_to_a_draft_is_an_error(course):
    """Issue 12: the link validated and disclosed the draft's URL, which answered 404."""
    write(
        course / "02-practice" / "draft.md", lesson("Draft", "draft", 2, extra="published: false\n")
    )
    write(
        course / "02-practice" / "tips.md", lesson("Tips", "tips", 1, body="See [d](draft.md).\n")
    )
    with pytest.raises(SyncFailed) as failure:
        sync(course)
    assert "02-practice/tips.md:7: link to 'draft.md': lesson 02-practice/draft.md is a draft" in (
        failure.value.err
    )
    assert not Tutorial.objects.filter(slug="tips").exists()


def test_draft_may_link_to_a_draft(course):
    write(course / "02-practice" / "a.md", lesson("A", "a", 2, extra="published: false\n"))
    write(
        course / "02-practice" / "b.md",
        lesson("B", "b", 3, body="See [a](a.md).\n", extra="published: false\n"),
    )
    out, _ = sync(course)
    assert "5 created" in out


def test_sync_records_which_lesson_links_to_which(course):
    sync(course)
    links = set(TutorialLink.objects.values_list("source__slug", "target_path"))
    assert links == {
        ("signals-home", "01-signals/custom.md"),
        ("custom-signals", "01-signals/home.md"),
    }


# -- exact work -------------------------------------------------------------------------------


def test_second_sync_with_no_change_makes_exactly_the_reading_queries(
    course, django_assert_num_queries
):
    sync(course)
    with django_assert_num_queries(3) as captured:  # sections, lessons, the gone lessons
        out, _ = sync(course)
    assert "0 created, 0 updated, 3 unchanged" in out
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in captured.captured_queries)


def test_running_the_command_twice_gives_the_same_course(course):
    sync(course)
    first = sorted(Tutorial.objects.values_list("pk", "slug", "section__slug", "body_html"))
    sync(course)
    assert sorted(Tutorial.objects.values_list("pk", "slug", "section__slug", "body_html")) == first
    assert Redirect.objects.count() == 0


def test_a_first_sync_renders_each_lesson_once(course, committed, monkeypatch):
    from tutorials import markdown

    renders = []
    real = markdown._render
    monkeypatch.setattr(markdown, "_render", lambda *args: renders.append(1) or real(*args))
    with committed():
        sync(course)
    assert len(renders) == 3  # the links were right when rendered: no linker is stale


def test_check_of_a_missing_folder_says_nothing_would_be_synced(tmp_path):
    with pytest.raises(SyncFailed) as failure:
        sync(tmp_path / "nowhere", "--check")
    assert failure.value.out.startswith("nothing synced: content/ could not be read")
