"""``python -m mlops_resources``: offline tools around the Pulumi programs.

``render --stack NAME`` evaluates the real program with ``Pulumi.NAME.yaml`` under mocks and
prints what it would declare: a tree of components and resources with their key inputs, or
``--format json`` with every input, sorted and stable (so two renders can be diffed). No CLI,
plugin or credentials needed.

``diff BASE.json HEAD.json`` compares two such renders as a markdown report.

``config-reference`` prints a program's config reference table.

``smoke --stack staging --ref TAG`` is the one command that talks to a workspace: it runs the
stack's deployed jobs once at a git tag (:mod:`mlops_resources.delivery.smoke`). It is imported
only when called, so the offline commands never load the Databricks SDK.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from mlops_resources.config.reading import ConfigError
from mlops_resources.offline.diff import compare, load, to_markdown
from mlops_resources.offline.evaluation import StackFileError, evaluate, project_name
from mlops_resources.offline.reference import PROGRAMS, reference_table
from mlops_resources.offline.render import render_tree


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mlops_resources", description=(__doc__ or "").split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="evaluate a stack offline and print its resources")
    render.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    render.add_argument("--format", choices=("table", "json"), default="table")
    render.add_argument(
        "--program", choices=sorted(PROGRAMS), default="mlops", help="which Pulumi program"
    )
    diff = commands.add_parser("diff", help="compare two JSON renders as a markdown report")
    diff.add_argument("base", type=Path, help="render of the base (an empty file: none)")
    diff.add_argument("head", type=Path, help="render of the head")
    diff.add_argument("--exit-code", action="store_true", help="exit 1 when the renders differ")
    reference = commands.add_parser("config-reference", help="print a config reference table")
    reference.add_argument("--program", choices=sorted(PROGRAMS), default="mlops")
    smoke = commands.add_parser(
        "smoke",
        help="run the stack's training then batch inference job once at a git tag "
        "(talks to the workspace)",
    )
    smoke.add_argument("--stack", required=True, help="stack whose deployed jobs run")
    smoke.add_argument("--ref", required=True, help="git tag the runs check out")
    smoke.add_argument(
        "--timeout-minutes", type=int, default=60, help="longest wait for each run (default 60)"
    )
    smoke.add_argument(
        "--outputs",
        type=Path,
        help="the stack's outputs as `pulumi stack output --json` prints them "
        "(default: ask the Pulumi CLI)",
    )
    args = parser.parse_args(argv)

    if args.command == "smoke":
        from mlops_resources.delivery import smoke as smoke_run

        return smoke_run.main(args.stack, args.ref, args.timeout_minutes, args.outputs)

    if args.command == "diff":
        try:
            result = compare(load(args.base), load(args.head))
        except (OSError, ValueError, KeyError) as error:
            print(f"cannot compare {args.base} and {args.head}: {error}", file=sys.stderr)
            return 2
        print(to_markdown(result), end="")
        return 1 if args.exit_code and not result.empty else 0

    if args.command == "config-reference":
        print(reference_table(args.program))
        return 0

    project_dir = PROGRAMS[args.program].project_dir
    try:
        evaluation = evaluate(args.stack, project_dir)
    except (ConfigError, StackFileError) as error:
        print(error, file=sys.stderr)
        return 2
    if args.format == "json":
        print(evaluation.to_json())
    else:
        print(render_tree(evaluation, project_name(project_dir)))
    return 0
