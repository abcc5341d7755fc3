"""What a page tells browsers, search engines and link previews about itself."""

from __future__ import annotations

import re

import pytest
from django.templatetags.static import static

from tests.factories import make_section, make_tutorial

pytestmark = pytest.mark.django_db


def meta(html: str, attribute: str, name: str) -> str | None:
    match = re.search(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)"', html)
    return match[1] if match else None


@pytest.fixture
def lesson():
    section = make_section(title="Basics", slug="basics")
    return make_tutorial(
        section=section, title="Your first receiver", slug="first",
        summary="Connect a post_save receiver & see it run.",
    )  # fmt: skip


def test_lesson_has_its_own_title_description_canonical_and_open_graph(client, lesson):
    html = client.get("/basics/first/").content.decode()

    assert "<title>Your first receiver · Django Signals Tutorial</title>" in html
    assert meta(html, "name", "description") == "Connect a post_save receiver &amp; see it run."
    assert '<link rel="canonical" href="http://testserver/basics/first/">' in html
    assert meta(html, "property", "og:title") == "Your first receiver"
    assert meta(html, "property", "og:description") == (
        "Connect a post_save receiver &amp; see it run."
    )
    assert meta(html, "property", "og:type") == "article"
    assert meta(html, "property", "og:url") == "http://testserver/basics/first/"
    assert meta(html, "property", "article:section") == "Basics"


def test_canonical_url_leaves_out_the_query_string(client, lesson):
    html = client.get("/basics/first/?utm_source=newsletter").content.decode()

    assert '<link rel="canonical" href="http://testserver/basics/first/">' in html


def test_home_and_section_describe_themselves(client, lesson):
    home = client.get("/").content.decode()
    section = client.get("/basics/").content.decode()

    assert meta(home, "property", "og:type") == "website"
    assert meta(home, "property", "og:title") == "Learn Django signals"
    assert "<title>Basics · Django Signals Tutorial</title>" in section
    assert meta(section, "property", "og:title") == "Basics"


def test_not_found_page_is_not_indexed_and_has_no_canonical(client, lesson):
    response = client.get("/basics/no-such-lesson/")

    html = response.content.decode()
    assert response.status_code == 404
    assert meta(html, "name", "robots") == "noindex"
    assert 'rel="canonical"' not in html
    assert html.count("<h1") == 1


@pytest.mark.parametrize("path", ["/", "/basics/", "/basics/first/", "/nowhere/"])
def test_pages_have_one_h1_and_nothing_inline_that_the_csp_would_block(client, lesson, path):
    html = client.get(path).content.decode()

    assert html.count("<h1") == 1
    assert " style=" not in html
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    # The theme is set before the first paint by a blocking script in <head>.
    head = html.split("</head>")[0]
    assert f'<script src="{static("js/theme.js")}"></script>' in head


def test_lesson_page_has_the_hooks_progress_and_shortcuts_rely_on(client, lesson):
    html = client.get("/basics/first/").content.decode()

    assert 'data-lesson-id="basics/first"' in html
    assert 'data-lesson="basics/first"' in html
    assert 'aria-current="page">Your first receiver</a>' in html
    # Progress is per browser: the server renders the control hidden and unchecked.
    assert re.search(r'<div class="lesson-done" data-progress-done hidden>', html)
    assert "checked" not in html.split('id="lesson-done"')[1].split(">")[0]
