"""What a real workspace enforces beyond the provider's schema (README, "What a real workspace
enforces"): a breach fails an apply or a destroy, drifts on every preview, or opens access."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from mlops_resources.config.access import SHARED_ROOTS, WORKSPACE_LOCAL_GROUPS
from mlops_resources.policies.support import (
    DIRECTORY,
    ENVIRONMENT_SCHEMA,
    EXPERIMENT,
    GRANT,
    GRANTS,
    JOB,
    MANAGEMENT_LEVELS,
    NOTEBOOK,
    PERMISSIONS,
    REGISTERED_MODEL,
    SECURABLE_KEYS,
    WORKSPACE_FILE,
    dependents,
    get,
    is_prod,
    of_type,
    principal_of,
    run_as_of,
    run_as_principals,
)

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY


def _uc_principals(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == GRANT:
        principals = [args.props.get("principal")]
    elif args.resource_type == GRANTS:
        principals = [g.get("principal") for g in args.props.get("grants") or []]
    else:
        return
    for principal in principals:
        if str(principal).lower() in WORKSPACE_LOCAL_GROUPS:
            report(
                f"'{principal}' is a workspace-local group: Unity Catalog answers 'Could not find "
                "principal' and the apply fails. Grant to an account-level group (or 'account "
                "users') instead.",
                None,
            )


UC_ACCOUNT_PRINCIPALS = ResourceValidationPolicy(
    name="uc-account-principals",
    description="Unity Catalog grants name account-level principals, never the workspace-local "
    "groups 'users' or 'admins' (SQL reference, 'Principal'; TF #5413, #4680).",
    enforcement_level=MANDATORY,
    validate=_uc_principals,
)


def _no_grants(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == GRANTS:
        report(
            "databricks.Grants replaces every principal's grants on its securable and revokes "
            "them all on delete: use one databricks.Grant per principal.",
            None,
        )


NO_AUTHORITATIVE_GRANTS = ResourceValidationPolicy(
    name="no-authoritative-grants",
    description="No databricks.Grants: it is authoritative for every principal of its "
    "securable (catalog/resource_grants.go) and would revoke grants the stack did not make.",
    enforcement_level=MANDATORY,
    validate=_no_grants,
)


def _securable(props: Mapping[str, Any]) -> tuple[str, str] | None:
    for key in SECURABLE_KEYS:
        value = props.get(key)
        if value:
            return key, str(value).lower()
    return None


def _grants_not_to_run_as(args: StackValidationArgs, report: ReportViolation) -> None:
    principals = run_as_principals(args.resources)
    for grant in of_type(args.resources, GRANT):
        if grant.props.get("principal") in principals:
            report(
                f"Grant '{grant.name}' goes to the run-as principal itself: databricks.Grant is "
                "authoritative for its principal, so it would revoke the principal's own "
                "privileges there (CREATE_MODEL, MANAGE). Grant to its account group instead.",
                grant.urn,
            )


GRANTS_NOT_TO_RUN_AS = StackValidationPolicy(
    name="grants-not-to-run-as-principal",
    description="No Unity Catalog grant to a principal the jobs run as: databricks.Grant "
    "revokes that principal's undeclared privileges (catalog/resource_grant.go).",
    enforcement_level=MANDATORY,
    validate=_grants_not_to_run_as,
)


def _one_grant_per_pair(args: StackValidationArgs, report: ReportViolation) -> None:
    grants = of_type(args.resources, GRANT)
    pairs: defaultdict[tuple[Any, tuple[str, str] | None], list[str]] = defaultdict(list)
    for grant in grants:
        pairs[grant.props.get("principal"), _securable(grant.props)].append(grant.name)
    for grant in grants:
        pair = (grant.props.get("principal"), _securable(grant.props))
        others = [name for name in pairs[pair] if name != grant.name]
        if others:
            principal, securable = pair
            where = (
                f"{securable[0]} {grant.props.get(securable[0])!r}" if securable else "no securable"
            )
            report(
                f"Grant '{grant.name}': Grant {', '.join(map(repr, others))} also manages "
                f"{principal!r} on {where}; each revokes the other's privileges. Merge them "
                "into one.",
                grant.urn,
            )


ONE_GRANT_PER_PAIR = StackValidationPolicy(
    name="one-grant-per-principal-and-securable",
    description="One databricks.Grant per (principal, securable): two fight over the "
    "principal's privileges forever (catalog/resource_grant.go; PR #3024).",
    enforcement_level=MANDATORY,
    validate=_one_grant_per_pair,
)


def _identity(entry: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """(kind, name) of a service principal or user, in a job's ``runAs`` or an ACL entry."""
    for key in ("servicePrincipalName", "userName"):
        if entry and entry.get(key):
            return key, str(entry[key])
    return None


def _job_owner_pinned(args: StackValidationArgs, report: ReportViolation) -> None:
    for job in of_type(args.resources, JOB):
        run_as = run_as_of(job.props)
        acls = dependents(args.resources, job, PERMISSIONS)
        owners = [
            entry
            for acl in acls
            for entry in acl.props.get("accessControls") or []
            if entry.get("permissionLevel") == "IS_OWNER"
        ]
        pinned = len(owners) == 1 and _identity(owners[0]) == _identity(job.props.get("runAs"))
        if not (pinned and run_as):
            expected = repr(run_as) if run_as else "none: the job sets no run_as"
            found = ", ".join(repr(principal_of(entry)) for entry in owners) or "none"
            report(
                f"Job '{job.name}' needs a Permissions resource with exactly one IS_OWNER entry, "
                f"its run-as principal ({expected}); found {len(owners)}: {found}. "
                "Otherwise the provider makes the caller the owner and a preview by anyone "
                "else shows a change.",
                job.urn,
            )


JOB_OWNER_PINNED = StackValidationPolicy(
    name="job-owner-pinned",
    description="Every job pins IS_OWNER to its run-as principal: the provider adds "
    "the caller as owner and hides it from the caller only (permission_definitions.go; TF "
    "#2468), a perpetual diff for previews by another principal.",
    enforcement_level=MANDATORY,
    validate=_job_owner_pinned,
)


def _deployer_management_level(args: StackValidationArgs, report: ReportViolation) -> None:
    deployers = run_as_principals(args.resources)
    for acl in of_type(args.resources, PERMISSIONS):
        for entry in acl.props.get("accessControls") or []:
            level = entry.get("permissionLevel")
            if principal_of(entry) in deployers and level not in MANAGEMENT_LEVELS:
                report(
                    f"Permissions '{acl.name}' give the run-as principal, which deploys the "
                    f"stack, {level}: the provider refuses a non-management level for the caller "
                    "('cannot remove management permissions for the current user'). Use "
                    "CAN_MANAGE (IS_OWNER on jobs).",
                    acl.urn,
                )


DEPLOYER_MANAGEMENT_LEVEL = StackValidationPolicy(
    name="deployer-management-level",
    description="The run-as principal, which deploys the stack, holds only management levels "
    "(CAN_MANAGE, IS_OWNER) in every Permissions resource (permission_definitions.go, "
    "validate).",
    enforcement_level=MANDATORY,
    validate=_deployer_management_level,
)


def _workspace_path(resource_type: str, props: Mapping[str, Any]) -> str | None:
    key = "name" if resource_type == EXPERIMENT else "path"
    value = props.get(key)
    return str(value) if value else None


def _no_shared_in_prod(args: StackValidationArgs, report: ReportViolation) -> None:
    if not is_prod(args):
        return
    for resource in of_type(args.resources, DIRECTORY, EXPERIMENT, NOTEBOOK, WORKSPACE_FILE):
        path = _workspace_path(resource.resource_type, resource.props)
        if path and any(path == root or path.startswith(f"{root}/") for root in SHARED_ROOTS):
            report(
                f"'{resource.name}' is at {path}: every workspace user can manage objects under "
                "/Shared, including code that runs as the prod principal. Use a folder of the "
                "stack's own (default: the run-as principal's home).",
                resource.urn,
            )


NO_SHARED_IN_PROD = StackValidationPolicy(
    name="no-shared-folder-in-prod",
    description="Nothing of a prod stack lives under /Shared, where all users have CAN_MANAGE "
    "(workspace ACL docs).",
    enforcement_level=MANDATORY,
    config_schema=ENVIRONMENT_SCHEMA,
    validate=_no_shared_in_prod,
)


def _recursive_delete(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != DIRECTORY:
        return
    recursive = bool(args.props.get("deleteRecursive"))
    if args.opts.protect and recursive:
        report(
            "A protected folder is deleted recursively once protection is lifted: with it go "
            "every experiment and file inside. Set delete_recursive=False on protected folders.",
            None,
        )
    elif not args.opts.protect and not recursive:
        report(
            "An unprotected folder that holds anything makes destroy fail (DIRECTORY_NOT_EMPTY; "
            "delete_recursive defaults to false). Set delete_recursive=True.",
            None,
        )


RECURSIVE_DELETE = ResourceValidationPolicy(
    name="recursive-delete-of-unprotected-folders",
    description="Unprotected folders are deleted recursively, protected ones never "
    "(workspace/resource_directory.go: a non-recursive delete of a non-empty folder fails).",
    enforcement_level=MANDATORY,
    validate=_recursive_delete,
)

DEPRECATED = {
    EXPERIMENT: ("description",),
    JOB: ("alwaysRunning", "emailNotifications.noAlertForSkippedRuns"),
}
"""Inputs the provider marks deprecated: ignored or moved, a warning on every run."""


def _no_deprecated(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for path in DEPRECATED.get(args.resource_type, ()):
        if get(args.props, path) is not None:
            report(f"{path} is deprecated and has no effect (or moved): remove it.", None)


NO_DEPRECATED_INPUTS = ResourceValidationPolicy(
    name="no-deprecated-inputs",
    description="No deprecated inputs: MlflowExperiment.description never reaches the API "
    "(mlflow/resource_mlflow_experiment.go); the Job's always_running and "
    "email_notifications.no_alert_for_skipped_runs moved.",
    enforcement_level=ADVISORY,
    validate=_no_deprecated,
)


def _model_owner(args: StackValidationArgs, report: ReportViolation) -> None:
    principals = run_as_principals(args.resources)
    for model in of_type(args.resources, REGISTERED_MODEL):
        owner = model.props.get("owner")
        if owner not in principals:
            report(
                f"Model '{model.name}' is owned by {owner!r}; only the owner may add versions "
                "and set aliases, which the training job (running as "
                f"{', '.join(sorted(principals)) or 'no one'}) does.",
                model.urn,
            )


MODEL_OWNED_BY_RUN_AS = StackValidationPolicy(
    name="uc-model-owned-by-run-as-principal",
    description="A Unity Catalog model is owned by the principal its training job runs as: "
    "only the owner may create versions and set aliases (RegisteredModels API).",
    enforcement_level=MANDATORY,
    validate=_model_owner,
)

POLICIES = [
    UC_ACCOUNT_PRINCIPALS,
    NO_AUTHORITATIVE_GRANTS,
    GRANTS_NOT_TO_RUN_AS,
    ONE_GRANT_PER_PAIR,
    JOB_OWNER_PINNED,
    DEPLOYER_MANAGEMENT_LEVEL,
    NO_SHARED_IN_PROD,
    RECURSIVE_DELETE,
    NO_DEPRECATED_INPUTS,
    MODEL_OWNED_BY_RUN_AS,
]
