"""Run every benchmark in ``bench/`` one after another, each printing its own figures.

``python -m bench.run_all`` runs the quick variants; ``--full`` runs the full ones (the paper
benchmarks take up to 15 minutes each on CPU). ``--only NAME`` picks some.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).parent


def discover() -> list[str]:
    return sorted(p.stem for p in BENCH_DIR.glob("*.py") if p.stem not in {"__init__", "run_all"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run_all")
    parser.add_argument("--full", action="store_true", help="run the full (slow) variants")
    parser.add_argument("--only", nargs="*", default=None, help="benchmark names to run")
    args = parser.parse_args(argv)
    names = args.only or discover()
    failed = []
    for name in names:
        command = [sys.executable, "-m", f"bench.{name}"] + ([] if args.full else ["--quick"])
        print(f"\n=== {name} ({' '.join(command[2:])})", flush=True)
        started = time.perf_counter()
        result = subprocess.run(command, check=False)
        print(f"=== {name}: exit {result.returncode} in {time.perf_counter() - started:.1f} s")
        if result.returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
