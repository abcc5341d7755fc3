"""
Links between lesson files: where each file's lesson will live, how a link in one
file resolves, and the author's error for a link that does not.

Which links a lesson has is decided by the renderer's tree processor
(``tutorials.markdown``), the same one that rewrites them on the page, so the check
and the page cannot disagree: a link in code is not a link, a reference-style link is.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import markdown
from .errors import ContentError
from .validate import LessonFile, SectionFile


@dataclass(frozen=True)
class Target:
    """Where a lesson file's lesson lives, and whether learners may see it."""

    url: str
    published: bool


def lesson_url(section: SectionFile, lesson: LessonFile) -> str:
    return f"/{section.slug}/{lesson.slug}/"


def targets(sections: dict[str, SectionFile], lessons: list[LessonFile]) -> dict[str, Target]:
    """Every lesson file's target, by its path."""
    return {
        lesson.path: Target(lesson_url(sections[lesson.section_path], lesson), lesson.published)
        for lesson in lessons
    }


def resolver(lesson: LessonFile, known: dict[str, Target]) -> markdown.LinkResolver:
    """Resolve ``other.md`` links of ``lesson``; a published lesson resolves no draft."""

    def resolve(href: str) -> str | None:
        target = known.get(markdown.resolve_relative(lesson.path, href))
        if target is None or (lesson.published and not target.published):
            return None
        return target.url

    return resolve


def linked_paths(lesson: LessonFile, rendered: markdown.Rendered) -> set[str]:
    """The files the resolved links of ``lesson`` point to."""
    return {
        markdown.resolve_relative(lesson.path, href.partition("#")[0]) for href in rendered.links
    }


def link_errors(
    lesson: LessonFile,
    rendered: markdown.Rendered,
    known: dict[str, Target],
    seen: set[str],
) -> list[ContentError]:
    """One error per link of ``lesson`` the renderer could not resolve, saying why."""
    errors = []
    for href in dict.fromkeys(rendered.broken_links):
        target = markdown.resolve_relative(lesson.path, href.partition("#")[0])
        if target in known:
            why = "is a draft (published: false); a published lesson cannot link to it"
        elif target in seen:
            why = "has errors"
        else:
            why = "does not exist"
        errors.append(
            ContentError(
                lesson.path, f"link to {href!r}: lesson {target} {why}", href_line(lesson, href)
            )
        )
    return errors


def href_line(lesson: LessonFile, href: str) -> int:
    """The file line of the first mention of ``href`` (its definition, for a
    reference-style link), or the body's first line."""
    for offset, line in enumerate(lesson.body.splitlines()):
        if href in line:
            return lesson.body_line + offset
    return lesson.body_line
