"""Speed as a learner feels it: what a lesson page costs over the wire."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser import new_context

pytestmark = pytest.mark.browser

MAX_LESSON_TRANSFER = 100 * 1024  # bytes: HTML + CSS + JS + fonts, compressed
MAX_BLOCKING_CSS = 25 * 1024  # bytes: every render-blocking stylesheet, together


def transfer(page) -> dict[str, int]:
    """Bytes received per URL for the page's HTML, CSS, JS and fonts (headers included)."""
    return page.evaluate(
        """() => Object.fromEntries(
            performance.getEntriesByType('navigation')
              .concat(performance.getEntriesByType('resource')
                .filter(e => /\\.(css|m?js|woff2?|ttf|otf)$/.test(new URL(e.name).pathname)))
              .map(e => [e.name, e.transferSize]))"""
    )


def test_every_lesson_page_transfers_under_100_kb(browser, live_server, course):
    sizes = {}
    for path in course:
        ctx = new_context(browser, live_server.url)  # an empty browser cache each time
        page = ctx.new_page()
        page.goto(path)
        page.wait_for_load_state("networkidle")
        sizes[path] = sum(transfer(page).values())
        ctx.close()

    print("lesson transfer (KB):", {p: round(s / 1024, 1) for p, s in sizes.items()})
    assert max(sizes.values()) < MAX_LESSON_TRANSFER, sizes


def test_lesson_page_asks_no_other_host_and_gets_static_files_compressed(page, course):
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(course[0])
    page.wait_for_load_state("networkidle")

    hosts = {urlsplit(response.url).netloc for response in responses}
    assert hosts == {urlsplit(page.url).netloc}
    static = [r for r in responses if "/static/" in r.url and r.url.endswith((".css", ".js"))]
    assert static
    # whitenoise keeps no compressed copy of a file too small to gain from one.
    for response in (r for r in static if len(r.body()) > 1024):
        assert response.header_value("content-encoding") in {"gzip", "br"}, response.url
        assert "max-age=315360000" in (response.header_value("cache-control") or "")


def test_render_blocking_css_is_small(page, course):
    page.goto(course[0])
    page.wait_for_load_state("networkidle")
    stylesheets = page.locator("head link[rel=stylesheet]").evaluate_all(
        "links => links.map(l => l.href)"
    )
    sizes = transfer(page)

    assert sum(sizes[href] for href in stylesheets) < MAX_BLOCKING_CSS, sizes
