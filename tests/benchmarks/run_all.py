"""
Run every benchmark in tests/benchmarks/ (``make bench``), one after the other.

    .venv/bin/python tests/benchmarks/run_all.py [--quick] [--only http,search]

Each ``bench_*.py`` prints its own figures. ``--quick`` is passed on to the
benchmarks that accept it (a short smoke run, figures not meant to be quoted).
Exits non-zero when any benchmark failed, after running the others.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="Short runs, where supported.")
    parser.add_argument("--only", default="", help="Comma-separated names, e.g. http,search.")
    args = parser.parse_args()
    wanted = {name.strip() for name in args.only.split(",") if name.strip()}
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        name = script.stem.removeprefix("bench_")
        if wanted and name not in wanted:
            continue
        command = [sys.executable, str(script)]
        if args.quick and "--quick" in script.read_text(encoding="utf-8"):
            command.append("--quick")
        print(f"\n=== {script.name} ===", flush=True)
        started = time.monotonic()
        result = subprocess.run(command)
        elapsed = time.monotonic() - started
        status = "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
        print(f"--- {script.name}: {status} in {elapsed:.0f} s", flush=True)
        if result.returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"\nFailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
