"""Check runs through ``POST /run/`` and the solution endpoint, in the real sandbox."""

from __future__ import annotations

import json
import time

import pytest
from django.urls import reverse

from tests.factories import make_tutorial
from tutorials.exercises.models import Exercise
from tutorials.runner.testing import finish, isolate

# Queued runs finish in the runner's threads, which count attempts in the database:
# committed rows, visible across connections.
pytestmark = pytest.mark.django_db(transaction=True)

LESSON = """\
### Exercise: one invoice per order

```python exercise id=invoice-once
from django.db import models

class Order(models.Model):
    number = models.IntegerField()

class Invoice(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)
```

```python check
order = Order.objects.create(number=1)
invoices = Invoice.objects.filter(order=order)
assert invoices.count() == 1, "Creating an Order creates its Invoice."
order.save()
assert invoices.count() == 1, "Saving the Order again adds no second Invoice."
```

```python solution
from django.db import models
from django.db.models.signals import post_save

class Order(models.Model):
    number = models.IntegerField()

class Invoice(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)

def create_invoice(sender, instance, created, **kwargs):
    if created:
        Invoice.objects.create(order=instance)

post_save.connect(create_invoice, sender=Order)
```

### Predict

```python run
print(2 + 2)
```

```output
4
```

```predict
choices: ["4", "22"]
```
"""

SOLUTION = LESSON.split("```python solution\n")[1].split("```")[0]
STARTER = LESSON.split("```python exercise id=invoice-once\n")[1].split("```")[0]
TWICE = SOLUTION.replace("    if created:\n    ", "")


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path_factory):
    isolate(settings, tmp_path_factory.getbasetemp())
    settings.RUNNER_POOL_SIZE = 0


@pytest.fixture
def lesson():
    return make_tutorial(slug="orders", body_markdown=LESSON)


def post(client, url, payload):
    response = client.post(url, json.dumps(payload), content_type="application/json")
    return finish(client, response)  # a queued run: follow its polls to the result


def check(client, url, code, exercise="orders/invoice-once"):
    return post(client, url, {"code": code, "exercise": exercise})


def test_solution_passes_every_check(client, url, lesson):
    response = check(client, url, SOLUTION)
    assert response.status_code == 200
    assert response.json()["checks"] == [
        {"name": "Creating an Order creates its Invoice.", "passed": True, "message": None},
        {"name": "Saving the Order again adds no second Invoice.", "passed": True, "message": None},
    ]


def test_failing_checks_report_the_authors_message(client, url, lesson):
    data = check(client, url, TWICE).json()
    assert [c["passed"] for c in data["checks"]] == [True, False]
    assert data["checks"][1]["message"] == "Saving the Order again adds no second Invoice."


def test_learner_output_and_trace_are_kept_but_not_those_of_the_checks(client, url, lesson):
    code = SOLUTION + '\nprint("mine")\nOrder.objects.create(number=7)\n'
    data = check(client, url, code).json()
    assert data["output"] == [{"stream": "stdout", "text": "mine\n"}]
    orders_saved = [e for e in data["trace"] if e["signal"] == "post_save"]
    assert len(orders_saved) == 2  # the learner's Order and its Invoice; none from the checks
    assert all("number=1" not in json.dumps(e) for e in data["trace"])


def test_a_run_without_exercise_has_no_checks_even_if_the_browser_sends_some(client, url):
    forged = [{"name": "x", "source": "assert False, 'x'"}]
    data = post(client, url, {"code": "print(1)", "checks": forged}).json()
    assert "checks" not in data
    assert data["output"] == [{"stream": "stdout", "text": "1\n"}]


def test_checks_do_not_run_after_an_exception_and_say_why(client, url, lesson):
    data = check(client, url, SOLUTION + "\nraise ValueError('no')\n").json()
    assert data["exit_status"] == 1
    assert all(not c["passed"] for c in data["checks"])
    assert "your code raised an exception" in data["checks"][0]["message"]


def test_a_missing_name_is_reported_by_type_with_a_likely_cause(client, url, lesson):
    data = check(client, url, "x = 1\n").json()
    assert data["checks"][0]["message"].startswith("The check's setup raised NameError.")
    assert data["checks"][1]["message"] == "Not run: the setup of an earlier check failed."
    assert "does not define a name the check uses" in data["checks"][0]["message"]
    assert "Order" not in data["checks"][0]["message"]


@pytest.mark.parametrize(("exercise", "status"), [("orders/nope", 404), ("nope", 400), (42, 400)])
def test_unknown_or_malformed_exercise_ids_get_clear_errors(client, url, lesson, exercise, status):
    response = check(client, url, SOLUTION, exercise)
    assert response.status_code == status
    assert response.json()["error"]


def counts(key: str, expected: tuple[int, int], within: float = 10.0) -> tuple[int, int]:
    """The exercise's (attempts, passes) once they reach ``expected`` (or after
    ``within`` seconds): a run is counted just after its answer has gone out."""
    deadline = time.monotonic() + within
    while True:
        row = Exercise.objects.get(key=key)
        if (row.attempts, row.passes) == expected or time.monotonic() > deadline:
            return row.attempts, row.passes
        time.sleep(0.02)


def test_each_check_run_counts_an_attempt_and_passes_count_passes(client, url, lesson):
    check(client, url, STARTER)
    check(client, url, TWICE)
    check(client, url, SOLUTION)
    assert counts("invoice-once", (3, 1)) == (3, 1)


def test_prediction_runs_count_right_answers(client, url, lesson):
    code = "print(2 + 2)\n"
    right = post(client, url, {"code": code, "exercise": "orders/predict-1", "answer": "4"})
    assert right.status_code == 200
    assert "checks" not in right.json()
    post(client, url, {"code": code, "exercise": "orders/predict-1", "answer": "22"})
    assert counts("predict-1", (2, 1)) == (2, 1)
    bad = post(client, url, {"code": code, "exercise": "orders/predict-1", "answer": ["4"]})
    assert bad.status_code == 400


def test_lesson_page_never_contains_the_checks_or_the_solution(client, lesson):
    page = client.get(lesson.get_absolute_url()).content.decode()
    assert 'data-exercise="invoice-once"' in page
    assert "Saving the Order again" not in page
    assert "create_invoice" not in page


def solution_url(key="invoice-once", lesson="orders"):
    return reverse("exercises:solution", kwargs={"lesson": lesson, "key": key})


def test_solution_endpoint_answers_a_post_with_solution_and_checks_and_counts_it(client, lesson):
    response = client.post(solution_url())
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex"
    data = response.json()
    assert data["solution"] == SOLUTION
    assert "Saving the Order again adds no second Invoice." in data["checks"]
    assert Exercise.objects.get(key="invoice-once").solutions_shown == 1


def test_solution_endpoint_refuses_get_unknown_ids_and_predictions(client, lesson):
    assert client.get(solution_url()).status_code == 405
    assert client.post(solution_url("nope")).status_code == 404
    assert client.post(solution_url("predict-1")).status_code == 404


def test_solution_endpoint_needs_the_csrf_token(lesson):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(solution_url()).status_code == 403
