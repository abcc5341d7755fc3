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
from django.utils.autoreload import autoreload_started, file_changed

logger = logging.getLogger(__name__)

WATCHED_GLOBS = ("**/*.md", "**/*.yml")
LOCKED_RETRIES = 5
LOCKED_PAUSE = 0.5  # seconds, doubled after each locked attempt


@receiver(autoreload_started, dispatch_uid="tutorials.autoreload.watch_content")
def watch_content(sender: Any, **kwargs: Any) -> None:
    for pattern in WATCHED_GLOBS:
        sender.watch_dir(settings.CONTENT_DIR, pattern)


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
