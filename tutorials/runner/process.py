"""
One sandboxed harness process: started ahead of its run, fed one piece of code,
read until it reports (or a limit is hit), then killed with all it started.

The harness sets its own rlimits before importing anything (``harness/``);
this side puts the sandbox in a cgroup of its own (``cgroups.py``), enforces the
wall-clock timeout, the memory bound of the run and the output cap, and turns the
harness's messages and exit status into a ``RunResult``.

The learner's code runs in the harness's process and can write to the channel
too, so a message is a claim, never the truth: the exit status is the process's
own, "done" does not end the run (the process's exit does), and output and trace
are validated and capped here (``_OutputBudget``, ``TraceBuilder``,
``RunResult.fit``) whatever arrives.

An exercise's checks (``harness/checks.py``) travel on a pipe of their own, sent
only once the harness says "checks_ready" after the learner's code is done; from
then on only the check report counts (``_ChecksState``).
"""

import contextlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import time

from . import cgroups, check_phase, dbtemplate, seccomp
from . import limits as limits_module
from .result import (
    STOP_CPU,
    STOP_ERROR,
    STOP_MEMORY,
    STOP_MESSAGES,
    STOP_OUTPUT,
    STOP_SIGNAL,
    STOP_WALL,
    RunResult,
    TraceBuilder,
)
from .sandbox import (
    FALLBACK_WARNING,
    SANDBOX_HARNESS,
    SANDBOX_PACKAGES,
    allow_unsandboxed,
    availability,
    bwrap_command,
    environment,
    fallback_command,
    harness_argv,
    layout,
    refusal,
    traversable_by_others,
)
from .uids import UidLease

READ_SIZE = 65536  # bytes per read from a pipe
POLL_SECONDS = 0.05  # between checks of the process and its cgroup
ENDING_POLL_SECONDS = 0.002  # once the harness said "done", until it exits


class Sandbox:
    """
    A harness in a sandbox, serving exactly one run.

        sandbox = Sandbox().start()   # spawn; Django starts importing
        sandbox.wait_ready()          # optional: block until set up
        result = sandbox.run(code)    # then it is gone
    """

    def __init__(self, limits=None, kind: str | None = None):
        self.limits = limits or limits_module.current()
        self.kind = kind or availability().kind
        self.lease: UidLease | None = None
        self.proc: subprocess.Popen | None = None
        self.workdir: str | None = None
        self.ready = False
        self.startup_error = ""
        self.child_pid = 0  # the sandbox's init, when bwrap reports it
        self.cgroup: cgroups.RunCgroup | None = None
        self._killed_for_memory = False  # the kernel killed a process of the run
        self._channel_bytes = 0
        self.cpu_seconds = 0.0
        self._channel_fd = -1
        self._info_fd = -1
        self._status_fd = -1  # bwrap's JSON status: the exit code, unforgeable
        self._status_buffer = b""
        self.exit_code: int | None = None  # as bwrap reported it, before the teardown
        self._checks_fd = -1  # write end of the exercise checks pipe (harness/checks.py)
        self._checks = _ChecksState(None)
        self._buffer = b""
        self._early: list[dict] = []

    # Starting

    def start(self) -> "Sandbox":
        """Spawn the sandbox; Django gets set up in it while the caller goes on."""
        if self.kind != "bwrap" and not allow_unsandboxed():
            self.startup_error = refusal() or "running without bubblewrap is not allowed"
            return self
        self.cgroup = cgroups.RunCgroup.create(self.limits)
        config = self.limits.harness_config(contained=self.cgroup is not None)
        if os.geteuid() == 0:
            self.lease = UidLease.acquire()
        read_fd, write_fd = os.pipe()
        config["channel_fd"] = write_fd
        pass_fds = [write_fd]  # closed here once the child has them
        checks_read, self._checks_fd = os.pipe()
        config["checks_fd"] = checks_read
        pass_fds.append(checks_read)
        info_write = -1
        env = {"PATH": "/usr/bin:/bin"}
        cwd = user = None
        template = dbtemplate.path()
        if self.kind == "bwrap":
            config["paths"] = [SANDBOX_PACKAGES]
            extra = [(template, dbtemplate.SANDBOX_PATH)] if template else []
            config["db_template"] = dbtemplate.SANDBOX_PATH if template else None
            argv = harness_argv(layout().sandbox_python, SANDBOX_HARNESS, config)
            if self.lease is None:
                self._info_fd, info_write = os.pipe()
                pass_fds.append(info_write)
            uid = self.lease.uid if self.lease else None
            info = info_write if info_write >= 0 else None
            single = self.cgroup is None  # then one process bounds the run's memory
            filter_fd = seccomp.filter_fd(single) if availability().seccomp else None
            if filter_fd is not None:
                pass_fds.append(filter_fd)
            self._status_fd, status_write = os.pipe()
            pass_fds.append(status_write)
            cmd = bwrap_command(
                uid, self.limits, argv, info, extra, filter_fd, status_fd=status_write
            )
        else:
            config["paths"] = [layout().site_packages]
            config["db_template"] = template
            self.workdir = cwd = tempfile.mkdtemp(prefix="runner-")
            env = environment(self.workdir, os.path.dirname(layout().libpython))
            if self.lease and traversable_by_others(os.path.realpath(layout().python)):
                user = self.lease.uid
                os.chown(self.workdir, user, user)
            cmd = fallback_command(config)
        cmd = cgroups.join_command(self.cgroup, cmd)
        try:
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=pass_fds,
                start_new_session=True,
                env=env,
                cwd=cwd,
                user=user,
                group=user,
                extra_groups=[] if user is not None else None,
            )
        except OSError as exc:
            self.startup_error = f"could not start the sandbox: {exc}"
            os.close(read_fd)
            self.close()
            return self
        finally:
            for fd in pass_fds:
                os.close(fd)
        self._channel_fd = read_fd
        for fd in (read_fd, self.proc.stdout.fileno(), self.proc.stderr.fileno()):
            os.set_blocking(fd, False)
        return self

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until the harness is set up; False if it died or took too long."""
        if self.ready or self.proc is None:
            return self.ready
        deadline = time.monotonic() + (timeout or self.limits.startup_timeout)
        noise = bytearray()
        with selectors.DefaultSelector() as selector:
            selector.register(self._channel_fd, selectors.EVENT_READ, "channel")
            selector.register(self.proc.stdout, selectors.EVENT_READ, "raw")
            selector.register(self.proc.stderr, selectors.EVENT_READ, "raw")
            while not self.ready:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.startup_error = "the sandbox took too long to start"
                    break
                for key, _ in selector.select(remaining):
                    data = _read(key.fileobj)
                    if data is None:
                        continue
                    if key.data == "raw":
                        noise += data[: max(0, 4096 - len(noise))]
                        if not data:
                            selector.unregister(key.fileobj)
                        continue
                    if not data:
                        detail = noise.decode("utf-8", "replace").strip()[-600:]
                        self.startup_error = f"the sandbox exited while starting: {detail}"
                        self.kill()
                        return False
                    for message in self._messages(data):
                        if message.get("t") == "ready":
                            self.ready = True
                        else:
                            self._early.append(message)
        if not self.ready:
            self.kill()
            return False
        self._read_info()
        return True

    def _read_info(self) -> None:
        """Learn the pid of the sandbox's init from bwrap's --info-fd, if any."""
        if self._info_fd < 0:
            return
        try:
            info = json.loads(os.read(self._info_fd, 4096) or b"{}")
            self.child_pid = int(info.get("child-pid", 0))
        except (OSError, ValueError, TypeError, AttributeError):
            self.child_pid = 0
        os.close(self._info_fd)
        self._info_fd = -1

    # Running

    def run(self, code: str, close: bool = True, checks: list[dict] | None = None) -> RunResult:
        """
        Send ``code`` to the harness and collect the result; then, with ``checks``
        (an exercise's, ``[{"name", "source"}]``), run them after the code and put
        their outcome in ``result.checks``.

        With ``close=False`` the caller must call ``close()`` (the pool does so in
        the background, after the answer has gone out). A sandbox that did not
        report a result is closed here anyway, to learn how it ended.
        """
        result = RunResult(sandbox=self.kind)
        if self.kind != "bwrap":
            result.warning = FALLBACK_WARNING
        if not self.wait_ready():
            result.error = self.startup_error or "the sandbox did not start"
            result.stopped = STOP_ERROR
            self.close()
            if checks:
                result.checks = _ChecksState(checks).outcome(result)
            return result
        self._checks = _ChecksState(checks)
        if not checks:
            self._close_checks_pipe()  # the harness sees EOF: no check phase
        trace = TraceBuilder(
            self.limits.trace_max_events,
            self.limits.trace_max_receivers,
            self.limits.trace_repr_chars,
            self.limits.trace_max_bytes,
        )
        start = time.monotonic()
        try:
            self._exchange(code.encode("utf-8", "replace"), start, result, trace)
        finally:
            result.duration_ms = (time.monotonic() - start) * 1000
            if self.cgroup is not None:
                result.memory_peak_bytes = self.cgroup.memory_peak()
            if close or not self._exited():
                self.close()
            self._interpret_exit(result)
        result.trace = trace.build()
        result.trace_truncated = result.trace_truncated or trace.truncated
        if checks:
            result.checks = self._checks.outcome(result)
        result.fit(self.limits.answer_max_bytes)
        return result

    def _close_checks_pipe(self) -> None:
        if self._checks_fd >= 0:
            os.close(self._checks_fd)
            self._checks_fd = -1

    def _start_checks(self, selector, output) -> None:
        """
        The learner's code is done: keep what it wrote to fds 1 and 2 until now,
        stop listening to them (and, in ``_handle``, to output and trace messages),
        and only then send the checks, so nothing the checks contain can reach the
        answer.
        """
        for name, stream in (("stdout", self.proc.stdout), ("stderr", self.proc.stderr)):
            while (data := _read(stream)) and not output.full:
                output.add(name, data)
            with contextlib.suppress(KeyError, ValueError):
                selector.unregister(stream)
        self._checks.started = True
        if self._checks_fd >= 0:
            os.set_blocking(self._checks_fd, False)
            selector.register(self._checks_fd, selectors.EVENT_WRITE, "checks")

    def _exchange(self, payload: bytes, start: float, result: RunResult, trace) -> None:
        """
        Feed the code, collect output and trace until the harness process exits
        or a limit stops it (then ``result.stopped`` says which).
        """
        deadline = start + self.limits.wall_timeout
        output = _OutputBudget(result, self.limits.output_max_bytes)
        stdin = self.proc.stdin
        os.set_blocking(stdin.fileno(), False)
        unsent = memoryview(payload)
        messages, self._early = self._early, []
        self._channel_bytes = 0
        ending = False
        with selectors.DefaultSelector() as selector:
            selector.register(self._channel_fd, selectors.EVENT_READ, "channel")
            selector.register(self.proc.stdout, selectors.EVENT_READ, "stdout")
            selector.register(self.proc.stderr, selectors.EVENT_READ, "stderr")
            selector.register(stdin, selectors.EVENT_WRITE, "stdin")
            if self._status_fd >= 0:
                os.set_blocking(self._status_fd, False)
                selector.register(self._status_fd, selectors.EVENT_READ, "status")
            while True:
                for message in messages:
                    ending = self._handle(message, result, trace, output) or ending
                    if self._checks.should_start(message, code_sent=not unsent):
                        self._start_checks(selector, output)
                messages = []
                if output.full:
                    return
                if self.cgroup is not None and self.cgroup.oom_kills():
                    result.stopped = STOP_MEMORY
                    return
                self._wait(0)
                if self._exited():
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    result.stopped = STOP_WALL
                    return
                poll = ENDING_POLL_SECONDS if ending else POLL_SECONDS
                for key, _ in selector.select(min(remaining, poll)):
                    if key.data == "stdin":
                        unsent = self._feed(stdin, unsent, selector)
                    elif key.data == "checks":
                        if self._checks.feed(self._checks_fd):
                            selector.unregister(self._checks_fd)
                            self._close_checks_pipe()
                    elif key.data == "status":
                        self._read_status(selector)
                    else:
                        self._receive(key, selector, messages, output)
            # The process is gone: what it wrote just before the end.
            for key in list(selector.get_map().values()):
                if key.data not in ("stdin", "status", "checks"):
                    for _ in range(64):
                        if not self._receive(key, selector, messages, output):
                            break
            for message in messages:
                self._handle(message, result, trace, output)

    def _exited(self) -> bool:
        return self.proc.returncode is not None or self.exit_code is not None

    def _read_status(self, selector) -> None:
        """bwrap's status lines; the last one carries the exit code of the harness."""
        data = _read(self._status_fd)
        if not data:
            if data is not None:
                selector.unregister(self._status_fd)
            return
        self._status_buffer = (self._status_buffer + data)[-4096:]
        *lines, self._status_buffer = self._status_buffer.split(b"\n")
        for line in lines:
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                code = json.loads(line).get("exit-code")
                if isinstance(code, int):
                    self.exit_code = code

    def _receive(self, key, selector, messages: list, output) -> bool:
        """Read once from a channel or output pipe; False when nothing more is there."""
        data = _read(key.fileobj)
        if not data:
            if data is not None:
                selector.unregister(key.fileobj)
            return False
        if key.data == "channel":
            self._channel_bytes += len(data)
            if self._channel_bytes > self.limits.channel_max_bytes:
                output.overflow()
            messages.extend(self._messages(data))
        else:
            output.add(key.data, data)
        return True

    def _feed(self, stdin, unsent: memoryview, selector) -> memoryview:
        """Write what the pipe takes of the code; close stdin once it is all sent."""
        try:
            unsent = unsent[os.write(stdin.fileno(), unsent) :]
        except BlockingIOError:
            return unsent
        except BrokenPipeError:
            unsent = unsent[len(unsent) :]
        if not unsent:
            selector.unregister(stdin)
            stdin.close()
        return unsent

    def _handle(self, message: dict, result: RunResult, trace, output) -> bool:
        """
        Apply one channel message; True for "done", which only announces the end:
        its claims may shorten what the run reports (output cut, memory), never
        make a run look better (the exit status is the process's own).
        """
        kind = message.get("t")
        if self._checks.started and kind != "done":
            # Whatever comes during the checks is theirs: only their report is kept.
            self._checks.receive(message)
            return False
        if kind == "out":
            stream = "stderr" if message.get("s") == "stderr" else "stdout"
            text = message.get("d")
            if isinstance(text, str):
                output.add(stream, text.encode("utf-8", "replace"))
        elif kind in ("sig", "rcv", "end"):
            trace.add(message)
        elif kind == "done":
            if message.get("stopped") in (STOP_OUTPUT, STOP_MEMORY) and result.stopped is None:
                result.stopped = message["stopped"]
                result.truncated = result.truncated or result.stopped == STOP_OUTPUT
            result.trace_truncated = result.trace_truncated or bool(message.get("trace_dropped"))
            return True
        return False

    def _interpret_exit(self, result: RunResult) -> None:
        """How the sandbox ended: its exit status, or a signal, CPU, memory, an error."""
        code = self.exit_code
        if code is None and self.proc is not None:
            code = self.proc.returncode
        stopped_by_us = result.stopped in (STOP_WALL, STOP_OUTPUT, STOP_MEMORY)
        if code is not None and not stopped_by_us:
            if code >= 128 and code - 128 < signal.NSIG:
                result.signal = signal.Signals(code - 128).name
            elif code < 0:
                result.signal = signal.Signals(-code).name
            elif result.stopped is None:
                result.exit_status = code
        if result.stopped is None and self._out_of_memory():
            result.stopped = STOP_MEMORY
        if result.stopped is None and result.signal:
            # The hard RLIMIT_CPU kills with SIGKILL. The tree's CPU time is not
            # always known (bwrap does not reap everything), but a SIGKILL that did
            # not come from us after at least the CPU budget of running is that.
            spent = max(self.cpu_seconds, result.duration_ms / 1000)
            used_cpu = spent >= self.limits.cpu_seconds * 0.9
            if result.signal == "SIGXCPU" or (result.signal == "SIGKILL" and used_cpu):
                result.stopped = STOP_CPU
            else:
                result.stopped = STOP_SIGNAL
        if result.stopped is None and result.exit_status is None:
            result.stopped = STOP_ERROR
            result.error = "the sandbox ended without reporting a result"
        if result.stopped in (STOP_WALL, STOP_OUTPUT, STOP_ERROR, STOP_MEMORY):
            result.signal = None  # killed by us or the kernel; the signal says nothing more

    def _out_of_memory(self) -> bool:
        """Whether the kernel killed a process of the run for the run's memory bound."""
        if self.cgroup is not None and self.cgroup.oom_kills():
            self._killed_for_memory = True
        return self._killed_for_memory

    # Ending

    def _wait(self, timeout: float) -> None:
        """Reap the top process if it ended, keeping the CPU time of its tree."""
        if self.proc is None or self.proc.returncode is not None:
            return
        deadline = time.monotonic() + timeout
        while True:
            try:
                pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
            except ChildProcessError:
                self.proc.poll()
                return
            if pid:
                self.cpu_seconds = usage.ru_utime + usage.ru_stime
                self.proc.returncode = os.waitstatus_to_exitcode(status)
                return
            if time.monotonic() >= deadline:
                return
            time.sleep(0.002)

    def kill(self, sweep: bool = True) -> None:
        """
        Kill the sandbox and everything in it (idempotent); with ``sweep``, then
        every process of its uid too.

        The innermost processes die first so that each bwrap reaps its child and
        exits by itself; killing the outer bwrap first would orphan its children.
        """
        self._out_of_memory()  # learnt before the cgroup goes
        if self.proc is not None and self.proc.returncode is None:
            if self.cgroup is not None:
                self.cgroup.kill(timeout=0.5)
            if self.lease is not None:
                self.lease.sweep()
            elif self.child_pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.child_pid, signal.SIGKILL)
            self._wait(1.0)
            if self.proc.returncode is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self._wait(5)
        if self.lease is not None and sweep:
            self.lease.sweep()

    def close(self) -> None:
        """Kill the sandbox, reap it, give its uid back and delete its files and cgroup."""
        self.kill(sweep=False)  # the uid is swept once, as the lease is given back
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
        if self.proc is not None:
            for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                with contextlib.suppress(OSError):
                    stream.close()
        for attribute in ("_channel_fd", "_info_fd", "_status_fd", "_checks_fd"):
            fd = getattr(self, attribute)
            if fd >= 0:
                os.close(fd)
                setattr(self, attribute, -1)
        if self.lease is not None:
            self.lease.release()
            self.lease = None
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def _messages(self, data: bytes) -> list[dict]:
        """Complete JSON lines from the channel; malformed ones are dropped."""
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        messages = []
        for line in lines:
            with contextlib.suppress(ValueError):
                message = json.loads(line)
                if isinstance(message, dict):
                    messages.append(message)
        return messages


class _ChecksState:
    """
    Where one run is in its check phase, and what the harness reported.

    The learner's code shares the harness's process and can write to its channel,
    so the report is taken only when it can have come from the check phase: after
    a "checks_ready" that arrived once all the code was sent, after the checks were
    all written (the harness reads them to the end before running any), carrying
    the nonce that came with them; the first such report counts. The messages the
    learner reads are worded by ``check_phase`` from the checks the server holds.
    """

    def __init__(self, checks: list[dict] | None):
        self.checks = checks or []
        self.nonce = check_phase.new_nonce()
        payload = check_phase.encode(self.checks, self.nonce) if checks else b""
        self.unsent = memoryview(payload)
        self.started = False
        self.sent = False
        self.reported: object = None

    def should_start(self, message: dict, code_sent: bool) -> bool:
        """Whether ``message`` starts the check phase (the harness reads the
        whole code before running it, so a real "checks_ready" follows it)."""
        ready = message.get("t") == "checks_ready"
        return ready and bool(self.checks) and not self.started and code_sent

    def feed(self, fd: int) -> bool:
        """Write what the pipe takes of the checks; True once all is sent (or refused)."""
        try:
            self.unsent = self.unsent[os.write(fd, self.unsent) :]
        except BlockingIOError:
            return False
        except OSError:
            return True
        self.sent = not self.unsent
        return self.sent

    def receive(self, message: dict) -> None:
        ours = message.get("t") == "checks" and message.get("nonce") == self.nonce
        if ours and self.sent and self.reported is None:
            self.reported = message.get("results")

    def outcome(self, result: RunResult) -> list:
        not_run = None
        if result.stopped:
            not_run = f"Not run: {STOP_MESSAGES[result.stopped]}"
        elif result.exit_status not in (0, None):
            not_run = "Not run: your code raised an exception (see the output)."
        reported = self.reported if self.started else None
        return check_phase.results(self.checks, reported, not_run)


class _OutputBudget:
    """Adds output to a result until the byte limit, then marks it cut."""

    def __init__(self, result: RunResult, limit: int):
        self.result = result
        self.room = limit
        self.full = False

    def add(self, stream: str, data: bytes) -> None:
        if self.full:
            return
        if len(data) > self.room:
            data = data[: self.room]
            self.overflow()
        self.room -= len(data)
        self.result.add_output(stream, data.decode("utf-8", "replace"))

    def overflow(self) -> None:
        self.full = True
        self.result.truncated = True
        self.result.stopped = STOP_OUTPUT


def _read(fileobj) -> bytes | None:
    """What is there to read: b"" at end of file, None when nothing is there yet."""
    try:
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        return os.read(fd, READ_SIZE)
    except BlockingIOError:
        return None
    except (OSError, ValueError):
        return b""


def run_cold(code: str, limits=None, checks: list[dict] | None = None) -> RunResult:
    """Start a sandbox, run ``code`` in it and throw it away (no pool, no slots)."""
    return Sandbox(limits).start().run(code, checks=checks)
