"""
A lesson's exercises, from its Markdown: what is stored, rendered and proved.

``fences.py`` finds the blocks; this module splits a check block into its checks
(each top-level ``assert`` is one, named by its message, with the setup statements
before it) and reads prediction blocks. Problems come back with their line, so the
content check can say ``file:line: message``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from ..fences import exercise_blocks, normalize_output, parse_prediction, runnable_blocks

HEADING_RE = re.compile(r"^#{2,4}\s+(?:Exercise:\s*)?(?P<title>.+?)\s*#*\s*$")


class CheckSyntaxError(ValueError):
    """A check block that cannot be split into checks; ``line`` is 1-based in the block."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class ExerciseSpec:
    """One exercise of a lesson, as found in its Markdown (0-based lines)."""

    key: str
    kind: str  # "code" or "predict"
    line: int
    title: str = ""
    starter: str = ""
    check_source: str = ""
    checks: list[dict] = field(default_factory=list)
    solution: str = ""
    hint: str | None = None
    code: str = ""  # a prediction's sample
    expected_output: str = ""
    question: str = ""
    choices: list[str] = field(default_factory=list)
    solution_line: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)


def split_checks(source: str) -> list[dict]:
    """``[{"name", "source"}]``: each top-level assert with the setup before it."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        message = f"the check block has a syntax error: {exc.msg}"
        raise CheckSyntaxError(message, exc.lineno or 1) from None
    lines = source.splitlines()
    checks: list[dict] = []
    names: set[str] = set()
    first = None  # line (1-based) where the current check's setup starts
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        first = first or start
        if not isinstance(node, ast.Assert):
            continue
        message = node.msg
        if not (isinstance(message, ast.Constant) and isinstance(message.value, str)):
            raise CheckSyntaxError(
                'each assert needs a message in quotes: assert ..., "What must hold."',
                node.lineno,
            )
        name = message.value.strip()
        if not name:
            raise CheckSyntaxError("an assert's message must not be empty", node.lineno)
        if name in names:
            raise CheckSyntaxError(f"two checks have the message {name!r}", node.lineno)
        names.add(name)
        checks.append({"name": name, "source": "\n".join(lines[first - 1 : node.end_lineno])})
        first = None
    if not checks:
        raise CheckSyntaxError("the check block has no assert: each assert is one check")
    if first is not None:
        raise CheckSyntaxError("statements after the last assert would never be checked", first)
    return checks


def _title_before(lines: list[str], start: int) -> str:
    for line in reversed(lines[:start]):
        match = HEADING_RE.match(line)
        if match:
            return match["title"][:200]
    return ""


def extract(text: str) -> list[ExerciseSpec]:
    """Every exercise and prediction of a lesson's Markdown, in page order."""
    lines = text.splitlines()
    specs: list[ExerciseSpec] = []
    for block in exercise_blocks(lines):
        spec = ExerciseSpec(
            key=block.id or "",
            kind="code",
            line=block.start,
            title=_title_before(lines, block.start),
            starter=block.starter,
            check_source=block.check or "",
            solution=block.solution or "",
            hint=block.hint,
            solution_line=block.solution_start or block.start,
            problems=list(block.problems),
        )
        if block.check is not None:
            try:
                spec.checks = split_checks(block.check)
            except CheckSyntaxError as error:
                spec.problems.append((block.check_start + error.line, str(error)))
        specs.append(spec)
    number = 0
    keys = {spec.key for spec in specs}
    for sample in runnable_blocks(lines):
        if sample.predict is None:
            continue
        number += 1
        spec = ExerciseSpec(key="", kind="predict", line=sample.predict_start, code=sample.code)
        spec.title = _title_before(lines, sample.start)
        spec.expected_output = sample.expected_output or ""
        try:
            prediction = parse_prediction(sample.predict, number)
        except ValueError as error:
            spec.problems.append((sample.predict_start, str(error)))
            specs.append(spec)
            continue
        spec.key, spec.question, spec.choices = (
            prediction.id,
            prediction.question,
            list(prediction.choices),
        )
        if spec.key in keys:
            spec.problems.append((sample.predict_start, f"duplicate exercise id {spec.key!r}"))
        keys.add(spec.key)
        if spec.choices:
            right = [
                c
                for c in spec.choices
                if normalize_output(c) == normalize_output(spec.expected_output)
            ]
            if len(right) != 1:
                spec.problems.append(
                    (sample.predict_start,
                     f"prediction {spec.key}: exactly one choice must equal the expected output "
                     f"({len(right)} do)")
                )  # fmt: skip
        specs.append(spec)
    specs.sort(key=lambda spec: spec.line)
    return specs


def valid(specs: list[ExerciseSpec]) -> list[ExerciseSpec]:
    """The exercises that can be stored and checked (no problem found)."""
    return [spec for spec in specs if not spec.problems and spec.key]
