"""The serving inference log job (``mlops:monitoring.source: serving``): unpacks the serving
endpoint's AI Gateway inference table into the table the monitor watches.

An AI Gateway inference table holds each request and response as raw JSON
(``<catalog>.<schema>.<prefix>_payload``: ``databricks_request_id``, ``request_time``,
``status_code``, ``request``, ``response``, ``served_entity_id``, ...; Databricks docs, "Monitor
served models using AI Gateway-enabled inference tables",
https://docs.databricks.com/aws/en/ai-gateway/inference-tables). A data-quality monitor's
InferenceLog profile needs a prediction, a model-id and a timestamp column, so Databricks'
workflow is to unpack the payload into a processed table and monitor that (the workflow of
"Inference tables for monitoring and debugging models",
https://docs.databricks.com/aws/en/machine-learning/model-serving/inference-tables).
``notebooks/ServingInferenceLog.py`` does it,
with the batch inference log's columns and label rule (``notebooks/mlops_ml/serving_log.py``).

Its own job, not a task of the retraining job: the monitored table must exist before the
monitor is declared (its ``table_id`` is read at preview), so the job that creates it must run
while the monitor is still off, the way batch inference fills the log before
``monitoring.enabled``. It runs on the batch inference schedule, the cadence the inference log
is filled at with either source.
"""

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

TASKS = (NotebookTask("ServingInferenceLog"),)
"""The single task; it runs ``notebooks/ServingInferenceLog.py``."""


@dataclass(frozen=True)
class ServingLogJobArgs:
    """Inputs of :class:`ServingLogJob`."""

    job_name: str
    """Databricks job name."""
    model_name: str
    """Model the endpoint serves (the label rule reads each version's target definition)."""
    endpoint_name: str
    """Serving endpoint whose served entities name the versions."""
    payload_table: str
    """The endpoint's AI Gateway inference table (read)."""
    inference_log_table: str
    """The table the monitor watches (the job appends to it)."""
    label_column: str
    """Ground-truth column ('' for none)."""
    schedule: Schedule
    """When the job runs."""
    code: CodeSource
    """Where notebooks come from."""
    settings: JobSettings
    """Shared job hardening."""


class ServingLogJob(NotebookJob):
    """Appends the endpoint's new successful requests to the inference log on a schedule."""

    def __init__(
        self, name: str, args: ServingLogJobArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            "mlops:databricks:ServingLogJob",
            name,
            NotebookJobArgs(
                job_name=args.job_name,
                cluster_key="serving_log_job_cluster",
                tasks=TASKS,
                parameters={
                    "env": args.settings.environment,
                    "model_name": args.model_name,
                    "serving_endpoint_name": args.endpoint_name,
                    "payload_table": args.payload_table,
                    "inference_log_table": args.inference_log_table,
                    "label_column": args.label_column,
                },
                schedule=args.schedule,
                code=args.code,
                settings=args.settings,
            ),
            opts,
        )
