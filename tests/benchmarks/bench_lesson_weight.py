"""
What a lesson costs a first-time visitor, and what the code editor costs when used.

Usage: ``python tests/benchmarks/bench_lesson_weight.py [--path /section/lesson/]``
(``make bench`` runs it through run_all.py).

Serves the site as in production (gunicorn, DEBUG off, whitenoise compression; the
helpers of bench_lighthouse.py), opens the heaviest lesson in Debian's Chromium
(Playwright, empty cache) and counts every request and its compressed bytes (headers
+ body) until the network is idle; then focuses the first code sample and measures
the editor bundle that loads, and its Cache-Control. Exits non-zero on a miss:
initial transfer <= 60 KB and <= 10 requests, editor bundle <= 150 KB compressed,
cached immutably, and not fetched before the learner focuses a sample.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_lighthouse import CHROMIUM, serving_lesson  # noqa: E402

MAX_INITIAL_KB = 60  # compressed, headers included
MAX_INITIAL_REQUESTS = 10
MAX_EDITOR_KB = 150  # compressed


def measure(base: str, path: str) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(viewport={"width": 390, "height": 844})
        page = context.new_page()
        finished = []
        page.on("requestfinished", lambda request: finished.append(request))
        page.goto(base + path, wait_until="networkidle")
        page.wait_for_timeout(500)
        initial = [(r.url, r.sizes()) for r in finished]
        before = len(finished)
        page.locator(".runnable-code pre").first.focus()
        page.locator(".code-editor .cm-content").first.wait_for()
        page.wait_for_load_state("networkidle")
        editor = [r for r in finished[before:] if "/vendor/codemirror/" in r.url]
        editor_info = None
        if editor:
            request = editor[0]
            editor_info = {
                "url": request.url,
                "bytes": request.sizes()["responseBodySize"],
                "cache": request.response().headers.get("cache-control", ""),
            }
        browser.close()
    return {
        "initial": initial,
        "early_editor": any("/vendor/codemirror/" in url for url, _ in initial),
        "editor": editor_info,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--path", help="Lesson to measure (default: the heaviest).")
    args = parser.parse_args()
    with serving_lesson(args.path) as (base, path):
        result = measure(base, path)

    initial = result["initial"]
    total = sum(s["responseBodySize"] + s["responseHeadersSize"] for _, s in initial) / 1024
    print(f"Lesson weight, first visit, empty cache: {path}")
    for url, sizes in initial:
        size = (sizes["responseBodySize"] + sizes["responseHeadersSize"]) / 1024
        print(f"    {size:6.1f} KB  {url.removeprefix(base)}")
    print(f"  initial transfer: {total:.1f} KB (target <= {MAX_INITIAL_KB} KB)")
    print(f"  initial requests: {len(initial)} (target <= {MAX_INITIAL_REQUESTS})")
    misses = []
    if total > MAX_INITIAL_KB:
        misses.append("initial transfer")
    if len(initial) > MAX_INITIAL_REQUESTS:
        misses.append("initial requests")
    if result["early_editor"]:
        misses.append("editor loaded before any focus")
    editor = result["editor"]
    if editor is None:
        print("  editor bundle: NOT LOADED on focus")
        misses.append("editor not loaded")
    else:
        kb = editor["bytes"] / 1024
        print(
            f"  editor bundle on first focus: {kb:.1f} KB compressed (target <= {MAX_EDITOR_KB} KB)"
        )
        print(f"    Cache-Control: {editor['cache']}")
        if kb > MAX_EDITOR_KB:
            misses.append("editor size")
        if "immutable" not in editor["cache"]:
            misses.append("editor not cached immutably")
    if misses:
        print(f"  BELOW TARGET: {', '.join(misses)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
