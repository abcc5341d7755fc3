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

logger = logging.getLogger(__name__)

WATCHED_GLOBS = ("**/*.md", "**/*.yml")


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
    from . import content

    report = content.sync(Path(settings.CONTENT_DIR))
    for error in report.errors:
        logger.error("content: %s", error)
    for conflict in report.conflicts:
        logger.warning("content conflict: %s", conflict)
    logger.info("content/ changed (%s): %s", file_path, report.summary())
    return True
