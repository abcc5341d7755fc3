"""
The program that runs inside the sandbox.

It is started by ``process.py`` (command line from ``sandbox.py``) with a JSON
configuration as its argument, and talks to its parent over the file descriptor
named in it (the "channel"), one JSON object per line:

    {"t": "ready"}                          Django is set up; send the code on stdin.
    {"t": "out", "s": "stdout", "d": "…"}   something the code printed.
    {"t": "sig", "id": 1, "parent": null, …} a signal was sent (see ``_Tracer``).
    {"t": "rcv", "id": 1, "name": "…", …}    a receiver of that signal returned or raised.
    {"t": "done", "status": 0, "stopped": null, "trace_dropped": 0}

The learner's code arrives on stdin (read to EOF) only after "ready", so a sandbox can
be started ahead of time and wait with Django imported and the auth tables migrated.

This module must not import anything from the site: inside the sandbox there is only
the interpreter, the standard library and the few packages bound into it.
"""

import ast
import asyncio
import contextlib
import contextvars
import functools
import io
import itertools
import json
import linecache
import math
import os
import resource
import sys
import threading
import traceback
import types

SAMPLE_FILENAME = "sample.py"
SAMPLE_MODULE = "playground.models"
CHANNEL_FD = 3

# Exit statuses the parent understands.
EXIT_OK = 0
EXIT_EXCEPTION = 1


class _Channel:
    """Line-delimited JSON messages to the parent, safe to use from any thread."""

    def __init__(self, fd):
        self.fd = fd
        self.lock = threading.Lock()

    def send(self, message):
        data = (json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8", "replace")
        with self.lock:
            view = memoryview(data)
            while view:
                written = os.write(self.fd, view)
                view = view[written:]


class _Sink:
    """
    Counts what stdout and stderr receive and forwards it to the channel.

    Both streams share one limit and one order, which is what a reader of the
    expected output sees in a terminal.
    """

    def __init__(self, channel, limit, on_overflow):
        self.channel = channel
        self.limit = limit
        self.used = 0
        self.on_overflow = on_overflow
        self.lock = threading.Lock()

    def write(self, stream, text):
        if not text:
            return
        data = text.encode("utf-8", "replace")
        with self.lock:
            room = self.limit - self.used
            if len(data) > room:
                kept = data[: max(room, 0)].decode("utf-8", "ignore")
                if kept:
                    self.channel.send({"t": "out", "s": stream, "d": kept})
                self.used = self.limit
                self.on_overflow()
                return
            self.used += len(data)
            self.channel.send({"t": "out", "s": stream, "d": text})


class _BinaryOutput(io.RawIOBase):
    """``sys.stdout.buffer``: bytes are decoded and sent like text."""

    def __init__(self, text_stream):
        self.text_stream = text_stream

    def writable(self):
        return True

    def write(self, b):
        self.text_stream.write(bytes(b).decode("utf-8", "replace"))
        return len(b)


class _Output(io.TextIOBase):
    """A text stream (stdout or stderr) whose writes go to the shared ``_Sink``."""

    def __init__(self, name, sink, fd):
        self.name = name
        self.sink = sink
        self.fd = fd
        self.buffer = _BinaryOutput(self)

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        return "strict"

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        return self.fd

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        self.sink.write(self.name, s)
        return len(s)

    def flush(self):
        pass


def _short(value, limit):
    """repr() that never raises and never returns more than ``limit`` characters."""
    try:
        text = repr(value)
    except BaseException as exc:  # noqa: BLE001 - the learner's __repr__ may do anything
        text = f"<repr() failed: {type(exc).__name__}>"
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _callable_name(func):
    """A readable, qualified name for a receiver."""
    target = getattr(func, "__func__", func)
    qualname = getattr(target, "__qualname__", None)
    if qualname is None:
        qualname = type(func).__qualname__ + " instance"
    module = getattr(target, "__module__", None)
    if module in (None, SAMPLE_MODULE, "builtins"):
        return qualname
    return f"{module}.{qualname}"


class _Tracer:
    """
    Records every Signal.send(), send_robust(), asend() and asend_robust() call
    made while the learner's code runs, and each receiver it reached.

    Events are streamed as they happen so that a run stopped by a timeout still
    shows what fired before it. Nested sends (a receiver sending another signal)
    carry the id of the send they happened in.
    """

    DJANGO_SIGNAL_MODULES = (
        "django.db.models.signals",
        "django.core.signals",
        "django.db.backends.signals",
        "django.contrib.auth.signals",
        "django.test.signals",
    )

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
        self.quiet = contextvars.ContextVar("runner_trace_quiet", default=False)
        self.hidden = set()
        self.known = {}
        for module_name in self.DJANGO_SIGNAL_MODULES:
            module = sys.modules.get(module_name)
            for name, value in vars(module or types.ModuleType("empty")).items():
                if type(value).__name__ in ("Signal", "ModelSignal"):
                    self.known.setdefault(id(value), (name, f"{module_name}.{name}"))

    def hide(self, receiver):
        """Leave a receiver of the harness itself out of the trace."""
        self.hidden.add(receiver)

    def signal_name(self, signal):
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

    def sender_name(self, sender):
        if isinstance(sender, type):
            return sender.__qualname__
        return _short(sender, self.repr_limit)

    def open(self, signal, method, sender, named):
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
                "kwargs": {k: _short(v, self.repr_limit) for k, v in named.items()},
            }
        finally:
            self.quiet.reset(token)
        self.channel.send(message)
        return event_id

    def receiver_done(self, event_id, index, receiver, result=None, error=None):
        if index >= self.max_receivers:
            return
        token = self.quiet.set(True)
        try:
            message = {"t": "rcv", "id": event_id, "name": _callable_name(receiver)}
            if error is not None:
                message["error"] = _short(error, self.repr_limit)
            else:
                message["result"] = _short(result, self.repr_limit)
        finally:
            self.quiet.reset(token)
        self.channel.send(message)

    def install(self):
        """Patch django.dispatch.Signal so that sends and receivers are recorded."""
        from asgiref.sync import iscoroutinefunction, markcoroutinefunction
        from django.dispatch import Signal

        tracer = self
        original_live = Signal._live_receivers

        def wrap(receiver, event_id, counter):
            if receiver in tracer.hidden:
                return receiver
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

        def live_receivers(signal, sender):
            sync_receivers, async_receivers = original_live(signal, sender)
            state = tracer.current_send.get()
            if state is None or state[0] is not signal or state[1] is None:
                return sync_receivers, async_receivers
            event_id, counter = state[1], state[2]
            return (
                [wrap(r, event_id, counter) for r in sync_receivers],
                [wrap(r, event_id, counter) for r in async_receivers],
            )

        def unwrap(responses):
            return [
                (getattr(r, "__wrapped__", r) if getattr(r, "__runner_traced__", False) else r, v)
                for r, v in responses
            ]

        def patch_sync(method):
            original = getattr(Signal, method)

            def traced_send(signal, sender, **named):
                event_id = tracer.open(signal, method, sender, named)
                state = tracer.current_send.set((signal, event_id, itertools.count()))
                parent = tracer.current.set(event_id) if event_id else None
                try:
                    return unwrap(original(signal, sender, **named))
                finally:
                    if parent is not None:
                        tracer.current.reset(parent)
                    tracer.current_send.reset(state)

            traced_send.__doc__ = original.__doc__
            setattr(Signal, method, traced_send)

        def patch_async(method):
            original = getattr(Signal, method)

            async def traced_asend(signal, sender, **named):
                event_id = tracer.open(signal, method, sender, named)
                state = tracer.current_send.set((signal, event_id, itertools.count()))
                parent = tracer.current.set(event_id) if event_id else None
                try:
                    return unwrap(await original(signal, sender, **named))
                finally:
                    if parent is not None:
                        tracer.current.reset(parent)
                    tracer.current_send.reset(state)

            traced_asend.__doc__ = original.__doc__
            setattr(Signal, method, traced_asend)

        self.current_send = contextvars.ContextVar("runner_current_send", default=None)
        Signal._live_receivers = live_receivers
        patch_sync("send")
        patch_sync("send_robust")
        patch_async("asend")
        patch_async("asend_robust")


def _apply_limits(limits):
    """Set the resource limits that stay for the whole life of the sandbox."""
    pairs = {
        resource.RLIMIT_AS: limits["memory"],
        resource.RLIMIT_FSIZE: limits["file_size"],
        resource.RLIMIT_NOFILE: limits["open_files"],
        resource.RLIMIT_NPROC: limits["processes"],
        resource.RLIMIT_CORE: 0,
    }
    for which, value in pairs.items():
        if value is None:
            continue
        # An rlimit already lower than ours is kept.
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(which, (value, value))


def _limit_cpu(seconds):
    """
    Allow about ``seconds`` more CPU time from now (RLIMIT_CPU counts whole
    seconds of the process's total): SIGXCPU at the soft limit, SIGKILL a second
    later for code that ignores SIGXCPU. The learner cannot raise the hard limit.
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + seconds)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))


def _setup_django(config):
    """Configure Django with throwaway settings and migrate auth + contenttypes."""
    import django
    from django.apps import AppConfig
    from django.conf import settings

    package = types.ModuleType("playground")
    package.__path__ = []
    apps_module = types.ModuleType("playground.apps")

    class PlaygroundConfig(AppConfig):
        name = "playground"
        label = "playground"
        path = "/playground"
        verbose_name = "Playground"
        default_auto_field = "django.db.models.BigAutoField"

    PlaygroundConfig.__module__ = "playground.apps"
    apps_module.PlaygroundConfig = PlaygroundConfig
    sys.modules["playground"] = package
    sys.modules["playground.apps"] = apps_module
    package.apps = apps_module

    settings.configure(
        DEBUG=False,
        SECRET_KEY="sandbox-secret-key-not-a-real-one",
        ALLOWED_HOSTS=["*"],
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "playground.apps.PlaygroundConfig",
        ],
        DATABASES={
            # A named, shared-cache in-memory database: threads used by
            # sync_to_async() see the same tables as the main thread.
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": "file:playground?mode=memory&cache=shared",
            }
        },
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        USE_TZ=True,
        TIME_ZONE="UTC",
        LOGGING_CONFIG=None,
    )
    django.setup()

    if not _restore_database(config.get("db_template")):
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)

    # Imports most samples need, paid for before the code arrives.
    import django.contrib.auth.models  # noqa: F401
    import django.db.models.signals  # noqa: F401
    from asgiref.sync import async_to_sync, sync_to_async  # noqa: F401
    from django.db import models, transaction  # noqa: F401
    from django.dispatch import Signal, receiver  # noqa: F401
    from django.test import signals  # noqa: F401
    from django.utils import timezone  # noqa: F401


def _restore_database(template):
    """
    Copy the pre-migrated template into the in-memory database (~1 ms instead of
    ~200 ms of migrations); False when there is no usable template.
    """
    if not template:
        return False
    import sqlite3

    from django.db import connection

    try:
        source = sqlite3.connect(f"file:{template}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error:
        return False
    try:
        connection.ensure_connection()
        source.backup(connection.connection)
    except sqlite3.Error:
        return False
    finally:
        source.close()
    return True


def build_template(path):
    """Migrate a database with the sandbox's settings and save it to ``path``."""
    import sqlite3

    _setup_django({})
    from django.db import connection

    target = sqlite3.connect(path)
    try:
        connection.connection.backup(target)
    finally:
        target.close()


def _create_tables_on_class_prepared():
    """
    Create the table of every model the sample defines as soon as the model and
    the models it points to are registered, so samples need no migrations.
    """
    from django.apps import apps
    from django.db import connection
    from django.db.models.signals import class_prepared

    def related_keys(model):
        keys = []
        for field in model._meta.local_fields + model._meta.local_many_to_many:
            remote = getattr(field, "remote_field", None)
            if remote is None:
                continue
            targets = [remote.model]
            through = getattr(remote, "through", None)
            if through is not None:
                targets.append(through)
            for target in targets:
                if isinstance(target, str):
                    if target == "self":
                        continue
                    if "." not in target:
                        target = f"{model._meta.app_label}.{target}"
                    app_label, model_name = target.split(".", 1)
                    keys.append((app_label, model_name.lower()))
                elif not getattr(target._meta, "auto_created", False):
                    keys.append((target._meta.app_label, target._meta.model_name))
        return keys

    def create(*models):
        model = models[0]
        existing = connection.introspection.table_names()
        if model._meta.db_table in existing:
            return
        with connection.schema_editor() as editor:
            editor.create_model(model)

    def on_class_prepared(sender, **kwargs):
        opts = sender._meta
        if opts.abstract or opts.proxy or not opts.managed or opts.swapped:
            return
        if opts.auto_created:
            # Created along with the model that declares the ManyToManyField.
            return
        key = (opts.app_label, opts.model_name)
        apps.lazy_model_operation(create, key, *related_keys(sender))

    class_prepared.connect(on_class_prepared, weak=False)
    return on_class_prepared


def _split_statements(tree):
    for node in tree.body:
        yield ast.Module(body=[node], type_ignores=[])


def _run_code(source, namespace):
    """
    Execute the sample as the module ``playground.models``.

    Code with top-level ``await`` runs statement by statement: statements that
    await run in a persistent event loop, the others run outside it so that the
    synchronous ORM works as it does in a script.
    """
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    code = compile(source, SAMPLE_FILENAME, "exec", flags=flags, dont_inherit=True)
    if not code.co_flags & 0x80:  # CO_COROUTINE: no top-level await
        exec(code, namespace)
        return
    tree = ast.parse(source, SAMPLE_FILENAME)
    future_flags = 0
    loop = asyncio.new_event_loop()
    try:
        for module in _split_statements(tree):
            node = module.body[0]
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                import __future__

                for alias in node.names:
                    future_flags |= getattr(__future__, alias.name).compiler_flag
            piece = compile(
                module, SAMPLE_FILENAME, "exec", flags=flags | future_flags, dont_inherit=True
            )
            if piece.co_flags & 0x80:
                loop.run_until_complete(eval(piece, namespace))
            else:
                exec(piece, namespace)
    finally:
        try:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def _hide_harness_frames():
    """
    Leave the harness's own frames (the receiver wrappers of the trace) out of
    every traceback printed inside the sandbox, so that tracebacks, logged ones
    included, look as they would in a plain script.
    """
    this_file = __file__

    def keep(walk):
        def walk_without_harness(tb):
            for item in walk(tb):
                frame = item[0]
                if frame.f_code.co_filename != this_file:
                    yield item

        return walk_without_harness

    traceback.walk_tb = keep(traceback.walk_tb)
    # What TracebackException (so format_exception and logging) uses on 3.11+.
    if hasattr(traceback, "_walk_tb_with_full_positions"):
        traceback._walk_tb_with_full_positions = keep(traceback._walk_tb_with_full_positions)


def _print_exception(exc):
    """Print a traceback as Python would, without the harness's own frames."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != SAMPLE_FILENAME:
        tb = tb.tb_next
    if isinstance(exc, SyntaxError):
        tb = None
    lines = traceback.format_exception(type(exc), exc, tb)
    sys.stderr.write("".join(lines))


def main(argv):
    """Entry point: ``python -S -c 'import harness; harness.main(sys.argv)' CONFIG DIR``."""
    config = json.loads(argv[1])
    if "build_template" in config:
        for path in reversed(config.get("paths", [])):
            sys.path.insert(0, path)
        build_template(config["build_template"])
        return
    _apply_limits(config["limits"])
    # Below the web workers: a busy sandbox must not slow the site down.
    os.nice(config.get("nice", 10))
    channel = _Channel(config.get("channel_fd", CHANNEL_FD))
    for path in reversed(config.get("paths", [])):
        sys.path.insert(0, path)
    _setup_django(config)
    table_creator = _create_tables_on_class_prepared()

    module = types.ModuleType(SAMPLE_MODULE)
    module.__file__ = SAMPLE_FILENAME
    namespace = module.__dict__
    namespace["__builtins__"] = __builtins__

    channel.send({"t": "ready"})

    chunks = []
    while True:
        chunk = os.read(0, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    source = b"".join(chunks).decode("utf-8", "replace")
    linecache.cache[SAMPLE_FILENAME] = (
        len(source),
        None,
        source.splitlines(keepends=True) or [""],
        SAMPLE_FILENAME,
    )

    tracer = _Tracer(
        channel,
        namespace,
        max_events=config["trace"]["max_events"],
        repr_limit=config["trace"]["repr_limit"],
        max_receivers=config["trace"]["max_receivers"],
    )
    tracer.hide(table_creator)
    state = {"stopped": None}
    finish_lock = threading.Lock()

    def finish(status):
        with finish_lock:
            channel.send(
                {
                    "t": "done",
                    "status": status,
                    "stopped": state["stopped"],
                    "trace_dropped": tracer.dropped,
                }
            )
            os._exit(status)

    def on_overflow():
        state["stopped"] = "output"
        finish(EXIT_OK)

    sink = _Sink(channel, config["limits"]["output"], on_overflow)
    sys.stdout = _Output("stdout", sink, 1)
    sys.stderr = _Output("stderr", sink, 2)
    sys.stdin = io.StringIO("")
    sys.modules[SAMPLE_MODULE] = module
    sys.modules["playground"].models = module
    sys.argv = [SAMPLE_FILENAME]

    tracer.install()
    _hide_harness_frames()
    # Exercises: the check phase, set up before the learner's code can touch anything.
    import harness_checks

    check_phase = harness_checks.prepare(config)
    _limit_cpu(config["limits"]["cpu"])

    status = EXIT_OK
    try:
        _run_code(source, namespace)
        threading._shutdown()
    except SystemExit as exc:
        if exc.code is None:
            status = EXIT_OK
        elif isinstance(exc.code, int):
            status = exc.code & 0xFF
        else:
            sys.stderr.write(f"{exc.code}\n")
            status = EXIT_EXCEPTION
    except MemoryError as exc:
        state["stopped"] = "memory"
        _print_exception(exc)
        status = EXIT_EXCEPTION
    except BaseException as exc:  # noqa: BLE001 - reported like an uncaught exception
        _print_exception(exc)
        status = EXIT_EXCEPTION
    try:
        import atexit

        atexit._run_exitfuncs()
    except BaseException:  # noqa: BLE001, S110 - the learner's atexit hooks
        pass
    if check_phase is not None and status == EXIT_OK:
        check_phase(namespace)
    finish(status)


if __name__ == "__main__":
    main(sys.argv)
