"""
Run a file (or stdin) through the real runner and print its output exactly as
lesson expected outputs are compared:

    python -m tutorials.runner lesson_sample.py
    python -m tutorials.runner --trace < lesson_sample.py
"""

import argparse
import json
import sys

from .process import run_cold
from .samples import normalize


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tutorials.runner",
        description="Run Python code in the sample sandbox and print its output.",
    )
    parser.add_argument("file", nargs="?", help="a .py file; stdin when omitted or '-'")
    parser.add_argument("--trace", action="store_true", help="also print the signal trace")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    parser.add_argument(
        "--raw", action="store_true", help="print the output unnormalized (no stripping)"
    )
    options = parser.parse_args(argv)
    if options.file in (None, "-"):
        code = sys.stdin.read()
    else:
        with open(options.file, encoding="utf-8") as handle:
            code = handle.read()

    result = run_cold(code)
    if options.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return 0
    sys.stdout.write(result.text if options.raw else normalize(result.text))
    if options.trace:
        for event in result.trace:
            indent = "  " * event.depth
            print(f"{indent}{event.signal} from {event.sender}", file=sys.stderr)
            for rec in event.receivers:
                outcome = f"raised {rec['error']}" if "error" in rec else f"-> {rec['result']}"
                print(f"{indent}  {rec['name']} {outcome}", file=sys.stderr)
    if result.warning:
        print(f"warning: {result.warning}", file=sys.stderr)
    if result.stopped:
        print(f"stopped: {result.stopped} {result.error or ''}".rstrip(), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
