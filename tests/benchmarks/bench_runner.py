"""
The code runner as a shared service, end to end on the production stack
(gunicorn with gunicorn.conf.py, DEBUG off, file cache, ``DJANGO_NUM_PROXIES=1``
so each simulated learner has its own X-Forwarded-For address):

- warm run p50 through ``POST /run/`` (+ polls), embedded queue (target < 30 ms),
  and the same with the Redis queue and two runner workers (printed);
- classroom burst: 100 learners (distinct addresses) press Run within 10 s: all
  get their result, p95 time-to-result < 5 s;
- 30 learners behind ONE address within 5 s: all results within 30 s, while a run
  from another address answers in < 2 s;
- lesson page p95/p99 (wrk, 16 connections) without runs, then while 16 clients
  run sleeping samples and 16 run CPU spins (target p95 < 50 ms, p99 < 100 ms).

    .venv/bin/python tests/benchmarks/bench_runner.py [--quick] [--redis-url URL]

The Redis figure needs a Redis database it may write to (``--redis-url``, default
``$RUNNER_BENCH_REDIS_URL`` or redis://127.0.0.1:6379/0; skipped if unreachable).
Exits non-zero when a target is missed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_http import free_port, lesson_paths, prepare, site_env  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TARGET_WARM_P50_MS = 30.0
TARGET_PAGE_P95_MS = 50.0
TARGET_PAGE_P99_MS = 100.0
TARGET_BURST_P95_S = 5.0
TARGET_CLASSROOM_S = 30.0
TARGET_OTHER_S = 2.0

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
EXPECTED = "Saved Hello (created=True)\n"
SLEEPER = "import time\ntime.sleep(60)\n"
SPINNER = "while True:\n    pass\n"
PERCENTILES_LUA = """
done = function(summary, latency, requests)
  for _, p in pairs({50, 95, 99}) do
    io.write(string.format("pct %d %.3f\\n", p, latency:percentile(p) / 1000.0))
  end
end
"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Stack:
    """gunicorn (and, for the Redis queue, two runner workers), stopped by PID."""

    def __init__(self, env: dict[str, str], scratch: Path, port: int, workers: int = 0):
        self.env = env
        self.port = port
        self.processes: list[subprocess.Popen] = []
        log = (scratch / f"stack-{port}.log").open("w")
        self.processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        for index in range(workers):
            worker_env = {**env, "RUNNER_UID_BASE": str(int(env["RUNNER_UID_BASE"]) + 32 * index)}
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "manage.py", "runner_worker", "--verbosity", "0"],
                    cwd=ROOT,
                    env=worker_env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                status = json.loads(request(port, "GET", "/run/status/")[2])
                if status.get("available"):
                    break
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"the stack did not start:\n{(scratch / log.name).read_text()}")
            time.sleep(0.2)

    def warm_up(self, seconds: float) -> None:
        for _ in range(16):
            request(self.port, "GET", "/run/status/")  # each gunicorn worker warms up
        time.sleep(seconds)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def request(port, method, path, body=None, headers=None, connection=None):
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    if connection is None:
        conn.close()
    return response.status, response.headers, data


class Learner:
    """One browser tab: a keep-alive connection, a CSRF token, its own address."""

    def __init__(self, port: int, address: str):
        self.port = port
        self.address = address
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        _, headers, data = self.call("GET", "/csrf-token/")
        self.token = json.loads(data)["token"]
        self.cookie = headers["Set-Cookie"].split(";", 1)[0]

    def call(self, method, path, body=None, headers=None):
        headers = {**(headers or {}), "X-Forwarded-For": self.address}
        try:
            return request(self.port, method, path, body, headers, self.conn)
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            return request(self.port, method, path, body, headers, self.conn)

    def run(self, code: str, **fields) -> tuple[int, float, dict]:
        """Press Run (or Check, with ``exercise=``): post, poll as run-client.js does;
        (status, seconds, body)."""
        headers = {
            "Content-Type": "application/json",
            "X-CSRFToken": self.token,
            "Cookie": self.cookie,
            "Referer": f"http://127.0.0.1:{self.port}/",
        }
        start = time.perf_counter()
        body = json.dumps({"code": code, **fields})
        status, _, data = self.call("POST", "/run/", body, headers)
        body = json.loads(data)
        delay = body.get("poll_after", 0.25)
        while status == 202:
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)
            status, _, data = self.call("GET", body["poll"])
            body = json.loads(data)
        return status, time.perf_counter() - start, body


def address(group: int, index: int) -> str:
    return f"10.{group}.{index // 250}.{index % 250 + 1}"


def warm_runs(port: int, count: int) -> tuple[list[float], int]:
    learner = Learner(port, address(1, 0))
    times, warm = [], 0
    for _ in range(count):
        status, seconds, body = learner.run(SAMPLE)
        if status != 200 or body["output"][0]["text"] != EXPECTED:
            raise SystemExit(f"unexpected answer {status}: {body}")
        times.append(seconds * 1000)
        warm += body.get("warm", False)
        time.sleep(0.6)  # paced: the pool refills between runs
    return times, warm


def page_latency(port: int, path: str, seconds: float, scratch: Path) -> dict[int, float]:
    script = scratch / "percentiles.lua"
    script.write_text(PERCENTILES_LUA)
    out = subprocess.run(
        [
            "wrk",
            "--threads=2",
            "--connections=16",
            f"--duration={max(1, round(seconds))}s",
            "--timeout=5s",
            f"--script={script}",
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = {int(p): float(v) for p, v in re.findall(r"^pct (\d+) ([\d.]+)$", out, re.M)}
    found["errors"] = sum(
        int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|timeout) (\d+)", out)
    )
    return found


def abuse(port: int, stop: threading.Event, counts: dict) -> list[threading.Thread]:
    """16 learners running sleeping samples and 16 running CPU spins, over and over."""

    def loop(index: int, code: str, kind: str) -> None:
        learner = Learner(port, address(2 if kind == "sleep" else 3, index))
        while not stop.is_set():
            try:
                status, _, _ = learner.run(code)
            except (OSError, http.client.HTTPException, ValueError):
                return  # the server stopped at the end of the benchmark
            counts[f"{kind} {status}"] = counts.get(f"{kind} {status}", 0) + 1
            if status == 429:
                time.sleep(1)

    threads = [
        threading.Thread(target=loop, args=(n, code, kind), daemon=True)
        for kind, code in (("sleep", SLEEPER), ("spin", SPINNER))
        for n in range(16)
    ]
    for thread in threads:
        thread.start()
    return threads


def burst(port: int, learners: list[Learner], within: float, code: str = SAMPLE):
    """Each learner presses Run once at a random moment within ``within`` seconds."""
    results = [None] * len(learners)

    def press(index: int, at: float) -> None:
        time.sleep(at)
        status, seconds, body = learners[index].run(code)
        ok = status == 200 and body.get("output", [{}])[0].get("text") == EXPECTED
        results[index] = (status, seconds, ok)

    threads = [
        threading.Thread(target=press, args=(n, random.uniform(0, within)))
        for n in range(len(learners))
    ]
    for thread in threads:
        thread.start()
    return threads, results


def redis_reachable(url: str) -> bool:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        return True
    except Exception:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="Short runs (a smoke test).")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("RUNNER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: run `make bench-deps`.")
    seconds = 5 if args.quick else 15
    warm_count = 10 if args.quick else 40
    scratch = Path(tempfile.mkdtemp(prefix="bench-runner-"))
    port = free_port()
    env = {
        **site_env(scratch, port),
        "DJANGO_NUM_PROXIES": "1",
        "GUNICORN_ACCESS_LOG": "",
        "RUNNER_LOCK_DIR": str(scratch / "locks"),
        "RUNNER_UID_BASE": "64600",
        "RUNNER_UID_COUNT": "32",
    }
    prepare(env, scratch)
    lesson = lesson_paths(env)[0][0]
    figures: list[tuple[str, str, bool]] = []  # (figure, target, met)

    stack = Stack(env, scratch, port)
    try:
        stack.warm_up(5)
        times, warm = warm_runs(port, warm_count)
        warm_p50 = statistics.median(times)
        figures.append(
            (
                f"warm run p50 (embedded): {warm_p50:.1f} ms, p95 "
                f"{percentile(times, 0.95):.1f} ms ({warm}/{len(times)} warm)",
                f"< {TARGET_WARM_P50_MS:.0f} ms",
                warm_p50 < TARGET_WARM_P50_MS,
            )
        )

        learners = [Learner(port, address(4, n)) for n in range(100)]
        threads, results = burst(port, learners, within=10)
        for thread in threads:
            thread.join(120)
        done = [r for r in results if r and r[2]]
        refused = sum(1 for r in results if r and r[0] == 429)
        p95 = percentile([r[1] for r in done], 0.95) if done else float("inf")
        figures.append(
            (
                f"classroom burst, 100 addresses in 10 s: {len(done)}/100 results, "
                f"{refused} refused, time-to-result p50 "
                f"{percentile([r[1] for r in done], 0.5) if done else 0:.2f} s, p95 {p95:.2f} s",
                f"100/100, p95 < {TARGET_BURST_P95_S:.0f} s",
                len(done) == 100 and p95 < TARGET_BURST_P95_S,
            )
        )
        stack.warm_up(5)

        classroom = [Learner(port, "10.5.0.1") for _ in range(30)]
        other = Learner(port, "10.6.0.1")
        threads, results = burst(port, classroom, within=5)
        time.sleep(2.5)
        _, other_seconds, other_body = other.run(SAMPLE)
        other_ok = other_body.get("output", [{}])[0].get("text") == EXPECTED
        for thread in threads:
            thread.join(120)
        done = [r for r in results if r and r[2]]
        slowest = max((r[1] for r in done), default=float("inf"))
        figures.append(
            (
                f"30 learners behind one address in 5 s: {len(done)}/30 results, slowest "
                f"{slowest:.2f} s; another address meanwhile: {other_seconds:.2f} s",
                f"30/30 within {TARGET_CLASSROOM_S:.0f} s, other < {TARGET_OTHER_S:.0f} s",
                len(done) == 30
                and slowest < TARGET_CLASSROOM_S
                and other_ok
                and other_seconds < TARGET_OTHER_S,
            )
        )
        stack.warm_up(2)
        quiet = page_latency(port, lesson, seconds, scratch)
        stop, counts = threading.Event(), {}
        threads = abuse(port, stop, counts)
        time.sleep(3)  # the queue fills and sandboxes run
        loaded = page_latency(port, lesson, seconds, scratch)
        stop.set()
        figures.append(
            (
                f"lesson page p95 / p99 under 16 sleeping + 16 spinning runs: "
                f"{loaded[95]:.1f} / {loaded[99]:.1f} ms (without runs: "
                f"{quiet[95]:.1f} / {quiet[99]:.1f} ms; p50 {loaded[50]:.1f} vs "
                f"{quiet[50]:.1f} ms; wrk errors {loaded['errors']})",
                f"p95 < {TARGET_PAGE_P95_MS:.0f} ms, p99 < {TARGET_PAGE_P99_MS:.0f} ms",
                loaded[95] < TARGET_PAGE_P95_MS and loaded[99] < TARGET_PAGE_P99_MS,
            )
        )
        figures.append((f"runs answered during that load: {counts}", "", True))
    finally:
        stack.stop()

    if redis_reachable(args.redis_url):
        redis_port = free_port()
        redis_env = {
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{redis_port}",
            "RUNNER_QUEUE": "redis",
            "RUNNER_REDIS_URL": args.redis_url,
            "RUNNER_UID_BASE": "64640",
        }
        stack = Stack(redis_env, scratch, redis_port, workers=2)
        try:
            stack.warm_up(5)
            times, warm = warm_runs(redis_port, warm_count)
            figures.append(
                (
                    f"warm run p50 (Redis queue, 2 runner workers): "
                    f"{statistics.median(times):.1f} ms, p95 {percentile(times, 0.95):.1f} ms "
                    f"({warm}/{len(times)} warm)",
                    "printed",
                    True,
                )
            )
        finally:
            stack.stop()
    else:
        figures.append((f"Redis queue: skipped, {args.redis_url} unreachable", "", True))
    shutil.rmtree(scratch, ignore_errors=True)

    print("\nCode runner as a shared service (gunicorn.conf.py, DEBUG off, file cache)")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}\n")
    for figure, target, met in figures:
        verdict = "" if not target or target == "printed" else (" met" if met else " NOT met")
        print(f"- {figure}" + (f"  [target {target}:{verdict}]" if verdict else ""))
    missed = [figure for figure, _, met in figures if not met]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
