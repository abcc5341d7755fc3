"""
Code-runner figures, end to end through ``POST /run/`` on a real server:

- latency (p50/p95) of a typical signals sample with the warm pool, requests
  paced so that the pool has refilled between them;
- latency with cold starts (``RUNNER_POOL_SIZE = 0``: every run starts a sandbox);
- runs per second at concurrency 1 and 2, unpaced (the pool drains, so some of
  these runs are cold: the "warm" column says how many were not).

    .venv/bin/python tests/benchmarks/bench_runner.py [--runs 60] [--seconds 10]

Starts gunicorn (2 workers) on 127.0.0.1 with the project's settings plus a few
RUNNER_* overrides (no rate limit, scratch lock directory), and stops it after.
Prints a table with the target beside the figures; exits non-zero on a miss.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET_WARM_P50_MS = 30.0
SAMPLE = textwrap.dedent(
    """\
    from django.db import models
    from django.db.models.signals import post_save, pre_save
    from django.dispatch import receiver

    class Article(models.Model):
        title = models.CharField(max_length=100)

    @receiver(pre_save, sender=Article)
    def stamp(sender, instance, **kwargs):
        instance.title = instance.title.strip()

    @receiver(post_save, sender=Article)
    def announce(sender, instance, created, **kwargs):
        print(f"Saved {instance.title} (created={created})")

    Article.objects.create(title="  Hello  ")
    """
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn serving the site with the given pool size, on a free local port."""

    def __init__(self, pool_size: int, workers: int = 2):
        self.scratch = tempfile.mkdtemp(prefix="bench_runner_")
        settings = Path(self.scratch) / "bench_runner_settings.py"
        settings.write_text(
            "from config.settings import *  # noqa: F403\n"
            "ROOT_URLCONF = 'tutorials.runner.testing'  # the site, with run/ included\n"
            f"RUNNER_POOL_SIZE = {pool_size}\n"
            "RUNNER_RATE_LIMIT = 10**9\n"
            "RUNNER_QUEUE_SIZE = 16\n"
            "RUNNER_QUEUE_TIMEOUT = 10\n"
            f"RUNNER_LOCK_DIR = {str(Path(self.scratch) / 'locks')!r}\n"
        )
        self.port = free_port()
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="bench_runner_settings")
        env["PYTHONPATH"] = os.pathsep.join([self.scratch, str(ROOT)])
        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "config.wsgi",
                f"--bind=127.0.0.1:{self.port}",
                f"--workers={workers}",
                "--threads=4",
                "--log-level=warning",
            ],
            cwd=ROOT,
            env=env,
        )
        self.wait_until_up()

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                status, _, _ = request(self.port, "GET", "/run/status/")
                if status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def warm_up(self, seconds: float = 4) -> None:
        """Every worker answers /run/status/ (which starts its pool), then fills it."""
        for _ in range(8):
            request(self.port, "GET", "/run/status/")
        time.sleep(seconds)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def request(port, method, path, body=None, headers=None, connection=None):
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    if connection is None:
        conn.close()
    return response.status, response.headers, data


class Client:
    """One keep-alive connection with a CSRF token, like a learner's browser tab."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        _, headers, data = request(port, "GET", "/csrf-token/", connection=self.conn)
        self.token = json.loads(data)["token"]
        self.cookie = headers["Set-Cookie"].split(";", 1)[0]

    def run(self, code: str) -> tuple[float, dict]:
        body = json.dumps({"code": code})
        headers = {
            "Content-Type": "application/json",
            "X-CSRFToken": self.token,
            "Cookie": self.cookie,
            "Referer": f"http://127.0.0.1:{self.port}/",
        }
        start = time.perf_counter()
        status, _, data = request(self.port, "POST", "/run/", body, headers, self.conn)
        elapsed = (time.perf_counter() - start) * 1000
        result = json.loads(data)
        if status != 200 or result["output"][0]["text"] != "Saved Hello (created=True)\n":
            raise RuntimeError(f"unexpected answer {status}: {data[:300]!r}")
        return elapsed, result


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def latencies(port: int, runs: int, pause: float) -> tuple[list[float], int]:
    client = Client(port)
    times, warm = [], 0
    for _ in range(runs):
        elapsed, result = client.run(SAMPLE)
        times.append(elapsed)
        warm += result.get("warm", False)
        time.sleep(pause)
    return times, warm


def throughput(port: int, concurrency: int, seconds: float) -> tuple[float, int, int]:
    done, warm = [], []
    stop = time.monotonic() + seconds

    def worker() -> None:
        client = Client(port)
        while time.monotonic() < stop:
            _, result = client.run(SAMPLE)
            done.append(1)
            warm.append(result.get("warm", False))

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(done) / (time.monotonic() - start), len(done), sum(warm)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=60, help="runs per latency figure")
    parser.add_argument("--seconds", type=float, default=10, help="length of each throughput run")
    options = parser.parse_args()
    rows = []

    server = Server(pool_size=2)
    try:
        server.warm_up()
        times, warm = latencies(server.port, options.runs, pause=0.6)
        rows.append(("warm pool (paced)", times, warm))
        for concurrency in (1, 2):
            server.warm_up(3)
            rate, count, warm_count = throughput(server.port, concurrency, options.seconds)
            rows.append((f"throughput, concurrency {concurrency}", rate, count, warm_count))
    finally:
        server.stop()

    server = Server(pool_size=0)
    try:
        times, warm = latencies(server.port, max(10, options.runs // 2), pause=0.1)
        rows.append(("cold start", times, warm))
    finally:
        server.stop()

    print("\nCode runner, POST /run/ end to end (gunicorn, 2 workers, 127.0.0.1)")
    print("sample: a model, a pre_save and a post_save receiver, one create()")
    print(f"machine: {os.cpu_count()} cores\n")
    print(f"{'scenario':<28}{'runs':>6}{'p50 ms':>10}{'p95 ms':>10}{'warm':>8}")
    for row in rows:
        if isinstance(row[1], list):
            name, times, warm = row
            print(
                f"{name:<28}{len(times):>6}{statistics.median(times):>10.1f}"
                f"{percentile(times, 0.95):>10.1f}{warm:>8}"
            )
    print()
    for row in rows:
        if not isinstance(row[1], list):
            name, rate, count, warm_count = row
            print(f"{name:<28}{rate:>8.1f} runs/s  ({count} runs, {warm_count} warm)")
    warm_p50 = statistics.median(rows[0][1])
    verdict = "met" if warm_p50 < TARGET_WARM_P50_MS else "NOT met"
    print(f"\ntarget: warm p50 < {TARGET_WARM_P50_MS:.0f} ms: {verdict} ({warm_p50:.1f} ms)")
    return 0 if warm_p50 < TARGET_WARM_P50_MS else 1  # make bench fails on a miss


if __name__ == "__main__":
    sys.exit(main())
