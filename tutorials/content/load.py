"""
Reading the whole of ``content/``: every file parsed, validated, checked and
rendered, nothing written.

An error in one lesson file is reported and that file left out; every other file
is still loaded. An error that makes the folder itself untrustworthy (it is
missing, has no section, or a section file is broken) is *fatal*: the sync then
writes nothing at all, because a half-understood folder would unpublish or move
lessons that are fine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .. import markdown
from . import links
from .checks import check_fences
from .errors import ContentError, FileProblem
from .validate import SECTION_FILE, LessonFile, SectionFile, parse_lesson, parse_section


@dataclass
class Content:
    sections: list[SectionFile] = field(default_factory=list)
    lessons: list[LessonFile] = field(default_factory=list)
    errors: list[ContentError] = field(default_factory=list)
    # Every lesson file found, broken or not: a broken file is not a deleted one.
    seen_paths: set[str] = field(default_factory=set)
    # Each loaded lesson's HTML, rendered with the links of this load.
    rendered: dict[str, markdown.Rendered] = field(default_factory=dict)
    fatal: bool = False


def load(content_dir: Path) -> Content:
    """Parse, validate and render everything under ``content_dir``; write nothing."""
    content = Content()
    content_dir = Path(content_dir)
    if not content_dir.is_dir():
        content.errors.append(ContentError(str(content_dir), "content directory not found"))
        content.fatal = True
        return content
    sections = _load_sections(content_dir, content)
    if content.fatal:
        return content
    parsed = _load_lessons(content_dir, sections, content)
    _render_lessons(sections, parsed, content)
    return content


def _load_sections(content_dir: Path, content: Content) -> dict[str, SectionFile]:
    sections: dict[str, SectionFile] = {}
    for section_file in sorted(content_dir.glob(f"*/{SECTION_FILE}")):
        relative = section_file.relative_to(content_dir).as_posix()
        try:
            section = parse_section(section_file.parent, content_dir)
        except FileProblem as problem:
            content.errors.append(problem.at(relative))
            continue
        duplicate = next((s for s in sections.values() if s.slug == section.slug), None)
        if duplicate:
            content.errors.append(
                ContentError(relative, f"duplicate section slug {section.slug!r} "
                                       f"(also in {duplicate.path}/{SECTION_FILE})")
            )  # fmt: skip
            continue
        sections[section.path] = section
    if content.errors:
        content.fatal = True
    elif not sections:
        content.errors.append(ContentError(str(content_dir), f"no section ({SECTION_FILE}) found"))
        content.fatal = True
    content.sections = list(sections.values())
    return sections


def _load_lessons(
    content_dir: Path, sections: dict[str, SectionFile], content: Content
) -> list[LessonFile]:
    lessons: list[LessonFile] = []
    for path in sorted(content_dir.glob("**/*.md")):
        relative = path.relative_to(content_dir).as_posix()
        if path.name.upper() == "README.MD" and path.parent == content_dir:
            continue
        content.seen_paths.add(relative)
        section_path = path.parent.relative_to(content_dir).as_posix()
        if section_path not in sections:
            content.errors.append(
                ContentError(relative, f"unknown section: no {SECTION_FILE} in {section_path}/")
            )
            continue
        try:
            lesson = parse_lesson(path, content_dir)
        except FileProblem as problem:
            content.errors.append(problem.at(relative))
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
    return lessons


def _render_lessons(
    sections: dict[str, SectionFile], lessons: list[LessonFile], content: Content
) -> None:
    """Check and render each lesson; a lesson linking to one that failed fails too."""
    known = links.targets(sections, lessons)
    rendered: dict[str, markdown.Rendered] = {}
    for lesson in lessons:
        errors = check_fences(lesson)
        try:
            result = markdown.render(lesson.body, links.resolver(lesson, known))
        except markdown.RenderError as error:
            line = lesson.body_line + error.line - 1 if error.line else None
            errors.append(ContentError(lesson.path, error.message, line))
        else:
            errors += links.link_errors(lesson, result, known, content.seen_paths)
            rendered[lesson.path] = result
        if errors:
            content.errors.extend(errors)
            rendered.pop(lesson.path, None)
    # A link to a lesson left out above would lead to nothing (or a stale page).
    failed = {lesson.path for lesson in lessons} - set(rendered)
    while failed:
        newly_failed = set()
        for lesson in lessons:
            result = rendered.get(lesson.path)
            if result is None:
                continue
            for href in dict.fromkeys(result.links):
                target = markdown.resolve_relative(lesson.path, href)
                if target not in failed:
                    continue
                content.errors.append(
                    ContentError(
                        lesson.path,
                        f"link to {href!r}: lesson {target} has errors",
                        links.href_line(lesson, href),
                    )
                )
                newly_failed.add(lesson.path)
        for path in newly_failed:
            del rendered[path]
        failed = newly_failed
    content.lessons = [lesson for lesson in lessons if lesson.path in rendered]
    content.rendered = rendered
