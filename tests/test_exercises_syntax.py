"""The exercise syntax: parsing (fences.py, extract.py), rendering, storing and the lookup."""

from __future__ import annotations

import pytest

from tests.factories import make_section, make_tutorial
from tutorials import exercises
from tutorials.exercises.extract import CheckSyntaxError, extract, split_checks
from tutorials.exercises.models import Exercise
from tutorials.fences import exercise_blocks, parse_prediction, runnable_blocks
from tutorials.markdown import render

STARTER = "class Order:\n    pass\n"
CHECK = """\
order = Order()
assert order is not None, "An Order can be made."
marker = "CHECK-SOURCE-MARKER"
assert hasattr(order, "invoice"), "An Order has an invoice."
"""
SOLUTION = "class Order:\n    invoice = 'SOLUTION-MARKER'\n"

EXERCISE = f"""\
### Exercise: invoices

Give every order an invoice.

```python exercise id=invoice
{STARTER}```

```python check
{CHECK}```

```python solution
{SOLUTION}```

```hint
Think about **class attributes**.
```
"""

PREDICTION = """\
### Predict

```python run
print(1 + 1)
```

```output
2
```

```predict
question: What does it print?
choices:
  - "2"
  - "11"
```
"""


def lines(text: str) -> list[str]:
    return text.splitlines()


def test_exercise_fences_are_grouped_with_their_check_solution_and_hint():
    [block] = exercise_blocks(lines(EXERCISE))
    assert block.id == "invoice"
    assert block.starter == STARTER
    assert block.check == CHECK
    assert block.solution == SOLUTION
    assert block.hint.strip() == "Think about **class attributes**."
    assert block.problems == ()
    assert block.start == 4


def test_hint_is_optional():
    text = EXERCISE.split("```hint")[0]
    [block] = exercise_blocks(lines(text))
    assert block.hint is None and block.problems == ()


@pytest.mark.parametrize(
    ("info", "problem"),
    [
        ("python exercise", "needs an id"),
        ("python exercise id=Bad_Id", "may only use a-z, 0-9 and '-'"),
    ],
)
def test_exercise_id_is_required_and_limited_to_lowercase_digits_and_dashes(info, problem):
    text = EXERCISE.replace("python exercise id=invoice", info)
    [block] = exercise_blocks(lines(text))
    assert problem in block.problems[0][1]
    assert block.problems[0][0] == 4


def test_duplicate_exercise_ids_in_a_lesson_are_a_problem():
    [first, second] = exercise_blocks(lines(EXERCISE + "\n" + EXERCISE))
    assert first.problems == ()
    assert "duplicate exercise id 'invoice'" in second.problems[0][1]


def test_an_exercise_without_its_check_or_solution_is_a_problem():
    no_solution = EXERCISE.split("```python solution")[0]
    [block] = exercise_blocks(lines(no_solution))
    assert any("python solution block must follow" in p for _, p in block.problems)
    no_check = EXERCISE.replace("```python check", "```python other")
    [block] = exercise_blocks(lines(no_check))
    assert any("python check block must follow" in p for _, p in block.problems)


def test_each_top_level_assert_is_one_check_with_the_setup_before_it():
    checks = split_checks(CHECK)
    assert [c["name"] for c in checks] == ["An Order can be made.", "An Order has an invoice."]
    assert checks[0]["source"].startswith("order = Order()")
    assert checks[1]["source"].startswith('marker = "CHECK-SOURCE-MARKER"')
    assert "order = Order()" not in checks[1]["source"]


@pytest.mark.parametrize(
    ("source", "message", "line"),
    [
        ("assert True\n", "needs a message", 1),
        ("x = 1\nassert x, f'{x}'\n", "needs a message", 2),
        ("assert True, 'a'\nassert True, 'a'\n", "two checks have the message 'a'", 2),
        ("assert True, 'a'\nx = 1\n", "after the last assert", 2),
        ("x = 1\n", "no assert", 1),
        ("x = (\n", "syntax error", 1),
    ],
)
def test_malformed_check_blocks_are_reported_with_their_line(source, message, line):
    with pytest.raises(CheckSyntaxError) as error:
        split_checks(source)
    assert message in str(error.value)
    assert error.value.line == line


def test_check_problems_are_reported_at_their_line_in_the_file():
    text = EXERCISE.replace('assert order is not None, "An Order can be made."', "assert order")
    [spec] = extract(text)
    line, message = spec.problems[0]
    assert "needs a message" in message
    assert text.splitlines()[line] == "assert order"  # 0-based here; 1-based in errors


def test_a_predict_block_after_a_samples_output_makes_it_a_prediction():
    [block] = runnable_blocks(lines(PREDICTION))
    assert block.expected_output == "2\n"
    assert block.predict is not None
    prediction = parse_prediction(block.predict, 1)
    assert prediction.id == "predict-1"
    assert prediction.question == "What does it print?"
    assert prediction.choices == ("2", "11")


def test_predict_block_defaults_to_a_typed_answer_and_the_default_question():
    prediction = parse_prediction("", 3)
    assert prediction.choices == () and prediction.question == "What will this print?"
    assert prediction.id == "predict-3"


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("question: [", "not valid YAML"),
        ("- a\n- b\n", "must be YAML keys"),
        ("colour: red\n", "unknown key"),
        ("choices: a\n", "must be a list"),
        ("choices: ['only']\n", "at least two"),
    ],
)
def test_bad_predict_blocks_are_errors(yaml_text, message):
    with pytest.raises(ValueError, match=message):
        parse_prediction(yaml_text, 1)


def test_exactly_one_choice_must_equal_the_expected_output():
    [spec] = extract(PREDICTION)
    assert spec.problems == []
    wrong = PREDICTION.replace('- "2"', '- "3"')
    [spec] = extract(wrong)
    assert "exactly one choice must equal the expected output (0 do)" in spec.problems[0][1]
    assert wrong.splitlines()[spec.problems[0][0]] == "```predict"


def test_rendered_exercise_shows_task_starter_and_hint_but_never_checks_or_solution():
    html = render(EXERCISE).html
    assert 'data-exercise="invoice"' in html
    assert "Give every order an invoice." in html
    assert '<details class="exercise-hint"><summary>Show hint</summary>' in html
    assert "<strong>class attributes</strong>" in html
    assert "Order" in html
    assert "CHECK-SOURCE-MARKER" not in html
    assert "An Order has an invoice" not in html
    assert "SOLUTION-MARKER" not in html


def test_a_check_or_solution_fence_outside_an_exercise_is_never_rendered():
    text = "Text.\n\n```python check\nassert SECRET, 'CHECK-MARKER'\n```\n\n" + (
        "```python solution\nSOLUTION-MARKER = 1\n```\n"
    )
    html = render(text).html
    assert "CHECK-MARKER" not in html and "SOLUTION-MARKER" not in html
    broken = EXERCISE.replace("python exercise id=invoice", "python exercise")
    html = render(broken).html
    assert "CHECK-SOURCE-MARKER" not in html and "SOLUTION-MARKER" not in html
    assert "cannot be checked yet" in html and "data-exercise" not in html


def test_rendered_prediction_hides_its_answer_in_closed_details():
    html = render(PREDICTION).html
    assert 'data-prediction="predict-1"' in html
    assert '<p class="prediction-question">What does it print?</p>' in html
    assert "<li><code>11</code></li>" in html
    assert '<details class="prediction-answer"><summary>Show the answer</summary>' in html
    assert "<details open" not in html
    assert "data-runnable" not in html  # answered first, then run by exercises.js


@pytest.mark.django_db
def test_saving_a_lesson_stores_its_exercises_and_keeps_counters_on_edit():
    tutorial = make_tutorial(slug="orders", body_markdown=EXERCISE + "\n" + PREDICTION)
    rows = list(Exercise.objects.filter(tutorial=tutorial).order_by("position"))
    assert [(r.key, r.kind) for r in rows] == [("invoice", "code"), ("predict-1", "predict")]
    code, predict = rows
    assert [c["name"] for c in code.checks] == ["An Order can be made.", "An Order has an invoice."]
    assert code.solution == SOLUTION and code.title == "invoices"
    assert predict.expected_output == "2\n" and predict.choices == ["2", "11"]
    Exercise.objects.filter(pk=code.pk).update(attempts=5, passes=2)
    tutorial.body_markdown = EXERCISE.replace("Give every", "Give each")
    tutorial.save()
    code.refresh_from_db()
    assert (code.attempts, code.passes) == (5, 2)
    assert not Exercise.objects.filter(key="predict-1").exists()


@pytest.mark.django_db
def test_broken_exercises_are_not_stored():
    tutorial = make_tutorial(body_markdown=EXERCISE.replace(" id=invoice", ""))
    assert not Exercise.objects.filter(tutorial=tutorial).exists()


@pytest.mark.django_db
def test_prepare_adds_the_stored_checks_and_drops_any_sent_by_the_browser():
    make_tutorial(slug="orders", body_markdown=EXERCISE)
    forged = [{"name": "x", "source": "assert True, 'x'"}]
    payload = exercises.prepare({"code": "x = 1", "exercise": "orders/invoice", "checks": forged})
    assert payload["code"] == "x = 1" and payload["exercise"] == "orders/invoice"
    assert [c["name"] for c in payload["checks"]] == [
        "An Order can be made.",
        "An Order has an invoice.",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("exercise", "status"),
    [("orders", 400), ("orders/Invoice", 400), (["x"], 400), ("orders/nope", 404),
     ("other/invoice", 404)],
)  # fmt: skip
def test_prepare_rejects_malformed_and_unknown_ids(exercise, status):
    make_tutorial(slug="orders", body_markdown=EXERCISE)
    with pytest.raises(exercises.ExerciseError) as error:
        exercises.prepare({"code": "", "exercise": exercise})
    assert error.value.status == status


@pytest.mark.django_db
def test_exercises_of_unpublished_lessons_cannot_be_looked_up():
    make_tutorial(slug="orders", body_markdown=EXERCISE, published=False)
    with pytest.raises(exercises.ExerciseError):
        exercises.lookup("orders/invoice")


@pytest.mark.django_db
def test_roadmap_lists_each_lessons_exercises_and_counts_them():
    from tutorials.navigation import build_roadmap

    section = make_section()
    make_tutorial(section, slug="orders", body_markdown=EXERCISE + "\n" + PREDICTION)
    make_tutorial(section, slug="plain")
    course = build_roadmap()
    assert course.lessons[0].exercises == ["orders/invoice", "orders/predict-1"]
    assert course.lessons[1].exercises == []
    assert course.exercise_count == 2
