"""
What a section file and a lesson file must say: allowed keys, slugs, order,
references. Turns a parsed file (``parse.py``) into a ``SectionFile`` or a
``LessonFile``, or raises ``FileProblem``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import FileProblem
from .parse import read_front_matter_file, read_yaml_file

SECTION_FILE = "_section.yml"
SLUG_RE = re.compile(r"^[-a-z0-9_]+$")
LESSON_KEYS = {"title", "slug", "order", "summary", "references", "published"}
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


def parse_section(folder: Path, content_dir: Path) -> SectionFile:
    """Read and validate one section's ``_section.yml``."""
    raw = read_yaml_file(folder / SECTION_FILE)
    _check_keys(raw.meta, SECTION_KEYS)
    return SectionFile(
        path=folder.relative_to(content_dir).as_posix(),
        title=_require_str(raw.meta, "title"),
        slug=_require_slug(raw.meta),
        order=_require_order(raw.meta),
        description=_require_str(raw.meta, "description", required=False),
        hash=raw.hash,
    )


def parse_lesson(path: Path, content_dir: Path) -> LessonFile:
    """Read and validate one lesson file."""
    raw = read_front_matter_file(path)
    meta = raw.meta
    _check_keys(meta, LESSON_KEYS)
    published = meta.get("published", True)
    if not isinstance(published, bool):
        raise FileProblem("'published' must be true or false")
    return LessonFile(
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
    )
