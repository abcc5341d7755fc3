"""
A system check that says loudly when code samples would run without bubblewrap.
"""

from django.core.checks import Tags, Warning, register


@register(Tags.security)
def check_sandbox(app_configs=None, **kwargs) -> list[Warning]:
    """runner.W001: bwrap is unavailable; runs use the fallback or are refused."""
    from .pool import require_sandbox
    from .sandbox import availability

    state = availability()
    if state.sandboxed:
        return []
    if require_sandbox():
        return [
            Warning(
                f"Bubblewrap cannot start here ({state.reason}); with "
                "RUNNER_REQUIRE_SANDBOX the run endpoint refuses every run (503).",
                hint="Install bubblewrap and allow user namespaces (see tutorials/runner/"
                "README.md), or set RUNNER_REQUIRE_SANDBOX = False in development.",
                id="runner.W002",
            )
        ]
    return [
        Warning(
            f"Bubblewrap cannot start here ({state.reason}); learner code runs in the "
            "FALLBACK sandbox (rlimits only), which does not protect this machine.",
            hint="Install bubblewrap and allow user namespaces (see tutorials/runner/"
            "README.md), or set RUNNER_REQUIRE_SANDBOX = True to refuse runs instead.",
            id="runner.W001",
        )
    ]
