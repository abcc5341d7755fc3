"""Screenshots for review: home and a lesson, light and dark, desktop and phone.

Written to screenshots/ (git-ignored) on every run. docs/screenshot.png, the one in
the README, is a copy of screenshots/lesson-light-desktop.png made by hand.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import SCREENSHOTS, new_context

pytestmark = pytest.mark.browser

LESSON_INDEX = 3  # a lesson with code, a table and runnable samples


@pytest.mark.parametrize("device", ["desktop", "phone"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_home_and_a_lesson(browser, live_server, course, scheme, device):
    SCREENSHOTS.mkdir(exist_ok=True)
    ctx = new_context(browser, live_server.url, colour_scheme=scheme, phone=device == "phone")
    page = ctx.new_page()
    pages = {"home": "/", "lesson": course[min(LESSON_INDEX, len(course) - 1)]}
    for name, path in pages.items():
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("data-bs-theme", scheme)
        page.wait_for_load_state("load")
        target = SCREENSHOTS / f"{name}-{scheme}-{device}.png"
        page.screenshot(path=target, animations="disabled")

        assert target.stat().st_size > 10_000  # a rendered page, not a blank one
    ctx.close()
