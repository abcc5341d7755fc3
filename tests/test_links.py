"""
Links between lessons are data: recorded at save, followed when the target moves.

The receivers in tutorials/signals.py render the linking lessons again once a
change to the target is committed (an admin edit here; the sync in
test_content_sync.py), and an old address answers 301.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tests.factories import make_section, make_tutorial
from tutorials.models import Redirect, Tutorial, TutorialLink

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed():`` runs the block's on_commit callbacks, as a commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def pair(committed):
    """``home`` links to ``custom``, both in section ``basics``, saved as admin would."""
    with committed():
        section = make_section(slug="basics")
        custom = make_tutorial(section, slug="custom", source_path="basics/custom.md")
        home = make_tutorial(
            section,
            slug="home",
            source_path="basics/home.md",
            body_markdown="See [custom](custom.md#send).\n",
        )
    return section, home, custom


def body(lesson: Tutorial) -> str:
    return Tutorial.objects.get(pk=lesson.pk).body_html


def test_saving_a_lesson_records_what_it_links_to(pair):
    _, home, _ = pair
    assert list(TutorialLink.objects.filter(source=home).values_list("target_path", flat=True)) == [
        "basics/custom.md"
    ]


def test_changing_a_slug_in_admin_rerenders_the_lessons_linking_to_it(pair, committed):
    """Issue 12: a slug changed in admin left dead links in every other lesson."""
    _, home, custom = pair
    custom.slug = "custom-signals"
    with committed():
        custom.save()
    assert 'href="/basics/custom-signals/#send"' in body(home)


def test_not_before_the_change_is_committed(pair, django_capture_on_commit_callbacks):
    _, home, custom = pair
    custom.slug = "custom-signals"
    with django_capture_on_commit_callbacks(execute=False):
        custom.save()
        assert 'href="/basics/custom/#send"' in body(home)


def test_unpublishing_a_lesson_turns_links_to_it_into_text_and_back(pair, committed):
    _, home, custom = pair
    custom.published = False
    with committed():
        custom.save()
    assert "/basics/custom/" not in body(home)
    assert '<span class="broken-link">custom</span>' in body(home)
    custom.published = True
    with committed():
        custom.save()
    assert 'href="/basics/custom/#send"' in body(home)


def test_deleting_a_lesson_turns_links_to_it_into_text(pair, committed):
    _, home, custom = pair
    with committed():
        custom.delete()
    assert '<span class="broken-link">custom</span>' in body(home)


def test_renaming_a_section_in_admin_rerenders_links_into_it(pair, committed, client):
    section, home, _ = pair
    section.slug = "fundamentals"
    with committed():
        section.save()
    assert 'href="/fundamentals/custom/#send"' in body(home)
    response = client.get("/basics/custom/")
    assert (response.status_code, response["Location"]) == (301, "/fundamentals/custom/")


def test_old_lesson_address_answers_301_to_the_new_one(pair, client):
    _, _, custom = pair
    custom.slug = "custom-signals"
    custom.save()
    response = client.get("/basics/custom/")
    assert response.status_code == 301
    assert response["Location"] == "/basics/custom-signals/"
    assert Redirect.objects.get().old_path == "/basics/custom/"


def test_redirects_follow_a_lesson_through_several_renames(pair, client):
    _, _, custom = pair
    for slug in ("second", "third"):
        custom.slug = slug
        custom.save()
    assert client.get("/basics/custom/")["Location"] == "/basics/third/"
    assert client.get("/basics/second/")["Location"] == "/basics/third/"


def test_a_new_lesson_at_an_old_address_wins_over_the_redirect(pair, client):
    section, _, custom = pair
    custom.slug = "custom-signals"
    custom.save()
    make_tutorial(section, slug="custom", title="A new lesson")
    response = client.get("/basics/custom/")
    assert response.status_code == 200
    assert "A new lesson" in response.content.decode()


def test_admin_refuses_a_published_lesson_linking_to_a_draft(pair):
    section, _, custom = pair
    custom.published = False
    custom.save()
    lesson = Tutorial(
        section=section,
        title="T",
        slug="t",
        source_path="basics/t.md",
        body_markdown="See [draft](custom.md).\n",
    )
    with pytest.raises(ValidationError) as refused:
        lesson.full_clean()
    assert "custom.md" in str(refused.value)
    lesson.published = False
    lesson.full_clean()  # a draft may link to a draft


def test_admin_refuses_a_body_nested_too_deeply(pair):
    section, _, _ = pair
    lesson = Tutorial(section=section, title="T", slug="t", body_markdown="- " * 1000 + "x\n")
    with pytest.raises(ValidationError) as refused:
        lesson.full_clean()
    assert "line 1: nested 1000 levels deep" in str(refused.value)


def test_a_published_lesson_never_renders_a_link_to_a_draft():
    section = make_section(slug="s")
    make_tutorial(section, slug="draft", source_path="s/draft.md", published=False)
    lesson = make_tutorial(section, source_path="s/l.md", body_markdown="[d](draft.md)\n")
    assert "/s/draft/" not in lesson.body_html
    assert '<span class="broken-link">d</span>' in lesson.body_html


def count_renders(monkeypatch) -> list[str]:
    from tutorials import markdown

    rendered: list[str] = []
    real = markdown._render

    def counting(text, resolve_link):
        rendered.append(text)
        return real(text, resolve_link)

    monkeypatch.setattr(markdown, "_render", counting)
    return rendered


def test_an_edit_that_moves_nothing_renders_no_other_lesson(pair, committed, monkeypatch):
    _, _, custom = pair
    renders = count_renders(monkeypatch)
    custom.title = "Custom signals, retitled"
    custom.published = True  # unchanged
    with committed():
        custom.save()
    assert len(renders) == 1  # the lesson itself


def test_a_move_renders_each_stale_linker_once(pair, committed, monkeypatch):
    section, home, custom = pair
    make_tutorial(
        section, slug="other", source_path="basics/other.md", body_markdown="[c](custom.md)"
    )
    renders = count_renders(monkeypatch)
    custom.slug = "moved"
    with committed():
        custom.save()
    assert len(renders) == 3  # custom, then home and other
    assert TutorialLink.objects.filter(url="/basics/moved/").count() == 2
