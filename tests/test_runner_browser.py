"""The runnable sample in a real browser: edit, run, read the output and the trace, reset."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser import axe_source
from tests.factories import make_tutorial
from tutorials.runner.testing import isolate, run_url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LESSON = """\
## Saving

```python run
from django.db import models
from django.db.models.signals import post_save

class Article(models.Model):
    title = models.CharField(max_length=100)

def announce(sender, instance, created, **kwargs):
    print(f"Saved {instance.title}")
    return "announced"

post_save.connect(announce, sender=Article)
Article.objects.create(title="Hello")
```

```output
Saved Hello
```
"""


@pytest.fixture
def lesson_url(settings, tmp_path_factory) -> str:
    isolate(settings, tmp_path_factory.getbasetemp())
    settings.RUNNER_POOL_SIZE = 1
    run_url(settings)
    return make_tutorial(body_markdown=LESSON).get_absolute_url()


EDITOR = "Code editor, example 1, Saving"


def open_lesson(page: Page, url: str):
    """Open the lesson and the sample's editor (loaded on focus); return its text box."""
    page.goto(url)
    page.get_by_role("textbox", name=EDITOR).focus()
    editor = page.locator(".code-editor .cm-content")
    expect(editor).to_be_focused()
    return editor


def editor_text(page: Page) -> str:
    return page.evaluate(
        "() => [...document.querySelectorAll('.code-editor .cm-line')]"
        ".map((line) => line.textContent).join('\\n')"
    )


def replace_code(page: Page, code: str) -> None:
    """Select everything in the focused editor and type `code` (one line per Enter)."""
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(code)


def test_run_shows_output_status_and_signal_timeline(page: Page, lesson_url):
    open_lesson(page, lesson_url)
    page.get_by_role("button", name="Run").click()
    result = page.get_by_role("region", name="Result of example 1")
    # The first run of the session may wait for a sandbox to start on a busy machine.
    expect(result.locator(".runner-output")).to_have_text("Saved Hello\n", timeout=30_000)
    status = page.locator(".runnable").get_by_role("status")
    expect(status).to_contain_text("Finished.")
    expect(status).to_contain_text("Matches the expected output.")
    signals = page.get_by_role("region", name="Signals sent by example 1")
    signals.get_by_text("The signals as a list, with their arguments").click()
    event = signals.locator(".runner-event").filter(has_text="post_save")
    expect(event).to_contain_text("post_save sent by Article")
    # The receiver, what it returned, and how long it took (the runner times receivers).
    expect(event.locator(".runner-receiver")).to_have_text(
        re.compile(r"^announce returned 'announced' in \d+(\.\d+)? ms$")
    )
    expect(event.locator("dt")).to_have_text(
        ["instance", "created", "update_fields", "raw", "using"]
    )
    # pre_init/post_init/class_prepared are noise until asked for.
    expect(signals.locator(".runner-event").filter(has_text="post_init")).to_have_count(0)
    signals.get_by_label("Show pre_init, post_init and class_prepared").check()
    expect(signals.locator(".runner-event").filter(has_text="post_init")).not_to_have_count(0)
    # The expected output stays under the code for comparison.
    expect(page.locator(".runnable-expected")).to_contain_text("Saved Hello")
    assert page.problems == []


def test_keyboard_edit_ctrl_enter_and_stderr(page: Page, lesson_url):
    open_lesson(page, lesson_url)
    replace_code(page, "import sys\nprint('out')\nprint('oops', file=sys.stderr)")
    page.keyboard.press("Control+Enter")
    output = page.locator(".runner-output")
    expect(output).to_contain_text("out")
    expect(output.locator(".runner-stderr")).to_contain_text("Standard error: oops")
    expect(page.locator(".runnable").get_by_role("status")).to_contain_text(
        "Differs from the expected output."
    )
    assert page.problems == []


def test_edits_survive_a_reload_and_reset_restores_the_sample(page: Page, lesson_url):
    open_lesson(page, lesson_url)
    original = editor_text(page)
    assert original.startswith("from django.db import models")
    replace_code(page, "print('my version')")
    expect(page.locator(".runner-edited")).to_be_visible()
    page.reload()
    # Kept edits are shown at once: the editor loads without waiting for a focus.
    expect(page.locator(".code-editor .cm-content")).to_have_text("print('my version')")
    page.get_by_role("button", name="Reset").click()
    assert editor_text(page) == original
    expect(page.locator(".code-editor .cm-content")).to_be_focused()
    page.reload()
    expect(page.locator(".code-editor")).to_be_hidden()  # nothing edited: no editor bundle
    expect(page.locator(".runnable-code pre")).to_contain_text("Article.objects.create")


def test_a_stopped_run_says_why(page: Page, lesson_url, settings):
    settings.RUNNER_WALL_TIMEOUT = 1
    open_lesson(page, lesson_url)
    replace_code(page, "import time\ntime.sleep(60)")
    page.get_by_role("button", name="Run").click()
    expect(page.locator(".runnable").get_by_role("status")).to_contain_text(
        "longer than the time limit", timeout=30_000
    )


def test_busy_runner_is_reported_not_silent(page: Page, lesson_url, settings):
    settings.RUNNER_QUEUE_LIMIT = 0  # the whole site's queue is full
    open_lesson(page, lesson_url)
    page.get_by_role("button", name="Run").click()
    expect(page.locator(".runnable").get_by_role("status")).to_contain_text("Try again in 2 s")


def test_runnable_sample_has_no_accessibility_violations_after_a_run(page: Page, lesson_url):
    open_lesson(page, lesson_url)
    page.get_by_role("button", name="Run").click()
    expect(page.locator(".runner-output")).to_have_text("Saved Hello\n")
    page.evaluate(axe_source())
    result = page.evaluate(
        "() => axe.run('.runnable', {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa']}})"
    )
    assert [v["id"] for v in result["violations"]] == []


def test_a_queued_run_says_it_waits_then_shows_its_result(page: Page, lesson_url, settings):
    """The run request answers 202 at once; the page polls until the result."""
    settings.RUNNER_ANSWER_WAIT = 0
    settings.RUNNER_MAX_CONCURRENCY = 1
    editor = open_lesson(page, lesson_url)
    editor.fill("import time\ntime.sleep(1.5)\nprint('after the wait')")
    answers = []
    page.on("response", lambda response: answers.append((response.url, response.status)))
    page.get_by_role("button", name="Run").click()
    status = page.locator(".runnable").get_by_role("status")
    expect(status).to_contain_text(re.compile("Waiting for a free runner|Running"))
    expect(page.locator(".runner-output")).to_have_text("after the wait\n", timeout=30_000)
    expect(status).to_contain_text("Finished.")
    assert any(url.endswith("/run/") and code == 202 for url, code in answers)
    assert any("/run/jobs/" in url and code == 200 for url, code in answers)
