"""
The Dockerfile's invariants, checked without Docker (which cannot run here): a
multi-stage slim image, a non-root user, a working health check, gunicorn as the
command, nothing secret baked in, and build steps that are Makefile targets CI runs.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
SECRET_WORDS = re.compile(r"SECRET|PASSWORD|TOKEN|PRIVATE|CREDENTIAL", re.IGNORECASE)


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), " ".join(rest.split())))
    return result


def arguments(keyword: str) -> list[str]:
    return [rest for name, rest in instructions() if name == keyword]


def make_targets_in_build() -> list[str]:
    targets = []
    for command in arguments("RUN"):
        for step in re.split(r"&&|;", command):
            words = shlex.split(step)
            if words and words[0] == "make":
                targets += [word for word in words[1:] if not word.startswith("-")]
    return targets


def test_image_is_built_in_stages_from_slim_python_311():
    stages = arguments("FROM")
    assert len(stages) >= 2
    assert all(stage.startswith("python:3.11-slim") for stage in stages)
    # The runtime stage takes the build's results, not its tools.
    assert any(copy.startswith("--from=build") for copy in arguments("COPY"))


def test_image_runs_as_a_non_root_user():
    users = arguments("USER")
    assert users, "no USER: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    # ...and the USER comes after every RUN, so nothing after it needs root.
    keywords = [name for name, _ in instructions()]
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN")


def test_command_is_gunicorn_with_the_repository_config():
    (command,) = arguments("CMD")
    assert command.startswith("[")  # exec form: gunicorn is PID 1 and gets SIGTERM
    words = json.loads(command)
    assert words[0] == "gunicorn"
    assert "gunicorn.conf.py" in words
    assert (ROOT / "gunicorn.conf.py").exists()


def test_health_check_runs_the_healthz_script():
    (check,) = arguments("HEALTHCHECK")
    assert "config/healthcheck.py" in check
    assert (ROOT / "config" / "healthcheck.py").exists()


def test_no_secret_is_baked_into_the_image():
    for keyword in ("ENV", "ARG", "LABEL"):
        for value in arguments(keyword):
            assert not SECRET_WORDS.search(value), f"{keyword} {value}"
    ignored = (ROOT / ".dockerignore").read_text().split()
    for private in (".env", "*.env", "db.sqlite3*", ".venv", ".git", "var/"):
        assert private in ignored, private


def test_build_steps_are_makefile_targets():
    targets = make_targets_in_build()
    assert {"install", "collectstatic", "check"} <= set(targets)
    result = subprocess.run(
        ["make", "--dry-run", "--always-make", *targets],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_ci_runs_the_targets_the_image_build_runs():
    """What the build does is what CI tests: every command of the build's targets is
    also a command of the targets .ci/run makes."""
    ci_targets = [
        target
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip().startswith("make ")
        for target in line.split()[1:]
    ]

    def commands(*targets: str) -> set[str]:
        dry_run = subprocess.run(
            ["make", "--dry-run", "--always-make", *targets],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return {line.strip() for line in dry_run.stdout.splitlines() if line.strip()}

    ci = commands(*ci_targets)
    for target in make_targets_in_build():
        missing = commands(target) - ci
        assert not missing, f"`make {target}` runs {sorted(missing)}, which CI never runs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthcheck(port: int, allowed_hosts: str) -> int:
    env = {
        "PATH": os.environ["PATH"],
        "GUNICORN_BIND": f"0.0.0.0:{port}",
        "DJANGO_ALLOWED_HOSTS": allowed_hosts,
    }
    script = ROOT / "config" / "healthcheck.py"
    return subprocess.run([sys.executable, script], env=env, timeout=30).returncode


@pytest.mark.django_db(transaction=True)
def test_health_check_script_passes_against_a_healthy_site(live_server):
    port = int(live_server.url.rsplit(":", 1)[1])
    assert healthcheck(port, "localhost,.example.com") == 0


@pytest.mark.django_db(transaction=True)
def test_health_check_script_fails_when_the_site_would_refuse_the_host(live_server):
    port = int(live_server.url.rsplit(":", 1)[1])
    assert healthcheck(port, "not-this-site.example.com") == 1


def test_health_check_script_fails_when_nothing_answers():
    assert healthcheck(free_port(), "localhost") == 1
