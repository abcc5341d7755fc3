"""
Keep a lesson's Exercise rows in line with its Markdown, when the lesson is saved.

Called by the Tutorial ``post_save`` receiver (``tutorials/signals.py``), so lessons
saved by ``sync_content`` and in the admin alike have their checks stored. Rows are
matched by id, so an edited exercise keeps its counters; a removed one is deleted.
Exercises with problems are not stored (the content check reports them).
"""

from __future__ import annotations

from .extract import extract, valid
from .models import Exercise


def store_exercises(tutorial) -> int:
    """Write ``tutorial``'s exercises; return how many it has."""
    specs = valid(extract(tutorial.body_markdown))
    existing = {row.key: row for row in Exercise.objects.filter(tutorial=tutorial)}
    for position, spec in enumerate(specs):
        row = existing.pop(spec.key, None) or Exercise(tutorial=tutorial, key=spec.key)
        row.kind = spec.kind
        row.position = position
        row.title = spec.title
        row.starter = spec.starter if spec.kind == Exercise.CODE else spec.code
        row.check_source = spec.check_source
        row.checks = spec.checks
        row.solution = spec.solution
        row.expected_output = spec.expected_output
        row.choices = spec.choices
        row.save()
    if existing:
        Exercise.objects.filter(pk__in=[row.pk for row in existing.values()]).delete()
    return len(specs)
