"""
The signal trace: every Signal.send(), send_robust(), asend() and asend_robust()
made while the learner's code runs, and each receiver it reached.

Events are streamed as they happen so that a run stopped by a timeout still
shows what fired before it: "sig" when a send starts (with ``at``, ms since the
learner's code began), "rcv" as each receiver returns (with its ``ms``), "end"
when the send is over. Nested sends (a receiver sending another signal) carry
the id of the send they happened in. Commits on the sample's database and the
``on_commit`` callbacks they run are events too (``kind``), so a timeline can
show the callbacks after the commit, each with the send it was registered in.
"""

import contextlib
import contextvars
import functools
import itertools
import sys
import threading
import time
import types

from .sample import SAMPLE_MODULE

DJANGO_SIGNAL_MODULES = (
    "django.db.models.signals",
    "django.core.signals",
    "django.db.backends.signals",
    "django.contrib.auth.signals",
    "django.test.signals",
)


def short(value, limit: int) -> str:
    """repr() that never raises and never returns more than ``limit`` characters."""
    try:
        text = repr(value)
    except BaseException as exc:  # noqa: BLE001 - the learner's __repr__ may do anything
        text = f"<repr() failed: {type(exc).__name__}>"
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def callable_name(func) -> str:
    """A readable, qualified name for a receiver."""
    target = getattr(func, "__func__", func)
    qualname = getattr(target, "__qualname__", None)
    if qualname is None:
        qualname = type(func).__qualname__ + " instance"
    module = getattr(target, "__module__", None)
    if module in (None, SAMPLE_MODULE, "builtins"):
        return qualname
    return f"{module}.{qualname}"


class Tracer:
    """Records sends and receivers to the channel; ``install()`` patches Signal."""

    def __init__(self, channel, namespace, max_events, repr_limit, max_receivers):
        self.channel = channel
        self.namespace = namespace
        self.max_events = max_events
        self.repr_limit = repr_limit
        self.max_receivers = max_receivers
        self.count = 0
        self.dropped = 0
        self.lock = threading.Lock()
        self.current = contextvars.ContextVar("runner_trace_event", default=None)
        self.current_send = contextvars.ContextVar("runner_current_send", default=None)
        self.quiet = contextvars.ContextVar("runner_trace_quiet", default=False)
        self.hidden = set()
        self.started = time.perf_counter()
        self.known = {}
        for module_name in DJANGO_SIGNAL_MODULES:
            module = sys.modules.get(module_name)
            for name, value in vars(module or types.ModuleType("empty")).items():
                if type(value).__name__ in ("Signal", "ModelSignal"):
                    self.known.setdefault(id(value), (name, f"{module_name}.{name}"))

    def hide(self, receiver) -> None:
        """Leave a receiver of the harness itself out of the trace."""
        self.hidden.add(receiver)

    # Naming what was sent

    def signal_name(self, signal) -> tuple[str, str]:
        if id(signal) in self.known:
            return self.known[id(signal)]
        for name, value in list(self.namespace.items()):
            if value is signal and not name.startswith("__"):
                return name, name
        for owner_name, owner in list(self.namespace.items()):
            if isinstance(owner, type) and not owner_name.startswith("__"):
                for name, value in list(vars(owner).items()):
                    if value is signal:
                        return f"{owner_name}.{name}", f"{owner_name}.{name}"
        return "<unnamed signal>", ""

    def sender_name(self, sender) -> str:
        if isinstance(sender, type):
            return sender.__qualname__
        return short(sender, self.repr_limit)

    # Recording

    def now(self) -> float:
        """Milliseconds since the learner's code began."""
        return round((time.perf_counter() - self.started) * 1000, 3)

    def _next_id(self) -> int | None:
        with self.lock:
            if self.count >= self.max_events:
                self.dropped += 1
                return None
            self.count += 1
            return self.count

    def open(self, signal, method, sender, named) -> int | None:
        """Record a send; return its event id, or None when not recorded."""
        if self.quiet.get():
            return None
        event_id = self._next_id()
        if event_id is None:
            return None
        token = self.quiet.set(True)
        try:
            name, path = self.signal_name(signal)
            message = {
                "t": "sig",
                "id": event_id,
                "parent": self.current.get(),
                "kind": "send",
                "at": self.now(),
                "signal": name,
                "path": path,
                "method": method,
                "sender": self.sender_name(sender),
                "kwargs": {k: short(v, self.repr_limit) for k, v in named.items()},
            }
        finally:
            self.quiet.reset(token)
        self.channel.send(message)
        return event_id

    def open_other(self, kind: str, name: str, sender: str, registered_in=None) -> int | None:
        """Record a commit or an on_commit callback; return its event id, or None."""
        if self.quiet.get():
            return None
        event_id = self._next_id()
        if event_id is None:
            return None
        message = {
            "t": "sig",
            "id": event_id,
            "parent": self.current.get(),
            "kind": kind,
            "at": self.now(),
            "signal": name,
            "path": "",
            "method": kind,
            "sender": sender,
            "kwargs": {},
        }
        if kind == "on_commit":
            message["registered_in"] = registered_in
        self.channel.send(message)
        return event_id

    def close(self, event_id, started: float) -> None:
        """Record how long an event took (``started``: its ``now()``)."""
        if event_id is not None:
            self.channel.send({"t": "end", "id": event_id, "ms": round(self.now() - started, 3)})

    def receiver_done(
        self, event_id, index, receiver, result=None, error=None, started=None
    ) -> None:
        if event_id is None or index >= self.max_receivers:
            return
        token = self.quiet.set(True)
        try:
            message = {"t": "rcv", "id": event_id, "name": callable_name(receiver)}
            if error is not None:
                message["error"] = short(error, self.repr_limit)
            else:
                message["result"] = short(result, self.repr_limit)
            if started is not None:
                message["ms"] = round(self.now() - started, 3)
        finally:
            self.quiet.reset(token)
        self.channel.send(message)

    # Patching django.dispatch.Signal

    def install(self) -> None:
        """Patch django.dispatch.Signal so that sends and receivers are recorded."""
        from django.dispatch import Signal

        original_live = Signal._live_receivers
        tracer = self

        def live_receivers(signal, sender):
            sync_receivers, async_receivers = original_live(signal, sender)
            state = tracer.current_send.get()
            if state is None or state[0] is not signal or state[1] is None:
                return sync_receivers, async_receivers
            return (
                [tracer.wrap(r, state[1], state[2]) for r in sync_receivers],
                [tracer.wrap(r, state[1], state[2]) for r in async_receivers],
            )

        Signal._live_receivers = live_receivers
        for method in ("send", "send_robust"):
            setattr(Signal, method, self._traced_send(getattr(Signal, method), method))
        for method in ("asend", "asend_robust"):
            setattr(Signal, method, self._traced_asend(getattr(Signal, method), method))
        self._install_transactions()

    @contextlib.contextmanager
    def _sending(self, signal, method, sender, named):
        """The context of one send: its event is the parent of the sends inside it."""
        started = self.now()
        event_id = self.open(signal, method, sender, named)
        state = self.current_send.set((signal, event_id, itertools.count()))
        parent = self.current.set(event_id) if event_id else None
        try:
            yield
        finally:
            if parent is not None:
                self.current.reset(parent)
            self.current_send.reset(state)
            self.close(event_id, started)

    def _install_transactions(self) -> None:
        """Record commits and on_commit callbacks on the sample's database."""
        from django.db.backends.base.base import BaseDatabaseWrapper

        tracer = self
        original_commit = BaseDatabaseWrapper.commit
        original_on_commit = BaseDatabaseWrapper.on_commit

        def commit(connection):
            started = tracer.now()
            event_id = tracer.open_other("commit", "commit", connection.alias)
            try:
                return original_commit(connection)
            finally:
                tracer.close(event_id, started)

        def on_commit(connection, func, robust=False):
            if tracer.quiet.get() or not callable(func):
                return original_on_commit(connection, func, robust)
            callback = tracer.wrap_callback(func, tracer.current.get(), connection.alias)
            return original_on_commit(connection, callback, robust)

        commit.__doc__ = original_commit.__doc__
        on_commit.__doc__ = original_on_commit.__doc__
        BaseDatabaseWrapper.commit = commit
        BaseDatabaseWrapper.on_commit = on_commit

    def wrap_callback(self, func, registered_in, alias):
        """An on_commit callback that records itself when it runs."""
        tracer = self

        def callback():
            started = tracer.now()
            event_id = tracer.open_other("on_commit", "on_commit", alias, registered_in)
            parent = tracer.current.set(event_id) if event_id else None
            try:
                result = func()
            except BaseException as exc:
                tracer.receiver_done(event_id, 0, func, error=exc, started=started)
                raise
            finally:
                if parent is not None:
                    tracer.current.reset(parent)
                tracer.close(event_id, started)
            tracer.receiver_done(event_id, 0, func, result=result, started=started)
            return result

        with contextlib.suppress(AttributeError, TypeError):
            functools.update_wrapper(callback, func)
        return callback

    def _traced_send(self, original, method):
        tracer = self

        def traced_send(signal, sender, **named):
            with tracer._sending(signal, method, sender, named):
                return _unwrap(original(signal, sender, **named))

        traced_send.__doc__ = original.__doc__
        return traced_send

    def _traced_asend(self, original, method):
        tracer = self

        async def traced_asend(signal, sender, **named):
            with tracer._sending(signal, method, sender, named):
                return _unwrap(await original(signal, sender, **named))

        traced_asend.__doc__ = original.__doc__
        return traced_asend

    def wrap(self, receiver, event_id, counter):
        """``receiver``, wrapped to report what it returned or raised."""
        from asgiref.sync import iscoroutinefunction, markcoroutinefunction

        tracer = self
        if receiver in self.hidden:
            return self._quiet(receiver)
        if iscoroutinefunction(receiver):

            async def traced(*args, **kwargs):
                index, started = next(counter), tracer.now()
                try:
                    result = await receiver(*args, **kwargs)
                except BaseException as exc:
                    tracer.receiver_done(event_id, index, receiver, error=exc, started=started)
                    raise
                tracer.receiver_done(event_id, index, receiver, result=result, started=started)
                return result

            markcoroutinefunction(traced)
        else:

            def traced(*args, **kwargs):
                index, started = next(counter), tracer.now()
                try:
                    result = receiver(*args, **kwargs)
                except BaseException as exc:
                    tracer.receiver_done(event_id, index, receiver, error=exc, started=started)
                    raise
                tracer.receiver_done(event_id, index, receiver, result=result, started=started)
                return result

        # Django names the receiver in send_robust()'s log: keep its own name.
        with contextlib.suppress(AttributeError, TypeError):
            functools.update_wrapper(traced, receiver)
        traced.__wrapped__ = receiver
        traced.__runner_traced__ = True
        return traced

    def quietly(self, func, *args):
        """Call ``func`` with nothing traced (the harness's own work)."""
        token = self.quiet.set(True)
        try:
            return func(*args)
        finally:
            self.quiet.reset(token)

    def _quiet(self, receiver):
        """A receiver of the harness itself: nothing it does is traced."""
        tracer = self

        def quiet(*args, **kwargs):
            token = tracer.quiet.set(True)
            try:
                return receiver(*args, **kwargs)
            finally:
                tracer.quiet.reset(token)

        quiet.__wrapped__ = receiver
        quiet.__runner_traced__ = True
        return quiet


def _unwrap(responses):
    """send()'s (receiver, response) pairs with the learner's own receivers."""
    return [
        (getattr(r, "__wrapped__", r) if getattr(r, "__runner_traced__", False) else r, v)
        for r, v in responses
    ]
