"""Data and access that must not be lost: prod's ML assets are protected, and a principal
holds one permission level per object."""

from __future__ import annotations

from collections import Counter

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from mlops_resources.policies.support import (
    DIRECTORY,
    ENVIRONMENT_SCHEMA,
    EXPERIMENT,
    MLFLOW_MODEL,
    PERMISSIONS,
    REGISTERED_MODEL,
    is_prod,
    of_type,
    principal_of,
)


def _prod_assets(args: StackValidationArgs, report: ReportViolation) -> None:
    if not is_prod(args):
        return
    experiments = of_type(args.resources, EXPERIMENT)
    folders = {str(e.props.get("name", "")).rsplit("/", 1)[0] for e in experiments}
    assets = experiments + of_type(args.resources, REGISTERED_MODEL, MLFLOW_MODEL)
    assets += [d for d in of_type(args.resources, DIRECTORY) if d.props.get("path") in folders]
    for asset in assets:
        if not asset.opts.protect:
            report(
                f"'{asset.name}' holds runs or model versions but is not protected: a destroy "
                "or a replacement would delete them. Set protect_ml_assets: true.",
                asset.urn,
            )


PROD_ML_ASSETS_PROTECTED = StackValidationPolicy(
    name="prod-ml-assets-protected",
    description="In prod, the experiment, its folder and the model are protected: runs and "
    "model versions are data a destroy must not lose.",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=ENVIRONMENT_SCHEMA,
    validate=_prod_assets,
)


def _one_level(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != PERMISSIONS:
        return
    counts = Counter(principal_of(e) for e in args.props.get("accessControls") or [])
    for principal, count in sorted((p, c) for p, c in counts.items() if c > 1 and p):
        report(
            f"{principal} is listed {count} times: the provider reads back only the highest "
            "level and shows a change forever. Give each principal one level.",
            None,
        )


ONE_LEVEL_PER_PRINCIPAL = ResourceValidationPolicy(
    name="one-permission-level-per-principal",
    description="A Permissions resource lists each principal once (databricks.Permissions "
    "docs: several levels for one identity cause permanent drift).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_one_level,
)

POLICIES = [PROD_ML_ASSETS_PROTECTED, ONE_LEVEL_PER_PRINCIPAL]
