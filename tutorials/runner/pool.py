"""
Warm sandboxes and the host-wide limit on concurrent runs.

Starting a sandbox costs ~300 ms (importing Django, migrating the auth tables),
so each web worker keeps ``RUNNER_POOL_SIZE`` sandboxes started and waiting for
their code. A sandbox serves exactly one run: ``take()`` hands it out and a
background thread starts its replacement.

At most ``RUNNER_MAX_CONCURRENCY`` runs go on at once on the host, whatever the
number of processes: a run holds an exclusive ``flock`` on one of that many slot
files. The queue's dispatchers (tutorials/runner/queues/) take a slot with
``slots.hold()`` before they pick the next run, and ``run()`` uses it; a direct
caller of ``run()`` waits for a free slot itself, at most ``RUNNER_QUEUE_TIMEOUT``,
and then gives up with ``Busy``.
"""

import atexit
import contextlib
import fcntl
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable

from .. import metrics
from . import check_phase
from . import limits as limits_module
from .process import Sandbox
from .result import STOP_ERROR, RunResult
from .sandbox import availability, refusal
from .uids import lock_dir

logger = logging.getLogger("tutorials.runner")


class Busy(Exception):
    """Too many runs are going on; try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"the code runner is busy; retry in {retry_after} s")
        self.retry_after = retry_after


class SandboxUnavailable(Exception):
    """bwrap cannot run here and the operator has not allowed runs without it."""


def require_sandbox() -> bool:
    """Whether runs need bubblewrap: always, unless RUNNER_ALLOW_UNSANDBOXED says otherwise."""
    from .sandbox import allow_unsandboxed

    return not allow_unsandboxed()


class WarmPool:
    """Sandboxes started ahead of time, each handed out once."""

    def __init__(self, size: int, limits, kind: str):
        self.size = size
        self.limits = limits
        self.kind = kind
        self.ready: deque[Sandbox] = deque()
        self.starting = 0
        self.closed = False
        self.condition = threading.Condition()
        self.thread = threading.Thread(target=self._fill, name="runner-pool", daemon=True)
        if size > 0:
            self.thread.start()

    def take(self) -> Sandbox | None:
        """A ready sandbox, or None when none is ready yet (start a cold one)."""
        with self.condition:
            while self.ready:
                sandbox = self.ready.popleft()
                metrics.RUNNER_POOL_SIZE.dec()
                self.condition.notify()
                if sandbox.proc is not None and sandbox.proc.poll() is None:
                    return sandbox
                sandbox.close()
            self.condition.notify()
        return None

    def _fill(self) -> None:
        while True:
            with self.condition:
                while not self.closed and len(self.ready) + self.starting >= self.size:
                    self.condition.wait()
                if self.closed:
                    return
                self.starting += 1
            sandbox = None
            try:
                sandbox = Sandbox(self.limits, self.kind).start()
                ok = sandbox.wait_ready()
            except Exception:
                logger.exception("Code runner: could not start a warm sandbox")
                ok = False
            with self.condition:
                self.starting -= 1
                if ok and not self.closed:
                    self.ready.append(sandbox)
                    metrics.RUNNER_POOL_SIZE.inc()
                    sandbox = None
            if sandbox is not None:
                logger.warning("Code runner: a warm sandbox failed: %s", sandbox.startup_error)
                sandbox.close()
                time.sleep(1)  # do not spin when sandboxes cannot start

    def close(self) -> None:
        with self.condition:
            self.closed = True
            ready, self.ready = list(self.ready), deque()
            metrics.RUNNER_POOL_SIZE.dec(len(ready))
            self.condition.notify_all()
        for sandbox in ready:
            sandbox.close()


_pool: WarmPool | None = None
_pool_key: tuple | None = None
_pool_lock = threading.Lock()


def get_pool() -> WarmPool:
    """This process's pool, rebuilt when the limits or the sandbox kind change."""
    global _pool, _pool_key
    limits = limits_module.current()
    size = limits_module.setting("POOL_SIZE", limits_module.POOL_SIZE)
    key = (os.getpid(), limits, availability().kind, size)
    with _pool_lock:
        if _pool_key != key:
            if _pool is not None and _pool_key[0] == os.getpid():
                _pool.close()
            _pool = WarmPool(size, limits, availability().kind)
            _pool_key = key
        return _pool


@atexit.register
def _close_pool() -> None:
    if _pool is not None and _pool_key and _pool_key[0] == os.getpid():
        _pool.close()


class _Slots:
    """The host-wide run slots (flock'ed files), and the one a dispatcher thread holds."""

    def __init__(self):
        self.local = threading.local()

    @contextlib.contextmanager
    def hold(self, wanted: Callable[[], bool] = lambda: True, index: int | None = None):
        """
        Wait for a free slot while ``wanted()`` and hold it in this thread for the
        block; ``run()`` in the block uses it. Yields False if no longer wanted.

        With ``index``, wait for that slot only, blocked in ``flock`` (no polling):
        a process with one thread per slot gets whichever frees first.
        """
        fd = None
        if index is not None and wanted():
            fd = self._open(index)
            fcntl.flock(fd, fcntl.LOCK_EX)
        while fd is None and wanted():
            fd = self._try(limits_module.get("MAX_CONCURRENCY"))
            if fd is None:
                time.sleep(0.01)
        if fd is None:
            yield False
            return
        self.local.fd = fd
        try:
            yield True
        finally:
            self.local.fd = None
            os.close(fd)

    def acquire(self) -> int:
        """Claim a slot (a duplicate of the held one, if any); return its fd.

        A slot is free again once every fd of it is closed: the held one at the end
        of ``hold()``, a duplicate once its run's sandbox is cleaned up.
        """
        held = getattr(self.local, "fd", None)
        if held is not None:
            return os.dup(held)
        count = limits_module.get("MAX_CONCURRENCY")
        deadline = time.monotonic() + limits_module.get("QUEUE_TIMEOUT")
        while True:
            fd = self._try(count)
            if fd is not None:
                return fd
            if time.monotonic() >= deadline:
                raise Busy(limits_module.get("RETRY_AFTER"))
            time.sleep(0.01)

    @staticmethod
    def _open(index: int) -> int:
        return os.open(os.path.join(lock_dir(), f"slot-{index}.lock"), os.O_RDWR | os.O_CREAT)

    def _try(self, count: int) -> int | None:
        for index in range(count):
            fd = self._open(index)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            return fd
        return None

    @staticmethod
    def release(fd: int) -> None:
        os.close(fd)  # closing the last fd of the open file drops the flock


slots = _Slots()


def run(code: str, checks: list[dict] | None = None) -> RunResult:
    """
    Run ``code`` in a warm sandbox (or a cold one if none is ready) within the
    host's concurrency limit, then an exercise's ``checks`` (``[{"name", "source"}]``,
    looked up by the server, see ``tutorials.exercises.prepare``) if given.
    Raises ``Busy`` or ``SandboxUnavailable``.
    """
    status = availability()
    if not status.sandboxed and require_sandbox():
        raise SandboxUnavailable(refusal())
    pool = get_pool()
    fd = slots.acquire()
    sandbox = None
    try:
        sandbox = pool.take()
        warm = sandbox is not None
        if sandbox is None:
            sandbox = Sandbox(pool.limits, pool.kind).start()
        result = sandbox.run(code, close=False, checks=checks)
        result.warm = warm
        return result
    except Exception as exc:
        logger.exception("Code runner: the run failed")
        result = RunResult(sandbox=status.kind, stopped=STOP_ERROR, error=str(exc))
        if checks:
            result.checks = check_phase.results(checks, None, "Not run: the sandbox failed.")
        return result
    finally:
        # Killing what is left and sweeping the uid takes ~10 ms: do it after the
        # answer has gone out, still holding the slot.
        threading.Thread(target=_clean_up, args=(sandbox, fd), daemon=True).start()


def _clean_up(sandbox: Sandbox | None, fd: int) -> None:
    try:
        if sandbox is not None:
            sandbox.close()
    finally:
        slots.release(fd)
