"""The stack's workspace folder and the MLflow experiment the training job logs to."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_databricks as databricks

from mlops_resources.config.access import Principal
from mlops_resources.databricks.common import access_controls, child_opts


@dataclass(frozen=True)
class ExperimentArgs:
    """Inputs of :class:`Experiment`."""

    directory: str
    """Workspace folder owned by this stack; the experiment lives in it."""
    name: str
    """Full workspace path of the experiment."""
    readers_group: str
    """Workspace group granted CAN_READ on the folder and the experiment."""
    run_as: Principal
    """Principal the jobs run as (and the stack deploys as): CAN_MANAGE, a management level,
    so it can log runs and the provider accepts it for the caller."""
    protect: bool
    """Protect and retain the folder and experiment (runs are data)."""
    folder: databricks.Directory | None = None
    """The stack's folder when another resource declares it (a stack of several models, whose
    experiments share it); None: this component declares ``directory``."""


def declare_folder(
    name: str, args: ExperimentArgs, parent: pulumi.Resource
) -> databricks.Directory:
    """The stack's workspace folder, ``<name>-directory``, with its permissions."""
    # MLflow does not create missing parent folders; this folder is the stack's own. The
    # Workspace API deletes a non-empty folder only recursively (DIRECTORY_NOT_EMPTY), so
    # an unprotected stack's folder goes with everything in it; a protected one is kept.
    directory = databricks.Directory(
        f"{name}-directory",
        path=args.directory,
        delete_recursive=not args.protect,
        opts=child_opts(parent, protect=args.protect),
    )
    databricks.Permissions(
        f"{name}-directory-permissions",
        directory_path=directory.path,
        access_controls=access_controls(
            {args.readers_group: "CAN_READ"}, {args.run_as: "CAN_MANAGE"}
        ),
        opts=child_opts(parent),
    )
    return directory


class Experiment(pulumi.ComponentResource):
    """A workspace folder with its permissions, and an MLflow experiment in it."""

    experiment_id: pulumi.Output[str]
    name: pulumi.Output[str]
    directory: databricks.Directory
    """The stack's workspace folder; uploaded notebooks go in it too."""
    resource: databricks.MlflowExperiment
    """The experiment itself, for resources that must wait for it."""

    def __init__(
        self, name: str, args: ExperimentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:databricks:Experiment", name, None, opts)
        directory = args.folder or declare_folder(name, args, self)
        owners = {args.run_as: "CAN_MANAGE"}
        # No description: the provider never sends it (deprecated, ignored by the API).
        experiment = databricks.MlflowExperiment(
            f"{name}-experiment",
            name=args.name,
            opts=child_opts(self, protect=args.protect, depends_on=[directory]),
        )
        # The folder's ACL already reaches the experiment (objects in a folder inherit its
        # permissions). This makes the experiment's own, direct ACL authoritative too: the
        # provider replaces every direct entry (permissions/resource_permissions.go,
        # safePutWithOwner; the API's set permissions "replacing existing permissions"), so an
        # entry added to the experiment by hand shows as drift and goes on the next update.
        databricks.Permissions(
            f"{name}-permissions",
            experiment_id=experiment.id,
            access_controls=access_controls({args.readers_group: "CAN_READ"}, owners),
            opts=child_opts(self),
        )
        self.directory = directory
        self.resource = experiment
        self.experiment_id = experiment.id
        self.name = experiment.name
        self.register_outputs({"experiment_id": self.experiment_id, "name": self.name})
