"""
Running the learner's code as the module ``playground.models``, and printing its
tracebacks as Python would, without the harness's own frames.
"""

import ast
import asyncio
import linecache
import os
import sys
import traceback
import types

SAMPLE_FILENAME = "sample.py"
SAMPLE_MODULE = "playground.models"
CO_COROUTINE = 0x80  # code with top-level await
HARNESS_DIR = os.path.dirname(os.path.abspath(__file__))


def new_module() -> types.ModuleType:
    """The module the sample runs as; its ``__dict__`` is the run's namespace."""
    module = types.ModuleType(SAMPLE_MODULE)
    module.__file__ = SAMPLE_FILENAME
    module.__dict__["__builtins__"] = __builtins__
    sys.modules[SAMPLE_MODULE] = module
    sys.modules["playground"].models = module
    return module


def read_code(fd: int = 0) -> str:
    """Read the learner's code from ``fd`` to its end, and show it in tracebacks."""
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
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
    return source


def run_code(source: str, namespace: dict) -> None:
    """
    Execute the sample in ``namespace``.

    Code with top-level ``await`` runs statement by statement: statements that
    await run in a persistent event loop, the others run outside it so that the
    synchronous ORM works as it does in a script.
    """
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    code = compile(source, SAMPLE_FILENAME, "exec", flags=flags, dont_inherit=True)
    if not code.co_flags & CO_COROUTINE:
        exec(code, namespace)
        return
    loop = asyncio.new_event_loop()
    try:
        _run_statements(ast.parse(source, SAMPLE_FILENAME), namespace, loop)
    finally:
        _close_loop(loop)


def _run_statements(tree: ast.Module, namespace: dict, loop) -> None:
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    future_flags = 0
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            import __future__

            for alias in node.names:
                future_flags |= getattr(__future__, alias.name).compiler_flag
        module = ast.Module(body=[node], type_ignores=[])
        piece = compile(
            module, SAMPLE_FILENAME, "exec", flags=flags | future_flags, dont_inherit=True
        )
        if piece.co_flags & CO_COROUTINE:
            loop.run_until_complete(eval(piece, namespace))
        else:
            exec(piece, namespace)


def _close_loop(loop) -> None:
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


def hide_harness_frames() -> None:
    """
    Leave the harness's own frames (the receiver wrappers of the trace) out of
    every traceback printed inside the sandbox, so that tracebacks, logged ones
    included, look as they would in a plain script.
    """
    prefix = HARNESS_DIR + os.sep

    def keep(walk):
        def walk_without_harness(tb):
            for item in walk(tb):
                if not item[0].f_code.co_filename.startswith(prefix):
                    yield item

        return walk_without_harness

    traceback.walk_tb = keep(traceback.walk_tb)
    # What TracebackException (so format_exception and logging) uses on 3.11+.
    if hasattr(traceback, "_walk_tb_with_full_positions"):
        traceback._walk_tb_with_full_positions = keep(traceback._walk_tb_with_full_positions)


def print_exception(exc: BaseException) -> None:
    """Print a traceback as Python would, from the sample's first frame on."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != SAMPLE_FILENAME:
        tb = tb.tb_next
    if isinstance(exc, SyntaxError):
        tb = None
    lines = traceback.format_exception(type(exc), exc, tb)
    sys.stderr.write("".join(lines))
