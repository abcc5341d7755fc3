"""Moving around: keyboard shortcuts, the "?" overlay, the roadmap sidebar."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import make_section, make_tutorial

pytestmark = pytest.mark.browser


@pytest.fixture
def three_lessons(live_server):
    section = make_section(title="Basics", slug="basics")
    return [
        make_tutorial(section=section, title=f"Step {n}", slug=f"step-{n}", order=n)
        for n in (1, 2, 3)
    ]


@pytest.fixture
def many_lessons(live_server):
    section = make_section(title="A long course", slug="long")
    return [
        make_tutorial(section=section, title=f"Lesson number {n}", slug=f"l{n}", order=n)
        for n in range(1, 61)
    ]


def path(page) -> str:
    return page.evaluate("location.pathname")


def test_brackets_go_to_the_next_and_previous_lesson(page, three_lessons):
    first, second, _ = three_lessons
    page.goto(first.get_absolute_url())

    page.keyboard.press("]")
    expect(page.locator("h1")).to_have_text("Step 2")
    page.keyboard.press("[")
    expect(page.locator("h1")).to_have_text("Step 1")
    assert path(page) == first.get_absolute_url()
    assert second.get_absolute_url() != first.get_absolute_url()


def test_shortcuts_do_nothing_while_typing_or_with_modifier_keys(page, three_lessons):
    first = three_lessons[0]
    page.goto(first.get_absolute_url())

    page.locator("#site-search-input").press("]")
    expect(page.locator("#site-search-input")).to_have_value("]")
    page.locator("h1").click()
    page.keyboard.press("Control+]")
    page.keyboard.press("Alt+ArrowRight")  # the browser's Forward: left alone
    page.wait_for_load_state("load")

    assert path(page) == first.get_absolute_url()


def test_question_mark_opens_the_shortcuts_overlay_and_escape_closes_it(page, three_lessons):
    page.goto(three_lessons[0].get_absolute_url())
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_hidden()

    page.keyboard.press("?")

    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Next lesson")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    page.get_by_role("button", name="Keyboard shortcuts").click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Close keyboard shortcuts").click()
    expect(dialog).to_be_hidden()


def test_single_key_shortcuts_can_be_turned_off_and_stay_off(page, three_lessons):
    first = three_lessons[0]
    page.goto(first.get_absolute_url())
    page.keyboard.press("?")
    page.get_by_label("Single-key shortcuts").uncheck()
    page.keyboard.press("Escape")

    page.reload()
    page.keyboard.press("]")
    page.keyboard.press("?")

    assert path(page) == first.get_absolute_url()
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()
    expect(page.locator("html")).to_have_attribute("data-shortcuts", "off")


def test_sidebar_scrolls_to_the_current_lesson_without_scrolling_the_page(page, many_lessons):
    last = many_lessons[-1]
    page.goto(last.get_absolute_url())
    current = page.locator(".roadmap-nav a[aria-current='page']")

    expect(current).to_have_text(last.title)
    expect(current).to_be_in_viewport()
    assert page.evaluate("window.scrollY") == 0


def test_phone_menu_opens_scrolled_to_the_current_lesson(page, many_lessons):
    page.set_viewport_size({"width": 390, "height": 700})
    page.goto(many_lessons[-2].get_absolute_url())

    page.get_by_role("button", name="Course roadmap").click()

    menu = page.get_by_role("dialog", name="Course roadmap")
    expect(menu).to_be_visible()
    expect(menu.locator("a[aria-current='page']")).to_be_in_viewport()
    menu.get_by_role("button", name="Close the roadmap").click()
    expect(menu).to_be_hidden()
