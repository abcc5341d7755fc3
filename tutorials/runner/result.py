"""
What a run produced: ``RunResult`` and the assembly of the harness's messages into it.

The messages come from a process that runs untrusted code, so ``TraceBuilder``
accepts only well-formed events within its caps, and ``RunResult.fit`` keeps the
whole JSON answer under its byte limit whatever the code printed or forged.
"""

import json
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


# What a trace event records (CONTRACTS.md §2).
KIND_SEND = "send"  # a signal sent; receivers in the order they ran
KIND_COMMIT = "commit"  # a transaction committed on the sample's database
KIND_ON_COMMIT = "on_commit"  # an on_commit callback ran (one "receiver": the callback)
KINDS = (KIND_SEND, KIND_COMMIT, KIND_ON_COMMIT)
METHODS = ("send", "send_robust", "asend", "asend_robust", "commit", "on_commit")
MAX_KWARGS = 20  # keyword arguments kept per send
MAX_DEPTH = 50


@dataclass
class TraceEvent:
    """One send of a signal (or a commit, or an on_commit callback) and what ran."""

    id: int
    parent: int | None
    depth: int
    signal: str
    path: str
    method: str
    sender: str
    kwargs: dict[str, str]
    receivers: list[dict] = field(default_factory=list)
    kind: str = KIND_SEND
    start_ms: float | None = None  # since the learner's code began
    duration_ms: float | None = None
    registered_in: int | None = None  # on_commit: the send during which it was registered

    def to_dict(self) -> dict:
        data = {
            "id": self.id,
            "parent": self.parent,
            "depth": self.depth,
            "signal": self.signal,
            "path": self.path,
            "method": self.method,
            "sender": self.sender,
            "kwargs": dict(self.kwargs),
            "receivers": [dict(r) for r in self.receivers],
            "kind": self.kind,
            "start_ms": self.start_ms,
            "duration_ms": self.duration_ms,
        }
        if self.kind == KIND_ON_COMMIT:
            data["registered_in"] = self.registered_in
        return data


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
    memory_peak_bytes: int | None = None  # all the run's processes together (cgroup)
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

    def fit(self, max_bytes: int) -> None:
        """
        Cut the trace, then the output, until ``to_dict()`` is at most ``max_bytes``
        of JSON (escaped as the endpoint sends it), marking what was cut.
        """
        size = _json_size(self.to_dict())
        if size <= max_bytes:
            return
        while self.trace and size > max_bytes:
            # Drop from the end, about as many events as the excess needs.
            sizes = [_json_size(event.to_dict()) + 1 for event in self.trace]
            excess, keep = size - max_bytes, len(sizes)
            while keep and excess > 0:
                keep -= 1
                excess -= sizes[keep]
            del self.trace[keep:]
            self.trace_truncated = True
            size = _json_size(self.to_dict())
        while self.output and size > max_bytes:
            self.truncated = True
            last = self.output[-1]
            excess = size - max_bytes
            # A character takes at most 12 bytes of escaped JSON (a surrogate pair).
            cut = max(len(last.text) - max(excess // 12, 1), 0)
            if cut == 0:
                self.output.pop()
            else:
                last.text = last.text[:cut]
            size = _json_size(self.to_dict())


def _json_size(value) -> int:
    return len(json.dumps(value).encode())


def _text(value, limit: int) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _milliseconds(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not 0 <= value < 10**7:  # NaN, negative or absurd
        return None
    return round(float(value), 3)


class TraceBuilder:
    """
    Turns the harness's "sig", "rcv" and "end" messages into ``TraceEvent`` objects.

    Whatever the messages say, ids only grow, a parent is an earlier event, every
    text is cut at ``repr_limit`` characters and the whole trace stays within
    ``max_events`` events and ``max_bytes`` bytes of JSON.
    """

    def __init__(
        self,
        max_events: int,
        max_receivers: int,
        repr_limit: int = 200,
        max_bytes: int = 128 * 1024,
    ):
        self.max_events = max_events
        self.max_receivers = max_receivers
        self.repr_limit = repr_limit
        self.max_bytes = max_bytes
        self.events: dict[int, TraceEvent] = {}
        self.last_id = 0
        self.bytes = 0
        self.truncated = False

    def add(self, message: dict) -> None:
        try:
            kind = message["t"]
            if kind == "sig":
                self._add_event(message)
            elif kind == "rcv":
                self._add_receiver(message)
            elif kind == "end":
                event = self.events.get(int(message["id"]))
                if event is not None:
                    event.duration_ms = _milliseconds(message.get("ms"))
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
            # Messages come from a process running untrusted code: ignore
            # malformed ones rather than fail the run.
            pass

    def _charge(self, value) -> bool:
        """Count ``value``'s JSON against the byte budget; False if it does not fit."""
        size = _json_size(value) + 1
        if self.bytes + size > self.max_bytes:
            self.truncated = True
            return False
        self.bytes += size
        return True

    def _add_event(self, message: dict) -> None:
        if len(self.events) >= self.max_events:
            self.truncated = True
            return
        event_id = int(message["id"])
        if event_id <= self.last_id:
            return
        parent = message.get("parent")
        parent = int(parent) if parent is not None else None
        if parent is not None and parent not in self.events:
            return
        kind = message.get("kind", KIND_SEND)
        if kind not in KINDS:
            return
        registered = message.get("registered_in")
        registered = int(registered) if registered is not None else None
        if registered is not None and registered not in self.events:
            registered = None
        method = str(message.get("method", "send"))
        kwargs = message.get("kwargs") or {}
        limit = self.repr_limit
        event = TraceEvent(
            id=event_id,
            parent=parent,
            depth=min(self.events[parent].depth + 1, MAX_DEPTH) if parent is not None else 0,
            signal=_text(message["signal"], limit),
            path=_text(message.get("path", ""), limit),
            method=method if method in METHODS else "send",
            sender=_text(message.get("sender", ""), limit),
            kwargs={
                _text(k, limit): _text(v, limit) for k, v in list(dict(kwargs).items())[:MAX_KWARGS]
            },
            kind=kind,
            start_ms=_milliseconds(message.get("at")),
            registered_in=registered if kind == KIND_ON_COMMIT else None,
        )
        if not self._charge(event.to_dict()):
            return
        self.last_id = event_id
        self.events[event_id] = event

    def _add_receiver(self, message: dict) -> None:
        event = self.events.get(int(message["id"]))
        if event is None or len(event.receivers) >= self.max_receivers:
            return
        entry = {"name": _text(message["name"], self.repr_limit)}
        if "error" in message:
            entry["error"] = _text(message["error"], self.repr_limit)
        else:
            entry["result"] = _text(message.get("result", ""), self.repr_limit)
        entry["duration_ms"] = _milliseconds(message.get("ms"))
        if self._charge(entry):
            event.receivers.append(entry)

    def build(self) -> list[TraceEvent]:
        return [self.events[key] for key in sorted(self.events)]
