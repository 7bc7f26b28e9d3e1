"""The serving endpoint as a real workspace takes it (README, "Real-time serving"); evidence
is terraform-provider-databricks v1.118.0 ``serving/resource_model_serving.go`` and
``permissions/permission_definitions.go``, pulumi_databricks 1.118 and databricks-sdk 0.167."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from mlops_resources.config.serving import ENDPOINT_NAME, MAX_ENDPOINT_NAME, PAYLOAD_SUFFIX
from mlops_resources.policies.support import (
    JOB,
    MODEL_SERVING,
    PERMISSIONS,
    get,
    of_type,
    principal_of,
    run_as_principals,
)

ENTITY_VERSION_PATH = "config.servedEntities[0].entityVersion"
ENDPOINT_LEVELS = ("CAN_VIEW", "CAN_QUERY", "CAN_MANAGE")


def _name(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != MODEL_SERVING:
        return
    name = str(args.props.get("name") or "")
    if not ENDPOINT_NAME.match(name) or len(name) > MAX_ENDPOINT_NAME:
        report(
            f"Endpoint name {name!r}: expected alphanumeric characters, dashes and underscores "
            f"(ModelServingArgs.name), at most {MAX_ENDPOINT_NAME} characters (our cap; none is "
            "documented).",
            None,
        )


SERVING_ENDPOINT_NAME = ResourceValidationPolicy(
    name="serving-endpoint-name",
    description="A serving endpoint's name is alphanumeric with dashes and underscores "
    "(pulumi_databricks ModelServingArgs.name docstring), at most 63 characters (our cap: no "
    "limit is documented). It is ForceNew (resource_model_serving.go): a rename replaces it.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_name,
)


def _entities(args: ResourceValidationArgs) -> list[dict[str, object]]:
    if args.resource_type != MODEL_SERVING:
        return []
    return list(get(args.props, "config.servedEntities") or [])


def _version_string(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for entity in _entities(args):
        version = entity.get("entityVersion")
        if entity.get("entityName") and not (isinstance(version, str) and version.isdigit()):
            report(
                f"Served entity {entity.get('name')!r}: entityVersion {version!r} must be a "
                "model version as a decimal string, e.g. '3'.",
                None,
            )


SERVING_ENTITY_VERSION_STRING = ResourceValidationPolicy(
    name="serving-entity-version-string",
    description="A served model's entityVersion is a decimal string (ServedEntityInput."
    "entity_version: Optional[str], databricks-sdk; pulumi_databricks "
    "ModelServingConfigServedEntityArgs); an alias's version_num is an int to convert.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_version_string,
)


def _version_ignored(args: ResourceValidationArgs, report: ReportViolation) -> None:
    entities = _entities(args)
    if not entities:
        return
    if len(entities) != 1 or not entities[0].get("name"):
        report(
            "Declare exactly one served entity, with an explicit name: ignore_changes covers "
            "servedEntities[0] only, and the provider matches entities by name "
            "(preserveConfigOrder); the default name embeds the version.",
            None,
        )
    if ENTITY_VERSION_PATH not in (args.opts.ignore_changes or []):
        report(
            f"{ENTITY_VERSION_PATH} is not in ignore_changes: the ServingUpdate task moves the "
            "endpoint to each new champion, so every preview after a promotion would show a "
            "change (Read writes the live version into state, no diff suppression).",
            None,
        )


SERVING_ENTITY_VERSION_IGNORED = ResourceValidationPolicy(
    name="serving-entity-version-ignored",
    description="A serving endpoint has one named served entity whose entityVersion is in "
    "ignore_changes: the training job moves it (resource_model_serving.go Read overwrites "
    "state with the live config; no DiffSuppress on entity_version).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_version_ignored,
)


def _no_legacy(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != MODEL_SERVING:
        return
    if get(args.props, "config.autoCaptureConfig") is not None:
        report(
            "config.autoCaptureConfig is a legacy inference table: it cannot be enabled since "
            "2026-02-20, and its catalog/schema/prefix are ForceNew (a change replaces the "
            "endpoint). Use aiGateway.inferenceTableConfig.",
            None,
        )
    if args.props.get("routeOptimized") is not None or args.props.get("rateLimits"):
        report(
            "routeOptimized is ForceNew (cannot be updated: a change replaces the endpoint) and "
            "top-level rateLimits is deprecated (use aiGateway.rateLimits); leave both unset.",
            None,
        )


NO_LEGACY_INFERENCE_TABLES = ResourceValidationPolicy(
    name="serving-no-legacy-or-replacing-inputs",
    description="No legacy auto_capture_config inference table (Databricks docs, 'Inference "
    "tables': not enabled since 2026-02-20; databricks-sdk: deprecated), no route_optimized "
    "(ForceNew) and no deprecated top-level rate_limits (resource_model_serving.go).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_no_legacy,
)


def _permissions(args: StackValidationArgs, report: ReportViolation) -> None:
    run_as = run_as_principals(args.resources)
    for acl in of_type(args.resources, PERMISSIONS):
        if not acl.props.get("servingEndpointId"):
            continue
        entries = list(acl.props.get("accessControls") or [])
        levels = {principal_of(e): e.get("permissionLevel") for e in entries}
        bad = sorted(str(v) for v in levels.values() if v not in ENDPOINT_LEVELS)
        if bad:
            report(
                f"Permissions '{acl.name}': {', '.join(bad)} is not a serving endpoint level "
                f"({', '.join(ENDPOINT_LEVELS)}; permission_definitions.go).",
                acl.urn,
            )
        if not any(levels.get(p) == "CAN_MANAGE" for p in run_as):
            report(
                f"Permissions '{acl.name}' does not list the run-as principal as CAN_MANAGE: "
                "the provider adds the caller as CAN_MANAGE and hides it from that caller only "
                "(AddCurrentUserAsManage, prepareResponse), so another principal's preview "
                "shows a change forever.",
                acl.urn,
            )
        if "CAN_QUERY" not in levels.values():
            report(f"Permissions '{acl.name}' gives no group CAN_QUERY: no one may query.", acl.urn)


SERVING_ENDPOINT_PERMISSIONS = StackValidationPolicy(
    name="serving-endpoint-permissions",
    description="A serving endpoint's permissions use its levels only (CAN_VIEW, CAN_QUERY, "
    "CAN_MANAGE), give a group CAN_QUERY and pin the run-as principal as CAN_MANAGE "
    "(permission_definitions.go; customizers.go AddCurrentUserAsManage).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_permissions,
)


def _payload_tables(args: StackValidationArgs) -> set[str]:
    """``<catalog>.<schema>.<prefix>_payload`` of every declared endpoint's inference table."""
    tables = set()
    for endpoint in of_type(args.resources, MODEL_SERVING):
        table = get(endpoint.props, "aiGateway.inferenceTableConfig") or {}
        if table.get("enabled"):
            parts = (
                table.get("catalogName"),
                table.get("schemaName"),
                table.get("tableNamePrefix"),
            )
            tables.add(".".join(str(p) for p in parts).lower() + PAYLOAD_SUFFIX)
    return tables


def _serving_log(args: StackValidationArgs, report: ReportViolation) -> None:
    endpoints = of_type(args.resources, MODEL_SERVING)
    payloads = _payload_tables(args)
    for job in of_type(args.resources, JOB):
        values = {p.get("name"): p.get("default") for p in job.props.get("parameters") or []}
        payload = str(values.get("payload_table") or "").lower()
        if not payload:
            continue
        if payload == str(values.get("inference_log_table") or "").lower():
            report(
                f"Job '{job.name}' appends the unpacked rows to the table it reads, {payload!r}: "
                "the endpoint writes that table (raw request/response JSON, a fixed schema).",
                job.urn,
            )
        # Before the first champion no endpoint is declared yet: nothing to compare with.
        if endpoints and payload not in payloads:
            report(
                f"Job '{job.name}' reads {payload!r}, which is not the inference table of any "
                f"declared endpoint ({', '.join(sorted(payloads)) or 'none enabled'}): the "
                "monitored table would stay empty.",
                job.urn,
            )


SERVING_LOG_READS_THE_ENDPOINT_TABLE = StackValidationPolicy(
    name="serving-log-reads-the-endpoint-table",
    description="The serving inference log job reads the endpoint's AI Gateway inference table, "
    "<catalog>.<schema>.<table_name_prefix>_payload (databricks-sdk "
    "AiGatewayInferenceTableConfig), and appends to another table: the payload table holds raw "
    "JSON in a fixed schema (Databricks docs, 'Monitor served models using AI Gateway-enabled "
    "inference tables').",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_serving_log,
)

POLICIES = [
    SERVING_LOG_READS_THE_ENDPOINT_TABLE,
    SERVING_ENDPOINT_NAME,
    SERVING_ENTITY_VERSION_STRING,
    SERVING_ENTITY_VERSION_IGNORED,
    NO_LEGACY_INFERENCE_TABLES,
    SERVING_ENDPOINT_PERMISSIONS,
]
