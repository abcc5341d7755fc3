"""
Live content reload for ``runserver``: saving a file in content/ re-syncs it.

Hooks Django's own autoreloader through its signals: ``autoreload_started`` asks the
reloader to watch content/, and ``file_changed`` syncs a changed lesson and returns
True so that the server is not restarted for a Markdown edit.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.dispatch import receiver
from django.utils.autoreload import autoreload_started, file_changed

from . import livereload

logger = logging.getLogger(__name__)

WATCHED_GLOBS = ("**/*.md", "**/*.yml")
STATIC_GLOBS = ("**/*.css", "**/*.js", "**/*.svg")


@receiver(autoreload_started, dispatch_uid="tutorials.autoreload.watch_content")
def watch_content(sender: Any, **kwargs: Any) -> None:
    for pattern in WATCHED_GLOBS:
        sender.watch_dir(settings.CONTENT_DIR, pattern)
    for directory in settings.STATICFILES_DIRS:
        for pattern in STATIC_GLOBS:
            sender.watch_dir(directory, pattern)


def _static_name(path: Path) -> str | None:
    """The static name (``css/site.css``) of a file in STATICFILES_DIRS, else None."""
    for directory in settings.STATICFILES_DIRS:
        try:
            return path.resolve().relative_to(Path(directory).resolve()).as_posix()
        except ValueError:
            continue
    return None


def _is_template(path: Path) -> bool:
    return path.suffix == ".html" and any(
        path.resolve().is_relative_to(Path(d).resolve())
        for engine in settings.TEMPLATES
        for d in engine.get("DIRS", [])
    )


@receiver(file_changed, dispatch_uid="tutorials.autoreload.reload_pages")
def reload_pages(sender: Any, file_path: Path, **kwargs: Any) -> bool | None:
    """
    A changed template or static file: tell open pages (tutorials/livereload.py).
    Static files need no restart (True); templates are left to Django's own
    receiver, which resets the template loaders instead of restarting.
    """
    path = Path(file_path)
    name = _static_name(path)
    if name is not None:
        livereload.notify(static=[name])
        return True
    if _is_template(path):
        livereload.notify()
    return None


def _is_content(path: Path) -> bool:
    try:
        path.resolve().relative_to(Path(settings.CONTENT_DIR).resolve())
    except ValueError:
        return False
    return path.suffix in {".md", ".yml"}


@receiver(file_changed, dispatch_uid="tutorials.autoreload.sync_changed_content")
def sync_changed_content(sender: Any, file_path: Path, **kwargs: Any) -> bool:
    """Sync content/ when one of its files changes; True means "handled, no restart"."""
    if not _is_content(Path(file_path)):
        return False
    from . import content

    report = content.sync(Path(settings.CONTENT_DIR))
    for error in report.errors:
        logger.error("content: %s", error)
    for conflict in report.conflicts:
        logger.warning("content conflict: %s", conflict)
    logger.info("content/ changed (%s): %s", file_path, report.summary())
    livereload.notify(errors=[str(error) for error in report.errors])
    return True
