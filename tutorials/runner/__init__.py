"""
Running the course's code samples safely.

    from tutorials.runner import run_code

    result = run_code("print('hello')")
    result.text          # "hello\n": stdout and stderr, in the order written
    result.to_dict()     # the JSON answer of the run endpoint

Each run happens in a fresh, single-use sandbox (see ``sandbox.py``) that has
Django set up with throwaway settings and an in-memory database; ``pool.py``
keeps a few started ahead of time. ``samples.py`` finds the runnable samples in
lesson Markdown and checks their expected output.
"""

from . import checks  # noqa: F401  (registers the runner.W001 system check)
from .result import OutputChunk, RunResult, TraceEvent

__all__ = ["OutputChunk", "RunResult", "TraceEvent", "run_code", "warm_up"]


def run_code(code: str) -> RunResult:
    """
    Run ``code`` in a sandbox and return what it printed, how it ended and the
    signals it sent. Uses a warm sandbox from the pool when one is ready.

    Raises ``tutorials.runner.pool.Busy`` when too many runs are already going.
    """
    from .pool import run

    return run(code)


def warm_up() -> None:
    """
    Probe bubblewrap (logging loudly if it cannot run) and start this process's
    warm pool, in a background thread. Call it in each process that serves runs,
    after any fork (config/wsgi.py, gunicorn.conf.py's ``post_fork``), so the first
    learner does not wait for it; without it, the first run or the first GET of
    ``run/status/`` does the same. With the "redis" queue, web processes run no
    code and this does nothing (the runner workers warm their own pools).
    """
    import threading

    from . import queues
    from .pool import get_pool, require_sandbox
    from .sandbox import availability

    if queues.mode() == "redis":
        return

    def start() -> None:
        if availability().sandboxed or not require_sandbox():
            get_pool()

    threading.Thread(target=start, name="runner-warm-up", daemon=True).start()
