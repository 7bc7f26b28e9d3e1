"""Time offline evaluation of the program against the bare ``import pulumi_databricks`` floor.

Each sample is a fresh interpreter, as ``pulumi preview`` starts one: importing the provider SDK
dominates, so the program's own cost is the ratio above 1.0. Commands are interleaved so both
see the same machine load; medians are compared. Target: ratio <= 1.15.

    python benchmarks/bench_render.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
TARGET = 1.15


def _time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=PROJECT_DIR, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--stacks", nargs="+", default=["staging", "prod"])
    args = parser.parse_args()

    floor_cmd = [sys.executable, "-c", "import pulumi_databricks"]
    commands = {
        stack: [
            sys.executable,
            "-m",
            "mlops_resources",
            "render",
            "--stack",
            stack,
            "--format",
            "json",
        ]
        for stack in args.stacks
    }
    _time(floor_cmd)  # warm the file cache before measuring
    floor: list[float] = []
    samples: dict[str, list[float]] = {stack: [] for stack in commands}
    for _ in range(args.runs):
        floor.append(_time(floor_cmd))
        for stack, command in commands.items():
            samples[stack].append(_time(command))

    floor_median = statistics.median(floor)
    print(f"import pulumi_databricks (floor): median {floor_median:.3f}s over {args.runs} runs")
    worst = 0.0
    for stack, times in samples.items():
        median = statistics.median(times)
        ratio = median / floor_median
        worst = max(worst, ratio)
        print(f"render --stack {stack}: median {median:.3f}s  ratio {ratio:.2f}x")
    verdict = "within" if worst <= TARGET else "OVER"
    print(f"worst ratio {worst:.2f}x, {verdict} the {TARGET:.2f}x target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
