"""
Writing a loaded ``content/`` into the database, all or nothing.

Rows are matched to files by path first, then by slug (a lesson created in admin,
a renamed file, a file moved to another folder), so a renamed slug or a move
updates the same row: its old address becomes a redirect and the lessons linking
to it follow (``Tutorial.save()`` and tutorials/signals.py). Every write of one run
happens in one transaction; slugs that change hands (a swap) first move to a
temporary value so no unique constraint sees two rows at once.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import django
from django.db import transaction
from django.utils import timezone

from .. import githistory, markdown, pagecache, revisions
from ..models import Section, Tutorial, TutorialRevision
from . import links
from .errors import ContentError
from .load import Content, load
from .validate import SECTION_FILE, LessonFile, SectionFile


@dataclass
class SyncReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    unpublished: int = 0
    conflicts: list[str] = field(default_factory=list)
    errors: list[ContentError] = field(default_factory=list)
    aborted: bool = False  # a fatal error: nothing was written
    kept: list[str] = field(default_factory=list)  # admin edits kept as revisions by --force

    def summary(self) -> str:
        if self.aborted:
            return f"nothing synced: content/ could not be read ({len(self.errors)} errors)"
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.unpublished} unpublished, {len(self.conflicts)} conflicts, "
            f"{len(self.errors)} errors"
        )


@dataclass
class _LessonPlan:
    lesson: LessonFile
    row: Tutorial
    section: Section
    fingerprint: str
    created: bool
    changed_at: datetime.datetime | None = None  # the file's last commit (githistory)


def sync(
    content_dir: Path,
    *,
    force: bool = False,
    check_samples: Callable[[LessonFile], list[ContentError]] | None = None,
    dry_run: bool = False,
) -> SyncReport:
    """Bring the database in line with ``content_dir``.

    Idempotent: a file whose hash (and the URLs it links to) matches what was last
    synced is left alone. A lesson edited in admin since the last sync is not
    overwritten when its file changed too: that is reported as a conflict unless
    ``force``. Lessons whose file is gone are unpublished, never deleted. A fatal
    load error writes nothing (``SyncReport.aborted``). With ``dry_run`` everything
    is validated and counted, nothing is written.
    """
    content = load(content_dir)
    report = SyncReport(errors=list(content.errors))
    if content.fatal:
        report.aborted = True
        return report
    if check_samples:
        for lesson in content.lessons:
            report.errors.extend(check_samples(lesson))

    sections = _plan_sections(content, report)
    if report.aborted:
        return report
    changed_at = {} if dry_run else githistory.last_changed(Path(content_dir))
    redated: dict[int, datetime.datetime] = {}
    plans = _plan_lessons(content, sections, report, force, changed_at, redated)
    gone = list(
        Tutorial.objects.exclude(source_path="")
        .exclude(source_path__in=content.seen_paths)
        .filter(published=True)
        .exclude(pk__in=[plan.row.pk for plan in plans if plan.row.pk])
    )
    report.unpublished = len(gone)
    changed = plans or gone or redated or any(s._sync_changed for s in sections.values())
    if dry_run or not changed:
        return report
    with transaction.atomic():
        _write_sections(sections)
        _write_lessons(plans, content, report)
        for pk, when in redated.items():
            # Same text, newer history (a fresh clone, a commit): only the date moves.
            Tutorial.objects.filter(pk=pk).update(source_updated_at=when)
        if redated:
            transaction.on_commit(pagecache.bump_content_version, robust=True)
        for tutorial in gone:
            tutorial.published = False
            tutorial.source_hash = ""
            tutorial.save()
    return report


def _plan_sections(content: Content, report: SyncReport) -> dict[str, Section]:
    """The row for each section file (existing or new), its fields set, not saved."""
    rows = list(Section.objects.all())
    by_path = {row.source_path: row for row in rows if row.source_path}
    by_slug = {row.slug: row for row in rows}
    claimed: set[int] = set()
    planned: dict[str, Section] = {}
    for section_file in content.sections:
        row = by_path.get(section_file.path)
        if row is None:
            candidate = by_slug.get(section_file.slug)
            if candidate is not None and candidate.source_path not in _section_paths(content):
                row = candidate
        if row is None or row.pk in claimed:
            row = Section()
        claimed.add(row.pk)
        _set_section_fields(row, section_file)
        planned[section_file.path] = row
    # A slug may only be taken by a row not backed by a section file here.
    final = {row.slug: row for row in planned.values()}
    for row in rows:
        if row.pk not in claimed and row.slug in final:
            path = next(p for p, r in planned.items() if r is final[row.slug])
            report.errors.append(
                ContentError(
                    f"{path}/{SECTION_FILE}",
                    f"slug {row.slug!r} is taken by section {row.title!r}, which has no "
                    "section file here: rename or delete it in admin",
                )
            )
            report.aborted = True
    return planned


def _section_paths(content: Content) -> set[str]:
    return {section.path for section in content.sections}


def _set_section_fields(row: Section, section_file: SectionFile) -> None:
    row._sync_changed = (
        row.pk is None
        or row.source_hash != section_file.hash
        or row.source_path != section_file.path
        or row.slug != section_file.slug
    )
    row.title = section_file.title
    row.slug = section_file.slug
    row.order = section_file.order
    row.description = section_file.description
    row.source_path = section_file.path
    row.source_hash = section_file.hash


def _fingerprint(lesson: LessonFile, rendered: markdown.Rendered, known: dict) -> str:
    """The file's hash plus everything outside it that changes its rendered HTML."""
    linked = sorted(known[path].url for path in links.linked_paths(lesson, rendered))
    extra = "\n".join([lesson.hash, django.get_version(), *linked])
    return hashlib.sha256(extra.encode()).hexdigest()


def _plan_lessons(
    content: Content,
    sections: dict[str, Section],
    report: SyncReport,
    force: bool,
    changed_at: dict[str, datetime.datetime],
    redated: dict[int, datetime.datetime],
) -> list[_LessonPlan]:
    """What each loaded lesson file does to which row; counts into ``report``."""
    rows = list(Tutorial.objects.all())
    by_path = {row.source_path: row for row in rows if row.source_path}
    section_files = {s.path: s for s in content.sections}
    known = links.targets(section_files, content.lessons)
    claimed: set[int] = set()
    plans = []
    for lesson in content.lessons:
        section = sections[lesson.section_path]
        row = by_path.get(lesson.path) or _adopt(lesson, section, rows, claimed, content)
        created = row is None
        rendered = content.rendered[lesson.path]
        fingerprint = _fingerprint(lesson, rendered, known)
        if row is not None:
            claimed.add(row.pk)
            unchanged = (
                row.source_hash == fingerprint
                and row.source_path == lesson.path
                and row.section_id == section.pk
            )
            if unchanged:
                report.unchanged += 1
                when = changed_at.get(lesson.path)
                if when and row.source_updated_at != when:
                    redated[row.pk] = when
                continue
            if row.edited_since_sync and not force:
                report.conflicts.append(
                    f"{lesson.path}: changed in the file and in admin; kept the admin's "
                    "version (run sync_content --force to take the file's)"
                )
                continue
        plans.append(
            _LessonPlan(
                lesson, row or Tutorial(), section, fingerprint, created,
                changed_at.get(lesson.path),
            )  # fmt: skip
        )
    # Two lessons may not end up at one address: a row this run does not write
    # (a conflict, an admin-only lesson, a gone file) keeps its own.
    planned_rows = {id(plan.row) for plan in plans}
    taken = {(row.section_id, row.slug): row for row in rows if id(row) not in planned_rows}
    kept = []
    for plan in plans:
        occupant = taken.get((plan.section.pk, plan.lesson.slug)) if plan.section.pk else None
        if occupant is not None:
            report.errors.append(
                ContentError(
                    plan.lesson.path,
                    f"slug {plan.lesson.slug!r} is taken in this section by lesson "
                    f"{occupant.title!r} ({occupant.source_path or 'made in admin'})",
                )
            )
            continue
        kept.append(plan)
        report.created += plan.created
        report.updated += not plan.created
    return kept


def _adopt(
    lesson: LessonFile,
    section: Section,
    rows: list[Tutorial],
    claimed: set[int],
    content: Content,
) -> Tutorial | None:
    """A row for a file no row has: one made in admin (or whose file was renamed)
    with this slug in this section, or one whose file moved from another folder."""
    free = [
        row for row in rows if row.pk not in claimed and row.source_path not in content.seen_paths
    ]
    if section.pk is not None:
        for row in free:
            if row.section_id == section.pk and row.slug == lesson.slug:
                return row
    name = PurePosixPath(lesson.path).name
    for row in free:
        if row.source_path and PurePosixPath(row.source_path).name == name:
            return row
    return None


def _write_sections(sections: dict[str, Section]) -> None:
    changed = [row for row in sections.values() if row._sync_changed]
    renamed = [
        row for row in changed if row.pk and getattr(row, "_loaded_slug", row.slug) != row.slug
    ]
    for row in renamed:  # first phase of a rename: free the slugs
        Section.objects.filter(pk=row.pk).update(slug=f"~{row.pk}")
    for row in changed:
        row.save()


def _write_lessons(plans: list[_LessonPlan], content: Content, report: SyncReport) -> None:
    moving = [
        plan.row
        for plan in plans
        if plan.row.pk
        and (plan.row.loaded_value("section_id"), plan.row.loaded_value("slug"))
        != (plan.section.pk, plan.lesson.slug)
    ]
    for row in moving:  # first phase of a move or slug swap: free the addresses
        Tutorial.objects.filter(pk=row.pk).update(slug=f"~{row.pk}")
    for plan in plans:
        row, lesson = plan.row, plan.lesson
        if row.pk and row.edited_since_sync:  # only with --force: keep the admin's edit
            kept = revisions.keep_before_overwrite(row, "overwritten by sync_content --force")
            report.kept.append(
                f"{lesson.path}: the admin's version is kept as revision {kept.number}"
                if kept
                else f"{lesson.path}: the admin's version could not be kept"
            )
        row.section = plan.section
        row.title = lesson.title
        row.slug = lesson.slug
        row.order = lesson.order
        row.summary = lesson.summary
        row.references = lesson.references
        row.body_markdown = lesson.body
        row.published = lesson.published_now()
        row.publish_at = lesson.publish_at
        row.source_path = lesson.path
        row.source_hash = plan.fingerprint
        row.source_updated_at = plan.changed_at or timezone.now()
        row.synced_content_hash = row.content_hash()
        with revisions.attributed_to(TutorialRevision.FILE, "sync_content"):
            row.save(rendered=content.rendered[lesson.path])
