"""The resource limits the harness sets on itself before the learner's code runs."""

import contextlib
import math
import resource


def apply_limits(limits: dict) -> None:
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


def limit_cpu(seconds: float) -> None:
    """
    Allow about ``seconds`` more CPU time from now (RLIMIT_CPU counts whole
    seconds of the process's total): SIGXCPU at the soft limit, SIGKILL a second
    later for code that ignores SIGXCPU. The learner cannot raise the hard limit.
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + seconds)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))
