"""
One cgroup per run: memory and process count bounded for all of a run's processes
together, whatever they fork, and everything in it killed at the end.

Both hierarchies are supported: cgroup v2 (a production host; ``memory.max``,
``pids.max``, ``memory.oom.group``) and cgroup v1 with its ``memory`` and ``pids``
controllers mounted separately. Run cgroups are made under ``RUNNER_CGROUP_ROOT``
when it is set (a delegated v2 subtree, say), otherwise under the server's own
cgroup, in a ``tutorials-runner`` directory, one ``run-<pid>-<n>`` per sandbox.

``support()`` says whether this host allows it (and why not); without it the
sandbox falls back to the single-process bound described in docs/runner.md.
"""

import atexit
import contextlib
import functools
import itertools
import logging
import os
import signal
import time
from dataclasses import dataclass

from . import limits as limits_module

logger = logging.getLogger("tutorials.runner")

GROUP_NAME = "tutorials-runner"
_counter = itertools.count(1)


@dataclass(frozen=True)
class Support:
    """Where run cgroups go: v2 (one directory) or v1 (memory + pids), or why not."""

    version: int = 0  # 0: unavailable
    memory_dir: str = ""  # the parent of the run cgroups (v2: of both controllers)
    pids_dir: str = ""  # v1 only
    reason: str = ""

    @property
    def available(self) -> bool:
        return self.version in (1, 2)

    def describe(self) -> str:
        if not self.available:
            return f"no cgroup per run ({self.reason})"
        return f"cgroup v{self.version} per run"


def _mounts(mountinfo: str) -> list[tuple[str, str, str, str]]:
    """(root, mount point, fstype, super options) of each line of /proc/self/mountinfo."""
    found = []
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) >= 5 and len(tail) >= 3:
            found.append((fields[3], fields[4], tail[0], tail[2]))
    return found


def _own_paths(proc_cgroup: str) -> dict[str, str]:
    """Controller (or "" for v2) -> this process's cgroup path, from /proc/self/cgroup."""
    paths = {}
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(",") if parts[1] else [""]:
                paths[controller] = parts[2]
    return paths


def _writable_dir(path: str) -> bool:
    return os.path.isdir(path) and os.access(path, os.W_OK | os.X_OK)


def _prepare_v2(parent: str) -> str:
    """``parent/tutorials-runner`` with memory and pids delegated to its children; or ""."""
    group = os.path.join(parent, GROUP_NAME)
    try:
        controllers = _read(os.path.join(parent, "cgroup.controllers")).split()
        if not {"memory", "pids"} <= set(controllers):
            return ""
        if "memory" not in _read(os.path.join(parent, "cgroup.subtree_control")).split():
            _write(os.path.join(parent, "cgroup.subtree_control"), "+memory +pids")
        os.makedirs(group, exist_ok=True)
        _write(os.path.join(group, "cgroup.subtree_control"), "+memory +pids")
    except OSError:
        # Typically EBUSY: the parent has processes of its own ("no internal
        # processes" rule), so it cannot hand controllers down.
        return ""
    return group


def _prepare_v1(parent: str) -> str:
    if not _writable_dir(parent):
        return ""
    group = os.path.join(parent, GROUP_NAME)
    try:
        os.makedirs(group, exist_ok=True)
    except OSError:
        return ""
    return group


def probe(mountinfo: str, proc_cgroup: str, configured_root: str | None) -> Support:
    """Find where run cgroups can be made, from the texts of the two /proc files."""
    mounts = _mounts(mountinfo)
    own = _own_paths(proc_cgroup)
    v2_mount = next((m[1] for m in mounts if m[2] == "cgroup2"), None)
    if v2_mount:
        candidates = [configured_root] if configured_root else []
        if not configured_root and "" in own:
            here = os.path.normpath(v2_mount + own[""])
            candidates += [here, os.path.dirname(here)]
        for parent in candidates:
            if parent and _writable_dir(parent):
                group = _prepare_v2(parent)
                if group:
                    return Support(2, memory_dir=group)
    v1 = {}
    for controller in ("memory", "pids"):
        mount = next(
            (m for m in mounts if m[2] == "cgroup" and controller in m[3].split(",")), None
        )
        if mount is None:
            break
        relative = os.path.relpath(own.get(controller, "/"), mount[0])
        parent = os.path.normpath(os.path.join(mount[1], relative))
        group = _prepare_v1(parent)
        if not group:
            break
        v1[controller] = group
    if len(v1) == 2:
        return Support(1, memory_dir=v1["memory"], pids_dir=v1["pids"])
    if v2_mount:
        return Support(
            reason="cgroup v2 has no writable subtree with the memory and pids "
            "controllers (delegate one and set RUNNER_CGROUP_ROOT)"
        )
    return Support(reason="no writable cgroup memory and pids controllers")


@functools.cache
def _support(enabled: bool, root: str | None) -> Support:
    if not enabled:
        return Support(reason="turned off by RUNNER_CGROUPS = False")
    try:
        result = probe(_read("/proc/self/mountinfo"), _read("/proc/self/cgroup"), root)
    except OSError as exc:
        result = Support(reason=f"cgroups could not be read: {exc}")
    if result.available:
        _sweep_stale(result)
        atexit.register(_remove_groups, result)
    else:
        logger.warning(
            "Code runner: %s; each run is bounded as a single process instead "
            "(see docs/runner.md, 'What bounds a run').",
            result.describe(),
        )
    return result


def _sweep_stale(state: Support) -> None:
    """Kill and remove the run cgroups of server processes that died without cleaning up."""
    for parent in (state.memory_dir, state.pids_dir):
        with contextlib.suppress(OSError):
            for name in os.listdir(parent or "."):
                owner = name.split("-")[1] if name.startswith("run-") else ""
                if owner.isdigit() and not _alive(int(owner)):
                    stale = object.__new__(RunCgroup)
                    stale.version, stale.dirs = state.version, [os.path.join(parent, name)]
                    stale.remove()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_groups(state: Support) -> None:
    """At exit, remove the ``tutorials-runner`` directories if no run uses them."""
    for path in (state.memory_dir, state.pids_dir):
        with contextlib.suppress(OSError):
            if path:
                os.rmdir(path)  # fails while another process has runs in it


def support() -> Support:
    """Whether runs get their own cgroup here (probed once per setting)."""
    return _support(
        bool(limits_module.setting("CGROUPS", True)), limits_module.setting("CGROUP_ROOT")
    )


class RunCgroup:
    """The cgroup (v2) or cgroups (v1 memory + pids) of one sandbox."""

    def __init__(self, state: Support, memory_bytes: int, processes: int):
        self.version = state.version
        name = f"run-{os.getpid()}-{next(_counter)}"
        self.dirs = [os.path.join(state.memory_dir, name)]
        if self.version == 1:
            self.dirs.append(os.path.join(state.pids_dir, name))
        for path in self.dirs:
            with contextlib.suppress(FileExistsError):
                os.mkdir(path)  # a stale one of a dead process with the same pid
        try:
            self._set_limits(memory_bytes, processes)
        except OSError:
            self.remove()
            raise

    @classmethod
    def create(cls, limits) -> "RunCgroup | None":
        """A new run cgroup with ``limits``, or None where the host allows none."""
        state = support()
        if not state.available:
            return None
        try:
            try:
                return cls(state, limits.run_memory_bytes, limits.processes)
            except FileNotFoundError:
                # Another server process removed the empty group as it exited
                # (``_remove_groups``): probe again, which makes it again.
                _support.cache_clear()
                state = support()
                if not state.available:
                    return None
                return cls(state, limits.run_memory_bytes, limits.processes)
        except OSError as exc:
            logger.warning("Code runner: could not make a run cgroup: %s", exc)
            return None

    def _set_limits(self, memory_bytes: int, processes: int) -> None:
        memory = self.dirs[0]
        if self.version == 2:
            _write(f"{memory}/memory.max", str(memory_bytes))
            _write_if_present(f"{memory}/memory.swap.max", "0")
            # The OOM killer takes the whole run, not one of its processes.
            _write_if_present(f"{memory}/memory.oom.group", "1")
            _write(f"{memory}/pids.max", str(processes))
        else:
            _write(f"{memory}/memory.limit_in_bytes", str(memory_bytes))
            # With swap accounting, swap counts too (memsw >= the memory limit).
            _write_if_present(f"{memory}/memory.memsw.limit_in_bytes", str(memory_bytes))
            _write_if_present(f"{memory}/memory.swappiness", "0")
            _write(f"{self.dirs[1]}/pids.max", str(processes))

    def procs_files(self) -> list[str]:
        """The files the sandbox's first process writes its pid to, to join."""
        return [f"{path}/cgroup.procs" for path in self.dirs]

    def oom_kills(self) -> int:
        """How many times the kernel killed a process of the run for memory."""
        memory = self.dirs[0]
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        try:
            text = _read(f"{memory}/{name}")
        except OSError:
            return 0
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0  # v1 before Linux 4.13 has no counter: the exit signal tells

    def memory_peak(self) -> int | None:
        """The most memory the run's processes held together, in bytes (if known)."""
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        try:
            return int(_read(f"{self.dirs[0]}/{name}"))
        except (OSError, ValueError):
            return None

    def pids(self) -> list[int]:
        found: set[int] = set()
        for path in self.dirs:
            with contextlib.suppress(OSError, ValueError):
                found.update(int(line) for line in _read(f"{path}/cgroup.procs").split())
        return sorted(found)

    def kill(self, timeout: float = 2.0) -> bool:
        """SIGKILL every process of the run; True once none is left."""
        deadline = time.monotonic() + timeout
        if self.version == 2:
            with contextlib.suppress(OSError):
                _write(f"{self.dirs[0]}/cgroup.kill", "1")
        while True:
            left = self.pids()
            if not left:
                return True
            for pid in left:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)

    def remove(self) -> None:
        """Kill what is left and delete the cgroup(s) (idempotent)."""
        self.kill()
        for path in self.dirs:
            for _ in range(200):  # a killed process leaves its cgroup when reaped
                try:
                    os.rmdir(path)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.005)
            else:
                logger.warning("Code runner: could not remove the cgroup %s", path)
        self.dirs = []


def join_command(cgroup: RunCgroup | None, cmd: list[str]) -> list[str]:
    """
    ``cmd`` started inside ``cgroup``: a shell writes its own pid to the cgroup and
    execs ``cmd``, so nothing of the sandbox ever runs outside it.
    """
    if cgroup is None:
        return cmd
    script = " && ".join(f'echo $$ > "${index + 1}"' for index in range(len(cgroup.dirs)))
    files = cgroup.procs_files()
    shift = len(files)
    return ["/bin/sh", "-c", f'{script} && shift {shift} && exec "$@"', "sh", *files, *cmd]


def _read(path: str) -> str:
    with open(path) as handle:
        return handle.read()


def _write(path: str, value: str) -> None:
    with open(path, "w") as handle:
        handle.write(value)


def _write_if_present(path: str, value: str) -> None:
    with contextlib.suppress(FileNotFoundError, PermissionError):
        _write(path, value)
