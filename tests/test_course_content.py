"""
The shape of the real course in content/: every lesson asks the learner to do
something (a "write the code" exercise and a "predict the output" question, in
the syntax of CONTRACTS.md §3), predictions offer their true answer, and code
stays within the house line length.

Running the exercises (solution passes, starter fails) is the exercise
checker's job; the expected outputs are proved by test_content_samples.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.conf import settings

from tutorials.content import load
from tutorials.fences import Fence, fences
from tutorials.runner.samples import normalize

MAX_CODE_LINE = 88  # characters, as ruff's line-length for the site's own code
CODE_INFOS = {"run", "exercise", "check", "solution"}


def _lessons() -> list:
    content = load(Path(settings.CONTENT_DIR))
    return [pytest.param(lesson, id=lesson.slug) for lesson in content.lessons]


LESSONS = _lessons()


def _fences(lesson) -> list[Fence]:
    return list(fences(lesson.body.splitlines()))


def _words(fence: Fence) -> list[str]:
    return fence.info.split()


def test_the_course_has_three_sections_and_at_least_eighteen_lessons():
    content = load(Path(settings.CONTENT_DIR))
    assert content.errors == []
    assert len(content.sections) >= 3
    assert len(content.lessons) >= 18
    new_lessons = {
        "detecting-changes",
        "background-work",
        "rest-of-the-stack",
        "orm-edge-cases",
        "debugging-receivers",
    }
    assert new_lessons <= {lesson.slug for lesson in content.lessons}


def test_lesson_order_is_unique_within_each_section():
    content = load(Path(settings.CONTENT_DIR))
    seen: dict[tuple[str, int], str] = {}
    for lesson in content.lessons:
        key = (lesson.section_path, lesson.order)
        assert key not in seen, f"{lesson.path} and {seen[key]} share order {lesson.order}"
        seen[key] = lesson.path


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_lesson_has_a_write_the_code_exercise(lesson):
    found = _fences(lesson)
    ids = []
    for position, fence in enumerate(found):
        if _words(fence)[:2] != ["python", "exercise"]:
            continue
        options = dict(word.split("=", 1) for word in _words(fence)[2:] if "=" in word)
        assert options.get("id"), f"{lesson.path}: an exercise without id="
        ids.append(options["id"])
        following = [_words(f)[:2] for f in found[position + 1 : position + 3]]
        assert following == [["python", "check"], ["python", "solution"]], (
            f"{lesson.path}: exercise {options['id']} must be followed by check and solution"
        )
        check = found[position + 1].body
        assert "assert " in check, f"{lesson.path}: exercise {options['id']} checks nothing"
    assert ids, f"{lesson.path} has no 'python exercise' block"
    assert len(ids) == len(set(ids)), f"{lesson.path}: duplicate exercise ids {ids}"


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_lesson_has_a_prediction_whose_choices_hold_the_real_output(lesson):
    found = _fences(lesson)
    predictions = 0
    for position, fence in enumerate(found):
        if _words(fence)[:1] != ["predict"]:
            continue
        predictions += 1
        output, sample = found[position - 1], found[position - 2]
        assert _words(output)[:1] == ["output"], f"{lesson.path}: predict needs an output"
        assert _words(sample)[:2] == ["python", "run"], f"{lesson.path}: predict needs a sample"
        data = yaml.safe_load(fence.body) or {}
        expected = " ".join(normalize(output.body).split())
        matches = [c for c in data.get("choices", []) if " ".join(str(c).split()) == expected]
        assert len(matches) == 1, f"{lesson.path}: no single choice equals {expected!r}"
    assert predictions, f"{lesson.path} has no 'predict' block"


@pytest.mark.parametrize("lesson", LESSONS)
def test_code_lines_fit_the_house_line_length(lesson):
    lines = lesson.body.splitlines()
    too_long = [
        lesson.body_line + index
        for fence in fences(lines)
        if _words(fence)[:1] == ["python"] and set(_words(fence)[1:2]) <= CODE_INFOS
        for index in range(fence.start + 1, fence.end - 1)
        if len(lines[index]) > MAX_CODE_LINE
    ]
    assert not too_long, f"{lesson.path}: code lines longer than {MAX_CODE_LINE}: {too_long}"
