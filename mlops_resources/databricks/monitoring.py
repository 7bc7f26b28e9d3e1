"""Model monitoring: a Unity Catalog data-quality monitor on the inference log, and a
retraining job that runs the training job when the monitor's metrics cross a threshold.

``databricks.DataQualityMonitor`` (the data-quality API, ``/api/data-quality/v1/monitors``) is
the provider's current resource for it: the installed databricks-sdk marks the quality
monitors API deprecated in its favour (``QualityMonitorsAPI``: "Deprecated: Please use the Data
Quality Monitors API instead"), and terraform-provider-databricks has had
``databricks_data_quality_monitor`` since v1.92.0 (CHANGELOG, #5092). It is keyed by ids: the
watched table's ``table_id`` and the output schema's ``schema_id``, both read by the existence
checks (:mod:`~mlops_resources.databricks.prerequisites`).

What the provider's schema does not say, and the declaration does:

- Only writable inputs. The provider computes ``schedule.pause_status``, the metric table names,
  the dashboard id, the status and the version (v1.118.0
  ``internal/service/dataquality_tf/model.go``: ``SetComputed`` without ``SetOptional``); a
  value for one fails the preview.
- Nothing forces replacement but ``provider_config.workspace_id``
  (``internal/providers/pluginfw/products/data_quality_monitor/resource_data_quality_monitor.go``):
  a new ``object_id`` would be sent as an update of a monitor that does not exist on the new
  table, and the assets folder cannot move (the Databricks CLI recreates a monitor for both:
  ``bundle/direct/dresources/resources.yml``). So both replace, deleting the old monitor first:
  a table has one monitor, and deleting it keeps its metric tables and dashboard
  (``DataQualityAPI.delete_monitor``).
- A monitor's schedule cannot be paused: on a stack whose schedules are paused it gets none
  (``StackConfig.monitor_scheduled``; the CLI does the same in
  ``bundle/config/mutator/resourcemutator/apply_presets.go``).

The retraining job is Databricks MLOps Stacks' pattern: a notebook task reads the metric table
and sets a task value, a condition task tests it, and a run-job task starts the stack's training
job only when it is true. It is hardened like the other jobs (run-as, owner pinned, timeout,
notifications, tags, schedule paused outside staging and prod).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_databricks as databricks

from mlops_resources.databricks.code_source import CodeSource
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
    "classification": "INFERENCE_PROBLEM_TYPE_CLASSIFICATION",
    "regression": "INFERENCE_PROBLEM_TYPE_REGRESSION",
}
"""``training.problem_type`` -> the data-quality API's ``InferenceProblemType``."""
REPLACE_ON_CHANGES = ("objectId", "dataProfilingConfig.assetsDir")
"""Inputs whose change replaces the monitor (wire names): the watched table, the assets folder."""


_Notifications = databricks.DataQualityMonitorDataProfilingConfigNotificationSettingsArgs
_OnFailure = databricks.DataQualityMonitorDataProfilingConfigNotificationSettingsOnFailureArgs


def granularity(window: str) -> str:
    """A window as the stack file spells it (``1 day``) -> the data-quality API's
    ``AggregationGranularity`` (``AGGREGATION_GRANULARITY_1_DAY``)."""
    return f"AGGREGATION_GRANULARITY_{window.upper().replace(' ', '_')}"


@dataclass(frozen=True)
class MonitoringArgs:
    """Inputs of :class:`Monitoring`."""

    table_id: str
    """``table_id`` of the inference log the monitor watches (batch inference appends to it)."""
    assets_dir: str
    """Workspace folder of the monitor's dashboard."""
    output_schema_id: str
    """``schema_id`` of the schema of the metric tables."""
    problem_type: str
    """``classification`` or ``regression`` (training.problem_type)."""
    granularities: tuple[str, ...]
    label_column: str | None
    """Ground truth, joined into the log later: model-quality metrics need it."""
    baseline_table: str | None
    schedule: Schedule | None
    """When the monitor refreshes; None: never on its own (a paused stack)."""
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


def _schedule(
    schedule: Schedule | None,
) -> databricks.DataQualityMonitorDataProfilingConfigScheduleArgs | None:
    """The monitor's schedule, without ``pause_status`` (computed by the provider)."""
    if schedule is None:
        return None
    return databricks.DataQualityMonitorDataProfilingConfigScheduleArgs(
        quartz_cron_expression=schedule.quartz_cron, timezone_id=schedule.timezone
    )


def _computed(monitor: databricks.DataQualityMonitor, attribute: str) -> pulumi.Output[str]:
    """A value the provider computes into ``data_profiling_config`` (a metric table name, the
    dashboard id); empty until the monitor has it."""
    config: pulumi.Output[Any] = monitor.data_profiling_config
    return config.apply(lambda value: str(getattr(value, attribute, None) or ""))


class Monitoring(pulumi.ComponentResource):
    """A data-quality monitor on the inference log and the retraining job it drives."""

    dashboard_id: pulumi.Output[str]
    profile_metrics_table: pulumi.Output[str]
    drift_metrics_table: pulumi.Output[str]
    retraining_job_id: pulumi.Output[str]
    retraining_job_url: pulumi.Output[str]

    def __init__(
        self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:databricks:Monitoring", name, None, opts)
        monitor = databricks.DataQualityMonitor(
            f"{name}-monitor",
            object_type="table",
            object_id=args.table_id,
            data_profiling_config=databricks.DataQualityMonitorDataProfilingConfigArgs(
                output_schema_id=args.output_schema_id,
                assets_dir=args.assets_dir,
                inference_log=databricks.DataQualityMonitorDataProfilingConfigInferenceLogArgs(
                    problem_type=PROBLEM_TYPES[args.problem_type],
                    prediction_column=PREDICTION_COLUMN,
                    model_id_column=MODEL_ID_COLUMN,
                    timestamp_column=TIMESTAMP_COLUMN,
                    label_column=args.label_column,
                    granularities=[granularity(window) for window in args.granularities],
                ),
                baseline_table_name=args.baseline_table,
                schedule=_schedule(args.schedule),
                notification_settings=failure_notifications(
                    args.settings,
                    lambda emails: _Notifications(on_failure=_OnFailure(email_addresses=emails)),
                ),
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                replace_on_changes=list(REPLACE_ON_CHANGES),
                delete_before_replace=True,
            ),
        )
        retraining = RetrainingJob(f"{name}-retraining", args, pulumi.ResourceOptions(parent=self))
        self.dashboard_id = _computed(monitor, "dashboard_id")
        self.profile_metrics_table = _computed(monitor, "profile_metrics_table_name")
        self.drift_metrics_table = _computed(monitor, "drift_metrics_table_name")
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
