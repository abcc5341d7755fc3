"""
What a section file and a lesson file must say: allowed keys, slugs, order,
references. Turns a parsed file (``parse.py``) into a ``SectionFile`` or a
``LessonFile``, or raises ``FileProblem``.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils import timezone

from .. import schemas
from .errors import FileProblem
from .parse import read_front_matter_file, read_yaml_file

SECTION_FILE = "_section.yml"
SLUG_RE = re.compile(r"^[-a-z0-9_]+$")
LESSON_KEYS = {"title", "slug", "order", "summary", "references", "published", "publish_at"}
SECTION_KEYS = {"title", "slug", "order", "description"}


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


def _require_str(data: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise FileProblem(f"missing {key!r}")
        return ""
    if not isinstance(value, str):
        raise FileProblem(f"{key!r} must be text, not {type(value).__name__}")
    return value.strip()


def _require_slug(data: dict[str, Any]) -> str:
    slug = _require_str(data, "slug")
    if not SLUG_RE.match(slug):
        raise FileProblem(f"slug {slug!r} may only contain a-z, 0-9, '-' and '_'")
    return slug


def _require_order(data: dict[str, Any]) -> int:
    order = data.get("order", 0)
    if isinstance(order, bool) or not isinstance(order, int) or order < 0:
        raise FileProblem(f"'order' must be a whole number ≥ 0, not {order!r}")
    return order


def _check_keys(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(map(str, data)) - allowed)
    if unknown:
        raise FileProblem(f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")


def _references(data: dict[str, Any]) -> list[dict[str, str]]:
    refs = data.get("references") or []
    if not isinstance(refs, list):
        raise FileProblem("'references' must be a list of {title, url}")
    clean = []
    for number, ref in enumerate(refs, 1):
        if not isinstance(ref, dict) or not {"title", "url"} <= set(ref):
            raise FileProblem(f"reference {number} needs a title and a url")
        url = str(ref["url"]).strip()
        if not url.startswith(("https://", "http://")):
            raise FileProblem(f"reference {number} url must start with https:// or http://")
        clean.append({"title": str(ref["title"]).strip(), "url": url})
    return clean


def _publish_at(data: dict[str, Any]) -> datetime.datetime | None:
    """``publish_at`` as an aware datetime (UTC when the file gives no offset)."""
    value = data.get("publish_at")
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise FileProblem(
                f"'publish_at' must be a date and time like 2026-12-01T09:00:00Z, not {value!r}"
            ) from None
    if type(value) is datetime.date:
        value = datetime.datetime.combine(value, datetime.time())
    if not isinstance(value, datetime.datetime):
        raise FileProblem("'publish_at' must be a date and time like 2026-12-01T09:00:00Z")
    if timezone.is_naive(value):
        value = value.replace(tzinfo=datetime.UTC)
    return value


def _check_schema(kind: str, data: dict[str, Any]) -> None:
    """The file against the JSON Schema editors use (tutorials/schemas/). Run after
    the checks above, whose messages are friendlier; it catches what they miss."""
    found = schemas.problems(kind, data)
    if found:
        raise FileProblem(found[0])


def parse_section(folder: Path, content_dir: Path) -> SectionFile:
    """Read and validate one section's ``_section.yml``."""
    raw = read_yaml_file(folder / SECTION_FILE)
    _check_keys(raw.meta, SECTION_KEYS)
    section = SectionFile(
        path=folder.relative_to(content_dir).as_posix(),
        title=_require_str(raw.meta, "title"),
        slug=_require_slug(raw.meta),
        order=_require_order(raw.meta),
        description=_require_str(raw.meta, "description", required=False),
        hash=raw.hash,
    )
    _check_schema("section", raw.meta)
    return section


def parse_lesson(path: Path, content_dir: Path) -> LessonFile:
    """Read and validate one lesson file."""
    raw = read_front_matter_file(path)
    meta = raw.meta
    _check_keys(meta, LESSON_KEYS)
    published = meta.get("published", True)
    if not isinstance(published, bool):
        raise FileProblem("'published' must be true or false")
    publish_at = _publish_at(meta)
    if publish_at is not None and meta.get("published") is False:
        raise FileProblem("'publish_at' publishes the lesson at that time: drop 'published: false'")
    lesson = LessonFile(
        path=path.relative_to(content_dir).as_posix(),
        section_path=path.parent.relative_to(content_dir).as_posix(),
        title=_require_str(meta, "title"),
        slug=_require_slug(meta),
        order=_require_order(meta),
        summary=_require_str(meta, "summary", required=False),
        references=_references(meta),
        published=published,
        body=raw.body,
        body_line=raw.body_line,
        hash=raw.hash,
        publish_at=publish_at,
    )
    _check_schema("lesson", meta)
    return lesson
