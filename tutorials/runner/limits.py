"""
The runner's limits, with their units: the one place their defaults live.

Each can be overridden by a Django setting of the same name prefixed with
``RUNNER_`` (``RUNNER_WALL_TIMEOUT = 2``); ``current()`` reads them. The
settings module fills those settings from ``RUNNER_*`` environment variables
with ``from_environment()``, so production needs no settings file of its own.
"""

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace

KIB = 1024
MIB = 1024 * KIB

CODE_MAX_BYTES = 20 * KIB  # bytes of UTF-8 source accepted by the endpoint
OUTPUT_MAX_BYTES = 64 * KIB  # bytes of stdout + stderr kept from one run
WALL_TIMEOUT = 5.0  # seconds from sending the code to killing the sandbox
CPU_SECONDS = 3  # seconds of CPU time (SIGXCPU, then SIGKILL one second later)
MEMORY_BYTES = 768 * MIB  # bytes of address space per process (RLIMIT_AS)
RUN_MEMORY_BYTES = 512 * MIB  # bytes of memory for all of a run's processes together
FILE_SIZE_BYTES = 4 * MIB  # bytes, largest file the code may write (RLIMIT_FSIZE)
TMP_SIZE_BYTES = 16 * MIB  # bytes, size of the sandbox's private /tmp
OPEN_FILES = 256  # file descriptors (RLIMIT_NOFILE)
PROCESSES = 48  # processes + threads of the sandbox (RLIMIT_NPROC, per user namespace)
STARTUP_TIMEOUT = 30.0  # seconds a new sandbox may take to import and set up Django
TRACE_MAX_EVENTS = 200  # signal sends recorded per run
TRACE_MAX_RECEIVERS = 30  # receivers recorded per send
TRACE_REPR_CHARS = 200  # characters kept of each repr() in the trace
CHANNEL_MAX_BYTES = 4 * MIB  # bytes read from the harness before giving up on it
TRACE_MAX_BYTES = 128 * KIB  # bytes of JSON the trace of one run may take
ANSWER_MAX_BYTES = 256 * KIB  # bytes of the whole JSON answer of one run

MAX_CONCURRENCY = 2  # runs at once per host (about the number of cores)
POOL_SIZE = 2  # warm sandboxes kept ready per process that runs code
RATE_LIMIT = 120  # runs per client per RATE_WINDOW
RATE_WINDOW = 60  # seconds
RETRY_AFTER = 2  # seconds, sent with a 429 when the whole site is saturated
NICE = 19  # niceness of every sandbox: runs only get the CPU pages leave over

# The queue (tutorials/runner/queues/): where runs wait, how long, how many.
QUEUE = "embedded"  # "embedded" (threads of the web processes) or "redis" (runner workers)
REDIS_URL = ""  # the "redis" queue's server; empty: CACHE_URL when that is redis://
CLIENT_QUEUE = 40  # runs one client may have waiting or running (a classroom behind one address)
QUEUE_LIMIT = 300  # runs waiting or running on the whole site before new ones get 429
QUEUE_TIMEOUT = 60.0  # seconds a run may wait for its turn; then it is answered "busy"
PRIORITY_LEVELS = 16  # a client's n-th waiting run waits at level min(n, LEVELS - 1)
ANSWER_WAIT = 0.25  # seconds the run request waits for a fast result before answering 202
POLL_INTERVAL = 0.25  # seconds the page waits between polls (a hint; it backs off to 1 s)
RESULT_TTL = 300  # seconds a result is kept for the page to fetch
HEARTBEAT = 1.0  # seconds between a runner worker's heartbeats ("redis" queue)
LOST_AFTER = 5  # seconds without a heartbeat before a worker's run is retried elsewhere

UID_BASE = 61000  # first uid used for sandboxes when the server runs as root
UID_COUNT = 64  # uids available to all the server's processes together
# None: the checkout's var/runner-locks (uids.lock_dir), so two checkouts on one
# host never share slots, uid claims or the database template.
LOCK_DIR = None
ALLOW_UNSANDBOXED = False  # True runs learner code WITHOUT bubblewrap: an operator's explicit word
CGROUPS = True  # a cgroup per run where the host allows it (docs/runner.md)
CGROUP_ROOT = None  # None: under the server's own cgroup; else a delegated directory
BWRAP = None  # None: bwrap from PATH; "" turns bubblewrap off
PACKAGES = ("django", "asgiref", "sqlparse")  # bound read-only into the sandbox


@dataclass(frozen=True)
class Limits:
    """The limits of one run, as handed to the sandbox."""

    code_max_bytes: int = CODE_MAX_BYTES
    output_max_bytes: int = OUTPUT_MAX_BYTES
    wall_timeout: float = WALL_TIMEOUT
    cpu_seconds: int = CPU_SECONDS
    memory_bytes: int = MEMORY_BYTES
    run_memory_bytes: int = RUN_MEMORY_BYTES
    file_size_bytes: int = FILE_SIZE_BYTES
    tmp_size_bytes: int = TMP_SIZE_BYTES
    open_files: int = OPEN_FILES
    processes: int = PROCESSES
    startup_timeout: float = STARTUP_TIMEOUT
    trace_max_events: int = TRACE_MAX_EVENTS
    trace_max_receivers: int = TRACE_MAX_RECEIVERS
    trace_repr_chars: int = TRACE_REPR_CHARS
    channel_max_bytes: int = CHANNEL_MAX_BYTES
    trace_max_bytes: int = TRACE_MAX_BYTES
    answer_max_bytes: int = ANSWER_MAX_BYTES

    def harness_config(self, contained: bool = True) -> dict:
        """
        The part of the limits the harness enforces itself. Not ``contained`` in a
        cgroup, the run is one process and its address space is the run's bound.
        """
        memory = self.memory_bytes if contained else min(self.memory_bytes, self.run_memory_bytes)
        return {
            "nice": get("NICE"),
            "limits": {
                "memory": memory,
                "file_size": self.file_size_bytes,
                "open_files": self.open_files,
                "processes": self.processes,
                "cpu": self.cpu_seconds,
                "output": self.output_max_bytes,
            },
            "trace": {
                "max_events": self.trace_max_events,
                "max_receivers": self.trace_max_receivers,
                "repr_limit": self.trace_repr_chars,
            },
        }


def current() -> Limits:
    """The limits in force: the defaults above, overridden by RUNNER_* settings."""
    limits = Limits()
    overrides = {}
    for field in fields(Limits):
        value = setting(field.name.upper())
        if value is not None:
            overrides[field.name] = value
    return replace(limits, **overrides) if overrides else limits


def setting(name: str, default=None):
    """
    ``settings.RUNNER_<name>`` when Django settings have it, else the environment
    variable ``RUNNER_<name>``, else ``default``.

    The runner also works without a settings module (the authors' CLI).
    """
    from django.conf import settings

    if settings.configured and hasattr(settings, f"RUNNER_{name}"):
        return getattr(settings, f"RUNNER_{name}")
    # No settings module (the authors' CLI), or a setting made after start-up: the
    # environment, parsed as config/settings.py parses it.
    # Only this one variable is read and parsed: setting() is on every run's path.
    if name not in DEFAULTS:
        return default
    return from_environment(os.environ, only=(name,)).get(f"RUNNER_{name}", default)


def get(name: str):
    """The setting ``name`` (e.g. "QUEUE_LIMIT") with this module's default."""
    return setting(name, globals()[name])


# Every RUNNER_* tunable and its default, by name without the prefix.
DEFAULTS: dict[str, object] = {
    "CODE_MAX_BYTES": CODE_MAX_BYTES,
    "OUTPUT_MAX_BYTES": OUTPUT_MAX_BYTES,
    "WALL_TIMEOUT": WALL_TIMEOUT,
    "CPU_SECONDS": CPU_SECONDS,
    "MEMORY_BYTES": MEMORY_BYTES,
    "FILE_SIZE_BYTES": FILE_SIZE_BYTES,
    "TMP_SIZE_BYTES": TMP_SIZE_BYTES,
    "OPEN_FILES": OPEN_FILES,
    "PROCESSES": PROCESSES,
    "STARTUP_TIMEOUT": STARTUP_TIMEOUT,
    "TRACE_MAX_EVENTS": TRACE_MAX_EVENTS,
    "TRACE_MAX_RECEIVERS": TRACE_MAX_RECEIVERS,
    "TRACE_REPR_CHARS": TRACE_REPR_CHARS,
    "CHANNEL_MAX_BYTES": CHANNEL_MAX_BYTES,
    "MAX_CONCURRENCY": MAX_CONCURRENCY,
    "POOL_SIZE": POOL_SIZE,
    "RATE_LIMIT": RATE_LIMIT,
    "RATE_WINDOW": RATE_WINDOW,
    "RETRY_AFTER": RETRY_AFTER,
    "NICE": NICE,
    "QUEUE": QUEUE,
    "REDIS_URL": REDIS_URL,
    "CLIENT_QUEUE": CLIENT_QUEUE,
    "QUEUE_LIMIT": QUEUE_LIMIT,
    "QUEUE_TIMEOUT": QUEUE_TIMEOUT,
    "PRIORITY_LEVELS": PRIORITY_LEVELS,
    "ANSWER_WAIT": ANSWER_WAIT,
    "POLL_INTERVAL": POLL_INTERVAL,
    "RESULT_TTL": RESULT_TTL,
    "HEARTBEAT": HEARTBEAT,
    "LOST_AFTER": LOST_AFTER,
    "UID_BASE": UID_BASE,
    "UID_COUNT": UID_COUNT,
    "LOCK_DIR": LOCK_DIR,
    "ALLOW_UNSANDBOXED": ALLOW_UNSANDBOXED,
    "CGROUPS": CGROUPS,
    "CGROUP_ROOT": CGROUP_ROOT,
    "RUN_MEMORY_BYTES": RUN_MEMORY_BYTES,
    "TRACE_MAX_BYTES": TRACE_MAX_BYTES,
    "ANSWER_MAX_BYTES": ANSWER_MAX_BYTES,
    "BWRAP": BWRAP,
    "PACKAGES": PACKAGES,
}

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _parse_bool(text: str) -> bool:
    if text.lower() in _TRUE | _FALSE:
        return text.lower() in _TRUE
    raise ValueError("expected 1/0, true/false, yes/no or on/off")


def _parse_list(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


# How an environment value becomes the setting; numbers follow their default's type.
_PARSERS: dict[str, Callable[[str], object]] = {
    "LOCK_DIR": str,
    "QUEUE": str,
    "REDIS_URL": str,
    "ALLOW_UNSANDBOXED": _parse_bool,
    "CGROUPS": _parse_bool,
    "CGROUP_ROOT": str,
    "BWRAP": str,
    "PACKAGES": _parse_list,
}


def from_environment(
    environ: Mapping[str, str], only: tuple[str, ...] | None = None
) -> dict[str, object]:
    """
    The ``RUNNER_*`` settings given in ``environ`` (e.g. ``os.environ``), parsed.

    Only variables that are set (and not empty, except ``RUNNER_BWRAP``, where
    empty means "no bubblewrap") are returned; the others keep the defaults
    above. A value that does not parse raises ``ImproperlyConfigured`` naming it.
    ``only`` limits the reading to those names (without the prefix).
    """
    from django.core.exceptions import ImproperlyConfigured

    found: dict[str, object] = {}
    for name in only or DEFAULTS:
        default = DEFAULTS[name]
        text = environ.get(f"RUNNER_{name}")
        if text is None or (text.strip() == "" and name != "BWRAP"):
            continue
        parse = _PARSERS.get(name) or type(default)
        try:
            found[f"RUNNER_{name}"] = parse(text.strip())
        except ValueError as error:
            raise ImproperlyConfigured(
                f"RUNNER_{name}={text!r} is not valid ({error or 'expected a number'})."
            ) from None
    return found
