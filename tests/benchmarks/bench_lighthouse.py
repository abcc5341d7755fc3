"""
Lighthouse on a lesson page: performance, accessibility, best practices and SEO.

Usage: ``python tests/benchmarks/bench_lighthouse.py [--runs N] [--path /section/lesson/]``
(``make bench`` runs it through run_all.py).

Serves the site as in production (gunicorn, DEBUG off, whitenoise, a fresh SQLite
database synced from content/) on a free loopback port, runs the npm ``lighthouse``
(``make node-deps``) against Debian's Chromium with its default mobile emulation
(a mid-range phone on a slow 4G link, simulated), and prints each category's
score, the median over the runs, and what the page transfers. Without ``--path``
it audits the heaviest lesson. Exits non-zero when a score is under 95 or the
lesson transfers 100 KB or more.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIGHTHOUSE = ROOT / "tests" / "node" / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROMIUM = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --no-first-run --disable-sync"
)
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
MIN_SCORE = 95  # each category, out of 100
MAX_TRANSFER_KB = 100  # HTML + CSS + JS + fonts, compressed
PAGE_RESOURCES = {"Document", "Stylesheet", "Script", "Font"}
METRICS = {
    "first-contentful-paint": "FCP",
    "largest-contentful-paint": "LCP",
    "total-blocking-time": "TBT",
    "cumulative-layout-shift": "CLS",
    "speed-index": "Speed Index",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def site_environment(database: Path, port: int) -> dict[str, str]:
    """Production settings on plain-HTTP loopback (no TLS redirect, no secure cookies)."""
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_ACCESS_LOG": "",
        "WEB_CONCURRENCY": "2",
    }


def prepare(env: dict[str, str]) -> None:
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--verbosity", "0"], env=env, cwd=ROOT, check=True)
    # A lesson file an author is still fixing is skipped, as on a real deploy.
    subprocess.run([*manage, "sync_content", "--verbosity", "0"], env=env, cwd=ROOT)
    if not (ROOT / "staticfiles" / "staticfiles.json").exists():
        subprocess.run(
            [*manage, "collectstatic", "--noinput", "-v0"], env=env, cwd=ROOT, check=True
        )


def heaviest_lesson(env: dict[str, str]) -> str:
    script = (
        "from django.db.models.functions import Length;"
        "from tutorials.models import Tutorial;"
        "t = Tutorial.objects.published().order_by(Length('body_html').desc()).first();"
        "print(t.get_absolute_url() if t else '')"
    )
    out = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "--verbosity", "0", "-c", script],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    path = (out.stdout.strip().splitlines() or [""])[-1]
    if not path:
        sys.exit("No published lesson: content/ did not sync.")
    return path


def wait_until_up(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"The site did not answer at {url}")


ATTEMPTS = 3  # Lighthouse sometimes loses its trace on a busy machine (NO_NAVSTART)


def lighthouse(url: str, out: Path) -> dict:
    command = [
        "node", str(LIGHTHOUSE), url,
        "--output=json", f"--output-path={out}", "--quiet",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={CHROME_FLAGS}",
    ]  # fmt: skip
    for attempt in range(1, ATTEMPTS + 1):
        done = subprocess.run(command, env={**os.environ, "CHROME_PATH": CHROMIUM})
        if done.returncode == 0:
            return json.loads(out.read_text(encoding="utf-8"))
        print(f"Lighthouse failed (exit {done.returncode}), attempt {attempt} of {ATTEMPTS}")
    sys.exit("Lighthouse failed every attempt; no scores to report.")


def page_transfer_kb(report: dict, kind: str | None = None) -> float:
    """KB received for the page's HTML, CSS, JS and fonts (or one ``kind`` of them)."""
    items = report["audits"]["network-requests"]["details"]["items"]
    kinds = {kind} if kind else PAGE_RESOURCES
    total = sum(i.get("transferSize", 0) for i in items if i.get("resourceType") in kinds)
    return total / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs (median reported).")
    parser.add_argument("--path", help="Lesson to audit (default: the heaviest).")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        sys.exit(f"{LIGHTHOUSE} is missing: run `make node-deps`.")

    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = site_environment(Path(tmp) / "bench.sqlite3", port)
        prepare(env)
        path = args.path or heaviest_lesson(env)
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")],
            env=env, cwd=ROOT,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base + "/healthz")
            urllib.request.urlopen(base + path).read()  # warm the page cache
            reports = [lighthouse(base + path, Path(tmp) / f"lh{n}.json") for n in range(args.runs)]
        finally:
            server.terminate()
            server.wait(timeout=30)

    scores = {
        c: statistics.median(round(r["categories"][c]["score"] * 100) for r in reports)
        for c in CATEGORIES
    }
    transfer = statistics.median(page_transfer_kb(r) for r in reports)
    total = statistics.median(r["audits"]["total-byte-weight"]["numericValue"] for r in reports)
    print(f"Lighthouse {reports[0]['lighthouseVersion']}, mobile emulation, {path}")
    print(f"  median of {len(reports)} runs")
    for category, score in scores.items():
        print(f"  {category:<15} {score:>5.0f}")
    for audit, label in METRICS.items():
        print(f"  {label:<15} {reports[-1]['audits'][audit]['displayValue']:>8}")
    print(f"  lesson transfer (HTML + CSS + JS + fonts): {transfer:.1f} KB")
    by_kind = ", ".join(
        f"{kind} {statistics.median(page_transfer_kb(r, kind) for r in reports):.1f}"
        for kind in ("Document", "Stylesheet", "Script", "Font")
    )
    print(f"    of which (KB): {by_kind}")
    print(f"  all requests: {total / 1024:.1f} KB")

    failed = [c for c, s in scores.items() if s < MIN_SCORE]
    if failed or transfer >= MAX_TRANSFER_KB:
        print(f"  BELOW TARGET: {failed or ''} {'transfer' if transfer >= MAX_TRANSFER_KB else ''}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
