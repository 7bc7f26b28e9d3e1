"""What the policies share: resource type tokens, prop access, the stack's environment and
run-as principals, and the per-policy config schema."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import PolicyConfigSchema, PolicyResource, StackValidationArgs

DATA_QUALITY_MONITOR = "databricks:index/dataQualityMonitor:DataQualityMonitor"
DIRECTORY = "databricks:index/directory:Directory"
EXPERIMENT = "databricks:index/mlflowExperiment:MlflowExperiment"
GRANT = "databricks:index/grant:Grant"
GRANTS = "databricks:index/grants:Grants"
JOB = "databricks:index/job:Job"
MLFLOW_MODEL = "databricks:index/mlflowModel:MlflowModel"
NOTEBOOK = "databricks:index/notebook:Notebook"
LAKEHOUSE_MONITOR = "databricks:index/lakehouseMonitor:LakehouseMonitor"
MODEL_SERVING = "databricks:index/modelServing:ModelServing"
PERMISSIONS = "databricks:index/permissions:Permissions"
QUALITY_MONITOR = "databricks:index/qualityMonitor:QualityMonitor"
REGISTERED_MODEL = "databricks:index/registeredModel:RegisteredModel"
WORKSPACE_FILE = "databricks:index/workspaceFile:WorkspaceFile"

SECURABLE_KEYS = ("catalog", "schema", "table", "model", "function", "volume")
"""Props of a Grant that name its securable."""
MANAGEMENT_LEVELS = ("CAN_MANAGE", "IS_OWNER")
"""Permission levels the provider counts as management for the caller
(``permissions/permission_definitions.go``)."""

ENVIRONMENT_SCHEMA = PolicyConfigSchema(
    properties={
        "environment": {
            "type": "string",
            "description": "the stack's environment; default: the stack tag 'environment', "
            "then the env tag of the stack's jobs",
        },
        "prodEnvironments": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["prod"],
            "description": "environments held to the prod rules",
        },
    }
)
"""Config of the policies that apply to prod only."""


def get(props: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """A nested prop by dotted wire-name path (``runAs.servicePrincipalName``)."""
    value: Any = props
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return default
        value = value[part]
    return value


def of_type(resources: Iterable[PolicyResource], *types: str) -> list[PolicyResource]:
    return [r for r in resources if r.resource_type in types]


def dependents(
    resources: Iterable[PolicyResource], resource: PolicyResource, *types: str
) -> list[PolicyResource]:
    """Resources of ``types`` that take ``resource`` as an input (they depend on it)."""
    return [
        r for r in of_type(resources, *types) if any(d.urn == resource.urn for d in r.dependencies)
    ]


def run_as_of(props: Mapping[str, Any]) -> str | None:
    """Who a job runs as: its ``run_as`` service principal or user (exactly one is set)."""
    principal = get(props, "runAs.servicePrincipalName") or get(props, "runAs.userName")
    return str(principal) if principal else None


def run_as_principals(resources: Iterable[PolicyResource]) -> set[str]:
    """The principals the stack's jobs run as (and, by design, deploy as): service principals,
    or on a personal stack its developer."""
    return {principal for job in of_type(resources, JOB) if (principal := run_as_of(job.props))}


def environment(args: StackValidationArgs) -> str | None:
    """The stack's environment: policy config, the ``environment`` stack tag, or the ``env``
    tag the stack's jobs carry (one value, or None when they disagree or are absent)."""
    configured = args.get_config().get("environment")
    if configured:
        return str(configured)
    tagged = args.stack_tags.get("environment")
    if tagged:
        return str(tagged)
    envs = {get(job.props, "tags.env") for job in of_type(args.resources, JOB)} - {None}
    return str(envs.pop()) if len(envs) == 1 else None


def is_prod(args: StackValidationArgs) -> bool:
    prod = args.get_config().get("prodEnvironments") or ["prod"]
    return environment(args) in prod


def principal_of(entry: Mapping[str, Any]) -> str | None:
    """The principal of one ``accessControls`` entry."""
    for key in ("servicePrincipalName", "groupName", "userName"):
        if entry.get(key):
            return str(entry[key])
    return None
