"""
The database every sandbox starts from: auth and contenttypes migrated once per
host (and per Django version and harness), then copied into each sandbox's
in-memory database instead of running the migrations again.

Built by the harness itself, outside any sandbox (no learner code is involved),
into ``RUNNER_LOCK_DIR``; bound read-only into the sandboxes.
"""

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import subprocess
from pathlib import Path

import django

from .uids import lock_dir

SANDBOX_PATH = "/sandbox/db.sqlite3"


@functools.cache
def _name() -> str:
    from .sandbox import HARNESS

    digest = hashlib.sha256()
    for module in sorted(HARNESS.glob("*.py")):
        digest.update(module.read_bytes())
    digest = digest.hexdigest()[:16]
    return f"template-django{django.__version__}-{digest}.sqlite3"


def path() -> str | None:
    """The template's path, built first if needed; None if it cannot be built."""
    from .sandbox import BOOTSTRAP, RUNNER_DIR, layout

    target = Path(lock_dir()) / _name()
    if target.exists():
        return str(target)
    with open(f"{target}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder; the others wait for it
        if target.exists():
            return str(target)
        partial = f"{target}.{os.getpid()}.partial"
        config = {"build_template": partial, "paths": [layout().site_packages]}
        python = os.path.realpath(layout().python)
        try:
            subprocess.run(
                [
                    python,
                    "-S",
                    "-s",
                    "-B",
                    "-P",
                    "-c",
                    BOOTSTRAP,
                    json.dumps(config),
                    str(RUNNER_DIR),
                ],
                check=True,
                capture_output=True,
                timeout=60,
                env={"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0"},
            )
            os.chmod(partial, 0o644)
            os.replace(partial, target)
        except (OSError, subprocess.SubprocessError):
            with contextlib.suppress(OSError):
                os.unlink(partial)
            return None
    return str(target)
