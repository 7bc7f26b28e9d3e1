"""The MLflow experiment the training job logs to."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_databricks as databricks

from mlops_resources.databricks.common import access_controls, child_opts


@dataclass(frozen=True)
class ExperimentArgs:
    """Inputs of :class:`Experiment`."""

    directory: str
    """Workspace folder owned by this stack; the experiment lives in it."""
    name: str
    """Full workspace path of the experiment."""
    description: str
    """Shown on the experiment page."""
    readers_group: str
    """Group granted CAN_READ."""
    run_as_service_principal: str | None
    """Principal the jobs run as; granted CAN_MANAGE so it can log runs."""
    protect: bool
    """Protect and retain the folder and experiment (runs are data)."""


class Experiment(pulumi.ComponentResource):
    """A workspace folder, an MLflow experiment in it, and the experiment's permissions."""

    experiment_id: pulumi.Output[str]
    name: pulumi.Output[str]
    directory: databricks.Directory
    """The stack's workspace folder; uploaded notebooks go in it too."""

    def __init__(
        self, name: str, args: ExperimentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:databricks:Experiment", name, None, opts)
        # MLflow does not create missing parent folders; this folder is the stack's own.
        directory = databricks.Directory(
            f"{name}-directory",
            path=args.directory,
            opts=child_opts(self, protect=args.protect),
        )
        experiment = databricks.MlflowExperiment(
            f"{name}-experiment",
            name=args.name,
            description=args.description,
            opts=child_opts(self, protect=args.protect, depends_on=[directory]),
        )
        databricks.Permissions(
            f"{name}-permissions",
            experiment_id=experiment.id,
            access_controls=access_controls(
                {args.readers_group: "CAN_READ"}, {args.run_as_service_principal: "CAN_MANAGE"}
            ),
            opts=child_opts(self),
        )
        self.directory = directory
        self.experiment_id = experiment.id
        self.name = experiment.name
        self.register_outputs({"experiment_id": self.experiment_id, "name": self.name})
