"""A learner's journey through the real course, in Chromium against the live server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser import PHONE

pytestmark = pytest.mark.browser

SEARCH_TERM = "receiver"  # in every lesson of a course about signals

# The reading order of content/, written out (by each file's section and `order`):
# a test that took it from the code under test could not catch that code's mistakes.
# Update it when a lesson is added, removed or reordered.
READING_ORDER = [
    "/django-signals/signals-home/",
    "/django-signals/connecting-receivers/",
    "/django-signals/built-in-signals/",
    "/django-signals/model-save-signals/",
    "/django-signals/model-delete-signals/",
    "/django-signals/m2m-changed/",
    "/django-signals/other-built-in-signals/",
    "/django-signals/custom-signals/",
    "/signals-in-practice/signals-and-transactions/",
    "/signals-in-practice/async-signals/",
    "/signals-in-practice/testing-signals/",
    "/signals-in-practice/pitfalls/",
    "/signals-in-practice/under-the-hood/",
    "/signals-in-real-projects/detecting-changes/",
    "/signals-in-real-projects/background-work/",
    "/signals-in-real-projects/rest-of-the-stack/",
    "/signals-in-real-projects/orm-edge-cases/",
    "/signals-in-real-projects/debugging-receivers/",
]


def read_through_the_course(page: Page) -> list[str]:
    """From the home page's roadmap to the last lesson by "Next"; the paths visited."""
    page.goto("/")
    expect(page.locator("h1")).to_have_text("Learn Django signals")
    page.locator("main .roadmap-list a").first.click()
    visited = []
    while True:
        expect(page.locator("h1")).to_have_count(1)
        visited.append(page.evaluate("location.pathname"))
        following = page.locator("nav.prevnext-bottom a[rel='next']")
        if following.count() == 0:
            return visited
        # Previous/next sit at the top too.
        expect(page.locator("nav.prevnext-top a[rel='next']")).to_have_attribute(
            "href", following.get_attribute("href")
        )
        following.click()


def test_learner_reads_every_published_lesson_once_from_the_roadmap(page, course):
    visited = read_through_the_course(page)

    assert visited == READING_ORDER
    assert sorted(course) == sorted(READING_ORDER)  # every published lesson, once
    assert page.locator("nav.prevnext-top a[rel='prev']").count() == 1
    assert page.problems == []


def test_learner_journey_search_copy_theme_progress_and_phone_menu(page, context, course):
    # Search with the keyboard only, then open a result.
    page.goto(course[0])
    page.keyboard.press("/")
    expect(page.locator("#site-search-input")).to_be_focused()
    page.keyboard.type(SEARCH_TERM)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=" + SEARCH_TERM))
    hrefs = page.locator("main a[href]").evaluate_all("links => links.map(a => a.pathname)")
    first_hit = next(href for href in hrefs if href in course)
    result = page.locator(f"main a[href^='{first_hit}']").first
    result.click()
    expect(page).to_have_url(re.compile(re.escape(first_hit) + "(#.*)?$"))
    expect(page.locator("article[data-lesson-id]")).to_have_count(1)

    # Copy a code block: the clipboard holds exactly the code.
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    block = page.locator(".lesson-body > .highlight").first  # a plain block, not a runnable sample
    code = block.locator("pre").inner_text().rstrip("\n")
    button = block.get_by_role("button", name="Copy code")
    button.click()
    expect(block.locator(".copy-button")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == code

    # Dark mode, remembered across a reload.
    root = page.locator("html")
    expect(root).to_have_attribute("data-bs-theme", "light")
    page.get_by_role("button", name=re.compile("Colour theme")).click()
    expect(root).to_have_attribute("data-bs-theme", "dark")
    page.reload()
    expect(root).to_have_attribute("data-bs-theme", "dark")

    # Mark the lesson done; the tick survives a reload and shows on the home page.
    lesson_id = page.locator("article[data-lesson-id]").get_attribute("data-lesson-id")
    page.get_by_label("I have finished this lesson").check()
    page.reload()
    expect(page.get_by_label("I have finished this lesson")).to_be_checked()
    roadmap_item = page.locator(f".roadmap-nav li[data-lesson='{lesson_id}']")
    expect(roadmap_item.locator(".lesson-tick")).to_have_count(1)
    page.goto("/")
    expect(page.locator(".home-progress-count")).to_have_text(f"1 of {len(course)} lessons done")
    expect(page.locator(f"main li[data-lesson='{lesson_id}'] .lesson-tick")).to_have_count(1)
    expect(
        page.get_by_role("link", name=re.compile("^Continue where you left off"))
    ).to_be_visible()

    # On a phone, the roadmap is a menu that opens and closes with the keyboard.
    page.set_viewport_size(PHONE)
    page.goto(course[0])
    expect(page.locator("#roadmap-menu")).not_to_be_visible()
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    menu_button = page.get_by_role("button", name="Course roadmap")
    expect(menu_button).to_be_focused()
    page.keyboard.press("Enter")
    menu = page.locator("#roadmap-menu")
    expect(menu).to_be_visible()
    expect(menu.locator("a[aria-current='page']")).to_be_visible()
    # Focus moves into the menu when its opening transition ends: wait for it (or time out).
    page.wait_for_function(
        "document.getElementById('roadmap-menu').contains(document.activeElement)", timeout=5000
    )
    page.keyboard.press("Escape")
    expect(menu).not_to_be_visible()
    expect(menu_button).to_be_focused()

    assert page.problems == []
