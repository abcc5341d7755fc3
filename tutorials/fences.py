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
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

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
        if position + 1 < len(found):
            following = found[position + 1]
            between = lines[fence.end : following.start]
            if is_output_info(following.info) and all(not line.strip() for line in between):
                expected, end = following.body, following.end
        blocks.append(RunnableBlock(fence.body, expected, fence.start, end))
    return blocks
