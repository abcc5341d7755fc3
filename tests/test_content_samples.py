"""
Every runnable sample of the course, run through the real runner: its output
must be its expected output (the lesson shows it to readers without JavaScript).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tutorials.runner.process import run_cold
from tutorials.runner.samples import extract_samples, sample_error
from tutorials.runner.testing import isolate

CONTENT = Path(__file__).resolve().parent.parent / "content"


def _cases() -> list:
    cases = []
    for path in sorted(CONTENT.rglob("*.md")):
        for sample in extract_samples(path.read_text(encoding="utf-8")):
            label = f"{path.relative_to(CONTENT)}:{sample.number}"
            cases.append(pytest.param(path, sample, id=label))
    return cases


CASES = _cases()


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path_factory):
    isolate(settings, tmp_path_factory.getbasetemp())


def test_the_course_has_runnable_samples():
    assert CASES, f"no runnable sample in any Markdown file under {CONTENT}"


@pytest.mark.parametrize(("path", "sample"), CASES or [pytest.param(None, None, id="no-samples")])
def test_sample_prints_its_expected_output(path, sample):
    assert sample is not None, f"no runnable sample under {CONTENT}"
    error = sample_error(sample, run_cold(sample.code))
    assert error is None, f"{path.relative_to(CONTENT.parent)} {error}"
