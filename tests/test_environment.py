"""Every tunable is readable from the environment, and docs/deploying.md's table says
so truthfully: each variable the code reads is listed with its real default, and each
listed one is read. The runner's RUNNER_* limits reach the settings and the runner."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tutorials.runner import limits, uids

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "deploying.md"
# Python files that read the environment for settings.
READERS = [ROOT / "config" / "settings.py", ROOT / "gunicorn.conf.py"]
ENV_CALLS = {"os.environ.get", "os.getenv", "env_bool", "env_list", "os.environ.setdefault"}
# Read by a library rather than by our code, and documented in the table.
READ_BY_LIBRARIES = {"DATABASE_URL"}  # dj_database_url.config()
# gunicorn.conf.py's own bookkeeping between reloads, not a setting.
INTERNAL = {"TUTORIALS_METRICS_DIR_READY"}
ROW = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|(.*?)\|(.*)\|\s*$")


def guide_table() -> dict[str, str]:
    """Variable -> default cell, from the table under "Every setting from the environment"."""
    text = GUIDE.read_text()
    section = text.split("## Every setting from the environment", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = ROW.match(line)
        if match:
            name, default, meaning = match.groups()
            assert name not in rows, f"{name} is listed twice"
            assert meaning.strip(), f"{name} has no meaning"
            rows[name] = default.strip()
    return rows


def read_by_code() -> dict[str, object]:
    """Variable -> its default as written in the code (a literal), or ... when computed."""
    found: dict[str, object] = {}
    for path in READERS:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ENV_CALLS:
                if node.args and isinstance(node.args[0], ast.Constant):
                    default = node.args[1] if len(node.args) > 1 else None
                    literal = default.value if isinstance(default, ast.Constant) else ...
                    found.setdefault(node.args[0].value, literal)
            elif (
                isinstance(node, ast.Subscript)
                and ast.unparse(node.value) == "os.environ"
                and isinstance(node.slice, ast.Constant)
            ):
                found.setdefault(node.slice.value, ...)
    for name, default in limits.DEFAULTS.items():
        found[f"RUNNER_{name}"] = default
    return {name: default for name, default in found.items() if name not in INTERNAL}


def as_cell(value: object) -> str | None:
    """How a literal default is written in the table; None: described in words."""
    if value is ... or value is None:
        return None
    if isinstance(value, bool):
        return "`1`" if value else "`0`"
    if isinstance(value, tuple):
        return f"`{','.join(value)}`"
    return f"`{value}`"


def test_the_table_parses_and_is_not_empty():
    table = guide_table()
    assert len(table) > 50
    assert "RUNNER_MAX_CONCURRENCY" in table and "DJANGO_LOG_FORMAT" in table


def test_every_variable_the_code_reads_is_in_the_guides_table():
    missing = set(read_by_code()) - set(guide_table())
    assert not missing, f"read from the environment but not in docs/deploying.md: {missing}"


def test_every_variable_in_the_table_is_read_by_the_code():
    extra = set(guide_table()) - set(read_by_code()) - READ_BY_LIBRARIES
    assert not extra, f"in docs/deploying.md's table but read by nothing: {extra}"


def test_the_tables_defaults_are_the_codes_defaults():
    table = guide_table()
    wrong = {}
    for name, default in read_by_code().items():
        expected = as_cell(default)
        if expected is not None and table[name] != expected:
            wrong[name] = (table[name], expected)
        if expected is None:
            # Computed or absent defaults are explained in words, never left blank.
            assert table[name] and table[name] != "``", name
    assert not wrong, f"table default != code default: {wrong}"


def _settings_in(env: dict[str, str], code: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", "import json, django; django.setup(); " + code],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _non_default(name: str, default: object, tmp_path: Path) -> tuple[str, object]:
    """An environment value different from the default, and the setting it should give."""
    if name in ("ALLOW_UNSANDBOXED", "CGROUPS"):
        return ("0", False) if name == "CGROUPS" else ("1", True)
    if name == "CGROUP_ROOT":
        return str(tmp_path), str(tmp_path)
    if name == "BWRAP":
        return "", ""
    if name == "LOCK_DIR":
        return str(tmp_path / "locks"), str(tmp_path / "locks")
    if name == "PACKAGES":
        return "django, asgiref", ["django", "asgiref"]
    if isinstance(default, float):
        return str(default + 0.5), default + 0.5
    return str(default + 1), default + 1


def test_every_runner_limit_is_read_from_the_environment(tmp_path):
    env, expected = {}, {}
    for name, default in limits.DEFAULTS.items():
        text, value = _non_default(name, default, tmp_path)
        env[f"RUNNER_{name}"] = text
        expected[f"RUNNER_{name}"] = value
    code = (
        "from django.conf import settings; from dataclasses import asdict; "
        "from tutorials.runner import limits; "
        f"names = {sorted(expected)!r}; "
        "out = {n: getattr(settings, n, 'missing') for n in names}; "
        "out['current'] = asdict(limits.current()); "
        "print(json.dumps(out, default=list))"
    )
    got = _settings_in(env, code)
    current = got.pop("current")
    assert got == expected
    # ...and the runner uses them.
    assert current["wall_timeout"] == limits.WALL_TIMEOUT + 0.5
    assert current["memory_bytes"] == limits.MEMORY_BYTES + 1


def test_a_bad_runner_value_stops_start_up_with_a_clear_message():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "RUNNER_WALL_TIMEOUT": "five"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "RUNNER_WALL_TIMEOUT='five' is not valid" in result.stderr


@pytest.mark.parametrize(
    ("variable", "setting", "text", "value"),
    [
        ("DJANGO_LOGIN_FAILURE_WINDOW", "LOGIN_FAILURE_WINDOW", "60", 60),
        ("DJANGO_LOG_FORMAT", "LOG_FORMAT", "json", "json"),
        ("DJANGO_LOG_REPEAT_SECONDS", "LOG_REPEAT_SECONDS", "2.5", 2.5),
        ("DJANGO_METRICS_TOKEN", "METRICS_TOKEN", "t0ken", "t0ken"),
        (
            "DJANGO_METRICS_ALLOWED_NETWORKS",
            "METRICS_ALLOWED_NETWORKS",
            "10.0.0.0/8",
            ["10.0.0.0/8"],
        ),
    ],
)
def test_the_new_settings_are_read_from_the_environment(variable, setting, text, value):
    got = _settings_in(
        {variable: text},
        f"from django.conf import settings; print(json.dumps(settings.{setting}))",
    )
    assert got == value


def test_a_log_format_other_than_text_or_json_is_refused():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "DJANGO_LOG_FORMAT": "xml"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DJANGO_LOG_FORMAT must be text or json" in result.stderr


def test_the_runner_lock_directory_belongs_to_the_checkout(settings):
    settings.RUNNER_LOCK_DIR = None
    assert Path(uids.lock_dir()) == ROOT / "var" / "runner-locks"
    assert not uids.lock_dir().startswith("/tmp/tutorials-runner-locks")


def test_the_runner_lock_directory_is_configurable(settings, tmp_path):
    settings.RUNNER_LOCK_DIR = str(tmp_path / "elsewhere")
    assert uids.lock_dir() == str(tmp_path / "elsewhere")
    assert (tmp_path / "elsewhere").is_dir()
    assert (tmp_path / "elsewhere").stat().st_mode & 0o777 == 0o700


def test_two_checkouts_get_two_lock_directories(tmp_path):
    """A copy of the runner package elsewhere locks in its own var/, not a shared /tmp one."""
    other = tmp_path / "other-checkout"
    (other / "tutorials").mkdir(parents=True)
    (other / "tutorials" / "__init__.py").write_text("")
    import shutil

    shutil.copytree(ROOT / "tutorials" / "runner", other / "tutorials" / "runner")
    code = "from tutorials.runner import uids; print(uids.lock_dir())"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=other,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(other)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(other / "var" / "runner-locks")
    assert result.stdout.strip() != uids.lock_dir()
