"""Progress without an account: kept in localStorage, shown on every roadmap list."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.factories import make_section, make_tutorial

pytestmark = pytest.mark.browser

DONE = "I have finished this lesson"


@pytest.fixture
def lessons(live_server):
    first = make_section(title="Basics", slug="basics", order=1)
    second = make_section(title="Practice", slug="practice", order=2)
    return [
        make_tutorial(section=first, title="One", slug="one", order=1),
        make_tutorial(section=first, title="Two", slug="two", order=2),
        make_tutorial(section=second, title="Three", slug="three", order=1),
        make_tutorial(section=second, title="Four", slug="four", order=2),
    ]


def lesson_id(tutorial) -> str:
    return f"{tutorial.section.slug}/{tutorial.slug}"


def test_home_shows_no_progress_for_a_new_learner(page, lessons):
    page.goto("/")

    expect(page.locator("[data-progress-summary]")).to_be_empty()
    expect(page.locator("[data-continue-link]")).to_have_count(0)
    expect(page.locator(".lesson-tick")).to_have_count(0)
    expect(page.get_by_role("link", name="Start with “One”")).to_be_visible()


def test_marking_lessons_done_ticks_them_everywhere(page, lessons):
    for tutorial in lessons[:2]:
        page.goto(tutorial.get_absolute_url())
        page.get_by_label(DONE).check()
        expect(page.locator(".lesson-meta [data-progress-badge]")).to_be_visible()

    page.goto("/")
    expect(page.locator(".home-progress-count")).to_have_text("2 of 4 lessons done")
    expect(page.locator("main li.is-done")).to_have_count(2)
    expect(page.locator(".roadmap-nav li.is-done")).to_have_count(2)
    expect(page.get_by_role("link", name="One (done)").first).to_be_visible()

    page.goto(lessons[0].section.get_absolute_url())
    expect(page.locator("main li.is-done")).to_have_count(2)


def test_unticking_a_lesson_removes_it_from_the_count(page, lessons):
    page.goto(lessons[0].get_absolute_url())
    page.get_by_label(DONE).check()
    page.get_by_label(DONE).uncheck()

    expect(page.locator(".roadmap-nav .lesson-tick")).to_have_count(0)
    stored = json.loads(page.evaluate("localStorage.getItem('progress')"))
    assert stored["done"] == []


def test_continue_offers_the_last_lesson_opened(page, lessons):
    page.goto(lessons[2].get_absolute_url())
    page.goto("/")

    cont = page.get_by_role("link", name="Continue where you left off: Three")
    expect(cont).to_be_visible()
    expect(cont).to_have_attribute("href", lessons[2].get_absolute_url())
    restart = page.get_by_role("link", name="or start again from the first lesson")
    expect(restart).to_have_attribute("href", lessons[0].get_absolute_url())


def test_continue_moves_on_once_the_last_lesson_opened_is_done(page, lessons):
    page.goto(lessons[1].get_absolute_url())
    page.get_by_label(DONE).check()
    page.goto("/")

    expect(page.get_by_role("link", name="Continue where you left off: Three")).to_have_attribute(
        "href", lessons[2].get_absolute_url()
    )


def test_progress_for_lessons_no_longer_in_the_course_is_ignored(page, lessons):
    page.goto("/")
    stale = {"done": [lesson_id(lessons[0]), "gone/removed-lesson"], "last": "gone/removed"}
    page.evaluate("p => localStorage.setItem('progress', JSON.stringify(p))", stale)

    page.reload()

    expect(page.locator(".home-progress-count")).to_have_text("1 of 4 lessons done")
    expect(page.locator("[data-continue-link]")).to_have_count(0)


def test_progress_is_never_rendered_by_the_server(page, client, lessons):
    """Pages are cached for everyone: the server's HTML is the same after a tick."""
    before = client.get("/").content
    page.goto(lessons[0].get_absolute_url())
    page.get_by_label(DONE).check()
    page.goto("/")
    expect(page.locator("main li.is-done")).to_have_count(1)

    assert client.get("/").content == before
    assert b"is-done" not in before
