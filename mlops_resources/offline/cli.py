"""``python -m mlops_resources``: offline tools around the Pulumi programs.

``render --stack NAME`` evaluates the real program with ``Pulumi.NAME.yaml`` under mocks and
prints what it would declare: a tree of components and resources with their key inputs, or
``--format json`` with every input, sorted and stable (so two renders can be diffed). No CLI,
plugin or credentials needed.

``check --stack NAME`` runs the policy pack (``mlops_resources.policies``) over that render and
exits 1 on a mandatory violation.

``diff BASE.json HEAD.json`` compares two such renders as a markdown report.

``init`` writes the stack files, the bootstrap stack file and the backend URL from a team's
answers (asked, or ``--answers FILE``/``--set KEY=VALUE``), and edits them in place when run
again; ``init --dev NAME`` writes a personal dev stack file that runs as its developer and
cannot touch staging or prod.

``policy-reference [--write]`` prints the policy pack's table, or writes it into README.md.

``config-reference [--write]`` prints a program's config reference table, or writes it into
the document that holds it.

``smoke --stack staging --code-from prod`` (or ``--ref TAG``) is the one command that talks to
a workspace: it runs the stack's deployed jobs once at a git tag, of prod's repository with
``--code-from prod`` (:mod:`mlops_resources.delivery.smoke`). It is imported only when called,
so the offline commands never load the Databricks SDK.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlops_resources.config.reading import ConfigError
from mlops_resources.config.stack_files import StackFileError, load_yaml, project_name
from mlops_resources.offline import templates
from mlops_resources.offline.diff import compare, load, to_markdown
from mlops_resources.offline.evaluation import Evaluation, evaluate
from mlops_resources.offline.init import InitError, init_dev
from mlops_resources.offline.reference import (
    PROGRAMS,
    policy_table,
    reference_table,
    write_policies,
    write_reference,
)
from mlops_resources.offline.render import render_tree


def _check(
    stack: str, program: str, project_dir: Path, evaluation: Evaluation, config: Path | None
) -> int:
    """Print every violation of the pack's policies (and, for the mlops program, of the
    cross-stack rules that involve this stack); 1 when one is mandatory."""
    from mlops_resources.offline.check import (  # imports pulumi_policy only for `check`
        committed_stack_names,
        cross_stack,
        format_violations,
        load_policy_config,
        run_policies,
    )
    from mlops_resources.policies import POLICIES

    try:
        settings = load_policy_config(config)
        violations = run_policies(evaluation, project_name(project_dir), settings)
        if program == "mlops":
            others = cross_stack(project_dir, committed_stack_names(project_dir))
            violations += [v for v in others if v.resource == f"Pulumi.{stack}.yaml"]
    except (ConfigError, StackFileError, ValueError) as error:
        print(error, file=sys.stderr)
        return 2
    print(format_violations(stack, sorted(violations), len(POLICIES)))
    for lookup in evaluation.not_checked:
        if lookup.is_existence_check:
            print(
                f"  not checked offline: {lookup.kind} {lookup.name} exists (a preview checks it)"
            )
        else:
            print("  not checked offline: the caller is the run-as principal (an update checks it)")
    return 1 if any(v.mandatory for v in violations) else 0


def _init_dev(args: argparse.Namespace) -> int:
    try:
        dev = init_dev(
            args.dev,
            output_table=args.output_table,
            from_stack=args.from_stack,
            user=args.user,
            branch=args.branch,
            force=args.force,
        )
    except (InitError, ConfigError, StackFileError) as error:
        print(f"{error}\nNothing was written.", file=sys.stderr)
        return 2
    who = dev.run_as_user or "the user whose credentials deploy it"
    code = f"branch {dev.branch}" if dev.branch else "the notebooks it uploads"
    print(f"Wrote {dev.path.name}: runs as {who}, in their home folder, emailing them on")
    print(f"failure; runs {code}; schedules paused; output table {dev.output_table};")
    print("no Unity Catalog grants.")
    if dev.dropped_secrets:
        print(
            f"Not copied (encrypted with the source stack's key): {', '.join(dev.dropped_secrets)};"
            " set them with `pulumi config set --secret` after `pulumi stack init`."
        )
    stack = dev.stack
    print("Next, with your own Databricks credentials (the stack runs as you):")
    print(f"  venv/bin/python -m mlops_resources render --stack {stack}")
    if dev.branch:
        print(f"  git push origin {dev.branch}   # the jobs check this branch out")
    print(
        '  export PULUMI_BACKEND_URL="file://$HOME/.pulumi-state"   # your state, not the team\'s'
    )
    print('  mkdir -p "$HOME/.pulumi-state"')
    print(f"  pulumi stack init {stack} --secrets-provider passphrase")
    print(f"  pulumi up --stack {stack}   # and when done: pulumi destroy --stack {stack}")
    return 0


def _init_team(args: argparse.Namespace) -> int:
    try:
        given: dict[str, Any] = load_yaml(args.answers.read_text()) if args.answers else {}
        for item in args.set:
            key, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"--set {item!r}: expected KEY=VALUE, KEY an answer key")
            given[key] = value
        answers = templates.answers_from(given, templates.current_answers())
        if not args.no_input and sys.stdin.isatty():
            answers = templates.ask(answers, set(given))
        result = templates.init_team(answers, force=args.force, dry_run=args.dry_run)
    except (templates.AnswerError, templates.InitConflictError) as error:
        print(error, file=sys.stderr)
        return 2
    except (ValueError, OSError, StackFileError) as error:
        print(f"{error}\nNothing was written.", file=sys.stderr)
        return 2
    if args.dry_run:
        print(result.diff or "No change: the files already hold these answers.", end="")
        print("\nDry run: nothing was written." if result.diff else "")
        return 0
    changed = ", ".join(p.name for p in result.changed)
    print(f"Wrote {changed}." if changed else "No change: the files already hold these answers.")
    for note in result.kept:
        print(note)
    kept = templates.kept_examples(answers)
    if kept:
        print(f"Kept the example's value for: {', '.join(kept)}.")
    print("Next:")
    print("  venv/bin/python -m mlops_resources render --stack staging   # and prod")
    print("  venv/bin/python -m pytest")
    print("  docs/deployment.md, section 2: create the state backend (bootstrap)")
    return 0


def _answer_keys() -> str:
    """The answer keys ``init`` takes, with their questions, for ``init --help``."""
    width = max(len(name) for name in templates.QUESTIONS)
    return "\n".join(
        f"  {name:<{width}}  {question}" for name, question in templates.QUESTIONS.items()
    )


INIT_DESCRIPTION = """\
Without --dev: write the team's values into Pulumi.staging.yaml, Pulumi.prod.yaml,
bootstrap/Pulumi.shared.yaml and Pulumi.yaml's backend URL. It can run again at any time: each
answer's default is what the files hold now, and only what an answer changes is edited, in
place (other values, hand edits, comments and the keys `pulumi stack init` adds are kept).
In a terminal it asks every answer not given, showing the current value (Enter keeps it).
Without a terminal (CI, a pipe), or with --no-input, it asks nothing: unanswered keys keep
their current values. Everything is validated before anything is written; a problem names
the answer key it comes from.

With --dev NAME: write Pulumi.dev-NAME.yaml, a personal stack copied from staging that runs
as you (the user whose credentials deploy it, or --user), in your home folder, on your git
branch, with schedules paused, an output table of its own and no Unity Catalog grants.
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mlops_resources",
        description="Offline tools around the Pulumi programs (no Pulumi CLI, provider or "
        "credentials), and the smoke run. `COMMAND --help` describes each.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    program_help = (
        "which Pulumi program: mlops (the stacks, Pulumi.<stack>.yaml; the default) or "
        "bootstrap (their state backend, bootstrap/Pulumi.<stack>.yaml)"
    )
    render = commands.add_parser(
        "render",
        help="evaluate a stack offline and print its resources",
        description="Evaluate the real program with Pulumi.<stack>.yaml under mocks (no Pulumi "
        "CLI, provider or credentials) and print what it would declare.",
    )
    render.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    render.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table: the tree of components and resources `pulumi preview` shows, with key "
        "inputs (default); json: every input, sorted and stable, for `diff`",
    )
    render.add_argument("--program", choices=sorted(PROGRAMS), default="mlops", help=program_help)
    render.add_argument(
        "--champion",
        type=int,
        metavar="VERSION",
        help="render as if the model's 'champion' alias pointed at VERSION (mlops:serving); "
        "default: no champion yet, as on a new stack, so no serving endpoint",
    )
    check = commands.add_parser(
        "check",
        help="run the policy pack over a stack's offline render (exit 1: mandatory)",
        description="Run the policy pack over a stack's offline render (and, for the mlops "
        "program, the rules over every committed stack file); exit 1 on a mandatory violation, "
        "2 on a config error.",
    )
    check.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    check.add_argument("--program", choices=sorted(PROGRAMS), default="mlops", help=program_help)
    check.add_argument(
        "--config", type=Path, help="policy config JSON, as `pulumi preview --policy-pack-config`"
    )
    diff = commands.add_parser(
        "diff",
        help="compare two JSON renders as a markdown report",
        description="Compare two `render --format json` outputs as a markdown report.",
    )
    diff.add_argument("base", type=Path, help="render of the base (an empty file: none)")
    diff.add_argument("head", type=Path, help="render of the head")
    diff.add_argument("--exit-code", action="store_true", help="exit 1 when the renders differ")
    reference = commands.add_parser(
        "config-reference",
        help="print a config reference table",
        description="Print a program's config reference table (every key, type, default, "
        "example), or write it into the document that holds it.",
    )
    reference.add_argument(
        "--program", choices=sorted(PROGRAMS), default="mlops", help=program_help
    )
    reference.add_argument(
        "--write",
        action="store_true",
        help="update the table in the program's document (README.md or docs/deployment.md)",
    )
    policies = commands.add_parser(
        "policy-reference",
        help="print the policy pack's table",
        description="Print the policy pack's table (name, level, what it protects), or write it "
        "into README.md.",
    )
    policies.add_argument("--write", action="store_true", help="update the table in README.md")
    init = commands.add_parser(
        "init",
        help="write the team's values into the stack files (again at any time), or --dev "
        "NAME: a personal dev stack",
        description=INIT_DESCRIPTION,
        epilog=f"answer keys (--set KEY=VALUE, or keys of an --answers file):\n{_answer_keys()}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    init.add_argument("--answers", type=Path, help="YAML or JSON file of answer keys and values")
    init.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="one answer (repeatable)"
    )
    init.add_argument(
        "--no-input",
        action="store_true",
        help="ask nothing, as without a terminal: unanswered keys keep their current values",
    )
    init.add_argument(
        "--dry-run", action="store_true", help="print the diff it would write; write nothing"
    )
    init.add_argument(
        "--force",
        action="store_true",
        help="also change values edited by hand that the answers change (--dev: replace the "
        "existing file)",
    )
    init.add_argument("--dev", metavar="NAME", help="write Pulumi.dev-NAME.yaml instead")
    init.add_argument(
        "--user",
        metavar="EMAIL",
        help="--dev: the Databricks user the stack runs as (default: whoever deploys it)",
    )
    init.add_argument(
        "--branch",
        help="--dev: the git branch the jobs run (default: the branch checked out here)",
    )
    init.add_argument("--output-table", help="--dev: the dev stack's output table")
    init.add_argument(
        "--from", dest="from_stack", default="staging", help="--dev: stack file to copy"
    )
    smoke = commands.add_parser(
        "smoke",
        help="run the stack's training then batch inference job once at a git tag "
        "(talks to the workspace)",
        description="Run the deployed stack's training job, then its batch inference job, once "
        "each at a git tag, with the Databricks credentials the SDK finds.",
    )
    smoke.add_argument("--stack", required=True, help="stack whose deployed jobs run")
    smoke.add_argument("--ref", help="git tag the runs check out (default: --code-from's)")
    smoke.add_argument(
        "--code-from",
        metavar="STACK",
        help="take the repository, provider and tag from STACK's code_source (CI: prod)",
    )
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

        return smoke_run.main(
            args.stack, args.ref, args.timeout_minutes, args.outputs, args.code_from
        )

    if args.command == "init":
        # `--dev ""` (an unset $USER) is a dev stack with no name, never the team's files.
        return _init_dev(args) if args.dev is not None else _init_team(args)

    if args.command == "diff":
        try:
            result = compare(load(args.base), load(args.head))
        except (OSError, ValueError, KeyError) as error:
            print(f"cannot compare {args.base} and {args.head}: {error}", file=sys.stderr)
            return 2
        print(to_markdown(result), end="")
        return 1 if args.exit_code and not result.empty else 0

    if args.command == "policy-reference":
        if args.write:
            print(f"README.md: {'updated' if write_policies() else 'already up to date'}")
        else:
            print(policy_table())
        return 0

    if args.command == "config-reference":
        if args.write:
            changed = write_reference(args.program)
            document = PROGRAMS[args.program].document
            print(f"{document}: {'updated' if changed else 'already up to date'}")
        else:
            print(reference_table(args.program))
        return 0

    project_dir = PROGRAMS[args.program].project_dir
    try:
        champion = getattr(args, "champion", None)
        evaluation = evaluate(args.stack, project_dir, champion=champion)
    except (ConfigError, StackFileError) as error:
        print(error, file=sys.stderr)
        return 2
    if args.command == "check":
        return _check(args.stack, args.program, project_dir, evaluation, args.config)
    if args.format == "json":
        print(evaluation.to_json())
    else:
        print(render_tree(evaluation, project_name(project_dir)))
    return 0
