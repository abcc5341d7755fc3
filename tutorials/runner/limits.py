"""
The runner's limits and settings, with their units: the one place for their defaults.

Each can be overridden by a Django setting of the same name prefixed with
``RUNNER_`` (``RUNNER_WALL_TIMEOUT = 2``) or, failing that, by an environment
variable of that name (``RUNNER_WALL_TIMEOUT=2``); ``current()`` and ``setting()``
read them.
"""

import os
from dataclasses import dataclass, fields, replace

KIB = 1024
MIB = 1024 * KIB

CODE_MAX_BYTES = 20 * KIB  # bytes of UTF-8 source accepted by the endpoint
OUTPUT_MAX_BYTES = 64 * KIB  # bytes of stdout + stderr kept from one run
WALL_TIMEOUT = 5.0  # seconds from sending the code to killing the sandbox
CPU_SECONDS = 3  # seconds of CPU time (SIGXCPU, then SIGKILL one second later)
MEMORY_BYTES = 768 * MIB  # bytes of address space (RLIMIT_AS)
FILE_SIZE_BYTES = 4 * MIB  # bytes, largest file the code may write (RLIMIT_FSIZE)
TMP_SIZE_BYTES = 16 * MIB  # bytes, size of the sandbox's private /tmp
OPEN_FILES = 256  # file descriptors (RLIMIT_NOFILE)
PROCESSES = 48  # processes + threads of the sandbox (RLIMIT_NPROC, per user namespace)
STARTUP_TIMEOUT = 30.0  # seconds a new sandbox may take to import and set up Django
TRACE_MAX_EVENTS = 200  # signal sends recorded per run
TRACE_MAX_RECEIVERS = 30  # receivers recorded per send
TRACE_REPR_CHARS = 200  # characters kept of each repr() in the trace
CHANNEL_MAX_BYTES = 4 * MIB  # bytes read from the harness before giving up on it

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


@dataclass(frozen=True)
class Limits:
    """The limits of one run, as handed to the sandbox."""

    code_max_bytes: int = CODE_MAX_BYTES
    output_max_bytes: int = OUTPUT_MAX_BYTES
    wall_timeout: float = WALL_TIMEOUT
    cpu_seconds: int = CPU_SECONDS
    memory_bytes: int = MEMORY_BYTES
    file_size_bytes: int = FILE_SIZE_BYTES
    tmp_size_bytes: int = TMP_SIZE_BYTES
    open_files: int = OPEN_FILES
    processes: int = PROCESSES
    startup_timeout: float = STARTUP_TIMEOUT
    trace_max_events: int = TRACE_MAX_EVENTS
    trace_max_receivers: int = TRACE_MAX_RECEIVERS
    trace_repr_chars: int = TRACE_REPR_CHARS
    channel_max_bytes: int = CHANNEL_MAX_BYTES

    def harness_config(self) -> dict:
        """The part of the limits the harness enforces itself."""
        return {
            "nice": get("NICE"),
            "limits": {
                "memory": self.memory_bytes,
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
        value = setting(field.name.upper(), field.default)
        if value is not None and value != field.default:
            overrides[field.name] = value
    return replace(limits, **overrides) if overrides else limits


def setting(name: str, default=None):
    """
    ``settings.RUNNER_<name>`` when Django settings are configured and have it, else
    the environment variable ``RUNNER_<name>`` (converted to the type of
    ``default``), else ``default``.

    The runner also works without a settings module (the authors' CLI).
    """
    from django.conf import settings

    if settings.configured and hasattr(settings, f"RUNNER_{name}"):
        return getattr(settings, f"RUNNER_{name}")
    return from_environment(name, default)


def from_environment(name: str, default=None):
    """``RUNNER_<name>`` from the environment, typed like ``default``; else ``default``."""
    raw = os.environ.get(f"RUNNER_{name}")
    if raw is None or raw == "":
        return default
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int | float):
        try:
            return type(default)(raw)
        except ValueError:
            raise ValueError(f"RUNNER_{name}={raw!r} is not a number") from None
    return raw


def get(name: str):
    """The setting ``name`` (e.g. "QUEUE_LIMIT") with this module's default."""
    return setting(name, globals()[name])
