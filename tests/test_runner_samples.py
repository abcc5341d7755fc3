"""Finding runnable samples in lesson Markdown and checking their expected output."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tutorials.runner.samples import check_samples, extract_samples, normalize
from tutorials.runner.testing import isolate

ROOT = Path(__file__).resolve().parent.parent
LESSON = textwrap.dedent(
    """\
    ---
    title: Saving
    ---
    Some text.

    ```python
    print("not runnable")
    ```

    ```python run
    print("Saved Article 1")
    ```

    ```output
    Saved Article 1
    ```

    ```python run
    print("no expected output")
    ```

    A paragraph between.

    ```output
    not attached: text stands between
    ```

    - In a list:

        ~~~python run
        print("indented")
        ~~~
        ~~~output
        indented
        ~~~

    ````markdown
    ```python run
    print("an example of the syntax, not a sample")
    ```
    ````
    """
)


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path_factory):
    isolate(settings, tmp_path_factory.getbasetemp())


def test_extract_samples_finds_runnable_blocks_with_their_expected_output_and_line():
    samples = extract_samples(LESSON)
    assert [(s.index, s.line) for s in samples] == [(0, 10), (1, 18), (2, 30)]
    assert samples[0].code == 'print("Saved Article 1")\n'
    assert samples[0].expected_output == "Saved Article 1\n"
    assert samples[1].expected_output is None
    assert samples[2].code == 'print("indented")\n'
    assert samples[2].expected_output == "indented\n"
    assert samples[2].label == "block 3 (line 30)"


def test_extract_samples_ignores_other_fences():
    assert extract_samples("```python\nprint(1)\n```\n\n```output\n1\n```\n") == []
    assert extract_samples("```pycon run\n>>> 1\n```\n") == []


def test_normalize_strips_trailing_whitespace_and_trailing_blank_lines():
    assert normalize("a  \nb\t\n\n\n") == "a\nb\n"
    assert normalize("\n\n") == ""
    assert normalize("  leading kept\n") == "  leading kept\n"


def test_check_samples_accepts_matching_output_modulo_trailing_whitespace():
    lesson = "```python run\nprint('a   ')\nprint()\n```\n\n```output\na\n\n\n```\n"
    assert check_samples(lesson) == []


def test_check_samples_reports_the_block_line_and_a_diff():
    lesson = textwrap.dedent(
        """\
        # Title

        ```python run
        print("fine")
        ```

        ```output
        fine
        ```

        ```python run
        print("Saved Article 1")
        print("Saved Article 2")
        ```

        ```output
        Saved Article 1
        Saved Article 3
        ```
        """
    )
    (error,) = check_samples(lesson)
    assert error.startswith("block 2 (line 11): the output differs from the expected output")
    assert "--- expected output" in error
    assert "+++ actual output" in error
    assert "-Saved Article 3" in error
    assert "+Saved Article 2" in error


def test_check_samples_reports_a_sample_stopped_by_a_limit(settings):
    settings.RUNNER_WALL_TIMEOUT = 1
    (error,) = check_samples("```python run\nimport time\ntime.sleep(60)\n```\n")
    assert error.startswith("block 1 (line 1): Stopped: the code ran longer than the time limit")


def test_check_samples_compares_stderr_tracebacks_too():
    lesson = textwrap.dedent(
        """\
        ```python run
        raise KeyError("id")
        ```

        ```output
        Traceback (most recent call last):
          File "sample.py", line 1, in <module>
            raise KeyError("id")
        KeyError: 'id'
        ```
        """
    )
    assert check_samples(lesson) == []


def test_cli_prints_the_output_as_the_comparison_sees_it(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import sys\nprint('out   ')\nprint('err', file=sys.stderr)\nprint()\n")
    command = [sys.executable, "-m", "tutorials.runner"]
    from_file = subprocess.run(
        [*command, str(sample)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert from_file.returncode == 0, from_file.stderr
    assert from_file.stdout == "out\nerr\n"
    from_stdin = subprocess.run(
        [*command, "--trace"],
        input="from django.dispatch import Signal\nSignal().send(sender=None)\nprint('x')\n",
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert from_stdin.stdout == "x\n"
    assert "<unnamed signal> from None" in from_stdin.stderr


def test_cli_exits_non_zero_when_the_run_is_stopped(tmp_path):
    sample = tmp_path / "loop.py"
    sample.write_text("print('looping')\nwhile True:\n    pass\n")
    done = subprocess.run(
        [sys.executable, "-m", "tutorials.runner", str(sample)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == "looping\n"
    assert "stopped:" in done.stderr
