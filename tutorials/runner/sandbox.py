"""
The command lines that start the harness in a sandbox, and the probe that
decides which kind of sandbox this host can offer.

``bwrap``
    bubblewrap with every namespace unshared (no network, own PID namespace, a
    user namespace in which no further user namespace can be created), a
    read-only view of /usr, the interpreter and the few packages the harness
    needs, each at a neutral path, and a small private /tmp. Nothing else of
    the host is visible: no /etc, no /home, no project directory, no database.
    A seccomp filter (``seccomp.py``) refuses the riskiest kernel interfaces.

    When the server runs as root, each sandbox runs as a dedicated unprivileged
    uid (see ``uids.py``) so that its process limit counts only its own
    processes and a sweep can kill whatever it left behind. Root's interpreter
    usually lives where that uid cannot look (/root/.pyenv), so a privileged
    bwrap first binds it at the neutral path, drops to the uid with setpriv and
    starts the real, unprivileged bwrap from there.

``fallback``
    a plain subprocess with rlimits (set by the harness), a clean environment,
    a throwaway working directory and, where allowed, ``unshare --net``. Not a
    sandbox: used only when bwrap cannot start AND the operator said so in words
    (``RUNNER_ALLOW_UNSANDBOXED=1``), and then said loudly (logs, ``manage.py
    check``, every run response). Otherwise runs are refused (``refusal()``).
"""

import functools
import json
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from . import limits as limits_module
from . import seccomp
from .uids import UidLease

logger = logging.getLogger("tutorials.runner")

RUNNER_DIR = Path(__file__).resolve().parent
HARNESS = RUNNER_DIR / "harness"  # the package run inside the sandbox

SANDBOX_PYTHON = "/python"
SANDBOX_PACKAGES = "/site-packages"
SANDBOX_HARNESS = "/sandbox"
SANDBOX_UID = 1000  # the uid the code sees inside its user namespace
DEFAULT_PACKAGES = limits_module.PACKAGES

FALLBACK_WARNING = (
    "This code ran WITHOUT the bubblewrap sandbox (fallback mode): it was limited "
    "by rlimits only and could see this machine's files."
)

INSTALL_HINT = (
    "Install bubblewrap to run code here (Debian/Ubuntu: sudo apt-get install bubblewrap; "
    "Fedora: sudo dnf install bubblewrap) and allow unprivileged user namespaces."
)

BOOTSTRAP = "import sys; sys.path.insert(0, sys.argv[2]); import harness; harness.main(sys.argv)"

# Debian's merged /usr: the top-level directories are symlinks into it.
USR_VIEW = (
    "--ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib "
    "--symlink usr/lib64 /lib64 --symlink usr/sbin /sbin"
)


@dataclass(frozen=True)
class Layout:
    """Where the interpreter, the packages and the harness are on the host."""

    python_home: str
    version: str
    site_packages: str
    packages: tuple[str, ...]

    @property
    def python(self) -> str:
        return f"{self.python_home}/bin/python{self.version}"

    @property
    def libpython(self) -> str:
        return f"{self.python_home}/lib/libpython{self.version}.so.1.0"

    @property
    def stdlib(self) -> str:
        return f"{self.python_home}/lib/python{self.version}"

    @property
    def sandbox_python(self) -> str:
        return f"{SANDBOX_PYTHON}/bin/python{self.version}"

    def binds(self) -> list[tuple[str, str]]:
        """(host path, sandbox path) pairs to bind read-only into the sandbox."""
        lib = f"{SANDBOX_PYTHON}/lib"
        pairs = [(self.python, self.sandbox_python), (self.stdlib, f"{lib}/python{self.version}")]
        if os.path.exists(self.libpython):
            pairs.append((self.libpython, f"{lib}/{os.path.basename(self.libpython)}"))
        pairs += [(f"{self.site_packages}/{p}", f"{SANDBOX_PACKAGES}/{p}") for p in self.packages]
        # The harness package, with its compiled files when there are any.
        pairs.append((str(HARNESS), f"{SANDBOX_HARNESS}/harness"))
        return pairs


@functools.cache
def layout() -> Layout:
    """The host's layout, found from the running interpreter and Django."""
    import django

    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    site_packages = str(Path(django.__file__).resolve().parent.parent)
    wanted = limits_module.setting("PACKAGES", DEFAULT_PACKAGES)
    packages = tuple(p for p in wanted if os.path.isdir(f"{site_packages}/{p}"))
    return Layout(os.path.realpath(sys.base_prefix), version, site_packages, packages)


def bwrap_path() -> str | None:
    """The bwrap binary to use; ``RUNNER_BWRAP = ""`` turns bubblewrap off."""
    configured = limits_module.setting("BWRAP", None)
    if configured is not None:
        return configured if configured and os.access(configured, os.X_OK) else None
    return shutil.which("bwrap")


def environment(home: str, python_lib: str) -> dict[str, str]:
    """The whole environment of the harness: nothing is inherited."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "LD_LIBRARY_PATH": python_lib,
        # Fixed hashing keeps the order of sets of strings the same run after run,
        # so expected outputs stay true.
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        # Per-thread malloc arenas reserve 64 MiB of address space each, which
        # would make RLIMIT_AS a limit on threads rather than on memory.
        "MALLOC_ARENA_MAX": "2",
    }


def harness_argv(python: str, harness_dir: str, config: dict) -> list[str]:
    """The interpreter command that runs the harness (-S: no site, -P: no cwd on path)."""
    return [python, "-S", "-s", "-B", "-P", "-c", BOOTSTRAP, json.dumps(config), harness_dir]


def _words(text: str) -> list[str]:
    """Command-line options written as one readable string."""
    return text.split()


def _bind_args(binds: list[tuple[str, str]]) -> list[str]:
    """--ro-bind arguments, creating world-readable parent directories first."""
    args: list[str] = []
    made: set[str] = set()
    for source, dest in binds:
        for parent in reversed(list(Path(dest).parents)[:-1]):
            if str(parent) not in made:
                made.add(str(parent))
                args += ["--perms", "0755", "--dir", str(parent)]
        args += ["--ro-bind", source, dest]
    return args


def _confining_bwrap(
    bwrap: str, binds, limits, argv: list[str], info_fd: int | None, seccomp_fd: int | None
) -> list[str]:
    """The unprivileged bwrap command that confines the harness."""
    site = f"{SANDBOX_PYTHON}/lib/python{layout().version}/site-packages"
    cmd = [bwrap] + (["--info-fd", str(info_fd)] if info_fd is not None else [])
    cmd += ["--seccomp", str(seccomp_fd)] if seccomp_fd is not None else []
    cmd += _words("--unshare-all --unshare-user --disable-userns --die-with-parent --new-session")
    cmd += _words(f"--uid {SANDBOX_UID} --gid {SANDBOX_UID} --cap-drop ALL --hostname sandbox")
    cmd += _words(USR_VIEW) + _bind_args(binds)
    # An empty tmpfs hides the interpreter's own site-packages (pip, setuptools...).
    cmd += ["--tmpfs", site, "--proc", "/proc", "--dev", "/dev"]
    cmd += ["--size", str(limits.tmp_size_bytes // 4), "--tmpfs", "/dev/shm"]
    cmd += ["--perms", "01777", "--size", str(limits.tmp_size_bytes), "--tmpfs", "/tmp"]
    # Nothing but /tmp and /dev/shm is writable, and both are small.
    cmd += _words("--remount-ro /dev --remount-ro / --chdir /tmp --clearenv")
    for key, value in environment("/tmp", f"{SANDBOX_PYTHON}/lib").items():
        cmd += ["--setenv", key, value]
    return cmd + ["--", *argv]


def bwrap_command(
    uid: int | None,
    limits,
    argv: list[str],
    info_fd: int | None = None,
    extra_binds: list[tuple[str, str]] = (),
    seccomp_fd: int | None = None,
    status_fd: int | None = None,
) -> list[str]:
    """
    The full command line of a bwrap sandbox running ``argv`` (which refers to
    the sandbox's paths).

    With ``uid`` (the server runs as root) a privileged bwrap stages the
    filesystem view and drops to ``uid`` before starting the confining one.
    Without it, bwrap writes the sandbox's init pid as JSON to ``info_fd``.
    ``extra_binds`` are more read-only (host path, sandbox path) pairs;
    ``seccomp_fd`` holds the filter of ``seccomp.py``. The confining bwrap writes
    its JSON status to ``status_fd``, ending with the sandboxed program's
    ``{"exit-code": N}`` as soon as it exits (before the namespaces are torn down);
    nothing inside the sandbox can write to that fd.
    """
    binds = layout().binds() + list(extra_binds)
    status = ["--json-status-fd", str(status_fd)] if status_fd is not None else []
    if uid is None:
        cmd = _confining_bwrap(bwrap_path(), binds, limits, argv, info_fd, seccomp_fd)
        return cmd[:1] + status + cmd[1:]
    staging = [bwrap_path(), "--unshare-pid", "--die-with-parent"]
    staging += _words(USR_VIEW) + _bind_args(binds)
    # The confining bwrap may mount its own /proc only where a fully visible proc
    # mount exists, and bwrap's --proc masks parts of it: bind the host's. Only
    # setpriv and the confining bwrap ever see this view, never the learner's code.
    staging += _words("--bind /proc /proc --dev /dev --tmpfs /tmp")
    staging += _words("--cap-add CAP_SETUID --cap-add CAP_SETGID --cap-add CAP_SETPCAP")
    staging += _words("--clearenv --setenv PATH /usr/bin:/bin --")
    staging += ["/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    staging += ["--inh-caps=-all", "--bounding-set=-all", "--"]
    same_paths = [(dest, dest) for _, dest in binds]
    confining = _confining_bwrap("/usr/bin/bwrap", same_paths, limits, argv, None, seccomp_fd)
    # The status fd passes through the staging bwrap and setpriv (trusted) to the
    # confining bwrap, which knows the harness's exit first.
    return staging + confining[:1] + status + confining[1:]


def fallback_command(config: dict) -> list[str]:
    """The unconfined command: the harness, in its own network namespace if allowed."""
    argv = harness_argv(os.path.realpath(layout().python), str(RUNNER_DIR), config)
    return ["unshare", "--net", "--", *argv] if _can_unshare_net() else argv


@functools.cache
def _can_unshare_net() -> bool:
    try:
        done = subprocess.run(["unshare", "--net", "--", "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def traversable_by_others(path: str) -> bool:
    """Whether another uid can reach and execute ``path`` (for the fallback's uid drop)."""
    current = Path(path)
    for part in [current, *current.parents]:
        try:
            if not part.stat().st_mode & 0o001:
                return False
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class Availability:
    """Which kind of sandbox runs will use here, and why not bwrap."""

    kind: str
    reason: str = ""
    seccomp: bool = False

    @property
    def sandboxed(self) -> bool:
        return self.kind == "bwrap"


def _probe_bwrap(uid: int | None, with_seccomp: bool) -> str:
    """Run a trivial program in a bwrap sandbox; return "" or why it failed."""
    if bwrap_path() is None:
        return "bubblewrap (bwrap) is not installed, or RUNNER_BWRAP points nowhere"
    argv = [layout().sandbox_python, "-S", "-c", "print('sandbox-ok')"]
    filter_fd = seccomp.filter_fd() if with_seccomp else None
    if with_seccomp and filter_fd is None:
        return "no seccomp filter for this architecture"
    try:
        cmd = bwrap_command(uid, limits_module.current(), argv, seccomp_fd=filter_fd)
        done = subprocess.run(
            cmd,
            capture_output=True,
            timeout=20,
            stdin=subprocess.DEVNULL,
            pass_fds=[filter_fd] if filter_fd is not None else [],
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bwrap could not be started: {exc}"
    finally:
        if filter_fd is not None:
            os.close(filter_fd)
    if done.returncode != 0 or b"sandbox-ok" not in done.stdout:
        detail = done.stderr.decode("utf-8", "replace").strip()[:300]
        return f"bwrap failed (exit {done.returncode}): {detail}"
    return ""


def allow_unsandboxed() -> bool:
    """
    RUNNER_ALLOW_UNSANDBOXED (setting, or the environment when there are no
    settings): the operator's explicit consent to run code without bubblewrap.
    Never implied by DEBUG.
    """
    from django.conf import settings

    if settings.configured:
        return bool(getattr(settings, "RUNNER_ALLOW_UNSANDBOXED", False))
    return os.environ.get("RUNNER_ALLOW_UNSANDBOXED", "").strip().lower() in {"1", "true", "yes"}


def refusal() -> str | None:
    """Why runs are refused here (bubblewrap missing, not overridden), or None."""
    state = availability()
    if state.sandboxed or allow_unsandboxed():
        return None
    return (
        "Running code is unavailable on this server: bubblewrap cannot start "
        f"({state.reason}). {INSTALL_HINT}"
    )


_availability: dict[tuple, Availability] = {}


def availability() -> Availability:
    """
    Whether bwrap works here (and with the seccomp filter), probed once per
    process and per RUNNER_BWRAP. A failure is logged loudly.
    """
    key = (bwrap_path(), os.geteuid())
    if key not in _availability:
        lease = UidLease.acquire() if os.geteuid() == 0 else None
        try:
            uid = lease.uid if lease else None
            reason = _probe_bwrap(uid, with_seccomp=True)
            filtered = not reason
            if reason and bwrap_path() is not None:
                without = _probe_bwrap(uid, with_seccomp=False)
                if not without:
                    logger.warning(
                        "Code runner: bwrap works but not with the seccomp filter (%s); "
                        "sandboxes run without it.",
                        reason,
                    )
                reason = without
        finally:
            if lease:
                lease.release()
        if reason:
            logger.error(
                "Code runner: bubblewrap is unavailable (%s). Runs are refused unless "
                "RUNNER_ALLOW_UNSANDBOXED=1, which runs learner code unconfined. %s",
                reason,
                INSTALL_HINT,
            )
            _availability[key] = Availability("fallback", reason)
        else:
            _availability[key] = Availability("bwrap", seccomp=filtered)
    return _availability[key]
