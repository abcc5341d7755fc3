"""
Audit the runtime requirements for known vulnerabilities (``make audit``).

Usage: ``python tools/audit.py [requirements.txt]``. Runs pip-audit, which
resolves the requirements (dependencies of dependencies included) and asks PyPI's
vulnerability API about each, then says plainly what it found:

* a known vulnerability: exit 1, with the advisory and the versions that fix it;
* PyPI could not be reached (after a few tries, so one dropped connection does not
  fail CI): exit 2, saying the audit did **not** run. It never passes quietly.
  ``AUDIT_OFFLINE=skip`` turns that into a printed skip, for machines that are
  offline on purpose;
* a dependency PyPI has no record of (a private or locally built version): listed
  as not audited. That fails only with ``AUDIT_STRICT=1``, since PyPI cannot
  know of a vulnerability in a release it never published.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

ATTEMPTS = 3
BACKOFF = float(os.environ.get("AUDIT_BACKOFF", "10"))  # seconds before try 2, then doubled
NETWORK_ERRORS = ("ConnectionError", "Max retries exceeded", "NameResolutionError", "timed out")


def run_pip_audit(requirements: str) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--requirement",
        requirements,
        "--format",
        "json",
        "--progress-spinner",
        "off",
        "--timeout",
        "30",
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def audit(requirements: str) -> tuple[dict | None, str]:
    """pip-audit's report, or None and the error when PyPI could not be reached."""
    for attempt in range(1, ATTEMPTS + 1):
        result = run_pip_audit(requirements)
        try:
            return json.loads(result.stdout), ""
        except json.JSONDecodeError:
            error = result.stderr.strip().splitlines()[-1:] or ["pip-audit printed no report"]
            if not any(marker in result.stderr for marker in NETWORK_ERRORS):
                print(result.stderr, file=sys.stderr)
                raise SystemExit(f"pip-audit failed: {error[0]}") from None
            if attempt < ATTEMPTS:
                time.sleep(BACKOFF * 2 ** (attempt - 1))
    return None, error[0]


def main(requirements: str = "requirements.txt") -> int:
    report, error = audit(requirements)
    if report is None:
        if os.environ.get("AUDIT_OFFLINE") == "skip":
            print(f"AUDIT SKIPPED (AUDIT_OFFLINE=skip): PyPI unreachable: {error}")
            return 0
        print(
            f"AUDIT DID NOT RUN: PyPI's vulnerability API could not be reached "
            f"({ATTEMPTS} tries).\n  {error}\n"
            "Nothing was checked, so this is a failure, not a pass. Fix the network "
            "(pip-audit needs https://pypi.org) or, on a machine offline on purpose, "
            "run with AUDIT_OFFLINE=skip.",
            file=sys.stderr,
        )
        return 2
    dependencies = report["dependencies"]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    unknown = [d for d in dependencies if "skip_reason" in d]
    audited = len(dependencies) - len(unknown)
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            name, version = dependency["name"], dependency["version"]
            print(f"VULNERABLE {name} {version}: {vuln['id']} (fixed in {fixed})")
    if unknown:
        print(f"Not audited ({len(unknown)}): PyPI has no record of these versions:")
        for dependency in unknown:
            print(f"  {dependency['name']}: {dependency['skip_reason']}")
    print(
        f"pip-audit: {audited} of {len(dependencies)} dependencies audited, "
        f"{len(vulnerable)} with known vulnerabilities."
    )
    if vulnerable:
        return 1
    if unknown and os.environ.get("AUDIT_STRICT") == "1":
        print("AUDIT_STRICT=1: dependencies that could not be audited fail the audit.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
