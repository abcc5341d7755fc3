"""
Per-file checks of a lesson's fenced blocks.

``check_fences`` runs on every load (fast, no code is run): the place for rules
about how fences are written. ``check_lesson_samples`` runs the code and is only
used by ``sync_content --check`` (and CI). Both parse fences with
``tutorials.fences``, as the renderer does, and report ``file:line: message``.
"""

from __future__ import annotations

from ..fences import fences, is_output_info, is_runnable_info
from .errors import ContentError
from .validate import LessonFile


def _file_line(lesson: LessonFile, index: int) -> int:
    """The file line of the body's 0-based line ``index``."""
    return lesson.body_line + index


def check_fences(lesson: LessonFile) -> list[ContentError]:
    """Static rules for fenced blocks: an ``output`` block belongs to a sample."""
    lines = lesson.body.splitlines()
    found = list(fences(lines))
    errors = []
    for position, fence in enumerate(found):
        if not is_output_info(fence.info):
            continue
        before = found[position - 1] if position else None
        owned = (
            before is not None
            and is_runnable_info(before.info)
            and all(not line.strip() for line in lines[before.end : fence.start])
        )
        if not owned:
            errors.append(
                ContentError(
                    lesson.path,
                    "an ```output block must follow a ```python run sample "
                    "(blank lines only between)",
                    _file_line(lesson, fence.start),
                )
            )
    return errors


def check_lesson_samples(lesson: LessonFile) -> list[ContentError]:
    """Run a lesson's runnable samples and exercises; report each that is not as written."""
    from ..runner.samples import check_samples

    # Pad the body so the line numbers the runner reports are the file's own.
    text = "\n" * (lesson.body_line - 1) + lesson.body
    errors = [ContentError(lesson.path, message) for message in check_samples(text)]
    # Exercises: solutions pass, starters fail, predictions hold (tutorials/exercises/).
    from ..exercises.validate import check_text as check_exercises

    errors += [ContentError(lesson.path, msg, line) for line, msg in check_exercises(text)]
    return errors
