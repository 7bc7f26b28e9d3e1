"""Model monitoring: a Unity Catalog quality monitor on the inference log, and a retraining job
that runs the training job when the monitor's metrics cross a threshold.

``databricks.QualityMonitor`` is the current resource for it in pulumi-databricks 1.118: the
legacy ``LakehouseMonitor`` is deprecated in its favour, and ``DataQualityMonitor`` (the new
data-quality API) is in Public Preview, keyed by table and schema ids instead of names, with no
prediction-probability column (the SDK's docstrings).

The retraining job is Databricks MLOps Stacks' pattern: a notebook task reads the metric table
and sets a task value, a condition task tests it, and a run-job task starts the stack's training
job only when it is true. It is hardened like the other jobs (run-as, owner pinned, timeout,
notifications, tags, schedule paused outside staging and prod).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_databricks as databricks

from mlops_resources.databricks.code_source import CodeSource
from mlops_resources.databricks.common import child_opts
from mlops_resources.databricks.notebook_job import (
    ConditionTask,
    JobSettings,
    NotebookJob,
    NotebookJobArgs,
    NotebookTask,
    RunJobTask,
    Schedule,
    failure_notifications,
)

CHECK_TASK = "MonitoredMetricCheck"
"""The notebook task (``notebooks/MonitoredMetricCheck.py``) that sets ``is_metric_violated``."""
CONDITION_TASK = "IsMetricViolated"
RETRAIN_TASK = "TriggerRetraining"
MODEL_ID_COLUMN = "model_version"
PREDICTION_COLUMN = "prediction"
TIMESTAMP_COLUMN = "scoring_timestamp"
PROBLEM_TYPES = {
    "classification": "PROBLEM_TYPE_CLASSIFICATION",
    "regression": "PROBLEM_TYPE_REGRESSION",
}


@dataclass(frozen=True)
class MonitoringArgs:
    """Inputs of :class:`Monitoring`."""

    table_name: str
    """The inference log the monitor watches (batch inference appends to it)."""
    assets_dir: str
    """Workspace folder of the monitor's dashboard."""
    output_schema: str
    """``<catalog>.<schema>`` of the metric tables."""
    problem_type: str
    """``classification`` or ``regression`` (training.problem_type)."""
    granularities: tuple[str, ...]
    label_column: str | None
    """Ground truth, joined into the log later: model-quality metrics need it."""
    baseline_table: str | None
    schedule: Schedule
    """When the monitor refreshes."""
    retraining_job_name: str
    check_parameters: Mapping[str, pulumi.Input[str]]
    """The check notebook's widgets: metric table, metric, threshold, windows, ..."""
    retraining_schedule: Schedule
    training_job_id: pulumi.Input[str]
    code: CodeSource
    settings: JobSettings


class RetrainingJob(NotebookJob):
    """Check the monitor's metric, then run the training job if it crossed its threshold."""

    def __init__(
        self,
        name: str,
        args: MonitoringArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        violated = f"{{{{tasks.{CHECK_TASK}.values.is_metric_violated}}}}"
        super().__init__(
            "mlops:databricks:RetrainingJob",
            name,
            NotebookJobArgs(
                job_name=args.retraining_job_name,
                cluster_key="retraining_check_cluster",
                tasks=(
                    NotebookTask(CHECK_TASK),
                    # Task values are JSON: a Python True reads back as the string "true", and
                    # EQUAL_TO compares strings (Databricks docs, "If/else condition task").
                    ConditionTask(CONDITION_TASK, violated, "EQUAL_TO", "true", (CHECK_TASK,)),
                    RunJobTask(
                        RETRAIN_TASK,
                        pulumi.Output.from_input(args.training_job_id).apply(int),
                        CONDITION_TASK,
                    ),
                ),
                parameters=args.check_parameters,
                schedule=args.retraining_schedule,
                code=args.code,
                settings=args.settings,
            ),
            opts,
        )


class Monitoring(pulumi.ComponentResource):
    """A quality monitor on the inference log and the retraining job it drives."""

    dashboard_id: pulumi.Output[str]
    profile_metrics_table: pulumi.Output[str]
    drift_metrics_table: pulumi.Output[str]
    retraining_job_id: pulumi.Output[str]
    retraining_job_url: pulumi.Output[str]

    def __init__(
        self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:databricks:Monitoring", name, None, opts)
        settings = args.settings
        monitor = databricks.QualityMonitor(
            f"{name}-monitor",
            table_name=args.table_name,
            assets_dir=args.assets_dir,
            output_schema_name=args.output_schema,
            inference_log=databricks.QualityMonitorInferenceLogArgs(
                problem_type=PROBLEM_TYPES[args.problem_type],
                prediction_col=PREDICTION_COLUMN,
                model_id_col=MODEL_ID_COLUMN,
                timestamp_col=TIMESTAMP_COLUMN,
                label_col=args.label_column,
                granularities=list(args.granularities),
            ),
            baseline_table_name=args.baseline_table,
            schedule=databricks.QualityMonitorScheduleArgs(
                quartz_cron_expression=args.schedule.quartz_cron,
                timezone_id=args.schedule.timezone,
                pause_status=args.schedule.pause_status,
            ),
            notifications=failure_notifications(
                settings,
                lambda emails: databricks.QualityMonitorNotificationsArgs(
                    on_failure=databricks.QualityMonitorNotificationsOnFailureArgs(
                        email_addresses=emails
                    )
                ),
            ),
            opts=child_opts(self),
        )
        retraining = RetrainingJob(f"{name}-retraining", args, pulumi.ResourceOptions(parent=self))
        self.dashboard_id = monitor.dashboard_id
        self.profile_metrics_table = monitor.profile_metrics_table_name
        self.drift_metrics_table = monitor.drift_metrics_table_name
        self.retraining_job_id = retraining.job_id
        self.retraining_job_url = retraining.url
        self.register_outputs(
            {
                "dashboard_id": self.dashboard_id,
                "profile_metrics_table": self.profile_metrics_table,
                "drift_metrics_table": self.drift_metrics_table,
                "retraining_job_id": self.retraining_job_id,
                "retraining_job_url": self.retraining_job_url,
            }
        )
