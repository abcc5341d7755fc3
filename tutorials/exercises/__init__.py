"""
Exercises in lessons: "write the code" (checked in the sandbox) and "predict the output".

    payload = prepare({"code": code, "exercise": "model-save-signals/invoice-once"})
    result = pool.run(payload["code"], checks=payload.get("checks"))
    record(payload, result)

``prepare`` looks the exercise up by its global id (``<lesson-slug>/<id>``) in the
rows stored when the lesson was saved (``store.py``) and adds its hidden checks to
the run's payload; ``record`` counts the attempt and, if it passed, the pass.
The syntax is in docs/exercises.md; ``fences.py`` parses it, ``extract.py`` reads
it, ``validate.py`` proves it for ``sync_content --check``.
"""

from __future__ import annotations

import re
from typing import Any

GLOBAL_ID_RE = re.compile(r"^(?P<lesson>[-a-zA-Z0-9_]{1,100})/(?P<key>[a-z0-9-]{1,100})$")
ANSWER_MAX_CHARS = 2000


class ExerciseError(Exception):
    """A run request naming an exercise that is malformed (400) or unknown (404)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def lookup(global_id: object):
    """The published exercise with this ``<lesson-slug>/<id>``, or ExerciseError."""
    from .models import Exercise

    match = GLOBAL_ID_RE.match(global_id) if isinstance(global_id, str) else None
    if match is None:
        raise ExerciseError('"exercise" must be "<lesson>/<exercise-id>".', 400)
    exercise = (
        Exercise.objects.filter(
            tutorial__slug=match["lesson"],
            key=match["key"],
            tutorial__published=True,
            tutorial__section__isnull=False,
        )
        .select_related("tutorial")
        .order_by("tutorial__section__order", "tutorial__section__title")
        .first()
    )
    if exercise is None:
        raise ExerciseError("No such exercise.", 404)
    return exercise


def prepare(payload: dict[str, Any]) -> dict[str, Any]:
    """
    Complete a run request that names an exercise: add its ``checks`` (looked up
    here, never taken from the request). Raises ExerciseError (400/404).
    """
    exercise = lookup(payload.get("exercise"))
    answer = payload.get("answer")
    if answer is not None and (not isinstance(answer, str) or len(answer) > ANSWER_MAX_CHARS):
        raise ExerciseError(f'"answer" must be text of at most {ANSWER_MAX_CHARS} characters.', 400)
    prepared = {key: value for key, value in payload.items() if key != "checks"}
    if exercise.kind == exercise.CODE:
        prepared["checks"] = [dict(check) for check in exercise.checks]
    return prepared


def passed(exercise, payload: dict[str, Any], result) -> bool:
    """Whether a finished run solved the exercise."""
    from ..fences import normalize_output

    if exercise.kind == exercise.PREDICT:
        answer = payload.get("answer")
        return isinstance(answer, str) and normalize_output(answer) == normalize_output(
            exercise.expected_output
        )
    checks = getattr(result, "checks", None)
    return bool(checks) and all(check.passed for check in checks)


def record(payload: dict[str, Any], result) -> None:
    """Count one attempt at the payload's exercise, and a pass if ``result`` solved it."""
    from django.db.models import F

    from .models import Exercise

    try:
        exercise = lookup(payload.get("exercise"))
    except ExerciseError:
        return
    Exercise.objects.filter(pk=exercise.pk).update(
        attempts=F("attempts") + 1,
        passes=F("passes") + int(passed(exercise, payload, result)),
    )
