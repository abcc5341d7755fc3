"""
A system check that says loudly when code samples cannot run in bubblewrap.
"""

from django.core.checks import Info, Tags, Warning, register


@register(Tags.security)
def check_sandbox(app_configs=None, **kwargs) -> list[Warning]:
    """runner.W002: runs are refused without bwrap; runner.W001: they run unconfined."""
    from .sandbox import INSTALL_HINT, allow_unsandboxed, availability

    state = availability()
    if state.sandboxed:
        return []
    if not allow_unsandboxed():
        return [
            Warning(
                f"Bubblewrap cannot start here ({state.reason}): running code samples is "
                "unavailable; each sample's Run area says so. The course is served as usual.",
                hint=f"{INSTALL_HINT} See docs/runner.md, 'Running without bubblewrap'.",
                id="runner.W002",
            )
        ]
    return [
        Warning(
            f"Bubblewrap cannot start here ({state.reason}) and RUNNER_ALLOW_UNSANDBOXED is "
            "set: learner code runs UNCONFINED on this machine, with the server's rights.",
            hint=f"Only for a machine that runs its owner's code. {INSTALL_HINT}",
            id="runner.W001",
        )
    ]


@register(Tags.security)
def check_run_bounds(app_configs=None, **kwargs) -> list[Info]:
    """runner.I001: no cgroup per run here; each run is bounded as a single process."""
    from .cgroups import support

    state = support()
    if state.available:
        return []
    return [
        Info(
            f"Code runner: {state.describe()}. Each run is one process (no fork) whose "
            "address space is its memory bound.",
            hint="See docs/runner.md, 'What bounds a run', to give runs a cgroup each.",
            id="runner.I001",
        )
    ]
