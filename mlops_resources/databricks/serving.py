"""The model serving endpoint of ``mlops:serving``: the champion, served in real time.

The endpoint serves the version the model's ``champion`` alias points at, read at every
preview with the provider's data source (:func:`served_version`), and never drifts after a
promotion, per the evidence below (terraform-provider-databricks v1.118.0
``serving/resource_model_serving.go``, ``ResourceModelServing``):

- ``Read`` writes the live endpoint into state (``common.StructToData(*endpoint, s, d)``) with
  no diff suppression on ``entity_version``; ``Update`` sends the whole config when anything
  under ``config`` changed (``updateConfig``). The training job's ``ServingUpdate`` task moves
  the endpoint to the new champion right after ``ModelDeployment`` moves the alias, so without
  more a preview would diff the alias (new) against an unrefreshed state (old), or the reverse.
- So the served entity's ``entity_version`` is in ``ignore_changes``: the program's value is used
  when the endpoint is created; afterwards the state's (Pulumi docs, "ignoreChanges"). Pulumi's
  Python SDK passes a nested property path through as written
  (``pulumi/runtime/resource.py``, ``_translate_ignore_changes``), hence the wire path.
  ``Pulumi.yaml`` refreshes before every update (``options.refresh: always``), so an unrelated
  config change sends the live version, not the one of the last ``up``.
- One served entity, named :data:`SERVED_ENTITY_NAME`: ``preserveConfigOrder`` matches served
  entities by name, and the deployment task finds it whatever version it serves.
- Before any champion exists, nothing is declared and the preview says why
  (``pulumi.log.warn``); once the endpoint exists it stays declared even if the alias goes
  (its live version is read from ``get_serving_endpoints``), so a missing alias never plans a
  delete.
- Permissions (``permissions/permission_definitions.go``, ``serving-endpoints``): levels
  CAN_VIEW, CAN_QUERY, CAN_MANAGE, no IS_OWNER; the update customizer adds the caller as
  CAN_MANAGE (``AddCurrentUserAsManage``), and ``prepareResponse`` hides the caller's own entry
  only when the config omits it. So the run-as principal, which deploys the stack and creates
  the endpoint, is listed explicitly as CAN_MANAGE, the way the jobs pin their owner.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_databricks as databricks

from mlops_resources.config.access import Principal
from mlops_resources.config.serving import SERVED_ENTITY_NAME, RateLimitConfig
from mlops_resources.databricks.common import access_controls
from mlops_resources.databricks.prerequisites import first_line

CHAMPION_ALIAS = "champion"
ENTITY_VERSION_PATH = "config.servedEntities[0].entityVersion"
"""The wire path of the served version, ignored after create (see the module docstring)."""
GET_REGISTERED_MODEL = "databricks:index/getRegisteredModel:getRegisteredModel"
GET_SERVING_ENDPOINTS = "databricks:index/getServingEndpoints:getServingEndpoints"
_MISSING = re.compile(r"does[ _]not[ _]exist|not[ _]found", re.IGNORECASE)


class ServingLookupError(pulumi.RunError):
    """The champion alias could not be read for a reason other than a missing model."""


@dataclass(frozen=True)
class ServedVersion:
    """What the endpoint is declared with, and why."""

    version: str
    """The model version, as the API takes it: a decimal string."""
    from_alias: bool
    """True: the ``champion`` alias; False: the live endpoint's (the alias is gone)."""


def champion_version(model_name: str) -> str | None:
    """The version the ``champion`` alias points at, None when there is none yet.

    ``get_registered_model(include_aliases=True)`` answers the aliases (an empty list when
    there are none) and fails with "failed to get registered model <name>" when the model is
    missing (``pluginfw/products/registered_model/data_registered_model.go``, ``Read``). On a
    new stack the model is declared by this program, so a missing model means "no champion
    yet"; any other failure (a permission) fails the preview: read as "no champion", it could
    plan the endpoint's delete.
    """
    try:
        result = databricks.get_registered_model(full_name=model_name, include_aliases=True)
    except Exception as error:  # the invoke's provider error, whatever its class
        if _MISSING.search(str(error)):
            return None
        raise ServingLookupError(
            f"serving: cannot read the aliases of model {model_name!r} "
            f"({first_line(error)}); the preview principal needs EXECUTE on it "
            "(access.preview_group) and USE_CATALOG/USE_SCHEMA on its parents"
        ) from None
    for info in result.model_infos or []:
        for alias in info.aliases or []:
            if alias.alias_name == CHAMPION_ALIAS and alias.version_num is not None:
                return str(alias.version_num)
    return None


def live_version(endpoint: str) -> str | None:
    """The version the endpoint ``endpoint`` serves now, None when it does not exist
    (``get_serving_endpoints`` lists the endpoints the caller may view:
    ``serving/data_serving_endpoints.go``, ``ServingEndpoints.ListAll``)."""
    for found in databricks.get_serving_endpoints().endpoints or []:
        if found.name != endpoint:
            continue
        for config in found.configs or []:
            for entity in config.served_entities or []:
                if entity.name == SERVED_ENTITY_NAME and entity.entity_version:
                    return str(entity.entity_version)
        return ""  # it exists; what it serves is ignored after create anyway
    return None


def served_version(endpoint: str, model_name: str) -> ServedVersion | None:
    """The version to declare the endpoint with, or None (nothing to declare yet, and the
    preview says so). Warns when the endpoint exists but the alias is gone."""
    champion = champion_version(model_name)
    if champion is not None:
        return ServedVersion(champion, from_alias=True)
    live = live_version(endpoint)
    if live is None:
        pulumi.log.warn(waiting_message(endpoint, model_name))
        return None
    pulumi.log.warn(
        f"serving: model {model_name!r} has no '{CHAMPION_ALIAS}' alias, but endpoint "
        f"{endpoint!r} exists: it stays declared and keeps serving version {live or '?'}; "
        "set the alias again (docs/deployment.md, 'Rollback')"
    )
    return ServedVersion(live or "1", from_alias=False)


def waiting_message(endpoint: str, model_name: str) -> str:
    """What a preview says before the first champion exists."""
    return (
        f"serving: endpoint {endpoint!r} waits for the first champion of {model_name!r}: "
        "nothing is declared for it yet; run the training job (its ModelDeployment task sets "
        f"the '{CHAMPION_ALIAS}' alias), then deploy again"
    )


@dataclass(frozen=True)
class InferenceTable:
    """Where the AI Gateway inference table is (``<catalog>.<schema>.<prefix>_payload``)."""

    catalog: str
    """Catalog of the table."""
    schema: str
    """Schema of the table; the run-as principal holds CREATE_TABLE there."""
    table_name_prefix: str
    """Prefix AI Gateway appends ``_payload`` to; immutable while enabled."""


@dataclass(frozen=True)
class ServingEndpointArgs:
    """Inputs of :class:`ServingEndpoint`."""

    endpoint_name: str
    """Databricks name of the endpoint (changing it replaces the endpoint)."""
    model_name: str
    """Three-part name of the Unity Catalog model served."""
    entity_version: str
    """The version served at create (the champion's); ignored afterwards."""
    workload_size: str
    """Small, Medium or Large."""
    scale_to_zero: bool
    """Whether the endpoint scales to zero when idle."""
    query_group: str
    """Workspace group granted CAN_QUERY."""
    readers_group: str
    """Workspace group granted CAN_VIEW."""
    run_as: Principal
    """The principal that deploys, creates and manages the endpoint (CAN_MANAGE)."""
    tags: Mapping[str, str]
    """Endpoint tags (propagated to billing logs)."""
    rate_limits: Sequence[RateLimitConfig] = ()
    """AI Gateway rate limits."""
    inference_table: InferenceTable | None = None
    """AI Gateway inference table, or none."""
    depends_on: tuple[pulumi.Resource, ...] = field(default_factory=tuple)
    """Resources the endpoint needs first (the model, the grants on the table's schema)."""


def _ai_gateway(args: ServingEndpointArgs) -> databricks.ModelServingAiGatewayArgs | None:
    if not args.rate_limits and args.inference_table is None:
        return None
    table = args.inference_table
    return databricks.ModelServingAiGatewayArgs(
        rate_limits=[
            databricks.ModelServingAiGatewayRateLimitArgs(
                calls=limit.calls,
                key=limit.key,
                principal=limit.principal,
                renewal_period="minute",
            )
            for limit in args.rate_limits
        ]
        or None,
        inference_table_config=None
        if table is None
        else databricks.ModelServingAiGatewayInferenceTableConfigArgs(
            enabled=True,
            catalog_name=table.catalog,
            schema_name=table.schema,
            table_name_prefix=table.table_name_prefix,
        ),
    )


class ServingEndpoint(pulumi.ComponentResource):
    """A serving endpoint for the champion, and its permissions."""

    endpoint_name: pulumi.Output[str]
    endpoint_url: pulumi.Output[str]

    def __init__(
        self, name: str, args: ServingEndpointArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:databricks:ServingEndpoint", name, None, opts)
        endpoint = databricks.ModelServing(
            f"{name}-endpoint",
            name=args.endpoint_name,
            config=databricks.ModelServingConfigArgs(
                served_entities=[
                    databricks.ModelServingConfigServedEntityArgs(
                        name=SERVED_ENTITY_NAME,
                        entity_name=args.model_name,
                        entity_version=args.entity_version,
                        workload_size=args.workload_size,
                        scale_to_zero_enabled=args.scale_to_zero,
                    )
                ]
            ),
            ai_gateway=_ai_gateway(args),
            tags=[
                databricks.ModelServingTagArgs(key=key, value=value)
                for key, value in sorted(args.tags.items())
            ],
            opts=pulumi.ResourceOptions(
                parent=self,
                ignore_changes=[ENTITY_VERSION_PATH],
                depends_on=list(args.depends_on),
            ),
        )
        databricks.Permissions(
            f"{name}-permissions",
            serving_endpoint_id=endpoint.serving_endpoint_id,
            access_controls=access_controls(
                {args.query_group: "CAN_QUERY", args.readers_group: "CAN_VIEW"},
                {args.run_as: "CAN_MANAGE"},
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.endpoint_name = endpoint.name
        self.endpoint_url = endpoint.endpoint_url
        self.register_outputs(
            {"endpoint_name": self.endpoint_name, "endpoint_url": self.endpoint_url}
        )
