"""Reading a lesson: copy buttons, heading anchors, "On this page", theme, meta facts."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import new_context
from tests.factories import make_section, make_tutorial

pytestmark = pytest.mark.browser

CONSOLE_LESSON = """\
## In the shell

```pycon
>>> from django.db.models.signals import post_save
>>> post_save.receivers
[]
>>> for r in range(2):
...     print(r)
0
1
```

```console
$ python -m pip install Django
Collecting Django
$ python manage.py check
System check identified no issues (0 silenced).
```

```python
def handler(sender, **kwargs):
    return ">>> not a prompt"
```
"""


@pytest.fixture
def console_lesson(live_server):
    return make_tutorial(title="Shell sessions", body_markdown=CONSOLE_LESSON)


@pytest.fixture
def long_lesson(live_server):
    sections = "\n\n".join(
        f"## Part {n}\n\n" + "A paragraph of text to read. " * 120 for n in range(1, 7)
    )
    return make_tutorial(title="A long read", body_markdown=sections)


def copy_block(page, index: int) -> str:
    page.locator(".lesson-body .copy-button").nth(index).click()
    expect(page.locator(".lesson-body .copy-button").nth(index)).to_have_text("Copied")
    return page.evaluate("navigator.clipboard.readText()")


def test_copy_leaves_out_prompts_and_output(page, context, console_lesson):
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(console_lesson.get_absolute_url())

    assert copy_block(page, 0) == (
        "from django.db.models.signals import post_save\n"
        "post_save.receivers\n"
        "for r in range(2):\n"
        "    print(r)"
    )
    assert copy_block(page, 1) == "python -m pip install Django\npython manage.py check"
    assert copy_block(page, 2) == 'def handler(sender, **kwargs):\n    return ">>> not a prompt"'


def test_copy_feedback_is_announced_and_the_button_resets(page, context, console_lesson):
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(console_lesson.get_absolute_url())
    button = page.locator(".lesson-body .copy-button").first

    button.click()

    expect(page.get_by_role("status").filter(has_text="copied")).to_have_count(1)
    expect(button).to_have_text("Copied")
    expect(button).to_have_text("Copy", timeout=4000)


def test_heading_anchor_is_hidden_until_the_heading_is_hovered(page, console_lesson):
    page.goto(console_lesson.get_absolute_url())
    heading = page.locator(".lesson-body h2").first
    anchor = heading.locator("a.headerlink")
    expect(anchor).to_have_attribute("href", "#in-the-shell")
    assert anchor.evaluate("a => getComputedStyle(a).opacity") == "0"

    heading.hover()

    expect(anchor).to_have_css("opacity", "1")


def test_table_of_contents_marks_the_section_being_read(page, long_lesson):
    page.goto(long_lesson.get_absolute_url())
    toc = page.locator(".lesson-toc")
    expect(toc.get_by_role("link", name="Part 1")).to_be_visible()

    page.locator("#part-4").scroll_into_view_if_needed()
    page.evaluate("document.getElementById('part-4').scrollIntoView({block: 'start'})")

    expect(toc.locator("a[aria-current='location']")).to_have_text("Part 4")
    expect(toc.locator("a[aria-current]")).to_have_count(1)

    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    expect(toc.locator("a[aria-current='location']")).to_have_text("Part 6")


def test_table_of_contents_starts_folded_on_a_phone(browser, live_server, long_lesson):
    ctx = new_context(browser, live_server.url, phone=True)
    page = ctx.new_page()
    page.goto(long_lesson.get_absolute_url())
    toc_link = page.locator(".lesson-toc").get_by_role("link", name="Part 2")
    expect(toc_link).to_be_hidden()

    page.locator(".lesson-toc summary").click()
    expect(toc_link).to_be_visible()
    toc_link.click()

    expect(toc_link).to_be_hidden()  # folded away again after choosing
    expect(page).to_have_url(re.compile("#part-2$"))
    ctx.close()


def test_lesson_shows_reading_time_and_last_updated_date(page, long_lesson):
    page.goto(long_lesson.get_absolute_url())
    meta = page.locator(".lesson-meta")

    expect(meta).to_contain_text(f"{long_lesson.reading_minutes} min read")
    expect(meta.locator("time")).to_have_attribute(
        "datetime", re.compile(long_lesson.updated_at.date().isoformat())
    )


def test_theme_follows_the_system_until_the_reader_chooses(browser, live_server, long_lesson):
    ctx = new_context(browser, live_server.url, colour_scheme="dark")
    page = ctx.new_page()
    page.goto(long_lesson.get_absolute_url())
    root = page.locator("html")
    toggle = page.locator("[data-theme-toggle]")
    expect(root).to_have_attribute("data-bs-theme", "dark")
    expect(toggle).to_have_attribute("aria-label", "Colour theme: follows your system")

    toggle.click()  # auto -> the opposite of the system
    expect(root).to_have_attribute("data-bs-theme", "light")
    expect(toggle).to_have_attribute("aria-label", "Colour theme: light")
    toggle.click()
    expect(root).to_have_attribute("data-bs-theme", "dark")
    toggle.click()  # back to following the system
    expect(toggle).to_have_attribute("aria-label", "Colour theme: follows your system")
    assert page.evaluate("localStorage.getItem('theme')") is None

    page.emulate_media(color_scheme="light")
    expect(root).to_have_attribute("data-bs-theme", "light")
    ctx.close()


def test_saved_theme_is_applied_before_any_module_runs(page, long_lesson):
    """No flash of the wrong theme: theme.js in <head> sets it before the first paint."""
    page.goto(long_lesson.get_absolute_url())
    page.evaluate("localStorage.setItem('theme', 'dark')")
    # Without the deferred modules and stylesheets, only the <head> script can act.
    page.route(re.compile(r"/static/js/(?!theme\.).*\.js$"), lambda route: route.abort())
    page.route(re.compile(r"\.css$"), lambda route: route.abort())

    page.reload()

    assert page.evaluate("document.documentElement.dataset.bsTheme") == "dark"
    head_script = page.locator("head script[src*='/static/js/theme.']")
    expect(head_script).to_have_count(1)
    assert head_script.evaluate("s => !s.defer && !s.async && s.type === ''")
    first_stylesheet_follows = page.evaluate(
        "() => { const s = document.querySelector('head script[src*=\"theme.\"]');"
        " const l = document.querySelector('head link[rel=stylesheet]');"
        " return !!(s.compareDocumentPosition(l) & Node.DOCUMENT_POSITION_FOLLOWING); }"
    )
    assert first_stylesheet_follows


def test_code_blocks_are_coloured_differently_in_dark_mode(browser, live_server):
    lesson = make_tutorial(section=make_section(), body_markdown="```python\nimport os\n```\n")
    colours = {}
    for scheme in ("light", "dark"):
        ctx = new_context(browser, live_server.url, colour_scheme=scheme)
        page = ctx.new_page()
        page.goto(lesson.get_absolute_url())
        block = page.locator(".lesson-body .highlight").first
        colours[scheme] = block.evaluate("b => getComputedStyle(b).backgroundColor")
        ctx.close()

    assert colours == {"light": "rgb(248, 248, 248)", "dark": "rgb(13, 17, 23)"}
