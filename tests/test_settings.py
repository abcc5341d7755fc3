"""Settings from the environment: production refuses to start half-configured, and the
documented production environment passes ``check --deploy``."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = ROOT / "config" / "production.env.example"


def documented_production_env() -> dict[str, str]:
    """config/production.env.example, with a real secret key filled in."""
    env = {}
    for line in PRODUCTION_ENV.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value
    env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run Python in a fresh process with exactly ``env`` (plus PATH)."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_in(env: dict[str, str], *names: str) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"names = {list(names)!r}; "
        "print(json.dumps({n: getattr(settings, n, None) for n in names}, default=str))"
    )
    result = run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_debug_off_without_a_secret_key_refuses_to_start_with_a_clear_message():
    result = run(["manage.py", "check"], {"DJANGO_DEBUG": "0"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off" in result.stderr


def test_documented_production_env_passes_check_deploy():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        documented_production_env(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("override", "warning"),
    [
        ({"DJANGO_SECURE_SSL_REDIRECT": "0"}, "security.W008"),
        ({"DJANGO_SECURE_HSTS_SECONDS": "0"}, "security.W004"),
        ({"DJANGO_SECURE_COOKIES": "0"}, "security.W012"),
        ({"DJANGO_DEBUG": "1"}, "security.W018"),
    ],
)
def test_check_deploy_fails_when_a_production_setting_is_turned_off(override, warning):
    env = {**documented_production_env(), **override}
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert warning in result.stderr


def test_proxy_ssl_header_is_trusted_only_when_configured():
    env = documented_production_env()
    assert settings_in(env, "SECURE_PROXY_SSL_HEADER") == {
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"]
    }
    del env["DJANGO_SECURE_PROXY_SSL_HEADER"]
    assert settings_in(env, "SECURE_PROXY_SSL_HEADER") == {"SECURE_PROXY_SSL_HEADER": None}


def test_production_caches_are_shared_between_processes(tmp_path):
    env = documented_production_env()
    assert settings_in(env, "CACHES")["CACHES"]["default"]["BACKEND"] == (
        "django.core.cache.backends.redis.RedisCache"
    )
    del env["CACHE_URL"]
    env["DJANGO_CACHE_DIR"] = str(tmp_path)
    default = settings_in(env, "CACHES")["CACHES"]["default"]
    assert default["BACKEND"] == "tutorials.filecache.FileCache"  # FileBasedCache, culled less
    assert default["LOCATION"] == str(tmp_path)


def test_page_cache_answers_before_session_auth_and_messages():
    middleware = settings.MIDDLEWARE
    page_cache = middleware.index("tutorials.middleware.PageCacheMiddleware")
    assert middleware[:page_cache] == [
        "tutorials.requestlog.RequestLogMiddleware",  # logs and measures every request
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "tutorials.scheduling.ScheduledPublishingMiddleware",  # a due lesson shows on a hit
    ]
    for later in (
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
    ):
        assert middleware.index(later) > page_cache, later


def test_sqlite_runs_in_wal_mode_with_immediate_transactions(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    options = settings_in(env, "DATABASES")["DATABASES"]["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 5  # seconds a writer waits for the lock
    assert "journal_mode=WAL" in options["init_command"]
