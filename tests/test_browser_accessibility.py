"""axe-core scans of real pages, in light and dark, plus the structure axe cannot judge."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser import axe_source, new_context

pytestmark = pytest.mark.browser

# WCAG 2.2 A and AA, plus axe's best practices (landmarks, one h1, headings in order).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_violations(page: Page) -> list[str]:
    """Run axe-core in the page; one line per violation and offending element."""
    if not page.evaluate("typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol, so the page's CSP does not apply:
        # axe is served to the page in the test only.
        page.evaluate(axe_source())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> {node['target']} {node['failureSummary']}"
        for v in result["violations"]
        for node in v["nodes"]
    ]


@pytest.fixture(params=["light", "dark"])
def themed_page(request, browser, live_server):
    """A tab whose system colour scheme is light or dark (the site follows it)."""
    ctx = new_context(browser, live_server.url, colour_scheme=request.param)
    tab = ctx.new_page()
    tab.theme = request.param
    yield tab
    ctx.close()


def open_page(page: Page, path: str) -> None:
    page.goto(path)
    expect(page.locator("html")).to_have_attribute("data-bs-theme", page.theme)
    page.wait_for_load_state("load")


@pytest.mark.parametrize(
    "path",
    ["/", "/search/?q=receiver", "/search/?q=zzzznotaword", "/no-such-page/"],
    ids=["home", "search-results", "search-no-results", "404"],
)
def test_axe_reports_no_violations(themed_page, course, path):
    open_page(themed_page, path)

    assert axe_violations(themed_page) == []


def test_axe_reports_no_violations_on_any_lesson(themed_page, course):
    """Every lesson: code blocks, tables and admonitions differ from lesson to lesson."""
    problems = {}
    for path in course:
        open_page(themed_page, path)
        if violations := axe_violations(themed_page):
            problems[path] = violations

    assert problems == {}


def test_axe_reports_no_violations_with_overlays_open(themed_page, course):
    open_page(themed_page, course[0])
    themed_page.keyboard.press("?")
    expect(themed_page.locator("#shortcuts-dialog")).to_be_visible()
    assert axe_violations(themed_page) == []
    themed_page.keyboard.press("Escape")

    themed_page.set_viewport_size({"width": 390, "height": 844})
    themed_page.get_by_role("button", name="Course roadmap").click()
    expect(themed_page.locator("#roadmap-menu")).to_be_visible()
    assert axe_violations(themed_page) == []


def test_every_page_has_one_h1_landmarks_and_a_skip_link_that_moves_focus(page, course):
    for path in ["/", course[0], "/search/?q=signal", "/no-such-page/"]:
        page.goto(path)
        expect(page.locator("h1")).to_have_count(1)
        expect(page.locator("header.site-topbar")).to_have_count(1)
        expect(page.locator("main#content")).to_have_count(1)
        expect(page.locator("footer.site-footer")).to_have_count(1)

    page.goto(course[0])
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main#content")).to_be_focused()


def test_current_page_is_marked_with_aria_current_in_every_navigation(page, course):
    page.goto(course[1])

    current = page.locator(".roadmap-nav a[aria-current='page']")
    expect(current).to_have_count(1)
    expect(current).to_have_attribute("href", course[1])
    expect(page.locator(".site-courses a[aria-current='true']")).to_have_count(1)
    expect(page.locator(".breadcrumb [aria-current='page']")).to_have_count(1)


def test_keyboard_focus_is_visible_on_links_and_buttons(page, course):
    page.goto(course[0])
    for _ in range(4):
        page.keyboard.press("Tab")
        outline = page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
        )
        assert outline[0] != "none" and outline[1] >= 2, outline
