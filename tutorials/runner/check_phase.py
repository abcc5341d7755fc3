"""
The supervisor's side of an exercise's check phase (the sandbox's side is
``harness/checks.py``): what the harness is sent, and the results the learner sees.

The harness reports only a pass/fail flag and an exception's type name per check;
every message shown to the learner is worded here from the checks the server holds
(the author's assertion message), and a reported type name is shown only when it is
a known exception name. So learner code that forges the report can choose which
checks pass (which it could do by patching the models anyway) but cannot put text of
its own, or of the checks, into the answer.
"""

from __future__ import annotations

import builtins
import json
import secrets
from dataclasses import dataclass

# Exception names shown as they are; anything else is "an exception".
KNOWN_ERRORS = frozenset(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
) | {
    "DoesNotExist", "MultipleObjectsReturned", "ObjectDoesNotExist", "FieldDoesNotExist",
    "FieldError", "ValidationError", "ImproperlyConfigured", "AppRegistryNotReady",
    "IntegrityError", "OperationalError", "ProgrammingError", "DatabaseError", "DataError",
    "TransactionManagementError", "ProtectedError", "RestrictedError",
    "SynchronousOnlyOperation",
}  # fmt: skip

HINTS = {
    "NameError": "your code does not define a name the check uses",
    "AttributeError": "an object lacks an attribute the check uses",
    "DoesNotExist": "a row the check expected is not in the database",
    "MultipleObjectsReturned": "the check found more rows than expected",
    "IntegrityError": "the database refused a row",
    "TypeError": "a call got arguments of the wrong kind or number",
}

NOT_REPORTED = "The checks did not finish (the run ended before they reported)."


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome as the learner sees it."""

    name: str
    passed: bool
    message: str | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "passed": self.passed, "message": self.message}


def new_nonce() -> str:
    """A per-run secret the harness echoes in its report: a report written by the
    learner's code before the checks arrived cannot carry it."""
    return secrets.token_hex(16)


def encode(checks: list[dict], nonce: str) -> bytes:
    """What the harness reads on its checks pipe once the learner's code is done."""
    sent = [{"name": c["name"], "source": c["source"]} for c in checks]
    return json.dumps({"nonce": nonce, "checks": sent}).encode()


def _error_name(value: object) -> str:
    name = str(value)
    return name if name in KNOWN_ERRORS else "an exception"


def _describe(name: str, entry: object) -> CheckResult:
    if not isinstance(entry, dict) or not isinstance(entry.get("passed"), bool):
        return CheckResult(name, False, NOT_REPORTED)
    if entry["passed"] and len(entry) == 1:
        return CheckResult(name, True, None)
    if "setup" in entry:
        error = _error_name(entry["setup"])
        return CheckResult(name, False, f"The check's setup raised {error}.{_hint(error)}")
    if entry.get("skipped"):
        return CheckResult(name, False, "Not run: the setup of an earlier check failed.")
    if "error" in entry:
        error = _error_name(entry["error"])
        return CheckResult(name, False, f"The check raised {error}.{_hint(error)}")
    return CheckResult(name, False, name)


def _hint(error: str) -> str:
    hint = HINTS.get(error)
    return f" Likely cause: {hint}." if hint else ""


def results(checks: list[dict], reported: object, not_run: str | None = None) -> list[CheckResult]:
    """
    The learner's view of each check, in order. ``reported`` is the harness's list
    (None when it sent none); ``not_run`` explains why the checks did not run.
    """
    names = [str(check["name"]) for check in checks]
    if not isinstance(reported, list) or len(reported) != len(names):
        message = not_run or NOT_REPORTED
        return [CheckResult(name, False, message) for name in names]
    return [_describe(name, entry) for name, entry in zip(names, reported, strict=True)]
