"""
The program that runs inside the sandbox (a package the sandbox imports as ``harness``).

It is started by ``process.py`` (command line from ``sandbox.py``) with a JSON
configuration as its argument, and talks to its parent over the file descriptor
named in it (the "channel"), one JSON object per line:

    {"t": "ready"}                          Django is set up; send the code on stdin.
    {"t": "out", "s": "stdout", "d": "…"}   something the code printed.
    {"t": "sig", "id": 1, "parent": null, …} a signal was sent (see ``tracer.py``).
    {"t": "rcv", "id": 1, "name": "…", …}    a receiver of that signal returned or raised.
    {"t": "checks_ready"}                   an exercise's checks may come now (``checks``).
    {"t": "checks", "nonce": "…", "results": […]}  how each check went.
    {"t": "done", "status": 0, "stopped": null, "trace_dropped": 0}

The learner's code runs in this process and can write to the channel too, so the
parent treats every message as a claim to validate and cap, never as the truth
(see ``process.py``).

The modules, in the order a run meets them: ``rlimits`` (limits set first),
``playground`` (throwaway Django settings and database), ``channel`` and
``output`` (what reaches the parent), ``tracer`` (the signal trace), ``sample``
(running the learner's code), ``checks`` (an exercise's checks, after it) and
``main`` (the flow that ties them together).

Nothing here may import from the site: inside the sandbox there is only the
interpreter, the standard library and the few packages bound into it.
"""

from .main import build_template, main

__all__ = ["build_template", "main"]
