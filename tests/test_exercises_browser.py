"""Exercises in a real browser: check, hint, solution gating, predictions, ticks, reset, no JS."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser import new_context
from tests.factories import make_section, make_tutorial
from tests.test_browser_accessibility import axe_violations
from tutorials.runner.testing import isolate, run_url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STARTER = """\
from django.db import models

class Order(models.Model):
    number = models.IntegerField()

class Invoice(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)
"""
SOLUTION = (
    STARTER
    + """
from django.db.models.signals import post_save

def create_invoice(sender, instance, created, **kwargs):
    if created:
        Invoice.objects.create(order=instance)

post_save.connect(create_invoice, sender=Order)
"""
)

LESSON = f"""\
## Try it

### Exercise: one invoice per order

Connect a receiver so that creating an Order creates its Invoice, once.

```python exercise id=invoice-once
{STARTER}```

```python check
order = Order.objects.create(number=1)
invoices = Invoice.objects.filter(order=order)
assert invoices.count() == 1, "Creating an Order creates its Invoice."
order.save()
assert invoices.count() == 1, "Saving the Order again adds no second Invoice."
```

```python solution
{SOLUTION}```

```hint
Look at the `created` argument of post_save.
```

### Predict

```python run
print(2 + 2)
```

```output
4
```

```predict
question: What does it print?
choices: ["4", "22"]
```
"""


@pytest.fixture
def lesson_url(settings, tmp_path_factory) -> str:
    isolate(settings, tmp_path_factory.getbasetemp())
    settings.RUNNER_POOL_SIZE = 1
    run_url(settings)
    section = make_section(slug="shop")
    make_tutorial(section, slug="orders", body_markdown=LESSON, order=1)
    make_tutorial(section, slug="plain", order=2)
    return "/shop/orders/"


def editor(page: Page):
    return page.get_by_label("Your code for exercise 1, editable")


def check(page: Page, code: str | None = None):
    if code is not None:
        editor(page).fill(code)
    page.get_by_role("button", name="Check", exact=True).click()


def test_check_fails_then_passes_with_messages_status_and_ticks(page: Page, lesson_url):
    page.goto(lesson_url)
    expect(editor(page)).to_have_value(STARTER.rstrip("\n"))
    expect(page.locator(".exercise-offline")).to_have_count(0)
    check(page)
    status = page.locator(".exercise-status")
    expect(status).to_have_text("2 of 2 checks failed.", timeout=20_000)
    expect(status).to_have_attribute("aria-live", "polite")
    failed = page.locator(".exercise-check-failed")
    expect(failed.first).to_contain_text("Creating an Order creates its Invoice.")
    check(page, SOLUTION)
    expect(status).to_have_text("All 2 checks passed. Exercise solved!", timeout=20_000)
    expect(page.locator(".exercise-check-passed")).to_have_count(2)
    expect(page.locator(".exercise-toolbar .exercise-solved")).to_be_visible()
    tick = page.locator('.roadmap-nav li[data-lesson="shop/orders"] .exercise-tick')
    expect(tick).to_contain_text("1/2")
    expect(tick).to_contain_text("1 of 2 exercises solved")
    page.reload()  # progress is kept in this browser
    expect(page.locator(".exercise-toolbar .exercise-solved")).to_be_visible()
    assert page.problems == []


def test_hint_is_shown_on_request(page: Page, lesson_url):
    page.goto(lesson_url)
    hint = page.locator(".exercise-hint-body")
    expect(hint).to_be_hidden()
    page.get_by_text("Show hint").click()
    expect(hint).to_contain_text("Look at the created argument of post_save.")


def test_solution_needs_a_confirmation_until_solved_and_is_fetched_only_then(
    page: Page, lesson_url
):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(lesson_url)
    assert "create_invoice" not in page.content()
    page.get_by_role("button", name="Show solution").click()
    yes = page.get_by_role("button", name="Yes, show me")
    expect(yes).to_be_focused()
    page.get_by_role("button", name="Keep trying").click()
    expect(yes).to_be_hidden()
    expect(editor(page)).to_be_focused()
    assert not any("/solution/" in url for url in requests)
    page.get_by_role("button", name="Show solution").click()
    yes.click()
    solution = page.locator(".exercise-solution-code")
    expect(solution).to_contain_text("def create_invoice")
    expect(page.locator(".exercise-solution-checks")).to_contain_text("Saving the Order again")
    expect(page.locator(".exercise-solution .runner-heading").first).to_be_focused()
    page.get_by_role("button", name="Put the solution in the editor").click()
    expect(editor(page)).to_have_value(SOLUTION.rstrip("\n"))


def test_solution_is_offered_without_confirmation_after_three_failed_checks(page: Page, lesson_url):
    page.goto(lesson_url)
    status = page.locator(".exercise-status")
    for _ in range(3):
        check(page)
        expect(status).to_contain_text("checks failed", timeout=20_000)
        page.wait_for_function("!document.querySelector('.exercise-check').disabled")
    expect(status).to_contain_text("The solution is available if you want it.")
    page.get_by_role("button", name="Show solution").click()
    expect(page.locator(".exercise-solution-code")).to_contain_text("def create_invoice")
    expect(page.get_by_role("button", name="Yes, show me")).to_be_hidden()


def test_prediction_hides_the_answer_then_reveals_it_beside_the_real_output(page: Page, lesson_url):
    page.goto(lesson_url)
    prediction = page.locator(".prediction")
    expect(prediction.locator(".prediction-answer")).to_be_hidden()
    submit = page.get_by_role("button", name="Answer and run")
    submit.click()
    expect(prediction.locator(".prediction-status")).to_have_text("Pick an answer first.")
    page.get_by_label("22").check()
    submit.click()
    verdict = prediction.locator(".prediction-verdict")
    expect(verdict).to_have_text(
        "Not quite: compare the expected output with what the code printed.", timeout=20_000
    )
    expect(verdict).to_be_focused()
    expect(prediction.locator(".prediction-answer")).to_be_visible()
    expect(prediction.locator(".prediction-answer pre")).to_have_text("4\n")
    expect(prediction.locator(".runner-output")).to_have_text("4\n")
    page.get_by_role("button", name="Try another answer").click()
    expect(prediction.locator(".prediction-answer")).to_be_hidden()
    page.get_by_label("4", exact=True).check()
    submit.click()
    expect(verdict).to_have_text("Right: that is what it prints.", timeout=20_000)
    tick = page.locator('.roadmap-nav li[data-lesson="shop/orders"] .exercise-tick')
    expect(tick).to_contain_text("1/2")
    assert page.problems == []


def test_home_counts_solved_exercises_and_reset_forgets_them(page: Page, lesson_url):
    page.goto("/")
    summary = page.locator("[data-exercise-summary]")
    expect(summary).to_contain_text("0 of 2 exercises solved")
    page.evaluate(
        "localStorage.setItem('exercises', JSON.stringify({solved: "
        "['orders/invoice-once', 'orders/predict-1'], failures: {}}))"
    )
    page.reload()
    expect(summary).to_contain_text("2 of 2 exercises solved")
    tick = page.locator('.roadmap-list li[data-lesson="shop/orders"] .exercise-tick')
    expect(tick).to_have_class("exercise-tick is-complete")
    page.get_by_role("button", name="Reset exercise progress").click()
    page.get_by_role("button", name="Yes, forget my solved exercises").click()
    expect(summary).to_contain_text("0 of 2 exercises solved")
    expect(summary.get_by_role("status")).to_have_text("Exercise progress reset.")
    expect(tick).to_have_count(0)
    assert page.evaluate("JSON.parse(localStorage.getItem('exercises')).solved") == []


def test_without_javascript_task_starter_hint_and_question_are_readable(
    browser, live_server, lesson_url
):
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    try:
        tab = context.new_page()
        tab.goto(lesson_url)
        expect(tab.get_by_text("Connect a receiver so that creating an Order")).to_be_visible()
        expect(tab.locator(".exercise-code")).to_contain_text("class Invoice(models.Model):")
        expect(tab.locator(".exercise-offline")).to_be_visible()
        tab.get_by_text("Show hint").click()
        expect(tab.locator(".exercise-hint-body")).to_be_visible()
        expect(tab.locator(".prediction-question")).to_have_text("What does it print?")
        expect(tab.locator(".prediction-choices li")).to_have_count(2)
        expect(tab.locator(".prediction-answer pre")).to_be_hidden()
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_reports_no_violations_on_a_lesson_with_exercises_in_use(
    browser, live_server, lesson_url, scheme
):
    context = new_context(browser, live_server.url, colour_scheme=scheme)
    context.set_default_timeout(20_000)
    try:
        tab = context.new_page()
        tab.goto(lesson_url)
        tab.get_by_role("button", name="Check", exact=True).click()
        expect(tab.locator(".exercise-checks")).to_be_visible()
        tab.get_by_role("button", name="Show solution").click()
        tab.get_by_text("Show hint").click()
        tab.get_by_label("22").check()
        tab.get_by_role("button", name="Answer and run").click()
        expect(tab.locator(".prediction-verdict")).to_be_visible()
        assert axe_violations(tab) == []
    finally:
        context.close()


TYPED = """\
```python run
print("a")
print("b")
```

```output
a
b
```

```predict
id: two-lines
```
"""


def test_typed_prediction_compares_the_answer_as_the_output_check_does(
    page: Page, settings, tmp_path_factory
):
    isolate(settings, tmp_path_factory.getbasetemp())
    settings.RUNNER_POOL_SIZE = 1
    run_url(settings)
    make_tutorial(make_section(slug="typed"), slug="typed-lesson", body_markdown=TYPED)
    page.goto("/typed/typed-lesson/")
    answer = page.get_by_label("Your answer (what the code prints)")
    expect(page.locator(".prediction-legend")).to_have_text("What will this print?")
    answer.fill("a  \nb\n\n")  # trailing spaces and blank lines do not count
    page.get_by_role("button", name="Answer and run").click()
    expect(page.locator(".prediction-verdict")).to_have_text(
        "Right: that is what it prints.", timeout=20_000
    )
    expect(answer).to_be_disabled()
    stored = page.evaluate("JSON.parse(localStorage.getItem('exercises')).solved")
    assert stored == ["typed-lesson/two-lines"]


def test_control_enter_in_the_editor_runs_the_check(page: Page, lesson_url):
    page.goto(lesson_url)
    editor(page).fill(SOLUTION)
    editor(page).press("Control+Enter")
    expect(page.locator(".exercise-status")).to_have_text(
        "All 2 checks passed. Exercise solved!", timeout=20_000
    )
