"""
Fenced code blocks in lesson Markdown, and the runnable samples among them.

One parser for the sample syntax, shared by the renderer (``markdown.py``, which
turns a sample into its HTML) and the runner (``runner/samples.py``, which runs it
and checks its expected output), so the page and the check can never disagree on
which block is a sample or what its expected output is::

    ```python run
    print("Saved Article 1")
    ```

    ```output
    Saved Article 1
    ```

Exercises (``python exercise`` + ``python check`` + ``python solution`` + an
optional ``hint``) and prediction questions (a ``predict`` block after a sample's
``output``) are parsed here too, for the same reason: the page, the content check
and the server's check lookup must agree on them. docs/exercises.md has the syntax.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import yaml

FENCE_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n]*?)[ \t]*$")


@dataclass(frozen=True)
class Fence:
    info: str
    body: str
    start: int  # 0-based index of the opening line
    end: int  # 0-based index of the line after the closing fence


@dataclass(frozen=True)
class RunnableBlock:
    """A ``python run`` block and the ``output`` block that follows it, if any."""

    code: str
    expected_output: str | None
    start: int  # 0-based index of the opening ``python run`` line
    end: int  # 0-based index of the line after the last line of the sample
    # The YAML of a ``predict`` block right after the output, and its opening line.
    predict: str | None = None
    predict_start: int | None = None


def is_runnable_info(info: str) -> bool:
    """Whether a fence info string marks a runnable sample (``python run``)."""
    return info.split()[:2] == ["python", "run"]


def is_output_info(info: str) -> bool:
    words = info.split()
    return bool(words) and words[0] == "output"


def fences(lines: list[str]) -> Iterator[Fence]:
    """Every fenced block, outermost only, with its body un-indented."""
    i = 0
    while i < len(lines):
        match = FENCE_RE.match(lines[i])
        if not match or (match["fence"][0] == "`" and "`" in match["info"]):
            i += 1
            continue
        fence, indent = match["fence"], len(match["indent"])
        body = []
        j = i + 1
        while j < len(lines):
            closing = FENCE_RE.match(lines[j])
            if (
                closing
                and not closing["info"]
                and closing["fence"][0] == fence[0]
                and len(closing["fence"]) >= len(fence)
            ):
                break
            line = lines[j]
            strip = min(indent, len(line) - len(line.lstrip(" \t")))
            body.append(line[strip:])
            j += 1
        text = "\n".join(body)
        yield Fence(match["info"], text + "\n" if body else "", i, j + 1)
        i = j + 1


def runnable_blocks(lines: list[str]) -> list[RunnableBlock]:
    """The runnable samples in ``lines``, in order, each with its expected output."""
    found = list(fences(lines))
    blocks = []
    for position, fence in enumerate(found):
        if not is_runnable_info(fence.info):
            continue
        expected, end = None, fence.end
        predict = predict_start = None
        if position + 1 < len(found):
            following = found[position + 1]
            between = lines[fence.end : following.start]
            if is_output_info(following.info) and all(not line.strip() for line in between):
                expected, end = following.body, following.end
                after = found[position + 2] if position + 2 < len(found) else None
                if (
                    after
                    and _info_word(after.info) == "predict"
                    and _adjacent(lines, following, after)
                ):
                    predict, predict_start, end = after.body, after.start, after.end
        blocks.append(RunnableBlock(fence.body, expected, fence.start, end, predict, predict_start))
    return blocks


# Exercises and predictions ------------------------------------------------------

EXERCISE_ID_RE = re.compile(r"^[a-z0-9-]+$")
DEFAULT_QUESTION = "What will this print?"
# Fences that hold what the page must never show: dropped wherever they stand.
SECRET_INFOS = (("python", "check"), ("python", "solution"))


def _info_word(info: str) -> str:
    words = info.split()
    return words[0] if words else ""


def _info_pair(info: str) -> tuple[str, ...]:
    return tuple(info.split()[:2])


def _adjacent(lines: list[str], first: Fence, second: Fence) -> bool:
    """Whether only blank lines separate two fences."""
    return all(not line.strip() for line in lines[first.end : second.start])


def is_exercise_info(info: str) -> bool:
    return _info_pair(info) == ("python", "exercise")


def is_secret_info(info: str) -> bool:
    """A ``python check`` or ``python solution`` fence: never rendered."""
    return _info_pair(info) in SECRET_INFOS


@dataclass(frozen=True)
class ExerciseBlock:
    """A ``python exercise`` fence and the check, solution and hint fences after it.

    Parsing never fails: what is wrong is listed in ``problems`` as (0-based line,
    message), so the renderer can show the readable parts of a broken exercise and
    the content check can report it as ``file:line: message``.
    """

    id: str | None
    starter: str
    check: str | None
    solution: str | None
    hint: str | None
    start: int  # 0-based index of the opening ``python exercise`` line
    end: int  # 0-based index of the line after the last fence of the exercise
    check_start: int | None = None  # 0-based opening line of the check fence
    solution_start: int | None = None
    problems: tuple[tuple[int, str], ...] = field(default=())


def _exercise_id(info: str) -> tuple[str | None, str | None]:
    """The ``id=`` of an exercise fence's info string, or a problem."""
    ids = [word[3:] for word in info.split()[2:] if word.startswith("id=")]
    if not ids:
        return None, "an exercise needs an id: ```python exercise id=my-exercise"
    if not EXERCISE_ID_RE.match(ids[0]):
        return None, f"exercise id {ids[0]!r} may only use a-z, 0-9 and '-'"
    return ids[0], None


def exercise_blocks(lines: list[str]) -> list[ExerciseBlock]:
    """The exercises in ``lines``, in order, each with its problems (if any)."""
    found = list(fences(lines))
    blocks: list[ExerciseBlock] = []
    seen: set[str] = set()
    position = 0
    while position < len(found):
        fence = found[position]
        position += 1
        if not is_exercise_info(fence.info):
            continue
        problems: list[tuple[int, str]] = []
        ident, problem = _exercise_id(fence.info)
        if problem:
            problems.append((fence.start, problem))
        elif ident in seen:
            problems.append((fence.start, f"duplicate exercise id {ident!r} in this lesson"))
        seen.add(ident or "")
        parts: dict[str, Fence] = {}
        previous = fence
        for name, wanted in (("check", "check"), ("solution", "solution"), ("hint", None)):
            if position >= len(found) or not _adjacent(lines, previous, found[position]):
                break
            candidate = found[position]
            matches = (
                _info_pair(candidate.info) == ("python", wanted)
                if wanted
                else _info_word(candidate.info) == "hint"
            )
            if not matches:
                break
            parts[name] = previous = candidate
            position += 1
        for name in ("check", "solution"):
            if name not in parts:
                problems.append(
                    (previous.end - 1 if previous is not fence else fence.start,
                     f"exercise {ident or '(no id)'}: a ```python {name} block must follow "
                     + ("the exercise" if name == "check" else "the check"))
                )  # fmt: skip
                break
        check, solution = parts.get("check"), parts.get("solution")
        blocks.append(
            ExerciseBlock(
                id=ident,
                starter=fence.body,
                check=check.body if check else None,
                solution=solution.body if solution else None,
                hint=parts["hint"].body if "hint" in parts else None,
                start=fence.start,
                end=previous.end,
                check_start=check.start if check else None,
                solution_start=solution.start if solution else None,
                problems=tuple(problems),
            )
        )
    return blocks


@dataclass(frozen=True)
class Prediction:
    """A ``predict`` block: the question and the choices (empty: a typed answer)."""

    id: str
    question: str
    choices: tuple[str, ...]


def parse_prediction(text: str, number: int) -> Prediction:
    """Read a predict block's YAML; ``number`` (1-based) names it ``predict-N``
    unless it has its own ``id``. Raises ValueError with a message for the author."""
    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise ValueError(f"the predict block is not valid YAML: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError("the predict block must be YAML keys: question, choices")
    unknown = set(data) - {"question", "choices", "id"}
    if unknown:
        raise ValueError(f"unknown key(s) in the predict block: {', '.join(sorted(unknown))}")
    question = data.get("question", DEFAULT_QUESTION)
    if not isinstance(question, str) or not question.strip():
        raise ValueError("'question' must be text")
    choices = data.get("choices", [])
    if not isinstance(choices, list) or not all(isinstance(c, str | int | float) for c in choices):
        raise ValueError("'choices' must be a list of quoted strings")
    if "choices" in data and len(choices) < 2:
        raise ValueError("'choices' needs at least two choices")
    ident = str(data.get("id", f"predict-{number}"))
    if not EXERCISE_ID_RE.match(ident):
        raise ValueError(f"prediction id {ident!r} may only use a-z, 0-9 and '-'")
    return Prediction(ident, question.strip(), tuple(str(c) for c in choices))


def normalize_output(text: str) -> str:
    """Output as the expected-output check compares it (see runner/samples.py)."""
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)
