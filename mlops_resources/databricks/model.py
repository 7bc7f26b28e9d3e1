"""The registered model, in Unity Catalog or in the workspace model registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_databricks as databricks

from mlops_resources.config.access import Principal
from mlops_resources.databricks.common import access_controls, child_opts


@dataclass(frozen=True)
class ModelArgs:
    """Inputs of :class:`Model`."""

    registry: Literal["unity_catalog", "workspace"]
    """Which registry holds the model."""
    full_name: str
    """``<catalog>.<schema>.<name>`` in Unity Catalog, the model name in the workspace registry."""
    description: str
    """Model description (Unity Catalog comment)."""
    readers_group: str
    """Workspace group that may load a workspace-registry model (CAN_READ). Unity Catalog
    readers get their grants from the stack's UnityCatalogGrants."""
    run_as: Principal
    """Principal the jobs run as: it registers versions and moves the champion alias."""
    tags: dict[str, str]
    """Tags of a workspace-registry model (Unity Catalog models take no tags here)."""
    protect: bool
    """Protect and retain the model: its versions are data a destroy must not lose."""


class Model(pulumi.ComponentResource):
    """A model, owned by the run-as principal, in the registry the stack chose."""

    name: pulumi.Output[str]
    """Name the jobs load and register to (three-part in Unity Catalog)."""

    def __init__(
        self, name: str, args: ModelArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:databricks:Model", name, None, opts)
        self.full_name = args.full_name
        """The configured name (what Unity Catalog grants on it name)."""
        self.resource: pulumi.CustomResource
        if args.registry == "unity_catalog":
            self.name = self._unity_catalog(name, args)
        else:
            self.name = self._workspace(name, args)
        self.register_outputs({"name": self.name})

    def _unity_catalog(self, name: str, args: ModelArgs) -> pulumi.Output[str]:
        catalog, schema, model_name = args.full_name.split(".")
        # Only the owner may create versions and set aliases (RegisteredModels API); the
        # training job, running as this principal, does both.
        model = databricks.RegisteredModel(
            f"{name}-model",
            catalog_name=catalog,
            schema_name=schema,
            name=model_name,
            comment=args.description,
            owner=args.run_as.name,
            opts=child_opts(self, protect=args.protect),
        )
        self.resource = model
        full_name: pulumi.Output[str] = model.full_name
        return full_name

    def _workspace(self, name: str, args: ModelArgs) -> pulumi.Output[str]:
        model = databricks.MlflowModel(
            f"{name}-model",
            name=args.full_name,
            description=args.description,
            tags=[
                databricks.MlflowModelTagArgs(key=key, value=value)
                for key, value in sorted(args.tags.items())
            ],
            opts=child_opts(self, protect=args.protect),
        )
        # CAN_MANAGE, not CAN_MANAGE_PRODUCTION_VERSIONS: the principal deploys the stack, and
        # the provider refuses a non-management level for the caller.
        databricks.Permissions(
            f"{name}-permissions",
            registered_model_id=model.registered_model_id,
            access_controls=access_controls(
                {args.readers_group: "CAN_READ"}, {args.run_as: "CAN_MANAGE"}
            ),
            opts=child_opts(self),
        )
        self.resource = model
        model_name: pulumi.Output[str] = model.name
        return model_name
