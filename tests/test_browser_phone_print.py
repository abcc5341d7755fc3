"""A phone that fits and a lesson that prints (issue 15), on a real lesson of the course."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser import new_context

pytestmark = pytest.mark.browser


@pytest.fixture(params=["light", "dark"])
def phone(request, browser, live_server):
    ctx = new_context(browser, live_server.url, colour_scheme=request.param, phone=True)
    tab = ctx.new_page()
    yield tab
    ctx.close()


def lesson_with_samples(course: list[str]) -> str:
    from tutorials.models import Tutorial

    for tutorial in Tutorial.objects.published().in_roadmap_order():
        if "data-runnable" in tutorial.body_html and tutorial.toc:
            return tutorial.get_absolute_url()
    pytest.fail("no lesson with runnable samples and headings")


def test_anchor_jump_lands_the_heading_below_the_wrapped_header(phone: Page, course):
    url = lesson_with_samples(course)
    phone.goto(url)
    headings = phone.locator(".lesson-body h2[id]")
    target = headings.nth(headings.count() - 1)
    anchor = target.get_attribute("id")
    header_height = phone.locator(".site-topbar").bounding_box()["height"]
    assert header_height > 56  # the bar wraps on a phone: the old fixed offset is too small
    for how in ("link", "load"):
        if how == "link":
            phone.locator(f'.lesson-toc a[href="#{anchor}"]').evaluate("a => a.click()")
        else:
            phone.goto(f"{url}#{anchor}")
        phone.wait_for_timeout(300)
        box = target.bounding_box()
        assert box["y"] >= header_height, (how, box["y"], header_height)
        assert box["y"] + box["height"] <= 844


def test_touch_targets_are_at_least_44px_and_no_keyboard_hints(phone: Page, course):
    phone.goto(lesson_with_samples(course))
    phone.wait_for_load_state("load")
    targets = [
        phone.get_by_role("button", name="Run").first,
        phone.get_by_role("button", name="Reset").first,
        phone.locator(".prevnext-link").first,
        phone.locator(".prevnext-bottom .prevnext-link").first,
        phone.locator("#lesson-done"),
    ]
    phone.evaluate("document.querySelector('[data-progress-done]').hidden = false")
    for target in targets:
        target.scroll_into_view_if_needed()
        box = target.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, (target, box)
    expect(phone.locator(".runner-hint").first).to_be_hidden()
    expect(phone.locator(".site-search-key")).to_be_hidden()


def test_wide_code_shows_it_scrolls_sideways(phone: Page, course):
    phone.goto(lesson_with_samples(course))
    wide = phone.locator(".lesson-body .highlight pre").evaluate_all(
        "pres => pres.filter((p) => p.scrollWidth > p.clientWidth + 1)"
        ".map((p) => getComputedStyle(p).backgroundImage)"
    )
    assert wide, "expected at least one code block wider than a phone"
    for image in wide:
        assert image.count("gradient") == 4  # covers + shadows (scroll-linked)


def test_search_box_focus_ring_matches_other_controls(page: Page, course):
    page.goto(lesson_with_samples(course))
    page.keyboard.press("Tab")  # skip link: a link's ring
    ring = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth, s.outlineColor]; }"
    )
    page.locator("#site-search-input").focus()
    search = page.locator("#site-search-input").evaluate(
        "e => { const s = getComputedStyle(e);"
        " return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow]; }"
    )
    assert search[:3] == ring
    assert search[3] == "none"


def test_print_stylesheet(page: Page, course):
    page.goto(lesson_with_samples(course))
    page.wait_for_load_state("load")
    page.emulate_media(media="print")
    for chrome in (".site-topbar", ".site-sidebar", ".lesson-toc", ".prevnext", ".runner-toolbar"):
        expect(page.locator(chrome).first).to_be_hidden()
    pre = page.locator(".lesson-body .highlight pre").first
    assert pre.evaluate("e => getComputedStyle(e).whiteSpace") == "pre-wrap"
    widths = page.locator(".lesson-body .highlight pre").evaluate_all(
        "pres => pres.map((p) => p.scrollWidth - p.clientWidth)"
    )
    assert max(widths) <= 1  # nothing cut
    link = page.locator(".lesson-references a[href], .lesson-body a[href^='http']").first
    after = link.evaluate("a => getComputedStyle(a, '::after').content")
    assert link.get_attribute("href") in after
    sample = page.locator(".runnable").first
    # An expected output folded away until the learner answers still prints.
    sample.evaluate(
        """s => s.insertAdjacentHTML('beforeend', '<details class="predict-answer">'
        + '<summary>Show the answer</summary><pre>42 printed</pre></details>')"""
    )
    expect(sample.get_by_text("42 printed")).to_be_visible()
    page.emulate_media(media="screen")
    expect(sample.get_by_text("42 printed")).to_be_hidden()
    page.emulate_media(media="print")
    expect(sample.locator(".runnable-expected")).to_be_visible()
    code = sample.locator(".runnable-code").bounding_box()
    expected = sample.locator(".runnable-expected").bounding_box()
    assert expected["y"] >= code["y"] + code["height"] - 1
