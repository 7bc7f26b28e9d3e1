"""The model training job: Train -> ModelValidation -> ModelDeployment."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from mlops_resources.databricks.code_source import CodeSource
from mlops_resources.databricks.notebook_job import (
    JobSettings,
    NotebookJob,
    NotebookJobArgs,
    NotebookTask,
    Schedule,
)

TASKS = (
    NotebookTask("Train"),
    NotebookTask("ModelValidation", depends_on=("Train",)),
    NotebookTask("ModelDeployment", depends_on=("ModelValidation",)),
)
"""The task graph; each task runs ``notebooks/<key>.py``."""


@dataclass(frozen=True)
class TrainingJobArgs:
    """Inputs of :class:`TrainingJob`."""

    job_name: str
    """Databricks job name."""
    experiment_name: str
    """Experiment the Train task logs to."""
    model_name: str
    """Model the new version is registered to."""
    model_registry: str
    """'unity_catalog' or 'workspace'."""
    training_data: str
    """/databricks-datasets CSV path or table name."""
    label_column: str
    """Column the classifier predicts."""
    run_mode: str
    """ModelValidation mode: disabled, dry_run or enabled."""
    validation_thresholds: Mapping[str, float]
    """Minimum metric values a candidate must reach."""
    schedule: Schedule
    """When training runs."""
    code: CodeSource
    """Where notebooks come from."""
    settings: JobSettings
    """Shared job hardening."""
    depends_on: tuple[pulumi.Resource, ...] = ()
    """Resources the parameters name (experiment, model): created before the job."""


class TrainingJob(NotebookJob):
    """Trains, validates and deploys the model on one shared job cluster."""

    def __init__(
        self, name: str, args: TrainingJobArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        parameters: dict[str, pulumi.Input[str]] = {
            "env": args.settings.environment,
            "experiment_name": args.experiment_name,
            "model_name": args.model_name,
            "model_registry": args.model_registry,
            "training_data": args.training_data,
            "label_column": args.label_column,
            "run_mode": args.run_mode,
            # One JSON parameter keeps the widget set fixed whatever metrics are configured.
            "validation_thresholds": json.dumps(dict(args.validation_thresholds), sort_keys=True),
        }
        super().__init__(
            "mlops:databricks:TrainingJob",
            name,
            NotebookJobArgs(
                job_name=args.job_name,
                cluster_key="model_training_job_cluster",
                tasks=TASKS,
                parameters=parameters,
                schedule=args.schedule,
                code=args.code,
                settings=args.settings,
                depends_on=args.depends_on,
            ),
            opts,
        )
