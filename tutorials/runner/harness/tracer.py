"""
The signal trace: every Signal.send(), send_robust(), asend() and asend_robust()
made while the learner's code runs, and each receiver it reached.

Events are streamed as they happen so that a run stopped by a timeout still
shows what fired before it. Nested sends (a receiver sending another signal)
carry the id of the send they happened in.
"""

import contextlib
import contextvars
import functools
import itertools
import sys
import threading
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

    def open(self, signal, method, sender, named) -> int | None:
        """Record a send; return its event id, or None when not recorded."""
        if self.quiet.get():
            return None
        with self.lock:
            if self.count >= self.max_events:
                self.dropped += 1
                return None
            self.count += 1
            event_id = self.count
        token = self.quiet.set(True)
        try:
            name, path = self.signal_name(signal)
            message = {
                "t": "sig",
                "id": event_id,
                "parent": self.current.get(),
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

    def receiver_done(self, event_id, index, receiver, result=None, error=None) -> None:
        if index >= self.max_receivers:
            return
        token = self.quiet.set(True)
        try:
            message = {"t": "rcv", "id": event_id, "name": callable_name(receiver)}
            if error is not None:
                message["error"] = short(error, self.repr_limit)
            else:
                message["result"] = short(result, self.repr_limit)
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

    @contextlib.contextmanager
    def _sending(self, signal, method, sender, named):
        """The context of one send: its event is the parent of the sends inside it."""
        event_id = self.open(signal, method, sender, named)
        state = self.current_send.set((signal, event_id, itertools.count()))
        parent = self.current.set(event_id) if event_id else None
        try:
            yield
        finally:
            if parent is not None:
                self.current.reset(parent)
            self.current_send.reset(state)

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

        if receiver in self.hidden:
            return receiver
        tracer = self
        if iscoroutinefunction(receiver):

            async def traced(*args, **kwargs):
                index = next(counter)
                try:
                    result = await receiver(*args, **kwargs)
                except BaseException as exc:
                    tracer.receiver_done(event_id, index, receiver, error=exc)
                    raise
                tracer.receiver_done(event_id, index, receiver, result=result)
                return result

            markcoroutinefunction(traced)
        else:

            def traced(*args, **kwargs):
                index = next(counter)
                try:
                    result = receiver(*args, **kwargs)
                except BaseException as exc:
                    tracer.receiver_done(event_id, index, receiver, error=exc)
                    raise
                tracer.receiver_done(event_id, index, receiver, result=result)
                return result

        # Django names the receiver in send_robust()'s log: keep its own name.
        with contextlib.suppress(AttributeError, TypeError):
            functools.update_wrapper(traced, receiver)
        traced.__wrapped__ = receiver
        traced.__runner_traced__ = True
        return traced


def _unwrap(responses):
    """send()'s (receiver, response) pairs with the learner's own receivers."""
    return [
        (getattr(r, "__wrapped__", r) if getattr(r, "__runner_traced__", False) else r, v)
        for r, v in responses
    ]
