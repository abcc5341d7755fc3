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
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_http import ROOT, Server, free_port, get, manage, prepare, site_env  # noqa: E402

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


@contextlib.contextmanager
def serving_lesson(path: str | None):
    """gunicorn (gunicorn.conf.py, two workers) on a scratch copy of the course, as
    bench_http.py serves it, with the page cache warm for ``path`` (default: the
    heaviest lesson); yields (base URL, path). Stopped and removed after."""
    scratch = Path(tempfile.mkdtemp(prefix="bench-page-"))
    port = free_port()
    env = {**site_env(scratch, port), "WEB_CONCURRENCY": "2"}
    server = None
    try:
        prepare(env, scratch)
        if not (ROOT / "staticfiles" / "staticfiles.json").exists():
            manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        path = path or heaviest_lesson(env)
        server = Server(env, port, scratch / "gunicorn.log")
        get(server.url + path)  # warm the page cache
        yield server.url, path
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


def heaviest_lesson(env: dict[str, str]) -> str:
    script = (
        "from django.db.models.functions import Length;"
        "from tutorials.models import Tutorial;"
        "t = Tutorial.objects.published().order_by(Length('body_html').desc()).first();"
        "print(t.get_absolute_url() if t else '')"
    )
    out = manage(env, "shell", "--verbosity", "0", "-c", script)
    path = (out.strip().splitlines() or [""])[-1]
    if not path:
        sys.exit("No published lesson: content/ did not sync.")
    return path


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

    with tempfile.TemporaryDirectory() as tmp, serving_lesson(args.path) as (base, path):
        reports = [lighthouse(base + path, Path(tmp) / f"lh{n}.json") for n in range(args.runs)]

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
