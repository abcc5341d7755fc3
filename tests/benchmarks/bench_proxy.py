"""
The shared HTTP cache (deploy/nginx/cache.conf): lesson throughput through nginx
``proxy_cache`` beside the same nginx serving the same HTML from disk, and how
long a publish takes to be visible through the proxy. Exits non-zero on a miss.

    .venv/bin/python tests/benchmarks/bench_proxy.py [--quick]

gunicorn (gunicorn.conf.py) serves a scratch copy of the course, as in
bench_http.py; one nginx runs the cache in front of it and, on another port, a
plain static server for the lesson's HTML saved to a file. wrk (16 connections)
takes turns on the two, so load from elsewhere weighs on both alike. A publish
is a Tutorial save in another process (as an author's), timed from its commit to
the first response through the proxy that shows it: for the saved lesson (the
post_save refresh) and for another lesson whose roadmap shows its title
(s-maxage + stale-while-revalidate).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.bench_http import Server, free_port, get, prepare, site_env, wrk  # noqa: E402
from tests.test_nginx_cache import save_lesson, visible_after  # noqa: E402
from tools.nginx_cache import Proxy  # noqa: E402

CONNECTIONS = 16
TARGET_RATIO = 0.85  # proxy_cache / static file
TARGET_VISIBLE_S = 2.0
SECRET = "bench-refresh-secret"
LESSON = "/django-signals/signals-home/"
OTHER = "/signals-in-practice/pitfalls/"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="Short runs (not for quoting).")
    args = parser.parse_args()
    seconds, rounds, publishes = (2, 2, 2) if args.quick else (5, 3, 5)
    scratch = Path(tempfile.mkdtemp(prefix="bench_proxy_"))
    proxy_dir = Path(tempfile.mkdtemp(prefix="bench_proxy_nginx_"))
    proxy_port, static_port, origin_port = free_port(), free_port(), free_port()
    kept_port = free_port()
    env = {
        **site_env(scratch, origin_port),
        "DJANGO_PROXY_CACHE_URL": f"http://127.0.0.1:{proxy_port}",
        "DJANGO_PROXY_CACHE_SECRET": SECRET,
        "GUNICORN_ACCESS_LOG": "",
    }
    origin = proxy = None
    try:
        prepare(env, scratch)
        origin = Server(env, origin_port, scratch / "gunicorn.log")
        files = proxy_dir / "static"
        files.mkdir()
        (files / "lesson.html").write_bytes(get(origin.url + LESSON)[1])
        # The ceiling: nginx serving the same HTML from a file, as it comes; and, printed
        # beside it, with the open_file_cache the proxy's configuration uses too.
        static_server = (
            f"    server {{ listen 127.0.0.1:{static_port}; root {files}; location / {{ }} }}\n"
            f"    server {{ listen 127.0.0.1:{kept_port}; root {files}; location / {{\n"
            "        open_file_cache max=10000 inactive=60s; open_file_cache_valid 1s; } }\n"
        )
        proxy = Proxy(
            proxy_dir,
            listen=f"127.0.0.1:{proxy_port}",
            origin=f"127.0.0.1:{origin_port}",
            secret=SECRET,
            extra=static_server,
        )
        cached_url = proxy.url + LESSON
        static_url = f"http://127.0.0.1:{static_port}/lesson.html"
        kept_url = f"http://127.0.0.1:{kept_port}/lesson.html"
        for url in (cached_url, static_url, kept_url):
            wrk("warm-up", url, 1, CONNECTIONS)
        cached, static, kept = [], [], []
        for _ in range(rounds):
            cached.append(wrk("proxy_cache", cached_url, seconds, CONNECTIONS))
            static.append(wrk("static", static_url, seconds, CONNECTIONS))
            kept.append(wrk("static, open_file_cache", kept_url, seconds, CONNECTIONS))
        cached_rps = statistics.median(r.requests_per_second for r in cached)
        static_rps = statistics.median(r.requests_per_second for r in static)
        kept_rps = statistics.median(r.requests_per_second for r in kept)
        errors = sum(r.errors for r in cached + static + kept)
        ratio = cached_rps / static_rps

        lesson_times, other_times = [], []
        for n in range(publishes):
            for url in (proxy.url + LESSON, proxy.url + OTHER):
                get(url)
                get(url)  # cached
            title = f"Signals home, edition {n}"
            saved = save_lesson(env, "signals-home", title=title)
            lesson_times.append(visible_after(proxy.url + LESSON, title, saved))
            other_times.append(visible_after(proxy.url + OTHER, title, saved))

        print(f"Shared HTTP cache (nginx proxy_cache), wrk {CONNECTIONS} connections:")
        print(f"  {'nginx static file (ceiling)':<40}{static_rps:>10,.0f} req/s")
        print(
            f"  {'  the same with open_file_cache':<40}{kept_rps:>10,.0f} req/s  "
            f"(printed: the proxy keeps its files open too; {cached_rps / kept_rps:.2f}x of it)"
        )
        print(
            f"  {'lesson through proxy_cache':<40}{cached_rps:>10,.0f} req/s  "
            f"{ratio:.2f}x  (target >= {TARGET_RATIO}x)  errors {errors}"
        )
        print("Publish to visible through the proxy (worst of", publishes, "publishes):")
        print(
            f"  {'the saved lesson (post_save refresh)':<40}{max(lesson_times):>10.3f} s  "
            f"(median {statistics.median(lesson_times):.3f} s, target < {TARGET_VISIBLE_S} s)"
        )
        print(
            f"  {'another lesson (roadmap, s-maxage)':<40}{max(other_times):>10.3f} s  "
            f"(median {statistics.median(other_times):.3f} s, target < {TARGET_VISIBLE_S} s)"
        )
        missed = []
        if ratio < TARGET_RATIO:
            missed.append(f"proxy/static {ratio:.2f}x < {TARGET_RATIO}x")
        if max(lesson_times + other_times) >= TARGET_VISIBLE_S:
            missed.append(f"publish visible after {max(lesson_times + other_times):.2f} s")
        if errors:
            missed.append(f"{errors} errors under load")
        if missed:
            print("MISSED:", "; ".join(missed))
            return 1
        return 0
    finally:
        if proxy is not None:
            proxy.stop()
        if origin is not None:
            origin.stop()
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(proxy_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
