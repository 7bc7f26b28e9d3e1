"""Time renders of stacks of 1, 5 and 20 models against the bare ``import pulumi_databricks`` floor.

Each sample is a fresh interpreter, as ``pulumi preview`` starts one, timed in wall time and
in CPU time (user + system: what the render costs, steady when other processes share the
cores). The 1-model stack is the committed staging file (the one-model form); the N-model
stacks are that file with its model sections moved under ``mlops:models`` (keys
``m0``..``m<N-1>``, each writing its own output table), written to a temporary project
directory. Commands are interleaved, in a shuffled order each round, so all see the same
machine load; medians are compared. Targets: the 1-model render within 1.15x of the floor, and
each further model under 5% of the floor:
(median(N models) - median(1 model)) / (N - 1) / median(floor).

    python benchmarks/bench_models.py [--runs 5] [--models 1 5 20]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
RATIO_TARGET = 1.15
PER_MODEL_TARGET = 0.05
MODEL_SECTIONS = ("training", "batch_inference", "monitoring", "serving")

RENDER = """
import sys
from pathlib import Path
from mlops_resources.config.stack_files import read_stack_file
from mlops_resources.offline.evaluation import evaluate
source = read_stack_file("staging", Path(sys.argv[1]))
print(evaluate("staging", None, source).to_json())
"""
"""A child's render: ``render --stack staging --format json`` of the stack file in argv[1]."""


def write_models_stack(project: Path, count: int) -> None:
    """``Pulumi.staging.yaml`` of ``count`` models in ``project`` (1: the committed file)."""
    project.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", project / "Pulumi.yaml")
    document = yaml.safe_load((PROJECT_DIR / "Pulumi.staging.yaml").read_text())
    if count > 1:
        config = document["config"]
        sections = {
            name: config.pop(f"mlops:{name}")
            for name in MODEL_SECTIONS
            if f"mlops:{name}" in config
        }
        models = {}
        for index in range(count):
            entry = json.loads(json.dumps(sections))
            table = entry["batch_inference"]["output_table_name"]
            entry["batch_inference"]["output_table_name"] = f"{table}_m{index}"
            models[f"m{index}"] = entry
        config["mlops:models"] = models
    (project / "Pulumi.staging.yaml").write_text(yaml.safe_dump(document, sort_keys=False))


def _time(command: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one fresh interpreter running ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=PROJECT_DIR, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _report(label: str, floor: list[float], samples: dict[int, list[float]], runs: int) -> bool:
    """Print each render's median against the floor's and the per-model increment; True when
    within the targets."""
    floor_median = statistics.median(floor)
    one = statistics.median(samples[1])
    print(f"{label}: import pulumi_databricks (floor) median {floor_median:.3f}s over {runs} runs")
    print(f"{'models':>6}  {'median':>8}  {'x floor':>7}  {'per extra model':>16}  {'% floor':>7}")
    ok = one / floor_median <= RATIO_TARGET
    for count, times in samples.items():
        median = statistics.median(times)
        ratio = median / floor_median
        if count == 1:
            print(f"{count:>6}  {median:>7.3f}s  {ratio:>6.2f}x  {'-':>16}  {'-':>7}")
            continue
        increment = (median - one) / (count - 1)
        share = increment / floor_median
        ok = ok and share < PER_MODEL_TARGET
        print(
            f"{count:>6}  {median:>7.3f}s  {ratio:>6.2f}x  {increment * 1000:>14.1f}ms  "
            f"{share:>6.1%}"
        )
    verdict = "within" if ok else "OVER"
    print(
        f"{label}: {verdict} the targets: 1 model <= {RATIO_TARGET:.2f}x the floor, each "
        f"further model < {PER_MODEL_TARGET:.0%} of it"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--models", type=int, nargs="+", default=[1, 5, 20])
    args = parser.parse_args()
    counts = sorted(set(args.models) | {1})

    with tempfile.TemporaryDirectory(prefix="bench-models-") as tmp:
        commands = {}
        for count in counts:
            project = Path(tmp) / f"models-{count}"
            write_models_stack(project, count)
            commands[count] = [sys.executable, "-c", RENDER, str(project)]
        floor_cmd = [sys.executable, "-c", "import pulumi_databricks"]
        for command in (floor_cmd, *commands.values()):
            _time(command)  # warm the file cache, and check every render runs
        floor: dict[str, list[float]] = {"wall": [], "cpu": []}
        samples: dict[str, dict[int, list[float]]] = {
            kind: {count: [] for count in counts} for kind in ("wall", "cpu")
        }
        for round_ in range(args.runs):
            # A different order each round: a load spike does not always hit the same render.
            order = list(commands.items())
            random.Random(round_).shuffle(order)
            for kind, value in zip(("wall", "cpu"), _time(floor_cmd), strict=True):
                floor[kind].append(value)
            for count, command in order:
                for kind, value in zip(("wall", "cpu"), _time(command), strict=True):
                    samples[kind][count].append(value)

    # Wall time is what a preview waits; CPU time (user + system of the child) is what the
    # program costs, and stays put when other processes share the machine's cores.
    _report("wall time", floor["wall"], samples["wall"], args.runs)
    print()
    _report("CPU time", floor["cpu"], samples["cpu"], args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
