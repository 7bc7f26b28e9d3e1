"""``python -m mlops_resources``: offline tools around the Pulumi program.

``diff BASE.json HEAD.json`` compares two such renders as a markdown report.

``render --stack NAME`` evaluates the real program with ``Pulumi.NAME.yaml`` under mocks and
prints what it would declare: a table of key inputs, or ``--format json`` with every input,
sorted and stable (so two renders can be diffed). No CLI, plugin or credentials needed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_resources import offline
from mlops_resources.config import BOOTSTRAP, MLOPS, ConfigError, Namespace, config_reference
from mlops_resources.diff import compare, load, to_markdown
from mlops_resources.offline import (
    DeclaredResource,
    Evaluation,
    StackFileError,
    evaluate,
    read_stack_file,
)

# Inputs worth a glance per resource type, as dotted wire-name paths.
KEY_INPUTS: dict[str, tuple[str, ...]] = {
    "databricks:index/directory:Directory": ("path",),
    "databricks:index/mlflowExperiment:MlflowExperiment": ("name",),
    "databricks:index/registeredModel:RegisteredModel": (
        "catalogName",
        "schemaName",
        "name",
        "owner",
    ),
    "databricks:index/mlflowModel:MlflowModel": ("name",),
    "databricks:index/job:Job": (
        "name",
        "schedule.quartzCronExpression",
        "schedule.pauseStatus",
        "runAs.servicePrincipalName",
        "gitSource.branch",
        "gitSource.tag",
    ),
    "databricks:index/permissions:Permissions": ("accessControls",),
    "databricks:index/grants:Grants": ("model", "grants"),
    "databricks:index/grant:Grant": ("principal", "catalog", "schema", "table", "privileges"),
    "databricks:index/notebook:Notebook": ("path",),
    "databricks:index/workspaceFile:WorkspaceFile": ("path",),
    "aws:s3/bucket:Bucket": ("bucket",),
    "aws:s3/bucketVersioning:BucketVersioning": ("versioningConfiguration.status",),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "rules.0.applyServerSideEncryptionByDefault.sseAlgorithm",
        "rules.0.bucketKeyEnabled",
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ("rule.objectOwnership",),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        "rules.0.noncurrentVersionExpiration.noncurrentDays",
    ),
    "aws:kms/key:Key": ("enableKeyRotation", "deletionWindowInDays"),
    "aws:kms/alias:Alias": ("name",),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": ("url",),
    "aws:iam/role:Role": ("name",),
}


def _compact(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return "; ".join(
            " ".join(f"{k}={_compact(v)}" for k, v in sorted(item.items())) for item in value
        )
    return json.dumps(value, sort_keys=True)


def _summary(resource: DeclaredResource) -> str:
    parts = []
    for path in KEY_INPUTS.get(resource.type, ()):
        try:
            value = resource.input(path)
        except (KeyError, IndexError, TypeError):
            continue
        parts.append(f"{path}={_compact(value)}")
    if resource.protect:
        parts.append(
            "[protected, retained on delete]" if resource.retain_on_delete else "[protected]"
        )
    return "  ".join(parts)


def render_table(evaluation: Evaluation) -> str:
    custom = [r for r in evaluation.resources if r.custom]
    width = max(len(r.type) for r in custom)
    name_width = max(len(r.name) for r in custom)
    lines = [f"Stack {evaluation.stack}: {len(custom)} resources"]
    lines += [f"{r.type:<{width}}  {r.name:<{name_width}}  {_summary(r)}" for r in custom]
    lines.append("Outputs:")
    lines += [f"  {key} = {value}" for key, value in sorted(evaluation.outputs.items())]
    return "\n".join(lines)


def _example(values: dict[str, Any], key: str) -> str:
    """The value a key has in the staging stack file, as YAML would show it."""
    top, _, path = key.partition(".")
    if top not in values:
        return ""
    value: Any = values[top]
    for part in path.split(".") if path else ():
        if not isinstance(value, dict) or part not in value:
            return ""
        value = value[part]
    return value if isinstance(value, str) else json.dumps(value)


@dataclass(frozen=True)
class Program:
    """A Pulumi program of this repository, for the commands that read its config."""

    folder: str
    """Folder of the program in the repository ('' for the root)."""
    namespace: Namespace
    example_stack: str

    @property
    def project_dir(self) -> Path:
        return offline.PROJECT_DIR / self.folder


PROGRAMS = {
    "mlops": Program("", MLOPS, "staging"),
    "bootstrap": Program("bootstrap", BOOTSTRAP, "shared"),
}


def reference_table(program: str = "mlops") -> str:
    """A program's config reference: generated from its config models, with one stack file's
    values as examples, so the docs can't drift from the code."""
    spec = PROGRAMS[program]
    stack_file = read_stack_file(spec.example_stack, spec.project_dir).values
    values = {k: json.loads(v) if v[:1] in "{[" else v for k, v in stack_file.items()}
    lines = [
        f"| key | type | default | example ({spec.example_stack}) | description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for entry in config_reference(spec.namespace):
        default = entry.default if entry.default == "required" else f"`{entry.default}`"
        example = _example(values, entry.key)
        lines.append(
            f"| `{entry.key}` | {entry.type} | {default} | "
            f"{f'`{example}`' if example else ''} | {entry.description} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mlops_resources", description=__doc__.split("\n")[0]
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
    args = parser.parse_args(argv)

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

    try:
        evaluation = evaluate(args.stack, PROGRAMS[args.program].project_dir)
    except (ConfigError, StackFileError) as error:
        print(error, file=sys.stderr)
        return 2
    print(render_table(evaluation) if args.format == "table" else evaluation.to_json())
    return 0
