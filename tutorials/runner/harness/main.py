"""
The harness's main flow: limits, Django, "ready", the code, the learner's
code, then the phases after it, and the final "done".
"""

import gc
import io
import json
import os
import sys
import threading
import time

from . import checks, playground, rlimits, sample
from .channel import CHANNEL_FD, Channel
from .output import Output, Sink
from .tracer import Tracer

# Exit statuses the parent understands.
EXIT_OK = 0
EXIT_EXCEPTION = 1


def build_template(path: str) -> None:
    """Build the pre-migrated database template (outside any sandbox)."""
    playground.build_template(path)


def main(argv: list[str]) -> None:
    """Entry point: ``python -S -c 'import harness; harness.main(sys.argv)' CONFIG DIR``."""
    gc.disable()  # until the set-up is done: see ``Run.prepare``
    config = json.loads(argv[1])
    for path in reversed(config.get("paths", [])):
        sys.path.insert(0, path)
    if "build_template" in config:
        build_template(config["build_template"])
        return
    run = Run(config)
    run.prepare()
    # An exercise's check phase keeps its own tools, taken before any learner code.
    check_phase = checks.prepare(config)
    source = run.wait_for_code()
    if check_phase is not None and not check_phase.wanted():
        check_phase = None  # a run without checks: its pipe is closed already
    run.start_capture()
    status = run.run_learner_code(source)
    run.run_atexit_hooks()
    # Phases after the learner's code: an exercise's checks, in ``run.namespace``,
    # after the atexit hooks so that no hook of the learner's runs after them.
    if check_phase is not None and status == EXIT_OK and run.stopped is None:
        check_phase(run.namespace)
    run.finish(status)


class Run:
    """The state of the one run this harness serves."""

    def __init__(self, config: dict):
        self.config = config
        self.limits = config["limits"]
        self.stopped = None
        self.channel = None
        self.tracer = None
        self.namespace = None
        self.finish_lock = threading.Lock()

    def prepare(self) -> None:
        """Limits first, then Django and the sample's module: all before the code arrives."""
        rlimits.apply_limits(self.limits)
        # Below the web workers: a busy sandbox must not slow the site down.
        os.nice(self.config.get("nice", 10))
        self.channel = Channel(self.config.get("channel_fd", CHANNEL_FD))
        playground.setup_django(self.config)
        self.namespace = sample.new_module().__dict__
        trace = self.config["trace"]
        self.tracer = Tracer(
            self.channel,
            self.namespace,
            max_events=trace["max_events"],
            repr_limit=trace["repr_limit"],
            max_receivers=trace["max_receivers"],
        )
        creator = playground.create_tables_on_class_prepared(self.tracer.quietly)
        self.tracer.hide(creator)
        # Everything set up so far lives as long as the sandbox: move it out of the
        # collector's reach (``main`` turned the collector off for the set-up, which
        # saves ~20 ms of start-up CPU). Otherwise the first full collection during
        # the run walks all of Django's objects: ~10 ms of a 15 ms check, measured.
        gc.freeze()
        gc.enable()

    def wait_for_code(self) -> str:
        """Say "ready" and read the learner's code from stdin."""
        self.channel.send({"t": "ready"})
        return sample.read_code(0)

    def start_capture(self) -> None:
        """Route output to the channel, start the trace and the CPU budget."""
        sink = Sink(self.channel, self.limits["output"], self._on_overflow)
        sys.stdout = Output("stdout", sink, 1)
        sys.stderr = Output("stderr", sink, 2)
        sys.stdin = io.StringIO("")
        sys.argv = [sample.SAMPLE_FILENAME]
        self.tracer.install()
        sample.hide_harness_frames()
        rlimits.limit_cpu(self.limits["cpu"])
        self.tracer.started = time.perf_counter()

    def run_learner_code(self, source: str) -> int:
        """Run the code as a script would; return its exit status."""
        try:
            sample.run_code(source, self.namespace)
            threading._shutdown()
        except SystemExit as exc:
            if exc.code is None:
                return EXIT_OK
            if isinstance(exc.code, int):
                return exc.code & 0xFF
            sys.stderr.write(f"{exc.code}\n")
            return EXIT_EXCEPTION
        except MemoryError as exc:
            self.stopped = "memory"
            sample.print_exception(exc)
            return EXIT_EXCEPTION
        except BaseException as exc:  # noqa: BLE001 - reported like an uncaught exception
            sample.print_exception(exc)
            return EXIT_EXCEPTION
        return EXIT_OK

    def run_atexit_hooks(self) -> None:
        """The learner's atexit hooks, as the interpreter would run them."""
        try:
            import atexit

            atexit._run_exitfuncs()
        except BaseException:  # noqa: BLE001, S110 - the learner's atexit hooks
            pass

    def finish(self, status: int) -> None:
        """Report the end and exit at once, whatever threads are still running."""
        with self.finish_lock:
            self.channel.send(
                {
                    "t": "done",
                    "status": status,
                    "stopped": self.stopped,
                    "trace_dropped": self.tracer.dropped if self.tracer else 0,
                }
            )
            os._exit(status)

    def _on_overflow(self) -> None:
        self.stopped = "output"
        self.finish(EXIT_OK)
