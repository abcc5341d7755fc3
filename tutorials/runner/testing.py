"""
Helpers for the runner's tests.

``isolate(settings)`` gives each pytest-xdist worker its own lock directory and
uid range, so that parallel test processes neither share run slots nor sweep
each other's sandboxes. ``UidRecorder`` notes the uids a test's sandboxes used
and ``live_processes()`` lists what still runs as them.

Until config/urls.py includes the runner, ``run_url()`` serves it from this
module's ``urlpatterns`` (the project's URLs plus ``run/``). ``finish()`` follows
a queued run's 202 answers to its result, as the page's run client does.
"""

import os
import re
import time
from pathlib import Path

from django.urls import NoReverseMatch, include, path, reverse

from . import uids

urlpatterns = [
    path("run/", include("tutorials.runner.urls")),
    path("", include("config.urls")),
]


def worker_index() -> int:
    match = re.search(r"(\d+)$", os.environ.get("PYTEST_XDIST_WORKER", "gw0"))
    return int(match.group(1)) if match else 0


def isolate(settings, lock_root: Path) -> None:
    """Per-worker lock directory and uid range, no rate limit, nice 10."""
    index = worker_index()
    settings.RUNNER_LOCK_DIR = str(lock_root / f"locks-{index}")
    settings.RUNNER_UID_BASE = uids.UID_BASE + 1000 + 100 * index
    settings.RUNNER_UID_COUNT = 32
    settings.RUNNER_RATE_LIMIT = 10_000
    # Tests time their runs on a machine busy with the rest of the suite: sandboxes at
    # nice 10, as before the production default of 19 (tested on its own), so that
    # the suite's own load cannot starve them.
    settings.RUNNER_NICE = 10


def run_url(settings) -> str:
    """The run endpoint's URL, from the project's URLs if they include it."""
    try:
        return reverse("runner:run")
    except NoReverseMatch:
        settings.ROOT_URLCONF = __name__
        return reverse("runner:run")


def finish(client, response, timeout: float = 60.0):
    """Poll a 202 answer of the run endpoint until the run's result (or an error)."""
    deadline = time.monotonic() + timeout
    while response.status_code == 202:
        if time.monotonic() > deadline:
            raise AssertionError(f"no result within {timeout} s: {response.json()}")
        time.sleep(0.05)
        response = client.get(response.json()["poll"])
    return response


class UidRecorder:
    """Records the uids handed to sandboxes while active (server running as root)."""

    def __init__(self):
        self.uids: set[int] = set()

    def __enter__(self) -> "UidRecorder":
        self.original = uids.UidLease.acquire.__func__
        recorder = self

        def acquire(cls):
            lease = recorder.original(cls)
            recorder.uids.add(lease.uid)
            return lease

        uids.UidLease.acquire = classmethod(acquire)
        return self

    def __exit__(self, *exc_info) -> None:
        uids.UidLease.acquire = classmethod(self.original)


def live_processes(uid_set: set[int] | None = None, marker: str | None = None) -> list[str]:
    """
    Processes (not zombies) whose real uid is in ``uid_set`` or whose command
    line contains ``marker``, as "pid uid state command" strings.
    """
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        state = fields.get("State", "").strip()
        if state.startswith("Z"):
            continue
        uid = int(fields.get("Uid", "0").split()[0])
        if (uid_set and uid in uid_set) or (marker and marker in cmdline):
            found.append(f"{entry} {uid} {state} {cmdline[:120]}")
    return found
