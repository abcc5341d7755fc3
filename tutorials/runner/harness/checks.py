"""
The check phase of an exercise run, inside the sandbox (its hook is in ``main.py``).

After the learner's code (and its atexit hooks) has finished, the harness says
``{"t": "checks_ready"}``; only then does the parent send the checks, as JSON on the
"checks" pipe (``config["checks_fd"]``). Each check is ``{"name", "source"}``: setup
statements followed by one ``assert``. They run in the learner's namespace with
stdout and stderr discarded, and the outcome goes back as one message::

    {"t": "checks", "nonce": "…", "results": [
        {"passed": true}, {"passed": false, "error": "NameError"},
        {"passed": false, "setup": "KeyError"}, {"passed": false, "skipped": true}]}

The nonce comes with the checks; a report without it (written by the learner's
code before the checks arrived) is ignored by the parent.

Nothing else of a check leaves this phase: no output, no traceback, no message text
(the parent words the messages from the checks it holds, and ignores every output and
trace message that arrives after "checks_ready"). A run without checks has its pipe
closed by the parent before the code is sent; the harness then closes its end before
the code runs (``wanted``), so that code sees the same fds as before exercises.

Like the rest of the harness, this module imports nothing from the site.
"""

import ast
import builtins
import json
import os


def prepare(config):
    """
    Called before the learner's code runs. Returns the check phase, a function of
    the learner's namespace, holding its own references to everything it uses, so
    that code that replaces ``compile``, ``exec``, ``print``, ``AssertionError`` or
    ``json`` in the shared modules does not change how the checks run. None when the
    sandbox has no checks pipe.
    """
    checks_fd = config.get("checks_fd")
    channel_fd = config.get("channel_fd", 3)
    if checks_fd is None:
        return None
    saved = {
        "compile": builtins.compile,
        "exec": builtins.exec,
        "type": builtins.type,
        "isinstance": builtins.isinstance,
        "len": builtins.len,
        "str": builtins.str,
        "dict": builtins.dict,
        "list": builtins.list,
        "BaseException": builtins.BaseException,
        "AssertionError": builtins.AssertionError,
        "BlockingIOError": builtins.BlockingIOError,
        "OSError": builtins.OSError,
        "ValueError": builtins.ValueError,
        "KeyError": builtins.KeyError,
        "TypeError": builtins.TypeError,
        "Assert": ast.Assert,
        "Module": ast.Module,
        "ONLY_AST": ast.PyCF_ONLY_AST,
        "dumps": json.dumps,
        "loads": json.loads,
        "read": os.read,
        "write": os.write,
        "open": os.open,
        "dup2": os.dup2,
        "close": os.close,
        "set_blocking": os.set_blocking,
        "devnull": os.devnull,
        "O_WRONLY": os.O_WRONLY,
        "sys": __import__("sys"),
    }

    def send(message):
        data = memoryview((saved["dumps"](message) + "\n").encode("utf-8", "replace"))
        while data:
            data = data[saved["write"](channel_fd, data) :]

    def read_all(fd):
        chunks = []
        while True:
            chunk = saved["read"](fd, 65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)

    def silence():
        """Discard everything written from now on, through sys.* or fds 1 and 2."""
        sink = _Discard()
        sys = saved["sys"]
        sys.stdout = sys.stderr = sys.__stdout__ = sys.__stderr__ = sink
        try:
            null = saved["open"](saved["devnull"], saved["O_WRONLY"])
            saved["dup2"](null, 1)
            saved["dup2"](null, 2)
            saved["close"](null)
        except saved["OSError"]:
            pass

    def run_one(check, namespace):
        """Run one check; its result entry."""
        source = check["source"]
        tree = saved["compile"](source, "<check>", "exec", saved["ONLY_AST"], dont_inherit=True)
        body = tree.body
        setup, final = body[:-1], body[-1:]
        if not final or not saved["isinstance"](final[0], saved["Assert"]):
            setup, final = body, []
        for statement in setup:
            try:
                module = saved["Module"](body=[statement], type_ignores=[])
                code = saved["compile"](module, "<check>", "exec", dont_inherit=True, optimize=0)
                saved["exec"](code, namespace)
            except saved["BaseException"] as exc:
                return {"passed": False, "setup": saved["type"](exc).__name__}
        if not final:
            return {"passed": True}
        try:
            module = saved["Module"](body=final, type_ignores=[])
            code = saved["compile"](module, "<check>", "exec", dont_inherit=True, optimize=0)
            saved["exec"](code, namespace)
        except saved["AssertionError"]:
            return {"passed": False}
        except saved["BaseException"] as exc:
            return {"passed": False, "error": saved["type"](exc).__name__}
        return {"passed": True}

    def wanted():
        """
        Whether checks may come (called once the code is read, before it runs): the
        parent closes the pipe before sending the code of a run without checks, and
        then the fd is closed here, so that such a run's code sees no extra fd.
        """
        try:
            saved["set_blocking"](checks_fd, False)
            if saved["read"](checks_fd, 1):
                return True  # never sent this early; left for the phase to refuse
        except saved["BlockingIOError"]:
            return True
        except saved["OSError"]:
            return False
        saved["close"](checks_fd)
        return False

    def phase(namespace):
        try:
            saved["set_blocking"](checks_fd, False)
            if not saved["read"](checks_fd, 1 << 16):
                return  # the parent closed the pipe: a run without checks
        except saved["BlockingIOError"]:
            pass  # nothing yet: the parent is waiting for "checks_ready"
        except saved["OSError"]:
            return  # the learner's code closed it: the parent reports no result
        silence()
        send({"t": "checks_ready"})
        try:
            saved["set_blocking"](checks_fd, True)
            sent = saved["loads"](read_all(checks_fd))
            nonce, checks = sent["nonce"], sent["checks"]
        except (saved["OSError"], saved["ValueError"], saved["KeyError"], saved["TypeError"]):
            return
        results = []
        setup_failed = False
        for check in checks:
            if setup_failed:
                results.append({"passed": False, "skipped": True})
                continue
            try:
                entry = run_one(check, namespace)
            except saved["BaseException"] as exc:  # a check that does not compile
                entry = {"passed": False, "error": saved["type"](exc).__name__}
            setup_failed = "setup" in entry
            results.append(entry)
        send({"t": "checks", "nonce": nonce, "results": results})

    phase.wanted = wanted
    return phase


class _Discard:
    """A text stream that keeps nothing."""

    encoding = "utf-8"
    errors = "strict"

    def write(self, text):
        return len(text) if isinstance(text, str) else 0

    def flush(self):
        pass

    def isatty(self):
        return False

    def writable(self):
        return True
