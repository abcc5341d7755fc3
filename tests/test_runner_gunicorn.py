"""
Under gunicorn with preload_app, the master holds no warm pool and each worker
builds its own after the fork, so a fresh worker's first run is warm.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PORT = free_port()


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.fixture
def gunicorn(tmp_path):
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "test-only-" + "x" * 40,
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_CACHE_DIR": str(tmp_path / "cache"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "GUNICORN_BIND": f"127.0.0.1:{PORT}",
        "GUNICORN_ACCESS_LOG": "",
        "WEB_CONCURRENCY": "1",
        "RUNNER_POOL_SIZE": "1",
        "RUNNER_LOCK_DIR": str(tmp_path / "locks"),
        "RUNNER_UID_BASE": "64400",
        "RUNNER_UID_COUNT": "16",
    }
    env.pop("CACHE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
        cwd=settings.BASE_DIR,
        env=env,
    )
    try:
        yield process
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(30)


def get_json(opener, path):
    with opener.open(f"http://127.0.0.1:{PORT}{path}", timeout=30) as response:
        return json.loads(response.read())


def test_master_holds_no_pool_and_a_fresh_workers_first_run_is_warm(gunicorn):
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    deadline = time.monotonic() + 90
    # Before any request: the worker has started sandboxes of its own (post_fork).
    while True:
        assert time.monotonic() < deadline, "the worker started no sandbox by itself"
        workers = children(gunicorn.pid)
        if workers and any("bwrap" in cmdline(child) for child in children(workers[0])):
            break
        time.sleep(0.1)
    status = None
    while True:
        assert time.monotonic() < deadline, f"the worker's pool did not warm up: {status}"
        try:
            status = get_json(opener, "/run/status/")
            if status["warm_sandboxes"] >= 1:
                break
        except OSError:
            pass
        time.sleep(0.2)
    (worker,) = children(gunicorn.pid)  # the master's only child: its worker
    assert "gunicorn" in cmdline(worker)
    assert any("bwrap" in cmdline(child) for child in children(worker))
    token = get_json(opener, "/csrf-token/")["token"]
    request = urllib.request.Request(
        f"http://127.0.0.1:{PORT}/run/",
        data=json.dumps({"code": "print('first')"}).encode(),
        headers={"Content-Type": "application/json", "X-CSRFToken": token},
    )
    with opener.open(request, timeout=30) as response:
        assert response.status == 200
        data = json.loads(response.read())
    assert data["output"][0]["text"] == "first\n"
    assert data["warm"] is True
    assert children(gunicorn.pid) == [worker]  # still no sandbox in the master
