"""
The proof of every exercise: the course's own (solution passes, starter fails,
predictions true), and ``sync_content --check`` reporting a broken one as
``file:line: message``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import write
from tests.test_content import SECTION, SyncFailed, lesson, sync
from tutorials.exercises.extract import extract
from tutorials.exercises.validate import check_text
from tutorials.runner.testing import isolate

CONTENT = Path(__file__).resolve().parent.parent / "content"

GOOD = """\
## Exercise

```python exercise id=double
def double(x):
    return x
```

```python check
assert double(2) == 4, "double(2) is 4."
assert double(0) == 0, "double(0) is 0."
```

```python solution
def double(x):
    return 2 * x
```

```python run
print(2 * 2)
```

```output
4
```

```predict
choices: ["4", "22"]
```
"""


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path_factory):
    isolate(settings, tmp_path_factory.getbasetemp())


def _lessons_with_exercises() -> list:
    cases = []
    for path in sorted(CONTENT.rglob("*.md")):
        specs = extract(path.read_text(encoding="utf-8"))
        if specs:
            cases.append(pytest.param(path, id=str(path.relative_to(CONTENT))))
    return cases


LESSONS = _lessons_with_exercises()


def test_the_course_has_both_kinds_of_exercise():
    kinds = {spec.kind for param in LESSONS for spec in extract(param.values[0].read_text("utf-8"))}
    assert kinds == {"code", "predict"}


@pytest.mark.parametrize("path", LESSONS)
def test_every_exercise_of_the_course_is_proved(path):
    """Solutions pass, starters fail, exactly one choice is the (checked) expected output."""
    assert check_text(path.read_text(encoding="utf-8")) == []


def test_proof_passes_for_a_sound_exercise():
    assert check_text(GOOD) == []


def test_proof_reports_a_starter_that_already_passes_at_its_line():
    text = GOOD.replace("    return x\n```", "    return x + x\n```", 1)
    [(line, message)] = check_text(text)
    assert message == "exercise double: the starter code already passes every check"
    assert text.splitlines()[line - 1] == "```python exercise id=double"


def test_proof_reports_a_failing_solution_with_the_failed_check():
    text = GOOD.replace("return 2 * x", "return 3 * x")
    [(line, message)] = check_text(text)
    assert message.startswith("exercise double: the solution fails its checks:")
    assert "'double(2) is 4.': double(2) is 4." in message
    assert text.splitlines()[line - 1] == "```python solution"


def test_proof_reports_stray_check_fences(tmp_path):
    text = GOOD + "\n```python check\nassert True, 'x'\n```\n"
    problems = check_text(text)
    assert any("must belong to an exercise" in message for _, message in problems)


@pytest.mark.django_db
def test_sync_content_check_reports_broken_exercises_as_file_line_message(content_dir):
    write(content_dir / "01-signals" / "_section.yml", SECTION)
    body = GOOD.replace('assert double(0) == 0, "double(0) is 0."', "assert double(0) == 0")
    body = body.replace('choices: ["4", "22"]', 'choices: ["5", "22"]')
    write(content_dir / "01-signals" / "home.md", lesson(body=body))
    with pytest.raises(SyncFailed) as failed:
        sync(content_dir, "--check")
    lines = (lesson(body=body)).splitlines()
    errors = [line for line in failed.value.err.splitlines() if "home.md:" in line]
    assert len(errors) == 2, failed.value.err
    for error in errors:
        number = int(error.split("home.md:")[1].split(":")[0])
        if "needs a message" in error:
            assert lines[number - 1] == "assert double(0) == 0"
        else:
            assert "exactly one choice must equal the expected output" in error
            assert lines[number - 1] == "```predict"


@pytest.mark.django_db
def test_sync_content_check_passes_a_sound_exercise(content_dir):
    write(content_dir / "01-signals" / "_section.yml", SECTION)
    write(content_dir / "01-signals" / "home.md", lesson(body=GOOD))
    out, err = sync(content_dir, "--check")
    assert "1 created" in out and "error" not in err
