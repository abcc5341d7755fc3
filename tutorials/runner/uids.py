"""
Dedicated unprivileged uids for sandboxes, when the server runs as root.

Every live sandbox holds its own uid from ``RUNNER_UID_BASE`` upwards
(``RUNNER_UID_COUNT`` of them). A uid is claimed by holding an exclusive
``flock`` on a file named after it, so several web worker processes never hand
out the same uid and a crashed worker's claims vanish with it. Before a uid is
used and after it is given back, every process running as that uid is killed:
whatever a sandbox leaves behind dies with it.
"""

import fcntl
import os
import subprocess
from pathlib import Path

from . import limits as limits_module

UID_BASE = limits_module.UID_BASE  # first uid used for sandboxes; no account needs to exist
UID_COUNT = limits_module.UID_COUNT  # uids available to all the server's processes together
# The checkout this code runs from: its var/ is the default home of the locks.
CHECKOUT_DIR = Path(__file__).resolve().parents[2]


class NoFreeUid(RuntimeError):
    """Every sandbox uid is in use."""


def lock_dir() -> str:
    """
    Where the lock files live, created 0700 if missing: ``RUNNER_LOCK_DIR``, or
    ``var/runner-locks`` in this checkout, so that two checkouts on one host never
    share run slots, uid claims or the database template.
    """
    path = limits_module.setting("LOCK_DIR") or str(CHECKOUT_DIR / "var" / "runner-locks")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def kill_all(uid: int) -> None:
    """Kill every process whose real uid is ``uid`` (root only)."""
    # kill(-1) as that uid reaches exactly its processes, in any PID namespace.
    # setpriv changes the uid after the exec, so that Python can start it with
    # vfork: ``user=`` would fork this whole web process (~3 ms with its GIL held,
    # measured on a gunicorn worker) on every run's clean-up.
    subprocess.run(
        ["/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
        + ["/usr/bin/kill", "-KILL", "-1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={},
        cwd="/",
        check=False,
    )


class UidLease:
    """An exclusive claim on one sandbox uid."""

    def __init__(self, uid: int, fd: int):
        self.uid = uid
        self.fd = fd

    @classmethod
    def acquire(cls) -> "UidLease":
        base = limits_module.setting("UID_BASE", UID_BASE)
        count = limits_module.setting("UID_COUNT", UID_COUNT)
        directory = lock_dir()
        start = os.getpid() % count
        for offset in range(count):
            uid = base + (start + offset) % count
            fd = os.open(os.path.join(directory, f"uid-{uid}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            kill_all(uid)
            return cls(uid, fd)
        raise NoFreeUid(f"all {count} sandbox uids from {base} are in use")

    def sweep(self) -> None:
        if self.fd >= 0:
            kill_all(self.uid)

    def release(self) -> None:
        if self.fd >= 0:
            kill_all(self.uid)
            os.close(self.fd)
            self.fd = -1
