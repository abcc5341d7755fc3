"""
The proof of a lesson's exercises, for ``sync_content --check`` and the test suite.

For each "write the code" exercise: the solution passes every check and the
starter code fails at least one. For each prediction: exactly one choice is the
expected output (checked in ``extract.py``); that the expected output is what the
sample really prints is proved by the samples check (``runner/samples.py``), since a
prediction is a runnable sample. Every problem is ``(line, message)`` with the
line numbered as in the file.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ..fences import fences, is_secret_info
from .extract import ExerciseSpec, extract

# (code, checks) -> RunResult; the default runs each in a fresh sandbox.
Runner = Callable[[str, list[dict]], object]


def _default_runner(code: str, checks: list[dict]):
    from ..runner.process import run_cold

    return run_cold(code, checks=checks)


def _stray_fences(text: str, specs: list[ExerciseSpec]) -> list[tuple[int, str]]:
    """Check, solution, hint and predict fences that belong to no exercise."""
    lines = text.splitlines()
    problems = []
    for fence in fences(lines):
        word = fence.info.split()[0] if fence.info.split() else ""
        if is_secret_info(fence.info) or word in ("hint", "predict"):
            problems.append((fence.start, fence.info.strip()))
    claimed = set()
    from ..fences import exercise_blocks, runnable_blocks

    for block in exercise_blocks(lines):
        claimed.update(range(block.start, block.end))
    for sample in runnable_blocks(lines):
        if sample.predict_start is not None:
            claimed.add(sample.predict_start)
    return [
        (line, f"a ```{info} block must belong to an exercise (see docs/exercises.md)")
        for line, info in problems
        if line not in claimed
    ]


def _describe_failures(result) -> str:
    if getattr(result, "error", None):
        return f"the runner failed: {result.error}"
    failed = [c for c in (result.checks or []) if not c.passed]
    if not result.checks:
        return "no check result (the code raised or was stopped:\n" + result.text[-600:] + ")"
    return "; ".join(f"{c.name!r}: {c.message}" for c in failed)


def check_text(text: str, runner: Runner | None = None, workers: int = 2) -> list[tuple[int, str]]:
    """Every problem with the exercises of one lesson's Markdown, as (1-based line, message)."""
    specs = extract(text)
    problems = [(line, message) for spec in specs for line, message in spec.problems]
    problems += _stray_fences(text, specs)
    runnable = [s for s in specs if s.kind == "code" and not s.problems and s.checks]
    jobs = [(s.solution, s.checks) for s in runnable] + [(s.starter, s.checks) for s in runnable]
    run = runner or _default_runner
    with ThreadPoolExecutor(max_workers=max(1, workers)) as executor:
        results = list(executor.map(lambda job: run(*job), jobs))
    for index, spec in enumerate(runnable):
        solved, started = results[index], results[len(runnable) + index]
        if not (solved.checks and all(check.passed for check in solved.checks)):
            problems.append(
                (spec.solution_line, f"exercise {spec.key}: the solution fails its checks: "
                                     f"{_describe_failures(solved)}")
            )  # fmt: skip
        if started.checks and all(check.passed for check in started.checks):
            problems.append(
                (spec.line, f"exercise {spec.key}: the starter code already passes every check")
            )
    return sorted((line + 1, message) for line, message in problems)
