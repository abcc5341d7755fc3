"""
Runnable samples in lesson Markdown, and checking them against their expected output.

An author marks a fenced block as runnable with the info string ``python run``
and may follow it (after blank lines only) with an ``output`` block::

    ```python run
    print("Saved Article 1")
    ```

    ```output
    Saved Article 1
    ```

The expected output is compared with what the code printed to stdout and
stderr, in the order written, after ``normalize()``: trailing whitespace is
stripped from every line and trailing blank lines are ignored.
"""

import difflib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..fences import runnable_blocks
from .result import STOP_MESSAGES, RunResult


@dataclass(frozen=True)
class Sample:
    """One runnable block: its code, its expected output (or None) and where it is."""

    code: str
    expected_output: str | None
    line: int  # 1-based line of the opening ``python run`` fence in the file
    index: int  # 0-based position among the runnable samples of the file

    @property
    def number(self) -> int:
        """1-based position, as shown to authors ("block 2")."""
        return self.index + 1

    @property
    def label(self) -> str:
        return f"block {self.number} (line {self.line})"


def extract_samples(markdown_text: str) -> list[Sample]:
    """
    Return the runnable samples of a lesson, in order.

    Pass the whole file (front matter included) so that line numbers match
    what an author sees in an editor.
    """
    return [
        Sample(block.code, block.expected_output, block.start + 1, index)
        for index, block in enumerate(runnable_blocks(markdown_text.splitlines()))
    ]


def normalize(text: str) -> str:
    """Output as compared: no trailing whitespace on lines, no trailing blank lines."""
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""


def diff(expected: str, actual: str) -> str:
    """A unified diff of two normalized outputs."""
    return "".join(
        difflib.unified_diff(
            normalize(expected).splitlines(keepends=True),
            normalize(actual).splitlines(keepends=True),
            fromfile="expected output",
            tofile="actual output",
        )
    )


def sample_error(sample: Sample, result: RunResult) -> str | None:
    """The problem with one sample's run, or None when it is as expected."""
    if result.error:
        return f"{sample.label}: the runner failed: {result.error}"
    if sample.expected_output is None:
        if result.stopped:
            return f"{sample.label}: {STOP_MESSAGES[result.stopped]}"
        return None
    if normalize(result.text) == normalize(sample.expected_output):
        return None
    message = f"{sample.label}: the output differs from the expected output"
    if result.stopped:
        message += f" ({STOP_MESSAGES[result.stopped]})"
    return f"{message}\n{diff(sample.expected_output, result.text)}"


def run_samples(
    samples: list[Sample], runner: Callable[[str], RunResult] | None = None, workers: int = 2
) -> list[RunResult]:
    """Run samples, ``workers`` at a time, each in a fresh sandbox."""
    if runner is None:
        from .process import run_cold as runner
    if not samples:
        return []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as executor:
        return list(executor.map(runner, [sample.code for sample in samples]))


def check_samples(markdown_text: str, workers: int = 2) -> list[str]:
    """
    Run every runnable sample of a lesson through the runner and return one
    human-readable error per sample whose output differs from its expected
    output (naming the block and its line, with a unified diff), or that was
    stopped by a limit. An empty list means every sample is as documented.
    """
    samples = extract_samples(markdown_text)
    results = run_samples(samples, workers=workers)
    errors = []
    for sample, result in zip(samples, results, strict=True):
        error = sample_error(sample, result)
        if error:
            errors.append(error)
    return errors
