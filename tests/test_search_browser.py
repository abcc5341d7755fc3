"""The top-bar search box as a combobox (static/js/search.js), in Chromium against
the live server and the real course."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tutorials import search

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def empty_index_afterwards():
    yield
    search.backend().replace_all([])  # the live server's commits are not rolled back


def box(page: Page):
    return page.get_by_role("combobox", name="Search the course")


def test_results_appear_as_you_type_and_the_keyboard_picks_one(page, course):
    page.goto(course[0])
    page.keyboard.press("Control+k")
    expect(box(page)).to_be_focused()
    page.keyboard.type("post_sa")
    listbox = page.get_by_role("listbox", name="Lessons found")
    expect(listbox).to_be_visible()
    expect(box(page)).to_have_attribute("aria-expanded", "true")
    options = listbox.get_by_role("option")
    expect(options.first).to_contain_text("post_save")
    expect(options.first.locator("mark").first).to_have_text(re.compile("post_save", re.I))
    expect(page.locator("[data-search-status]")).to_have_text(re.compile(r"\d+ lessons? found"))

    page.keyboard.press("ArrowDown")
    first = options.first
    expect(first).to_have_attribute("aria-selected", "true")
    expect(box(page)).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    expect(first).to_have_attribute("aria-selected", "true")

    page.keyboard.press("Escape")
    expect(listbox).not_to_be_visible()
    expect(box(page)).to_have_attribute("aria-expanded", "false")
    expect(box(page)).to_have_value("post_sa")

    page.keyboard.press("ArrowDown")  # opens the list again
    page.keyboard.press("ArrowDown")
    url = first.get_attribute("data-url")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(url) + "$"))
    assert "#" in url  # the heading the words were found under
    assert page.problems == []


def test_nothing_found_says_so_and_links_to_the_results_page(page, course):
    page.goto("/")
    box(page).fill("zyxwvut")
    expect(page.locator(".site-search-empty")).to_have_text("No lessons found for “zyxwvut”.")
    expect(page.locator("[data-search-all]")).to_have_attribute("href", "/search/?q=zyxwvut")
    assert page.problems == []


def test_slash_focuses_the_box_unless_single_key_shortcuts_are_off(page, course):
    page.goto(course[0])
    page.keyboard.press("/")
    expect(box(page)).to_be_focused()
    box(page).blur()
    page.evaluate("document.documentElement.dataset.shortcuts = 'off'")
    page.keyboard.press("/")
    expect(box(page)).not_to_be_focused()
    page.keyboard.press("Meta+k")
    expect(box(page)).to_be_focused()


def test_a_typo_offers_did_you_mean_and_its_results(page, course):
    page.goto(course[0])
    box(page).fill("m2m chnaged")
    expect(page.locator(".site-search-suggestion")).to_have_text("Did you mean “m2m changed”?")
    options = page.get_by_role("listbox", name="Lessons found").get_by_role("option")
    expect(options.first).to_contain_text("m2m_changed")
    assert page.problems == []


def test_following_a_result_highlights_the_words_until_cleared(page, course):
    page.goto(course[0])
    box(page).fill("dispatch_uid")
    options = page.get_by_role("listbox", name="Lessons found").get_by_role("option")
    expect(options.first).to_be_visible()
    url = options.first.get_attribute("data-url")
    options.first.click()
    expect(page).to_have_url(re.compile(re.escape(url) + "$"))
    marks = page.locator(".lesson-body mark.search-highlight")
    expect(marks.first).to_have_text(re.compile("dispatch_uid", re.I))
    assert marks.count() > 1
    # The page opened at the matching section: its heading is in view.
    anchor = url.partition("#")[2]
    if anchor:
        expect(page.locator(f"[id='{anchor}']")).to_be_in_viewport()
    page.get_by_role("button", name="Clear highlights").click()
    expect(marks).to_have_count(0)
    expect(page.locator(".lesson-body")).to_contain_text("dispatch_uid")  # text intact
    page.reload()
    expect(page.locator("mark.search-highlight")).to_have_count(0)  # used once
    assert page.problems == []


def test_a_result_on_the_results_page_lands_highlighted(page, course):
    page.goto("/search/?q=bulk+create")
    first = page.locator(".search-result-title a").first
    first.click()
    expect(page.locator(".lesson-body mark.search-highlight").first).to_be_visible()
    expect(page.get_by_role("button", name="Clear highlights")).to_be_visible()
    assert page.problems == []
