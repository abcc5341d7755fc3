"""
Revisions of lessons: every save keeps the lesson's editable state, with who or
what saved it, so no edit is ever lost (an admin's edit overwritten by
``sync_content --force`` included) and any revision can be restored.

``record()`` is called by the ``post_save`` receiver in tutorials/signals.py; the
admin, ``sync_content`` and restores say who is saving with ``attributed_to()``.
A save that changes nothing an author edits (the search index stamping a lesson,
say) records nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import difflib
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max

from .models import Section, Tutorial, TutorialRevision

SNAPSHOT_FIELDS = (
    "title", "slug", "order", "summary", "body_markdown", "references", "published", "publish_at",
)  # fmt: skip


@dataclass(frozen=True)
class Attribution:
    source: str = TutorialRevision.OTHER
    author: str = ""
    note: str = ""


_current: contextvars.ContextVar[Attribution | None] = contextvars.ContextVar(
    "revision_attribution", default=None
)


@contextlib.contextmanager
def attributed_to(source: str, author: str = "", note: str = "") -> Iterator[None]:
    """Saves inside this block are recorded as made by ``author`` through ``source``."""
    token = _current.set(Attribution(source, author, note))
    try:
        yield
    finally:
        _current.reset(token)


def snapshot(tutorial: Tutorial) -> dict:
    data = {name: getattr(tutorial, name) for name in SNAPSHOT_FIELDS}
    data["section_slug"] = tutorial.section.slug if tutorial.section_id else ""
    return data


def _same(revision: TutorialRevision | None, data: dict) -> bool:
    return revision is not None and all(
        getattr(revision, name) == value for name, value in data.items()
    )


def record(tutorial: Tutorial, attribution: Attribution | None = None) -> TutorialRevision | None:
    """Keep the lesson's current state as a new revision, unless it is the latest one."""
    attribution = attribution or _current.get() or Attribution()
    data = snapshot(tutorial)
    latest = tutorial.revisions.order_by("-number").first()
    if _same(latest, data):
        return None
    with transaction.atomic():
        number = (tutorial.revisions.aggregate(n=Max("number"))["n"] or 0) + 1
        return TutorialRevision.objects.create(
            tutorial=tutorial,
            number=number,
            source=attribution.source,
            author=attribution.author[:150],
            note=attribution.note[:300],
            **data,
        )


def keep_before_overwrite(tutorial: Tutorial, note: str) -> TutorialRevision | None:
    """
    Keep the lesson's stored state (an admin's edit about to be overwritten) as a
    revision, if no revision holds it yet. Returns the revision that holds it.
    """
    stored = Tutorial.objects.select_related("section").get(pk=tutorial.pk)
    data = snapshot(stored)
    for revision in stored.revisions.order_by("-number")[:20]:
        if _same(revision, data):
            return revision
    return record(stored, Attribution(TutorialRevision.ADMIN, "", note))


def restore(revision: TutorialRevision, author: str) -> Tutorial:
    """Save the lesson as it was in ``revision`` (a save: index, links and caches follow)."""
    tutorial = revision.tutorial
    for name in SNAPSHOT_FIELDS:
        setattr(tutorial, name, getattr(revision, name))
    section = Section.objects.filter(slug=revision.section_slug).first()
    if section is not None:
        tutorial.section = section
    with attributed_to(TutorialRevision.RESTORE, author, f"restored revision {revision.number}"):
        tutorial.save()
    return tutorial


@dataclass(frozen=True)
class FieldDiff:
    name: str
    old: str
    new: str
    lines: list[tuple[str, str]]  # (css class, line) of a unified diff; empty for short values


def diff(old: TutorialRevision, new: TutorialRevision) -> list[FieldDiff]:
    """What changed from ``old`` to ``new``, field by field."""
    changes = []
    for name in ("section_slug", *SNAPSHOT_FIELDS):
        before, after = getattr(old, name), getattr(new, name)
        if before == after:
            continue
        before_text, after_text = _text(before), _text(after)
        lines = []
        if "\n" in before_text or "\n" in after_text:
            unified = difflib.unified_diff(
                before_text.splitlines(),
                after_text.splitlines(),
                f"revision {old.number}",
                f"revision {new.number}",
                lineterm="",
            )
            lines = [(_line_class(line), line) for line in unified]
        changes.append(FieldDiff(name, before_text, after_text, lines))
    return changes


def _line_class(line: str) -> str:
    if line.startswith(("---", "+++", "@@")):
        return "diff-head"
    return {"+": "diff-add", "-": "diff-del"}.get(line[:1], "")


def _text(value) -> str:
    if isinstance(value, list):
        return "\n".join(f"{item.get('title', '')} <{item.get('url', '')}>" for item in value)
    return "" if value is None else str(value)
