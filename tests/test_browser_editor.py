"""The code editor, results that teach and the trace diagram, in real Chromium.

Issue 15: CodeMirror loaded on first focus (not before), typing with auto-indent,
Tab/Esc-Tab, Ctrl+Enter; an error run names the error, marks the line and folds the
foreign frames; an edited run's output is diffed against the expected output; the
trace is drawn (real runs for today's trace, injected JSON for the timing fields);
axe in both themes with the editor open and a trace shown.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser import new_context
from tests.factories import make_tutorial
from tests.test_browser_accessibility import axe_violations
from tutorials.runner.testing import isolate, run_url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LESSON = """\
## Orders and invoices

```python run
from django.db import models, transaction
from django.db.models.signals import post_save


class Order(models.Model):
    number = models.IntegerField()


class Invoice(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)


def bill(sender, instance, created, **kwargs):
    if created:
        Invoice.objects.create(order=instance)
        print(f"Invoice for order {instance.number}")


def note_invoice(sender, instance, **kwargs):
    return f"noted {instance.pk}"


post_save.connect(bill, sender=Order)
post_save.connect(note_invoice, sender=Invoice)
Order.objects.create(number=1)
```

```output
Invoice for order 1
```

## Robust sends

```python run
import logging

from django.dispatch import Signal

logging.getLogger("django.dispatch").disabled = True  # send_robust logs each error
ping = Signal()


def fine(sender, **kwargs):
    return "pong"


def broken(sender, **kwargs):
    raise ValueError("no pong today")


ping.connect(fine)
ping.connect(broken)
print(len(ping.send_robust(sender="me")))
```

```output
2
```
"""

EDITOR_1 = "Code editor, example 1, Orders and invoices"
RUN_WAIT = 30_000  # ms: a run's result, on a machine busy with other tests


@pytest.fixture
def lesson_url(settings, tmp_path_factory) -> str:
    isolate(settings, tmp_path_factory.getbasetemp())
    settings.RUNNER_POOL_SIZE = 1
    run_url(settings)
    return make_tutorial(body_markdown=LESSON).get_absolute_url()


def editor_requests(page: Page) -> list[str]:
    return [
        entry
        for entry in page.evaluate(
            "() => performance.getEntriesByType('resource').map((e) => e.name)"
        )
        if "/vendor/codemirror/" in entry
    ]


def open_editor(page: Page, name: str = EDITOR_1):
    page.get_by_role("textbox", name=name).focus()
    content = page.get_by_role("textbox", name=name)
    expect(content).to_have_attribute("contenteditable", "true")
    expect(content).to_be_focused()
    return content


def editor_text(page: Page, index: int = 0) -> str:
    return page.evaluate(
        "i => [...document.querySelectorAll('.code-editor')[i].querySelectorAll('.cm-line')]"
        ".map((line) => line.textContent).join('\\n')",
        index,
    )


def replace_code(page: Page, code: str) -> None:
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(code)


def test_editor_loads_on_first_focus_only_and_shows_highlighted_code_first(page, lesson_url):
    page.goto(lesson_url)
    page.wait_for_load_state("load")
    # First paint: the highlighted code, no editor bundle fetched.
    expect(page.locator(".runnable-code pre").first.locator(".kn").first).to_have_text("from")
    page.wait_for_timeout(300)
    assert editor_requests(page) == []
    open_editor(page)
    assert len(editor_requests(page)) == 1
    # Same Pygments classes, so the same colours as the read-only code.
    keyword = page.locator(".code-editor .cm-line .kn").first
    expect(keyword).to_have_text("import")
    colour = keyword.evaluate("e => getComputedStyle(e).color")
    assert colour == "rgb(0, 128, 0)"  # pygments.css: .highlight .kn, light theme
    # CodeMirror's own styles arrived without an inline <style> (blocked by the CSP).
    assert page.locator(".cm-editor").evaluate("e => getComputedStyle(e).display") == "flex"
    assert page.evaluate("document.querySelectorAll('style').length") == 0
    expect(page.locator(".code-editor .cm-gutters")).to_contain_text("1")  # line numbers
    assert page.problems == []


def test_typing_auto_indents_tab_indents_and_brackets_close(page, lesson_url):
    page.goto(lesson_url)
    open_editor(page)
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.type("def f(x):")
    page.keyboard.press("Enter")
    page.keyboard.type("return [x")
    assert editor_text(page) == "def f(x):\n    return [x]"
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("pass")
    assert editor_text(page) == "def f(x):\n    return [x]\n    pass"
    # Bracket matching: the cursor after "]" highlights the pair.
    page.keyboard.press("ArrowUp")
    page.keyboard.press("End")
    expect(page.locator(".cm-matchingBracket")).to_have_count(2)
    # Undo history.
    page.keyboard.press("Control+z")
    assert "pass" not in editor_text(page)


def test_ctrl_enter_runs_and_esc_then_tab_leaves_the_editor(page, lesson_url):
    page.goto(lesson_url)
    content = open_editor(page)
    page.keyboard.press("Control+Enter")
    expect(page.locator(".runner-output").first).to_have_text(
        "Invoice for order 1\n", timeout=RUN_WAIT
    )
    # Tab indents inside the editor...
    page.keyboard.press("Control+Home")
    page.keyboard.press("Tab")
    expect(content).to_be_focused()
    assert editor_text(page).startswith("    from django.db")
    # ...and Esc then Tab moves on to the next control (the Copy button, then Run).
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    expect(content).not_to_be_focused()
    expect(page.get_by_role("button", name="Copy").first).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Run").first).to_be_focused()
    assert page.problems == []


def test_hint_near_the_editor_and_the_shortcut_overlay_list_the_keys(page, lesson_url):
    page.goto(lesson_url)
    hint = page.locator(".runner-hint").first
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("Ctrl+Enter runs")
    expect(hint).to_contain_text("Esc then Tab leaves the editor")
    page.locator("body").press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_contain_text("Run the code sample you are editing")
    expect(dialog).to_contain_text("Leave the code sample's editor")


def test_an_error_run_names_the_error_marks_the_line_and_folds_frames(page, lesson_url):
    page.goto(lesson_url)
    open_editor(page)
    replace_code(
        page,
        "from django.db import models\n\nclass Thing(models.Model):\n"
        "    name = models.CharField(max_length=5)\n\n"
        "Thing.objects.create(name=prnt)\n",
    )
    page.get_by_role("button", name="Run").first.click()
    status = page.locator(".runner-status").first
    expect(status).to_contain_text(
        "NameError: name 'prnt' is not defined (line 6).", timeout=RUN_WAIT
    )
    marked = page.locator(".code-editor .cm-marked-line")
    expect(marked).to_have_count(1)
    expect(marked).to_have_text("Thing.objects.create(name=prnt)")

    # A traceback through Django's code: its frames are folded, one click shows them.
    page.get_by_role("textbox", name=EDITOR_1).focus()
    replace_code(
        page,
        "from django.db import models\n\nclass Thing(models.Model):\n"
        "    name = models.CharField(max_length=5)\n\n"
        "Thing.objects.get(pk=1)\n",
    )
    page.keyboard.press("Control+Enter")
    expect(status).to_contain_text(
        "DoesNotExist: Thing matching query does not exist. (line 6)", timeout=RUN_WAIT
    )
    frames = page.locator(".runner-output .runner-frames").first
    expect(frames.locator("summary")).to_contain_text("from Django and the runner")
    body = frames.locator(".runner-frames-body")
    expect(body).to_be_hidden()
    expect(page.locator(".runner-output .runner-frame-own")).to_contain_text('"sample.py", line 6')
    frames.locator("summary").click()
    expect(body).to_be_visible()
    expect(body).to_contain_text("django")
    expect(marked).to_have_text("Thing.objects.get(pk=1)")
    # Editing clears the mark.
    page.get_by_role("textbox", name=EDITOR_1).focus()
    page.keyboard.type("#")
    expect(marked).to_have_count(0)

    # A syntax error: no frames at all, still named with its line.
    replace_code(page, 'x = 1\nprint("a"\n')
    page.keyboard.press("Control+Enter")
    expect(status).to_contain_text("SyntaxError: '(' was never closed (line 2).", timeout=RUN_WAIT)
    expect(marked).to_have_text('print("a"')


def test_an_edited_run_shows_where_the_output_differs(page, lesson_url):
    page.goto(lesson_url)
    open_editor(page, "Code editor, example 2, Robust sends")
    page.keyboard.press("Control+End")
    page.keyboard.insert_text('\nprint("extra")')
    page.keyboard.press("Control+Enter")
    runnable = page.locator(".runnable").nth(1)
    expect(runnable.locator(".runner-status")).to_contain_text(
        "Differs from the expected output.", timeout=RUN_WAIT
    )
    diff = runnable.locator(".runner-diff")
    expect(diff).to_contain_text("differs from the expected output from line 2")
    expect(diff.locator("ins")).to_have_text("yours: + extra\n")
    expect(diff.locator("del")).to_have_count(0)
    # The output sits right under the code: above the expected output and the trace.
    output_box = runnable.locator(".runner-output").bounding_box()
    expected_box = runnable.locator(".runnable-expected").bounding_box()
    signals_box = runnable.locator(".runner-signals").bounding_box()
    assert output_box["y"] < expected_box["y"] < signals_box["y"]
    # Undo back to the original: matches again, the diff goes away.
    page.get_by_role("button", name="Reset").nth(1).click()
    page.keyboard.press("Control+Enter")
    expect(runnable.locator(".runner-status")).to_contain_text(
        "Matches the expected output.", timeout=RUN_WAIT
    )
    expect(diff).to_be_hidden()


def test_diagram_of_a_nested_save(page, lesson_url):
    page.goto(lesson_url)
    page.get_by_role("button", name="Run").first.click()
    diagram = page.locator(".runnable").first.locator(".trace-diagram")
    expect(diagram).to_have_attribute("role", "img", timeout=RUN_WAIT)
    expect(diagram).to_have_attribute("aria-label", re.compile(r"^Diagram of \d+ signal sends"))
    rows = diagram.locator(".trace-row")
    texts = [" ".join(t.split()) for t in rows.all_inner_texts()]
    order_save = texts.index(next(t for t in texts if t.startswith("Order → post_save")))
    # The receiver `bill`, then the Invoice's own saves indented under it.
    assert texts[order_save + 1].startswith("bill returned None")
    assert texts[order_save + 2].startswith("Invoice → pre_save")
    assert texts[order_save + 3] == "no receiver"
    assert texts[order_save + 4].startswith("Invoice → post_save")
    assert texts[order_save + 5].startswith("note_invoice returned 'noted 1'")
    depth = [
        int(rows.nth(i).evaluate("e => e.style.getPropertyValue('--trace-depth')"))
        for i in range(order_save, order_save + 6)
    ]
    assert depth == [0, 1, 2, 3, 2, 3]
    # pre_save rows of both models are there too, and noise (post_init) is not.
    assert any(t.startswith("Invoice → pre_save") for t in texts)
    assert not any("post_init" in t for t in texts)
    assert page.problems == []


def test_diagram_of_send_robust_with_a_failing_receiver(page, lesson_url):
    page.goto(lesson_url)
    page.get_by_role("button", name="Run").nth(1).click()
    diagram = page.locator(".runnable").nth(1).locator(".trace-diagram")
    expect(diagram.locator(".trace-event")).to_contain_text("send_robust", timeout=RUN_WAIT)
    expect(diagram.locator(".trace-receiver").first).to_contain_text("fine returned 'pong'")
    raised = diagram.locator(".trace-raised")
    expect(raised).to_contain_text("broken raised ValueError('no pong today')")
    colour = raised.locator(".trace-value").evaluate("e => getComputedStyle(e).color")
    plain = diagram.locator(".trace-receiver").first.locator(".trace-value")
    assert colour != plain.evaluate("e => getComputedStyle(e).color")


TIMED_TRACE = [
    {
        "id": 1,
        "parent": None,
        "depth": 0,
        "kind": "send",
        "signal": "post_save",
        "path": "django.db.models.signals.post_save",
        "method": "send",
        "sender": "Order",
        "kwargs": {},
        "start_ms": 1.0,
        "duration_ms": 6.0,
        "receivers": [
            {"name": "audit", "result": "None", "duration_ms": 1.0},
            {"name": "bill", "result": "None", "duration_ms": 5.0},
        ],
    },
    {
        "id": 2,
        "parent": 1,
        "depth": 1,
        "kind": "send",
        "signal": "post_save",
        "path": "django.db.models.signals.post_save",
        "method": "send",
        "sender": "Invoice",
        "kwargs": {},
        "start_ms": 3.0,
        "duration_ms": 2.0,
        "receivers": [{"name": "note_invoice", "result": "'noted'", "duration_ms": 1.5}],
    },
    {
        "id": 3,
        "parent": None,
        "depth": 0,
        "kind": "commit",
        "signal": "commit",
        "path": "",
        "method": "",
        "sender": "default",
        "kwargs": {},
        "start_ms": 8.0,
        "duration_ms": 0.5,
        "receivers": [],
    },
    {
        "id": 4,
        "parent": None,
        "depth": 0,
        "kind": "on_commit",
        "signal": "on_commit",
        "path": "",
        "method": "",
        "sender": "",
        "kwargs": {},
        "start_ms": 8.5,
        "duration_ms": 1.5,
        "registered_in": 1,
        "receivers": [{"name": "send_invoice_email", "result": "None", "duration_ms": 1.5}],
    },
]


def inject_trace(route: Route) -> None:
    body = {
        "exit_status": 0,
        "stopped": False,
        "reason": None,
        "duration_ms": 12,
        "output": [{"stream": "stdout", "text": "Invoice for order 1\n"}],
        "trace": TIMED_TRACE,
        "trace_truncated": False,
    }
    route.fulfill(status=200, content_type="application/json", body=json.dumps(body))


def test_diagram_uses_timings_nesting_and_on_commit_when_the_trace_has_them(page, lesson_url):
    page.route("**/run/", inject_trace)
    page.goto(lesson_url)
    page.get_by_role("button", name="Run").first.click()
    diagram = page.locator(".runnable").first.locator(".trace-diagram")
    expect(diagram).to_have_class("trace-diagram trace-timed", timeout=RUN_WAIT)
    texts = [" ".join(t.split()) for t in diagram.locator(".trace-row").all_inner_texts()]
    assert texts == [
        "Order → post_save #1 6.0 ms",
        "audit returned None 1.0 ms",
        "bill returned None 5.0 ms",
        # Sent at 3 ms: during bill (2..7 ms), not audit (1..2 ms).
        "Invoice → post_save #2 2.0 ms",
        "note_invoice returned 'noted' 1.5 ms",
        "COMMIT transaction committed (default) 0.50 ms",
        "on_commit callback registered during post_save #1 1.5 ms",
        "send_invoice_email returned None 1.5 ms",
    ]
    # Time bars: placed and sized on a 10 ms axis.
    bill_bar = diagram.locator(".trace-row").nth(2).locator(".trace-bar")
    assert bill_bar.evaluate("e => e.style.getPropertyValue('--trace-start')") == "20.00%"
    assert bill_bar.evaluate("e => e.style.getPropertyValue('--trace-width')") == "50.00%"
    # The on_commit row comes after the commit row on screen.
    rows = diagram.locator(".trace-row")
    assert rows.nth(6).bounding_box()["y"] > rows.nth(5).bounding_box()["y"]
    expect(page.locator(".trace-legend").first).to_contain_text("across 10 ms")
    # Only the labels are indented: every row's time bar is on the same axis.
    tracks = diagram.locator(".trace-bar-track").evaluate_all(
        "tracks => tracks.map((t) => Math.round(t.getBoundingClientRect().left))"
    )
    assert len(set(tracks)) == 1, tracks
    # The list, the text alternative, has the times too.
    signals = page.locator(".runner-signals").first
    signals.get_by_text("The signals as a list, with their arguments").click()
    expect(signals.locator(".runner-event").first).to_contain_text("(6.00 ms)")
    expect(signals.locator(".runner-event").nth(2)).to_contain_text("Transaction committed")
    expect(signals.locator(".runner-trace-summary")).to_have_text("2 signals sent.")
    assert page.problems == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_with_the_editor_open_and_a_trace_shown(
    browser, live_server, lesson_url, scheme
):
    ctx = new_context(browser, live_server.url, colour_scheme=scheme)
    page = ctx.new_page()
    try:
        page.goto(lesson_url)
        expect(page.locator("html")).to_have_attribute("data-bs-theme", scheme)
        open_editor(page)
        page.keyboard.press("Control+Enter")
        expect(page.locator(".runner-output").first).to_have_text(
            "Invoice for order 1\n", timeout=RUN_WAIT
        )
        page.get_by_role("button", name="Run").nth(1).click()
        expect(page.locator(".runnable").nth(1).locator(".trace-raised")).to_be_visible(
            timeout=RUN_WAIT
        )
        page.locator(".runner-trace-details > summary").first.click()
        page.get_by_role("textbox", name=EDITOR_1).focus()
        assert axe_violations(page) == []
        # The editor's code uses the theme's own Pygments colours.
        keyword = page.locator(".code-editor .cm-line .kn").first
        expected = "rgb(0, 128, 0)" if scheme == "light" else None  # .kn
        colour = keyword.evaluate("e => getComputedStyle(e).color")
        pre_colour = page.locator(".runnable-code pre .kn").first.evaluate(
            "e => getComputedStyle(e).color"
        )
        assert colour == pre_colour
        if expected:
            assert colour == expected
    finally:
        ctx.close()


def test_attach_editor_turns_an_exercise_textarea_into_the_editor(page, lesson_url):
    """The module API exercises use: a <textarea> stays the value's home."""
    from django.templatetags.static import static

    page.goto(lesson_url)
    page.evaluate(
        """async (url) => {
            const {attachEditor} = await import(url);
            const area = document.createElement("textarea");
            area.value = "x = 1";
            area.id = "exercise-code";
            area.setAttribute("aria-label", "Exercise");
            document.querySelector(".lesson-body").prepend(area);
            window.ran = 0;
            window.exerciseEditor = attachEditor(area, {
                label: "Code editor, exercise: invoice once", onRun: () => window.ran++,
            });
        }""",
        static("js/editor-loader.js"),
    )
    assert editor_requests(page) == []
    page.locator("#exercise-code").focus()
    content = page.get_by_role("textbox", name="Code editor, exercise: invoice once")
    expect(content).to_be_focused()
    expect(page.locator("#exercise-code")).to_be_hidden()
    page.keyboard.press("End")
    page.keyboard.type("\ny = 2")
    page.keyboard.press("Control+Enter")
    assert page.evaluate("window.ran") == 1
    assert page.evaluate("exerciseEditor.getValue()") == "x = 1\ny = 2"
    assert page.locator("#exercise-code").input_value() == "x = 1\ny = 2"
    page.evaluate("exerciseEditor.markLine(2)")
    expect(page.locator(".code-editor .cm-marked-line").first).to_have_text(
        "y = 2", timeout=RUN_WAIT
    )
    page.evaluate("exerciseEditor.setValue('z = 3')")
    expect(content).to_have_text("z = 3")
