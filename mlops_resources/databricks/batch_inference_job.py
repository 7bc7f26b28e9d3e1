"""The batch inference job: scores the input table with the champion model."""

from __future__ import annotations

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

TASKS = (NotebookTask("BatchInference"),)
"""The single task; it runs ``notebooks/BatchInference.py``."""


@dataclass(frozen=True)
class BatchInferenceJobArgs:
    """Inputs of :class:`BatchInferenceJob`."""

    job_name: str
    """Databricks job name."""
    model_name: str
    """Model whose champion scores the table."""
    input_table_name: str
    """Table to score."""
    output_table_name: str
    """Table predictions are written to."""
    inference_log_table: str
    """Table each run's rows are appended to for the monitor ('' when not logging)."""
    label_column: str
    """Empty ground-truth column the inference log gets ('' for none)."""
    schedule: Schedule
    """When scoring runs."""
    code: CodeSource
    """Where notebooks come from."""
    settings: JobSettings
    """Shared job hardening."""
    depends_on: tuple[pulumi.Resource, ...] = ()
    """Resources the parameters name (experiment, model): created before the job."""


class BatchInferenceJob(NotebookJob):
    """Scores ``input_table_name`` into ``output_table_name`` on a schedule."""

    def __init__(
        self, name: str, args: BatchInferenceJobArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            "mlops:databricks:BatchInferenceJob",
            name,
            NotebookJobArgs(
                job_name=args.job_name,
                cluster_key="batch_inference_job_cluster",
                tasks=TASKS,
                parameters={
                    "env": args.settings.environment,
                    "input_table_name": args.input_table_name,
                    "output_table_name": args.output_table_name,
                    "model_name": args.model_name,
                    # Always declared (empty when off): the notebook's widgets stay the same.
                    "inference_log_table": args.inference_log_table,
                    "label_column": args.label_column,
                },
                schedule=args.schedule,
                code=args.code,
                settings=args.settings,
                depends_on=args.depends_on,
            ),
            opts,
        )
