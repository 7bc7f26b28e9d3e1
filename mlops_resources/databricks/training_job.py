"""The model training job: Train -> ModelValidation -> ModelDeployment."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi

from mlops_resources.config.training import TrainingConfig
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
SERVING_TASK = NotebookTask("ServingUpdate", depends_on=("ModelDeployment",))
"""With ``mlops:serving`` on: points the endpoint at the version the ``champion`` alias names,
after ModelDeployment moved it (it reads the alias, not task values, so a rollback runs it
alone)."""


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
    training: TrainingConfig
    """Training data, target definition, run mode and validation settings."""
    schedule: Schedule
    """When training runs."""
    code: CodeSource
    """Where notebooks come from; also the lineage the runs record (``git_source_info``)."""
    settings: JobSettings
    """Shared job hardening."""
    depends_on: tuple[pulumi.Resource, ...] = ()
    """Resources the parameters name (experiment, model): created before the job."""
    serving_endpoint: str | None = None
    """The serving endpoint ServingUpdate moves to the champion; None: serving is off (no
    task, no parameter)."""


def git_source_info(code: CodeSource) -> pulumi.Input[str]:
    """MLOps Stacks' ``git_source_info`` for the code the jobs run: ``url:...; branch:...``
    (or ``tag:``, plus ``commit:`` when pinned), or ``workspace:<folder>`` for uploads."""
    git = code.git_source
    if git is None:
        path = pulumi.Output.from_input(code.notebook_path(TASKS[0].key))
        return path.apply(lambda p: f"workspace:{p.rsplit('/', 1)[0]}")
    parts = [f"url:{git.url}"]
    parts += [
        f"{key}:{value}" for key in ("branch", "tag", "commit") if (value := getattr(git, key))
    ]
    return "; ".join(parts)


def validation_thresholds(training: TrainingConfig) -> str:
    """The ``validation_thresholds`` parameter: metric -> {threshold, tolerance}, sorted JSON.

    One JSON parameter keeps the widget set fixed whatever metrics are configured.
    """
    return json.dumps(
        {
            name: entry.model_dump(exclude_none=True)
            for name, entry in sorted(training.validation.thresholds.items())
        },
        sort_keys=True,
    )


def _number(value: float | None) -> str:
    """A job parameter for a number: ``7`` rather than ``7.0``, full precision otherwise."""
    if value is None:
        return ""
    return str(int(value)) if value.is_integer() else repr(value)


class TrainingJob(NotebookJob):
    """Trains, validates and deploys the model on one shared job cluster."""

    def __init__(
        self, name: str, args: TrainingJobArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        training = args.training
        validation = training.validation
        threshold = training.positive_threshold
        parameters: dict[str, pulumi.Input[str]] = {
            "env": args.settings.environment,
            "experiment_name": args.experiment_name,
            "model_name": args.model_name,
            "model_registry": args.model_registry,
            "training_data": training.training_data,
            "label_column": training.label_column,
            "problem_type": training.problem_type,
            "positive_threshold": _number(threshold),
            "holdout_percent": str(validation.holdout_percent),
            "split_key_columns": json.dumps(validation.split_key_columns),
            "run_mode": training.run_mode,
            "validation_thresholds": validation_thresholds(training),
            "baseline_check": "true" if validation.baseline_check else "false",
            # Empty: Train hands its version over by task values; set it to run
            # ModelValidation or ModelDeployment alone on a given version.
            "model_version": "",
            "git_source_info": git_source_info(args.code),
        }
        tasks: tuple[NotebookTask, ...] = TASKS
        if args.serving_endpoint is not None:
            parameters["serving_endpoint_name"] = args.serving_endpoint
            tasks = (*TASKS, SERVING_TASK)
        super().__init__(
            "mlops:databricks:TrainingJob",
            name,
            NotebookJobArgs(
                job_name=args.job_name,
                cluster_key="model_training_job_cluster",
                tasks=tasks,
                parameters=parameters,
                schedule=args.schedule,
                code=args.code,
                settings=args.settings,
                depends_on=args.depends_on,
            ),
            opts,
        )
