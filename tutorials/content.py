"""
Reading the course from ``content/`` and syncing it into the database.

Layout::

    content/<folder>/_section.yml     title, slug, order, description
    content/<folder>/<lesson>.md      YAML front matter + Markdown body

``load()`` parses and validates every file and never writes; ``sync()`` writes what
changed. A broken file is reported as one ``ContentError`` (file, line, message) and
skipped, so every other file still syncs and the broken lesson keeps its last good
version in the database.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import django
import yaml
from django.db import transaction
from django.utils import timezone

from . import githistory, markdown, pagecache, revisions, schemas
from .models import Section, Tutorial, TutorialRevision

SECTION_FILE = "_section.yml"
SLUG_RE = re.compile(r"^[-a-z0-9_]+$")
LESSON_KEYS = {"title", "slug", "order", "summary", "references", "published", "publish_at"}
SECTION_KEYS = {"title", "slug", "order", "description"}
_LINK_RE = re.compile(r"\]\(\s*<?([^)\s>]+\.md(?:#[^)\s>]*)?)>?")


@dataclass(frozen=True)
class ContentError:
    """One problem in one file, worded for the author who has to fix it."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


@dataclass
class SectionFile:
    path: str  # folder, relative to the content directory
    title: str
    slug: str
    order: int
    description: str
    hash: str


@dataclass
class LessonFile:
    path: str  # relative to the content directory, POSIX separators
    section_path: str
    title: str
    slug: str
    order: int
    summary: str
    references: list[dict[str, str]]
    published: bool
    body: str
    body_line: int  # line number of the body's first line in the file
    hash: str
    publish_at: datetime.datetime | None = None

    def published_now(self) -> bool:
        """Published, and its publish_at (if any) has come."""
        return self.published and (self.publish_at is None or self.publish_at <= timezone.now())


@dataclass
class Content:
    sections: list[SectionFile] = field(default_factory=list)
    lessons: list[LessonFile] = field(default_factory=list)
    errors: list[ContentError] = field(default_factory=list)
    # Every lesson file found, broken or not: a broken file is not a deleted one.
    seen_paths: set[str] = field(default_factory=set)


@dataclass
class SyncReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    unpublished: int = 0
    conflicts: list[str] = field(default_factory=list)
    errors: list[ContentError] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # admin edits kept as revisions by --force

    def summary(self) -> str:
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.unpublished} unpublished, {len(self.conflicts)} conflicts, "
            f"{len(self.errors)} errors"
        )


class _FileProblem(Exception):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _read_text(path: Path) -> tuple[str, bytes]:
    data = path.read_bytes()
    try:
        return data.decode("utf-8"), data
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _FileProblem(f"invalid UTF-8 (byte 0x{data[exc.start]:02x})", line) from None


def _parse_yaml(text: str, first_line: int) -> dict[str, Any]:
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        line = first_line + mark.line if mark is not None else first_line
        raise _FileProblem(f"bad YAML: {problem}", line) from None
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise _FileProblem("front matter must be a mapping of keys to values", first_line)
    return value


def _require_str(data: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _FileProblem(f"missing {key!r}")
        return ""
    if not isinstance(value, str):
        raise _FileProblem(f"{key!r} must be text, not {type(value).__name__}")
    return value.strip()


def _require_slug(data: dict[str, Any]) -> str:
    slug = _require_str(data, "slug")
    if not SLUG_RE.match(slug):
        raise _FileProblem(f"slug {slug!r} may only contain a-z, 0-9, '-' and '_'")
    return slug


def _require_order(data: dict[str, Any]) -> int:
    order = data.get("order", 0)
    if isinstance(order, bool) or not isinstance(order, int) or order < 0:
        raise _FileProblem(f"'order' must be a whole number ≥ 0, not {order!r}")
    return order


def _check_keys(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(map(str, data)) - allowed)
    if unknown:
        raise _FileProblem(f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")


def _publish_at(data: dict[str, Any]) -> datetime.datetime | None:
    """``publish_at`` as an aware datetime (UTC when the file gives no offset)."""
    value = data.get("publish_at")
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise _FileProblem(
                f"'publish_at' must be a date and time like 2026-12-01T09:00:00Z, not {value!r}"
            ) from None
    if type(value) is datetime.date:
        value = datetime.datetime.combine(value, datetime.time())
    if not isinstance(value, datetime.datetime):
        raise _FileProblem("'publish_at' must be a date and time like 2026-12-01T09:00:00Z")
    if timezone.is_naive(value):
        value = value.replace(tzinfo=datetime.UTC)
    return value


def _check_schema(kind: str, data: dict[str, Any]) -> None:
    """The file against the JSON Schema editors use (tutorials/schemas/)."""
    found = schemas.problems(kind, data)
    if found:
        raise _FileProblem(found[0])


def _references(data: dict[str, Any]) -> list[dict[str, str]]:
    refs = data.get("references") or []
    if not isinstance(refs, list):
        raise _FileProblem("'references' must be a list of {title, url}")
    clean = []
    for number, ref in enumerate(refs, 1):
        if not isinstance(ref, dict) or not {"title", "url"} <= set(ref):
            raise _FileProblem(f"reference {number} needs a title and a url")
        url = str(ref["url"]).strip()
        if not url.startswith(("https://", "http://")):
            raise _FileProblem(f"reference {number} url must start with https:// or http://")
        clean.append({"title": str(ref["title"]).strip(), "url": url})
    return clean


def parse_section(folder: Path, content_dir: Path) -> SectionFile:
    """Read one section's ``_section.yml``."""
    path = folder / SECTION_FILE
    text, data = _read_text(path)
    meta = _parse_yaml(text, 1)
    _check_keys(meta, SECTION_KEYS)
    section = SectionFile(
        path=folder.relative_to(content_dir).as_posix(),
        title=_require_str(meta, "title"),
        slug=_require_slug(meta),
        order=_require_order(meta),
        description=_require_str(meta, "description", required=False),
        hash=hashlib.sha256(data).hexdigest(),
    )
    # After the checks above, whose messages are friendlier; catches what they miss.
    _check_schema("section", meta)
    return section


def parse_lesson(path: Path, content_dir: Path) -> LessonFile:
    """Read one lesson file: front matter between ``---`` lines, then Markdown."""
    text, data = _read_text(path)
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise _FileProblem("must start with front matter: a '---' line, YAML, a '---' line", 1)
    try:
        end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == "---")
    except StopIteration:
        raise _FileProblem("front matter is not closed by a '---' line", 1) from None
    meta = _parse_yaml("".join(lines[1:end]), 2)
    _check_keys(meta, LESSON_KEYS)
    published = meta.get("published", True)
    if not isinstance(published, bool):
        raise _FileProblem("'published' must be true or false")
    publish_at = _publish_at(meta)
    if publish_at is not None and meta.get("published") is False:
        raise _FileProblem(
            "'publish_at' publishes the lesson at that time: drop 'published: false'"
        )
    relative = path.relative_to(content_dir).as_posix()
    lesson = LessonFile(
        path=relative,
        section_path=path.parent.relative_to(content_dir).as_posix(),
        title=_require_str(meta, "title"),
        slug=_require_slug(meta),
        order=_require_order(meta),
        summary=_require_str(meta, "summary", required=False),
        references=_references(meta),
        published=published,
        body="".join(lines[end + 1 :]).strip("\n") + "\n",
        body_line=end + 2,
        hash=hashlib.sha256(data).hexdigest(),
        publish_at=publish_at,
    )
    _check_schema("lesson", meta)
    return lesson


def _with_path(path: str, problem: _FileProblem) -> ContentError:
    return ContentError(path, problem.message, problem.line)


def load(content_dir: Path) -> Content:
    """Parse and validate everything under ``content_dir``; write nothing."""
    content = Content()
    if not content_dir.is_dir():
        content.errors.append(ContentError(str(content_dir), "content directory not found"))
        return content
    sections: dict[str, SectionFile] = {}
    broken_sections: set[str] = set()
    for section_file in sorted(content_dir.glob(f"*/{SECTION_FILE}")):
        folder = section_file.parent
        relative = section_file.relative_to(content_dir).as_posix()
        try:
            section = parse_section(folder, content_dir)
        except _FileProblem as problem:
            content.errors.append(_with_path(relative, problem))
            broken_sections.add(folder.relative_to(content_dir).as_posix())
            continue
        duplicate = next((s for s in sections.values() if s.slug == section.slug), None)
        if duplicate:
            content.errors.append(
                ContentError(relative, f"duplicate section slug {section.slug!r} "
                                       f"(also in {duplicate.path}/{SECTION_FILE})")
            )  # fmt: skip
            broken_sections.add(section.path)
            continue
        sections[section.path] = section
    content.sections = list(sections.values())

    lessons: list[LessonFile] = []
    for path in sorted(content_dir.glob("**/*.md")):
        relative = path.relative_to(content_dir).as_posix()
        if path.name.upper() == "README.MD" and path.parent == content_dir:
            continue
        content.seen_paths.add(relative)
        section_path = path.parent.relative_to(content_dir).as_posix()
        if section_path in broken_sections:
            content.errors.append(
                ContentError(relative, f"skipped: its section file {section_path}/"
                                       f"{SECTION_FILE} has errors")
            )  # fmt: skip
            continue
        if section_path not in sections:
            content.errors.append(
                ContentError(relative, f"unknown section: no {SECTION_FILE} in {section_path}/")
            )
            continue
        try:
            lesson = parse_lesson(path, content_dir)
        except _FileProblem as problem:
            content.errors.append(_with_path(relative, problem))
            continue
        duplicate = next(
            (o for o in lessons if o.section_path == section_path and o.slug == lesson.slug),
            None,
        )
        if duplicate:
            content.errors.append(
                ContentError(relative, f"duplicate slug {lesson.slug!r} (also in {duplicate.path})")
            )
            continue
        lessons.append(lesson)

    urls = {lesson.path: _lesson_url(sections[lesson.section_path], lesson) for lesson in lessons}
    for lesson in lessons:
        broken = _broken_links(lesson, urls, content.seen_paths)
        if broken:
            content.errors.extend(broken)
        else:
            content.lessons.append(lesson)
    return content


def _lesson_url(section: SectionFile, lesson: LessonFile) -> str:
    return f"/{section.slug}/{lesson.slug}/"


def _broken_links(lesson: LessonFile, urls: dict[str, str], seen: set[str]) -> list[ContentError]:
    errors = []
    for offset, line in enumerate(lesson.body.splitlines()):
        for href in _LINK_RE.findall(line):
            if "://" in href:
                continue
            target = markdown.resolve_relative(lesson.path, href.partition("#")[0])
            if target not in urls:
                why = "has errors" if target in seen else "does not exist"
                errors.append(
                    ContentError(
                        lesson.path,
                        f"link to {href!r}: lesson {target} {why}",
                        lesson.body_line + offset,
                    )
                )
    return errors


def link_resolver(lesson_path: str, urls: dict[str, str]) -> markdown.LinkResolver:
    def resolve(href: str) -> str | None:
        return urls.get(markdown.resolve_relative(lesson_path, href))

    return resolve


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
    ``force``. Lessons whose file is gone are unpublished, never deleted.
    With ``dry_run`` everything is validated and counted, nothing is written.
    """
    content = load(content_dir)
    report = SyncReport(errors=list(content.errors))
    if check_samples:
        for lesson in content.lessons:
            report.errors.extend(check_samples(lesson))

    sections = {s.path: s for s in content.sections}
    section_rows: dict[str, Section] = {}
    for section_file in content.sections:
        row = Section.objects.filter(slug=section_file.slug).first() or Section(
            slug=section_file.slug
        )
        changed = row.source_hash != section_file.hash or row.source_path != section_file.path
        if changed and not dry_run:
            row.title = section_file.title
            row.order = section_file.order
            row.description = section_file.description
            row.source_path = section_file.path
            row.source_hash = section_file.hash
            row.save()
        section_rows[section_file.path] = row

    urls = {
        lesson.path: _lesson_url(sections[lesson.section_path], lesson)
        for lesson in content.lessons
    }
    changed_at = {} if dry_run else githistory.last_changed(content_dir)
    for lesson in content.lessons:
        _sync_lesson(lesson, section_rows[lesson.section_path], urls, report, force, dry_run,
                     changed_at.get(lesson.path))  # fmt: skip

    gone = Tutorial.objects.exclude(source_path="").exclude(source_path__in=content.seen_paths)
    for tutorial in gone.filter(published=True):
        report.unpublished += 1
        if not dry_run:
            with transaction.atomic():
                tutorial.published = False
                tutorial.source_hash = ""
                tutorial.save()
    return report


def _fingerprint(lesson: LessonFile, urls: dict[str, str]) -> str:
    """The file's hash plus everything outside it that changes its rendered HTML."""
    linked = sorted(
        urls.get(markdown.resolve_relative(lesson.path, href.partition("#")[0]), "")
        for href in _LINK_RE.findall(lesson.body)
    )
    extra = "\n".join([lesson.hash, django.get_version(), *linked])
    return hashlib.sha256(extra.encode()).hexdigest()


def _sync_lesson(
    lesson: LessonFile,
    section: Section,
    urls: dict[str, str],
    report: SyncReport,
    force: bool,
    dry_run: bool,
    changed_at: datetime.datetime | None = None,
) -> None:
    fingerprint = _fingerprint(lesson, urls)
    row = Tutorial.objects.filter(source_path=lesson.path).first()
    if row is None and section.pk:
        # A lesson created in admin, or whose file was renamed, is adopted by slug.
        row = Tutorial.objects.filter(section=section, slug=lesson.slug).first()
    created = row is None
    if row is not None and row.source_hash == fingerprint and row.source_path == lesson.path:
        report.unchanged += 1
        if changed_at and row.source_updated_at != changed_at and not dry_run:
            # Same text, newer history (a fresh clone, a rebase): only the date shown moves.
            Tutorial.objects.filter(pk=row.pk).update(source_updated_at=changed_at)
            transaction.on_commit(pagecache.bump_content_version, robust=True)
        return
    if row is not None and row.edited_since_sync and not force:
        report.conflicts.append(
            f"{lesson.path}: changed in the file and in admin; kept the admin's version "
            "(run sync_content --force to take the file's)"
        )
        return
    if dry_run:
        report.created += created
        report.updated += not created
        return
    if row is not None and row.edited_since_sync:  # and force: keep the admin's edit
        revision = revisions.keep_before_overwrite(row, "overwritten by sync_content --force")
        report.kept.append(
            f"{lesson.path}: the admin's version is kept as revision {revision.number}"
            if revision
            else f"{lesson.path}: the admin's version could not be kept"
        )
    row = row or Tutorial()
    row.section = section
    row.title = lesson.title
    row.slug = lesson.slug
    row.order = lesson.order
    row.summary = lesson.summary
    row.references = lesson.references
    row.body_markdown = lesson.body
    row.published = lesson.published_now()
    row.publish_at = lesson.publish_at
    row.source_path = lesson.path
    row.source_hash = fingerprint
    row.source_updated_at = changed_at or timezone.now()
    row.synced_content_hash = row.content_hash()
    with transaction.atomic(), revisions.attributed_to(TutorialRevision.FILE, "sync_content"):
        row.save(resolve_link=link_resolver(lesson.path, urls))
    if created:
        report.created += 1
    else:
        report.updated += 1


def check_lesson_samples(lesson: LessonFile) -> list[ContentError]:
    """Run a lesson's runnable samples and report each whose output differs."""
    from .runner.samples import check_samples

    # Pad the body so the line numbers the runner reports are the file's own.
    text = "\n" * (lesson.body_line - 1) + lesson.body
    errors = [ContentError(lesson.path, message) for message in check_samples(text)]
    # Exercises: solutions pass, starters fail, predictions hold (tutorials/exercises/).
    from .exercises.validate import check_text as check_exercises

    errors += [ContentError(lesson.path, msg, line) for line, msg in check_exercises(text)]
    return errors
