"""
Reading the course from ``content/`` and syncing it into the database.

Layout::

    content/<folder>/_section.yml     title, slug, order, description
    content/<folder>/<lesson>.md      YAML front matter + Markdown body

One job per module: ``parse`` (bytes, front matter, YAML), ``validate`` (what the
keys must say), ``checks`` (per-file checks of fenced blocks), ``links`` (links
between files), ``load`` (the whole folder, nothing written) and ``sync`` (the
database, all or nothing). docs/writing-lessons.md is the author's guide.
"""

from .checks import check_fences, check_lesson_samples
from .errors import ContentError
from .load import Content, load
from .sync import SyncReport, sync
from .validate import LessonFile, SectionFile

__all__ = [
    "Content",
    "ContentError",
    "LessonFile",
    "SectionFile",
    "SyncReport",
    "check_fences",
    "check_lesson_samples",
    "load",
    "sync",
]
