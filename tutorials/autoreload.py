"""
Live content reload for ``runserver``: saving a file in content/ re-syncs it.

Hooks Django's own autoreloader through its signals: ``autoreload_started`` asks the
reloader to watch content/, and ``file_changed`` syncs a changed lesson and returns
True so that the server is not restarted for a Markdown edit.

Nothing an author does may stop the server: every error of the re-sync is printed
as one line (as ``sync_content`` prints it) and the server keeps serving; a
database locked by another writer (a ``sync_content`` in a terminal) is retried.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import OperationalError
from django.dispatch import receiver
from django.utils import autoreload
from django.utils.autoreload import autoreload_started, file_changed

from . import livereload

logger = logging.getLogger(__name__)

# Django's StatReloader looks at the watched files once a second; an author saving a
# lesson should see the page change within a second, sync and reload included. Four
# looks a second cost a few milliseconds of stat() calls, in development only.
autoreload.StatReloader.SLEEP_TIME = 0.25  # seconds

WATCHED_GLOBS = ("**/*.md", "**/*.yml")
STATIC_GLOBS = ("**/*.css", "**/*.js", "**/*.svg")
LOCKED_RETRIES = 5
LOCKED_PAUSE = 0.5  # seconds, doubled after each locked attempt


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
    try:
        _sync_with_retries()
    except Exception as exc:  # anything: the development server must keep serving
        logger.error(
            "content: sync failed: %s: %s (after %s changed)", type(exc).__name__, exc, file_path
        )
        livereload.notify(errors=[f"{file_path}: sync failed: {type(exc).__name__}: {exc}"])
    return True


def _sync_with_retries() -> None:
    from . import content

    pause = LOCKED_PAUSE
    for attempt in range(1, LOCKED_RETRIES + 1):
        try:
            report = content.sync(Path(settings.CONTENT_DIR))
            break
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == LOCKED_RETRIES:
                raise
            logger.warning("content: database is locked, retrying in %.1f s", pause)
            time.sleep(pause)
            pause *= 2
    for error in report.errors:
        logger.error("content: %s", error)
    for conflict in report.conflicts:
        logger.warning("content conflict: %s", conflict)
    logger.info("content/ changed: %s", report.summary())
    livereload.notify(errors=[str(error) for error in report.errors])
