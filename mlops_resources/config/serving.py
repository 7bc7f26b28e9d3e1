"""Real-time serving of the champion: ``mlops:serving``, off by default.

With ``enabled: true`` the stack declares a model serving endpoint that serves the version the
model's ``champion`` alias points at (``mlops_resources/databricks/serving.py``), and the
training job updates the endpoint after each promotion (``notebooks/ServingUpdate.py``). The
rules this section enforces, with their evidence:

- The endpoint name "can consist of alphanumeric characters, dashes, and underscores" and "must
  be unique across a workspace"; changing it "will delete the existing endpoint and create a new
  endpoint" (pulumi_databricks 1.118 ``ModelServingArgs.name``; terraform-provider-databricks
  v1.118.0 ``serving/resource_model_serving.go``: ``name`` is ForceNew). The name is derived
  (``<env>-<project>-endpoint``), never configured, so a config change cannot rename it. No
  length limit is documented; :data:`MAX_ENDPOINT_NAME` is a conservative cap (a DNS label's
  63), stated as ours, not the API's.
- ``workload_size``: "Valid workload sizes are ``Small`` (4 - 4 provisioned concurrency),
  ``Medium`` (8 - 16 ...) and ``Large`` (16 - 64 ...)" (``ModelServingConfigServedEntityArgs``
  docstring).
- Rate limits: AI Gateway rate limits (top-level ``rate_limits`` is deprecated, "Please use AI
  Gateway to manage rate limits", provider schema), ``renewal_period`` "minute" only, ``key``
  one of user, user_group, service_principal, endpoint (databricks-sdk 0.167
  ``serving.AiGatewayRateLimit``).
- The inference table is an AI Gateway inference table, never the legacy ``auto_capture_config``
  ("Deprecated: please use AI Gateway inference tables instead", databricks-sdk
  ``ServingEndpointsAPI.update_config``; legacy tables cannot be enabled since 2026-02-20,
  Databricks docs "Inference tables for monitoring and debugging models"). Its catalog, schema
  and prefix cannot change while it is enabled (databricks-sdk
  ``AiGatewayInferenceTableConfig``: "you have to disable inference table first"), so the prefix
  is always set explicitly and the table is ``<catalog>.<schema>.<prefix>_payload`` (AI Gateway
  appends ``_payload``, databricks-sdk ``InferenceTableConfig.table_name_prefix``).
- Aliases are read with the Unity Catalog data source (``get_registered_model`` with
  ``include_aliases``), so serving needs ``model.registry: unity_catalog``.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field

from mlops_resources.config.checks import PrincipalName, UcIdentifier
from mlops_resources.config.reading import Section

MAX_ENDPOINT_NAME = 63
"""Our cap on the endpoint name's length (none is documented)."""
ENDPOINT_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
SERVED_ENTITY_NAME = "champion"
"""The endpoint's one served entity: a fixed name, so the deployment task and the provider's
``preserveConfigOrder`` (served entities matched by name) always find it, whatever version it
serves. The default name embeds the version (``<entity_name>-<entity_version>``)."""
PROD_STACKS = ("prod",)
"""Stacks whose endpoint keeps capacity unless the stack file says otherwise."""


class RateLimitConfig(Section):
    """One AI Gateway rate limit: calls per minute for a key."""

    calls: int = Field(ge=1, examples=[100], description="calls allowed per minute")
    key: Literal["endpoint", "user", "user_group", "service_principal"] = Field(
        "endpoint",
        examples=["user"],
        description="what the limit counts: the whole endpoint, or each user, user group or "
        "service principal",
    )
    principal: PrincipalName | None = Field(
        None,
        examples=["wine-quality-app"],
        description="the user, group or service principal the limit applies to (optional; "
        "none with key 'endpoint')",
    )


class InferenceTableConfig(Section):
    """The endpoint's AI Gateway inference table (requests and responses, in Unity Catalog)."""

    enabled: bool = Field(False, examples=[True], description="log requests and responses")
    catalog: UcIdentifier | None = Field(
        None, examples=["staging"], description="catalog of the table; default: the model's"
    )
    schema_name: UcIdentifier | None = Field(
        None,
        alias="schema",
        examples=["wine_quality"],
        description="schema of the table (the stack grants CREATE_TABLE on it); default: the "
        "model's",
    )
    table_name_prefix: UcIdentifier | None = Field(
        None,
        examples=["staging_wine_quality_serving"],
        description="table name prefix (AI Gateway appends '_payload'); cannot change while "
        "enabled; default: <env>_<project>_serving",
    )


class ServingConfig(Section):
    """An optional model serving endpoint for the champion."""

    enabled: bool = Field(
        False,
        examples=[True],
        description="declare a serving endpoint for the version the 'champion' alias points "
        "at (model.registry 'unity_catalog' only); before the first champion nothing is "
        "declared and the preview says so",
    )
    workload_size: Literal["Small", "Medium", "Large"] = Field(
        "Small",
        examples=["Medium"],
        description="provisioned concurrency: Small (4), Medium (8-16), Large (16-64)",
    )
    scale_to_zero: bool | None = Field(
        None,
        examples=[False],
        description="scale to zero when idle (the first request then waits for capacity); "
        "default: false on prod, true on other stacks",
    )
    query_group: PrincipalName | None = Field(
        None,
        examples=["wine-quality-app-clients"],
        description="workspace group that may query the endpoint (CAN_QUERY); required when "
        "enabled",
    )
    rate_limits: list[RateLimitConfig] = Field(
        default_factory=list,
        examples=[[{"calls": 100, "key": "user"}]],
        description="AI Gateway rate limits, per minute",
    )
    inference_table: InferenceTableConfig = Field(
        InferenceTableConfig(), description="AI Gateway inference table"
    )


def endpoint_name(prefix: str, project: str) -> str:
    """The endpoint's Databricks name, derived and never configured (a rename replaces it)."""
    return f"{prefix}-{project}-endpoint"


def scales_to_zero(serving: ServingConfig, environment: str) -> bool:
    """Whether the endpoint scales to zero: configured, else not on prod, else yes."""
    if serving.scale_to_zero is not None:
        return serving.scale_to_zero
    return environment not in PROD_STACKS


def inference_table_prefix(serving: ServingConfig, environment: str, project: str) -> str:
    """The inference table's name prefix: configured, or ``<env>_<project>_serving``."""
    configured = serving.inference_table.table_name_prefix
    return configured or f"{environment}_{project}_serving".replace("-", "_")


def endpoint_name_problem(name: str) -> str | None:
    """Why a workspace would refuse ``name`` as an endpoint name (or our length cap), if so."""
    if not ENDPOINT_NAME.match(name):
        return (
            f"{name!r}: an endpoint name consists of alphanumeric characters, dashes and "
            "underscores (Model Serving API)"
        )
    if len(name) > MAX_ENDPOINT_NAME:
        return f"{name!r} is {len(name)} characters, more than {MAX_ENDPOINT_NAME}"
    return None


def serving_problems(
    namespace: str,
    serving: ServingConfig,
    *,
    endpoint: str,
    registry: str,
    model_schema: str | None,
    readers_group: str,
) -> list[str]:
    """Keys of ``serving`` that contradict each other or the rest of the stack file."""
    key = f"{namespace}:serving"
    if not serving.enabled:
        return []
    problems = []
    if registry != "unity_catalog":
        problems.append(
            f"{key}.enabled: serving needs model.registry 'unity_catalog': the endpoint "
            "follows the model's 'champion' alias, read with the Unity Catalog data source "
            "(get_registered_model with include_aliases); set model.registry to "
            "'unity_catalog', or serving.enabled to false"
        )
    if serving.query_group is None:
        problems.append(
            f"{key}.query_group: required when serving.enabled is true: the workspace group "
            "whose members may query the endpoint (CAN_QUERY)"
        )
    elif serving.query_group.lower() == "admins":
        problems.append(
            f"{key}.query_group: 'admins' already manage every endpoint (workspace admins have "
            "CAN_MANAGE); expected the group of the endpoint's clients"
        )
    elif serving.query_group.lower() == readers_group.lower():
        problems.append(
            f"{key}.query_group: must differ from access.readers_group (CAN_VIEW on the "
            "endpoint): one principal gets exactly one permission level per object"
        )
    for index, limit in enumerate(serving.rate_limits):
        if limit.key == "endpoint" and limit.principal is not None:
            problems.append(
                f"{key}.rate_limits[{index}].principal: a limit with key 'endpoint' counts every "
                "call; remove principal, or set key to user, user_group or service_principal"
            )
    name_problem = endpoint_name_problem(endpoint)
    if name_problem:
        problems.append(
            f"{namespace}:project_name: the serving endpoint name it gives, {name_problem}"
        )
    table = serving.inference_table
    if not table.enabled:
        for name in ("catalog", "schema_name", "table_name_prefix"):
            if getattr(table, name) is not None:
                spelled = "schema" if name == "schema_name" else name
                problems.append(
                    f"{key}.inference_table.{spelled}: only used when "
                    "serving.inference_table.enabled is true; remove it or enable the table"
                )
    elif model_schema is None and (table.catalog is None or table.schema_name is None):
        problems.append(
            f"{key}.inference_table.schema: required (with catalog) when the model is not in "
            "Unity Catalog"
        )
    return problems


def inference_table_schema(serving: ServingConfig, model_schema: str | None) -> str | None:
    """``catalog.schema`` of the inference table (lowercase), None when it is off."""
    table = serving.inference_table
    if not (serving.enabled and table.enabled):
        return None
    default_catalog, _, default_schema = (model_schema or ".").partition(".")
    return f"{table.catalog or default_catalog}.{table.schema_name or default_schema}".lower()


MonitoredSource = Literal["batch_inference", "serving"]
"""What fills the table the monitor watches (``mlops:monitoring.source``)."""
PAYLOAD_SUFFIX = "_payload"
"""What AI Gateway appends to ``table_name_prefix`` (databricks-sdk
``AiGatewayInferenceTableConfig.table_name_prefix``)."""
PROCESSED_SUFFIX = "_processed"
"""The default monitored table of ``source: serving``: ``<prefix>_processed``, beside the
payload table, which the ``ServingInferenceLog`` task unpacks into it."""


def payload_table(
    serving: ServingConfig, model_schema: str | None, environment: str, project: str
) -> str | None:
    """``<catalog>.<schema>.<prefix>_payload``, the endpoint's AI Gateway inference table
    (lowercase), None when serving or its inference table is off."""
    schema = inference_table_schema(serving, model_schema)
    if schema is None:
        return None
    prefix = inference_table_prefix(serving, environment, project)
    return f"{schema}.{prefix}{PAYLOAD_SUFFIX}".lower()


def monitoring_source_problems(
    namespace: str,
    source: MonitoredSource,
    serving: ServingConfig,
    *,
    filled: bool,
    monitored_table: str,
    payload: str | None,
) -> list[str]:
    """Why ``monitoring.source`` cannot work with the rest of the stack file. ``filled``: the
    monitored table is filled (monitoring.enabled or log_inferences); ``payload``: the
    endpoint's payload table, None when serving or its inference table is off."""
    key = f"{namespace}:monitoring.source"
    if source != "serving":
        return []
    if not filled:
        return [
            f"{key}: 'serving' is only used when monitoring.enabled or monitoring.log_inferences "
            "is true (it chooses what fills the monitored table); remove it or enable one"
        ]
    if not serving.enabled or not serving.inference_table.enabled:
        off = "serving.enabled" if not serving.enabled else "serving.inference_table.enabled"
        return [
            f"{key}: 'serving' unpacks the serving endpoint's AI Gateway inference table "
            f"(<catalog>.<schema>.<prefix>{PAYLOAD_SUFFIX}) into the monitored table, but {off} "
            "is false; expected serving.enabled and serving.inference_table.enabled true, or "
            "source 'batch_inference' (the default)"
        ]
    if payload is not None and monitored_table.lower() == payload:
        return [
            f"{namespace}:monitoring.inference_log_table: must differ from the endpoint's "
            f"inference table {payload!r}: the endpoint writes that table (raw JSON) and the "
            "ServingInferenceLog task appends the unpacked rows to the monitored one"
        ]
    return []
