"""The text view of an offline evaluation: a tree of components and resources, as
``pulumi preview`` shows it, with each resource's key inputs under it."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

from mlops_resources.offline.evaluation import DeclaredResource, Evaluation

STACK_TYPE = "pulumi:pulumi:Stack"

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
    "databricks:index/dataQualityMonitor:DataQualityMonitor": (
        "dataProfilingConfig.assetsDir",
        "dataProfilingConfig.schedule.quartzCronExpression",
    ),
    "databricks:index/job:Job": (
        "name",
        "schedule.quartzCronExpression",
        "schedule.pauseStatus",
        "runAs.servicePrincipalName",
        "runAs.userName",
        "gitSource.branch",
        "gitSource.tag",
        # Serverless only: the pinned environment and the budget policy.
        "environments.0.spec.environmentVersion",
        "budgetPolicyId",
    ),
    "databricks:index/modelServing:ModelServing": (
        "name",
        "config.servedEntities.0.entityVersion",
        "config.servedEntities.0.workloadSize",
        "config.servedEntities.0.scaleToZeroEnabled",
        "aiGateway.inferenceTableConfig.tableNamePrefix",
    ),
    "databricks:index/permissions:Permissions": ("accessControls",),
    "databricks:index/grants:Grants": ("model", "grants"),
    "databricks:index/grant:Grant": (
        "principal",
        "catalog",
        "schema",
        "table",
        "model",
        "privileges",
    ),
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

_MODULE_TOKEN = re.compile(r"^([^:]+):([^/:]+)/[^:]+:([^:]+)$")


def display_type(type_: str) -> str:
    """A type token as ``pulumi preview`` prints it: ``databricks:index/job:Job`` is
    ``databricks:index:Job``."""
    match = _MODULE_TOKEN.match(type_)
    return f"{match[1]}:{match[2]}:{match[3]}" if match else type_


def _compact(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return "; ".join(
            " ".join(f"{k}={_compact(v)}" for k, v in sorted(item.items())) for item in value
        )
    return json.dumps(value, sort_keys=True)


def key_inputs(resource: DeclaredResource) -> list[tuple[str, str]]:
    """The resource's key inputs that are set, as (dotted path, compact value)."""
    found = []
    for path in KEY_INPUTS.get(resource.type, ()):
        try:
            value = resource.input(path)
        except (KeyError, IndexError, TypeError):
            continue
        if path.replace(".0.", "[0].") in resource.ignore_changes:
            # The engine keeps the state's value after create (the ignore_changes option).
            value = f"{_compact(value)} (at create, then ignored)"
        found.append((path, _compact(value)))
    return found


def _flags(resource: DeclaredResource) -> str:
    if resource.protect:
        return "[protected, retained on delete]" if resource.retain_on_delete else "[protected]"
    return ""


def render_tree(evaluation: Evaluation, project: str) -> str:
    """The stack as a tree: each component with its children indented, each resource's type
    (as ``pulumi preview`` prints it), logical name, protection and key inputs."""
    children: dict[str | None, list[DeclaredResource]] = defaultdict(list)
    for resource in evaluation.resources:
        children[resource.parent].append(resource)
    for siblings in children.values():
        # Components before resources, then by name: a stable order a reader can scan.
        siblings.sort(key=lambda r: (r.custom, r.name))

    rows: list[tuple[str, str, str, list[tuple[str, str]]]] = []

    def walk(parent: str | None, guide: str) -> None:
        siblings = children.get(parent, [])
        for index, resource in enumerate(siblings):
            last = index == len(siblings) - 1
            branch = "└─ " if last else "├─ "
            below = guide + ("   " if last else "│  ")
            rows.append(
                (
                    f"{guide}{branch}{display_type(resource.type)}",
                    resource.name,
                    _flags(resource),
                    [(f"{below}    ", f"{path}: {value}") for path, value in key_inputs(resource)],
                )
            )
            walk(resource.name, below)

    walk(None, "")
    stack_row = f"{STACK_TYPE}"
    width = max(len(stack_row), *(len(row[0]) for row in rows))
    custom = sum(r.custom for r in evaluation.resources)
    components = len(evaluation.resources) - custom
    lines = [
        f"Stack {evaluation.stack} (offline render under mocks; no provider was called)",
        "",
        f"{'Type':<{width}}  Name",
        f"{stack_row:<{width}}  {project}-{evaluation.stack}",
    ]
    for tree, name, flags, inputs in rows:
        lines.append(f"{tree:<{width}}  {name}{'  ' + flags if flags else ''}")
        lines += [f"{indent}{text}" for indent, text in inputs]
    lines += ["", "Outputs:"]
    key_width = max((len(k) for k in evaluation.outputs), default=0)
    lines += [
        f"    {key:<{key_width}}: {json.dumps(value)}"
        for key, value in sorted(evaluation.outputs.items())
    ]
    existence = [lookup for lookup in evaluation.not_checked if lookup.is_existence_check]
    if existence:
        lines += [
            "",
            "Must exist, not checked offline (a preview reads each one with the provider and "
            "fails, naming the key, when it is missing):",
        ]
        lines += [f"    {lookup.kind:<8} {lookup.name}" for lookup in existence]
    if evaluation.deploying_user is not None:
        lines += [
            "",
            "Runs as the user who deploys it (a preview reads the credentials' user name); "
            f"shown offline as {evaluation.deploying_user}.",
        ]
    elif len(existence) < len(evaluation.not_checked):
        lines += [
            "",
            "Not checked offline: the caller of an update must be the run-as principal (an "
            "update reads it with the provider and stops before any change otherwise).",
        ]
    if evaluation.warnings:
        lines += ["", "Warnings (a preview prints them too):"]
        lines += [f"    {warning}" for warning in evaluation.warnings]
    lines += ["", f"Resources: {custom} resources in {components} components"]
    return "\n".join(lines)
