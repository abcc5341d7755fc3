"""
HTTP figures for the production stack: gunicorn (gunicorn.conf.py) on loopback,
loaded by wrk with 16 connections. Prints a table; asserts nothing (the targets
are printed beside the figures).

    .venv/bin/python tests/benchmarks/bench_http.py [--quick] [--connections 16]

Measured, each after a warm-up, in turns taken in rotation (so that whatever else
the machine is doing weighs on every figure alike): a lesson page, the home page,
a search, and the ceiling: the same lesson's HTML saved as a static file and
served by whitenoise from the same server. Then a 30-second run on the lesson that must have zero
errors, and a run during which an admin saves a lesson (over HTTP, through the
real admin form) and ``sync_content`` rewrites one, each of which invalidates
every cached page; afterwards the page must show both edits.

The site runs with DEBUG off on a scratch SQLite database (migrated, the real
course synced from a copy of content/) and the default local caches, exactly as
``make serve``, except that the access log goes to a file. ``wrk`` comes from
Debian (``make bench-deps``); static files must be collected (``make bench`` does).
"""

from __future__ import annotations

import argparse
import html.parser
import http.cookiejar
import os
import re
import runpy
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CEILING_DIR = ROOT / "staticfiles" / "bench"  # whitenoise serves STATIC_ROOT
THREADS = 2  # wrk threads: one per core of this machine
ROUNDS = 5  # turns per figure (see measure_interleaved)
SEARCH = "/search/?q=receiver"
ADMIN_PASSWORD = "bench-admin-password-1"
TARGET_RATIO = 0.60  # lesson throughput / static ceiling
TARGET_P99_MS = 50.0


@dataclass
class Run:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx responses + socket errors

    def row(self, ceiling: float | None = None) -> str:
        ratio = f"{self.requests_per_second / ceiling:6.0%}" if ceiling else "      "
        return (
            f"{self.name:<34} {self.requests_per_second:>9,.0f} {ratio} "
            f"{self.p50_ms:>8.2f} {self.p99_ms:>8.2f} {self.requests:>9,} {self.errors:>6}"
        )


# The site -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def site_env(scratch: Path, port: int) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-" + "s" * 60,
        # Plain HTTP on loopback, as `make serve`.
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DATABASE_URL": f"sqlite:///{scratch / 'db.sqlite3'}",
        "DJANGO_CACHE_DIR": str(scratch / "cache"),
        "DJANGO_CONTENT_DIR": str(scratch / "content"),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        # As in production: the site writes each request's access line (to the log
        # file below), gunicorn's own access log stays off.
        "GUNICORN_ACCESS_LOG": "",
    }
    env.pop("CACHE_URL", None)
    return env


def manage(env: dict[str, str], *args: str, check: bool = True) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if check and result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def prepare(env: dict[str, str], scratch: Path) -> None:
    """A migrated scratch database with the course synced and an admin account."""
    shutil.copytree(ROOT / "content", scratch / "content")
    manage(env, "migrate", "--verbosity", "0")
    # A lesson file that is broken while an author works on it is skipped, as in production.
    manage(env, "sync_content", "--verbosity", "0", check=False)
    manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth.models import User; "
        f"User.objects.create_superuser('bench', 'bench@example.com', '{ADMIN_PASSWORD}')",
    )


def lesson_paths(env: dict[str, str]) -> list[tuple[str, str]]:
    """(URL, source file) of each published lesson, in reading order."""
    out = manage(
        env,
        "shell",
        "-c",
        "from tutorials.models import Tutorial\n"
        "for t in Tutorial.objects.published().in_roadmap_order():\n"
        "    print(t.get_absolute_url(), t.source_path)",
    )
    return [tuple(line.split()) for line in out.splitlines() if line.startswith("/")]


class Server:
    """gunicorn with the repository's gunicorn.conf.py, in its own process group."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
            cwd=ROOT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if get(self.url + "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"gunicorn did not start:\n{log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


# Load ---------------------------------------------------------------------------

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(name: str, url: str, seconds: float, connections: int) -> Run:
    result = subprocess.run(
        [
            "wrk",
            f"--threads={THREADS}",
            f"--connections={connections}",
            f"--duration={max(1, round(seconds))}s",
            "--timeout=5s",
            "--latency",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = result.stdout

    def latency(percentile: str) -> float:
        value, unit = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * UNITS[unit]

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (
        sum(map(int, sockets.groups())) if sockets else 0
    )
    return Run(
        name,
        float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        latency("50"),
        latency("99"),
        int(re.search(r"(\d+) requests in", out).group(1)),
        errors,
    )


def measure_interleaved(
    targets: dict[str, str], seconds: float, rounds: int, connections: int
) -> list[Run]:
    """Each target for ``seconds`` in all, in ``rounds`` turns taken in rotation, so
    that other work on the machine weighs on every figure alike. Throughput is over
    all turns; the latencies are the median turn's."""
    turns: dict[str, list[Run]] = {name: [] for name in targets}
    for _ in range(rounds):
        for name, url in targets.items():
            turns[name].append(wrk(name, url, seconds / rounds, connections))
    return [
        Run(
            name,
            sum(r.requests for r in runs) / sum(r.requests / r.requests_per_second for r in runs),
            statistics.median(r.p50_ms for r in runs),
            statistics.median(r.p99_ms for r in runs),
            sum(r.requests for r in runs),
            sum(r.errors for r in runs),
        )
        for name, runs in turns.items()
    ]


# Changes during the load -----------------------------------------------------------


class FormFields(html.parser.HTMLParser):
    """The values a browser would submit from the admin change form."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button"):
            if attrs.get("type") != "checkbox" or "checked" in attrs:
                self.fields[name] = attrs.get("value") or ("on" if "checked" in attrs else "")
        elif tag == "textarea" and name:
            self._textarea, self.fields[name] = name, ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields[self._select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


def admin_save(base: str, lesson_id: int, marker: str) -> float:
    """Log in to the admin and save a lesson with ``marker`` added; the seconds taken."""
    started = time.monotonic()
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def post(path: str, fields: dict[str, str]):
        token = next(c.value for c in jar if c.name == "csrftoken")
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(base + path, data=data, headers={"Referer": base + path})
        return opener.open(request, timeout=30)

    opener.open(base + "/admin/login/", timeout=30).read()
    post(
        "/admin/login/", {"username": "bench", "password": ADMIN_PASSWORD, "next": "/admin/"}
    ).read()
    change = f"/admin/tutorials/tutorial/{lesson_id}/change/"
    form = FormFields()
    form.feed(opener.open(base + change, timeout=30).read().decode())
    fields = {k: v for k, v in form.fields.items() if k != "csrfmiddlewaretoken"}
    fields["body_markdown"] = fields["body_markdown"].rstrip() + f"\n\n{marker}\n"
    with post(change, {**fields, "_save": "Save"}) as response:
        if "/change/" in response.geturl():
            raise RuntimeError("the admin did not accept the form")
    return time.monotonic() - started


def sync_edit(env: dict[str, str], scratch: Path, source: str, marker: str) -> float:
    """Add ``marker`` to a lesson file and run sync_content; the seconds taken."""
    started = time.monotonic()
    path = scratch / "content" / source
    path.write_text(path.read_text(encoding="utf-8").rstrip() + f"\n\n{marker}\n", "utf-8")
    manage(env, "sync_content", "--verbosity", "0", check=False)
    return time.monotonic() - started


def lesson_id(env: dict[str, str], url: str) -> int:
    section, slug = url.strip("/").split("/")
    return int(
        manage(
            env,
            "shell",
            "--verbosity",
            "0",
            "-c",
            "from tutorials.models import Tutorial; print(Tutorial.objects.get("
            f"section__slug={section!r}, slug={slug!r}).pk)",
        ).strip()
    )


# The run -----------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="Short runs (a smoke test).")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: run `make bench-deps`.")
    if not (ROOT / "staticfiles" / "staticfiles.json").exists():
        raise SystemExit("No collected static files: run `make collectstatic`.")
    measure, endurance = (5, 6) if args.quick else (20, 30)  # seconds

    scratch = Path(tempfile.mkdtemp(prefix="bench-http-"))
    port = free_port()
    env = site_env(scratch, port)
    server = None
    try:
        prepare(env, scratch)
        lessons = lesson_paths(env)
        if len(lessons) < 2:
            raise SystemExit("content/ has fewer than two lessons that sync.")
        (lesson, _), (edited, edited_source) = lessons[0], lessons[-1]
        # The ceiling: this lesson's bytes, as a file whitenoise serves from STATIC_ROOT.
        CEILING_DIR.mkdir(parents=True, exist_ok=True)
        manage(
            env,
            "shell",
            "-c",
            "from django.test import Client; from pathlib import Path; "
            f"Path({str(CEILING_DIR / 'lesson.html')!r}).write_bytes("
            f"Client(HTTP_HOST='127.0.0.1:{port}').get({lesson!r}).content)",
        )
        server = Server(env, port, scratch / "gunicorn.log")
        base = server.url
        targets = {
            f"lesson {lesson}": base + lesson,
            "home /": base + "/",
            f"search {SEARCH}": base + SEARCH,
            "static ceiling (same HTML, whitenoise)": base + "/static/bench/lesson.html",
        }
        for url in targets.values():
            for _ in range(20):
                assert get(url)[0] == 200, url
        assert get(targets["static ceiling (same HTML, whitenoise)"])[1] == get(base + lesson)[1]

        config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
        print(
            f"gunicorn: {config['workers']} workers x {config['threads']} threads "
            f"(gunicorn.conf.py); wrk: {THREADS} threads, {args.connections} connections, "
            f"{measure} s per figure in {ROUNDS} interleaved turns\n"
        )
        load_before = os.getloadavg()[0]
        runs = measure_interleaved(targets, measure, ROUNDS, args.connections)
        ceiling = runs[-1].requests_per_second
        endurance_run = wrk(f"lesson, {endurance} s", base + lesson, endurance, args.connections)

        # Edits during the load: an admin save at 1/3, a content sync at 2/3 of the run.
        during: dict[str, float | str] = {}
        saved_id = lesson_id(env, lesson)

        def edit() -> None:
            try:
                time.sleep(endurance / 3)
                during["admin save"] = admin_save(base, saved_id, "Saved in admin.")
                time.sleep(endurance / 3)
                during["sync_content"] = sync_edit(env, scratch, edited_source, "Synced from file.")
            except Exception as error:  # reported below, after the load has finished
                during["error"] = repr(error)

        editor = threading.Thread(target=edit)
        editor.start()
        change_run = wrk(
            f"lesson, {endurance} s, admin save + sync", base + lesson, endurance, args.connections
        )
        editor.join()
        saved_shown = b"Saved in admin." in get(base + lesson)[1]
        synced_shown = b"Synced from file." in get(base + edited)[1]
    finally:
        if server:
            server.stop()
        shutil.rmtree(CEILING_DIR, ignore_errors=True)

    log = (scratch / "gunicorn.log").read_text()
    server_errors = log.count("Traceback") + log.count("database is locked")
    shutil.rmtree(scratch, ignore_errors=True)

    columns = ("req/s", "ratio", "p50 ms", "p99 ms", "requests", "errors")
    print(
        f"{'':<34} "
        + " ".join(f"{c:>{w}}" for c, w in zip(columns, (9, 6, 8, 8, 9, 6), strict=True))
    )
    for run in runs:
        print(run.row(ceiling))
    print(endurance_run.row(ceiling))
    print(change_run.row(ceiling))
    lesson_run = runs[0]
    ratio = lesson_run.requests_per_second / ceiling
    print(
        f"\nlesson / static ceiling: {ratio:.0%} (target >= {TARGET_RATIO:.0%}: "
        f"{'met' if ratio >= TARGET_RATIO else 'NOT met'})"
    )
    print(
        f"lesson p99: {lesson_run.p99_ms:.1f} ms (target < {TARGET_P99_MS:.0f} ms: "
        f"{'met' if lesson_run.p99_ms < TARGET_P99_MS else 'NOT met'})"
    )
    print(f"errors in the {endurance} s run: {endurance_run.errors} (target 0)")
    print(
        f"machine load average (1 min) before / after: {load_before:.1f} / "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wrk shares them with gunicorn)"
    )
    if "error" in during:
        print(f"the edits during the load FAILED: {during['error']}")
    else:
        print(
            f"errors during the admin save ({during['admin save']:.2f} s) and the sync "
            f"({during['sync_content']:.2f} s): {change_run.errors} (target 0); "
            f"tracebacks or 'database is locked' in the server log: {server_errors}"
        )
    print(
        f"after the run the lesson shows the admin's edit: {saved_shown}; "
        f"the synced lesson shows the file's edit: {synced_shown}"
    )
    ok = saved_shown and synced_shown and not server_errors and "error" not in during
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
