"""
What a run produced: ``RunResult`` and the assembly of the harness's messages into it.
"""

from dataclasses import dataclass, field

# Why a run was stopped before it finished on its own.
STOP_CPU = "cpu"
STOP_WALL = "wall"
STOP_MEMORY = "memory"
STOP_OUTPUT = "output"
STOP_SIGNAL = "signal"  # killed by a signal it did not catch (a segfault, say)
STOP_ERROR = "error"  # the sandbox itself failed

STOP_MESSAGES = {
    STOP_CPU: "Stopped: the code used more than its CPU time.",
    STOP_WALL: "Stopped: the code ran longer than the time limit.",
    STOP_MEMORY: "Stopped: the code tried to use more memory than allowed.",
    STOP_OUTPUT: "Stopped: the code printed more than the output limit.",
    STOP_SIGNAL: "Stopped: the process was killed by a signal.",
    STOP_ERROR: "The sandbox failed; the code may not have run.",
}


@dataclass
class OutputChunk:
    """Consecutive text written to one stream ("stdout" or "stderr")."""

    stream: str
    text: str


@dataclass
class TraceEvent:
    """One send of a signal and the receivers it reached, in call order."""

    id: int
    parent: int | None
    depth: int
    signal: str
    path: str
    method: str
    sender: str
    kwargs: dict[str, str]
    receivers: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "parent": self.parent,
            "depth": self.depth,
            "signal": self.signal,
            "path": self.path,
            "method": self.method,
            "sender": self.sender,
            "kwargs": dict(self.kwargs),
            "receivers": [dict(r) for r in self.receivers],
        }


@dataclass
class RunResult:
    """
    The outcome of running one piece of code in a sandbox.

    ``output`` keeps stdout and stderr in the order they were written; ``text``
    is their concatenation, which is what expected outputs are compared with.
    """

    output: list[OutputChunk] = field(default_factory=list)
    truncated: bool = False
    exit_status: int | None = None
    signal: str | None = None
    stopped: str | None = None
    duration_ms: float = 0.0
    sandbox: str = "bwrap"
    warning: str | None = None
    trace: list[TraceEvent] = field(default_factory=list)
    trace_truncated: bool = False
    error: str | None = None
    warm: bool = False  # whether a pre-started sandbox served the run
    # An exercise's checks (check_phase.CheckResult), None when the run had none.
    checks: list | None = None

    @property
    def text(self) -> str:
        return "".join(chunk.text for chunk in self.output)

    @property
    def ok(self) -> bool:
        return self.exit_status == 0 and self.stopped is None and self.error is None

    def add_output(self, stream: str, text: str) -> None:
        if not text:
            return
        if self.output and self.output[-1].stream == stream:
            self.output[-1].text += text
        else:
            self.output.append(OutputChunk(stream, text))

    def to_dict(self) -> dict:
        """The JSON answer of the run endpoint."""
        return {
            "output": [{"stream": c.stream, "text": c.text} for c in self.output],
            "truncated": self.truncated,
            "exit_status": self.exit_status,
            "signal": self.signal,
            "stopped": self.stopped is not None,
            "reason": self.stopped,
            "message": STOP_MESSAGES.get(self.stopped) if self.stopped else None,
            "duration_ms": round(self.duration_ms, 1),
            "sandbox": self.sandbox,
            "warning": self.warning,
            "trace": [event.to_dict() for event in self.trace],
            "trace_truncated": self.trace_truncated,
            "error": self.error,
            "warm": self.warm,
            **({"checks": [c.to_dict() for c in self.checks]} if self.checks is not None else {}),
        }


class TraceBuilder:
    """Turns the harness's "sig" and "rcv" messages into ``TraceEvent`` objects."""

    def __init__(self, max_events: int, max_receivers: int):
        self.max_events = max_events
        self.max_receivers = max_receivers
        self.events: dict[int, TraceEvent] = {}
        self.truncated = False

    def add(self, message: dict) -> None:
        try:
            if message["t"] == "sig":
                self._add_event(message)
            else:
                self._add_receiver(message)
        except (KeyError, TypeError, ValueError, AttributeError):
            # Messages come from a process running untrusted code: ignore
            # malformed ones rather than fail the run.
            pass

    def _add_event(self, message: dict) -> None:
        if len(self.events) >= self.max_events:
            self.truncated = True
            return
        event_id = int(message["id"])
        parent = message.get("parent")
        parent = int(parent) if parent is not None else None
        depth = self.events[parent].depth + 1 if parent in self.events else 0
        kwargs = message.get("kwargs") or {}
        self.events[event_id] = TraceEvent(
            id=event_id,
            parent=parent,
            depth=min(depth, 50),
            signal=str(message["signal"]),
            path=str(message.get("path", "")),
            method=str(message.get("method", "send")),
            sender=str(message.get("sender", "")),
            kwargs={str(k): str(v) for k, v in dict(kwargs).items()},
        )

    def _add_receiver(self, message: dict) -> None:
        event = self.events.get(int(message["id"]))
        if event is None or len(event.receivers) >= self.max_receivers:
            return
        entry = {"name": str(message["name"])}
        if "error" in message:
            entry["error"] = str(message["error"])
        else:
            entry["result"] = str(message.get("result", ""))
        event.receivers.append(entry)

    def build(self) -> list[TraceEvent]:
        return [self.events[key] for key in sorted(self.events)]
