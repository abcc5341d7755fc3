"""
When each lesson file last changed, from git: the "Updated" date a learner sees.

``last_changed(content_dir)`` maps each file (relative to ``content_dir``) to its
last commit's date, from one ``git log``. A file with uncommitted changes, or a
folder that is not a git checkout (or no git at all), is absent: callers fall back
to the sync time.
"""

from __future__ import annotations

import datetime
import logging
import subprocess
from pathlib import Path

logger = logging.getLogger(__name__)

GIT_TIMEOUT = 10  # seconds


def _git(content_dir: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", "-C", str(content_dir), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def last_changed(content_dir: Path) -> dict[str, datetime.datetime]:
    """``{"01-section/lesson.md": last commit date}`` for committed, unmodified files."""
    content_dir = Path(content_dir)
    if not content_dir.is_dir():
        return {}
    log = _git(content_dir, "log", "--format=%x00%cI", "--name-only", "--relative", "--", ".")
    if log is None:
        return {}
    dates: dict[str, datetime.datetime] = {}
    when = None
    for line in log.splitlines():
        if line.startswith("\x00"):
            when = datetime.datetime.fromisoformat(line[1:])
        elif line and when is not None:
            dates.setdefault(line, when)  # newest first: keep the first date seen
    dirty = _git(content_dir, "status", "--porcelain", "--no-renames", "--", ".") or ""
    prefix = _git(content_dir, "rev-parse", "--show-prefix") or ""
    for line in dirty.splitlines():
        path = line[3:]
        dates.pop(path.removeprefix(prefix.strip()), None)
    return dates
