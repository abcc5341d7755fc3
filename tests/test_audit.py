"""tools/audit.py (``make audit``): what each pip-audit outcome means for the build."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("audit", ROOT / "tools" / "audit.py")
audit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(audit)

DJANGO_ADVISORY = {"id": "PYSEC-2099-1", "fix_versions": ["5.2.20"], "aliases": []}
UNREACHABLE = (
    "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='pypi.org', port=443): "
    "Max retries exceeded with url: /pypi/django/5.2.19/json"
)


class FakePipAudit:
    """Canned pip-audit outcomes, (stdout, stderr, exit code), the last one repeating."""

    def __init__(self) -> None:
        self.outcomes: list[tuple[str, str, int]] = []
        self.calls = 0

    def __call__(self, requirements: str) -> subprocess.CompletedProcess:
        self.calls += 1
        stdout, stderr, code = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        return subprocess.CompletedProcess([], code, stdout, stderr)


@pytest.fixture
def pip_audit(monkeypatch) -> FakePipAudit:
    fake = FakePipAudit()
    monkeypatch.setattr(audit, "run_pip_audit", fake)
    monkeypatch.setattr(audit, "BACKOFF", 0)
    monkeypatch.delenv("AUDIT_OFFLINE", raising=False)
    monkeypatch.delenv("AUDIT_STRICT", raising=False)
    return fake


def report(*dependencies) -> str:
    return json.dumps({"dependencies": list(dependencies), "fixes": []})


def test_clean_audit_passes(pip_audit, capsys):
    pip_audit.outcomes.append((report({"name": "django", "version": "5.2.19", "vulns": []}), "", 0))
    assert audit.main() == 0
    assert "1 of 1 dependencies audited, 0 with known vulnerabilities" in capsys.readouterr().out


def test_known_vulnerability_fails_and_names_the_fix(pip_audit, capsys):
    vulnerable = {"name": "django", "version": "5.2.19", "vulns": [DJANGO_ADVISORY]}
    pip_audit.outcomes.append((report(vulnerable), "", 1))
    assert audit.main() == 1
    assert "VULNERABLE django 5.2.19: PYSEC-2099-1 (fixed in 5.2.20)" in capsys.readouterr().out


def test_unreachable_pypi_fails_loudly_after_retrying(pip_audit, capsys):
    pip_audit.outcomes.append(("", UNREACHABLE, 1))
    assert audit.main() == 2
    assert pip_audit.calls == audit.ATTEMPTS
    err = capsys.readouterr().err
    assert "AUDIT DID NOT RUN" in err and "not a pass" in err


def test_one_dropped_connection_does_not_fail_the_audit(pip_audit):
    clean = report({"name": "django", "version": "5.2.19", "vulns": []})
    pip_audit.outcomes.extend([("", UNREACHABLE, 1), (clean, "", 0)])
    assert audit.main() == 0
    assert pip_audit.calls == 2


def test_offline_skip_must_be_asked_for_and_is_printed(pip_audit, capsys, monkeypatch):
    monkeypatch.setenv("AUDIT_OFFLINE", "skip")
    pip_audit.outcomes.append(("", UNREACHABLE, 1))
    assert audit.main() == 0
    assert "AUDIT SKIPPED" in capsys.readouterr().out


def test_versions_pypi_does_not_know_are_listed_and_fail_only_when_strict(
    pip_audit, capsys, monkeypatch
):
    local = {"name": "nh3", "skip_reason": "Dependency not found on PyPI: nh3 (0.3.8)"}
    pip_audit.outcomes.append((report(local), "", 0))
    assert audit.main() == 0
    assert "Not audited (1)" in capsys.readouterr().out
    monkeypatch.setenv("AUDIT_STRICT", "1")
    assert audit.main() == 1


def test_other_pip_audit_failures_are_not_mistaken_for_network_trouble(pip_audit):
    pip_audit.outcomes.append(("", "ResolutionImpossible: no version of foo", 1))
    with pytest.raises(SystemExit, match="pip-audit failed"):
        audit.main()
    assert pip_audit.calls == 1
