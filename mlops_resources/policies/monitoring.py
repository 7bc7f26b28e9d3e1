"""The data-quality monitor as a real workspace takes it (README, "Monitoring and retraining"):
only writable inputs, replaced by deleting first, no schedule where nothing else runs, and on
the current API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from mlops_resources.policies.support import (
    DATA_QUALITY_MONITOR,
    JOB,
    LAKEHOUSE_MONITOR,
    QUALITY_MONITOR,
    get,
    of_type,
)

MONITORS = (DATA_QUALITY_MONITOR, QUALITY_MONITOR, LAKEHOUSE_MONITOR)

READ_ONLY: dict[str, tuple[str, ...]] = {
    DATA_QUALITY_MONITOR: tuple(
        f"dataProfilingConfig.{path}"
        for path in (
            "dashboardId",
            "driftMetricsTableName",
            "effectiveWarehouseId",
            "latestMonitorFailureMessage",
            "monitorVersion",
            "monitoredTableName",
            "profileMetricsTableName",
            "status",
            "schedule.pauseStatus",
        )
    ),
    QUALITY_MONITOR: (
        "dashboardId",
        "driftMetricsTableName",
        "monitorVersion",
        "profileMetricsTableName",
        "status",
        "schedule.pauseStatus",
    ),
}
"""Inputs the provider computes and refuses a value for, by wire path: terraform-provider-
databricks v1.118.0 ``internal/service/dataquality_tf/model.go`` (``SetComputed`` without
``SetOptional``: ``DataProfilingConfig``, ``CronSchedule.pause_status``) and
``internal/providers/pluginfw/products/qualitymonitor/resource_quality_monitor.go``
(``SetReadOnly``); the SDK calls ``pause_status`` a "Read only field"."""


def _read_only(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for path in READ_ONLY.get(args.resource_type, ()):
        if get(args.props, path) is not None:
            report(
                f"{path} is read-only: the provider computes it and refuses a value, so the "
                "preview fails. Remove it (a paused schedule is declared by leaving the "
                "schedule out).",
                None,
            )


MONITOR_NO_READ_ONLY_INPUTS = ResourceValidationPolicy(
    name="monitor-no-read-only-inputs",
    description="A monitor sets no input the provider computes: schedule.pause_status, metric "
    "table names, dashboard id, status, version (dataquality_tf/model.go; "
    "qualitymonitor/resource_quality_monitor.go, SetReadOnly).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_read_only,
)


def _delete_first(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type in MONITORS and not args.opts.delete_before_replace:
        report(
            "A table has one monitor (the API addresses it by object type and id), and "
            "nothing but workspace_id makes the provider replace it: declare it with "
            "replace_on_changes on objectId and dataProfilingConfig.assetsDir and "
            "delete_before_replace=True, or a new table is sent as an update of a monitor "
            "that does not exist and a moved assets folder is refused.",
            None,
        )


MONITOR_REPLACED_DELETE_FIRST = ResourceValidationPolicy(
    name="monitor-replaced-delete-first",
    description="A monitor is replaced by deleting it first when its table or assets folder "
    "changes (resource_data_quality_monitor.go: only workspace_id forces replacement; the "
    "Databricks CLI recreates for both, bundle/direct/dresources/resources.yml). Policies "
    "see delete_before_replace only; the tests check replace_on_changes.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_delete_first,
)


def _schedule(resource_type: str, props: Mapping[str, Any]) -> Any:
    path = "dataProfilingConfig.schedule" if resource_type == DATA_QUALITY_MONITOR else "schedule"
    return get(props, path)


def _unscheduled_when_paused(args: StackValidationArgs, report: ReportViolation) -> None:
    jobs = of_type(args.resources, JOB)
    running = [
        job
        for job in jobs
        if get(job.props, "schedule") and get(job.props, "schedule.pauseStatus") != "PAUSED"
    ]
    if not jobs or running:
        return
    for monitor in of_type(args.resources, *MONITORS):
        if _schedule(monitor.resource_type, monitor.props):
            report(
                f"Monitor '{monitor.name}' refreshes on a schedule while every job of the stack "
                "is paused: a monitor's schedule cannot be paused, so it runs (and is billed) "
                "anyway. Leave the schedule out on this stack.",
                monitor.urn,
            )


MONITOR_UNSCHEDULED_ON_PAUSED_STACKS = StackValidationPolicy(
    name="monitor-unscheduled-on-paused-stacks",
    description="A stack whose jobs are all paused (a personal stack) declares its monitor "
    "without a schedule: monitor schedules cannot be paused (the provider computes "
    "pause_status; the Databricks CLI removes them, resourcemutator/apply_presets.go).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_unscheduled_when_paused,
)


def _current_api(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type in (QUALITY_MONITOR, LAKEHOUSE_MONITOR):
        report(
            "The quality monitors API is deprecated for the data-quality API: declare a "
            "databricks.DataQualityMonitor (README, 'Monitoring and retraining', for moving an "
            "existing stack).",
            None,
        )


MONITOR_ON_CURRENT_API = ResourceValidationPolicy(
    name="monitor-on-current-api",
    description="Monitors use the data-quality API (databricks.DataQualityMonitor): the SDK "
    "marks the quality monitors API deprecated in its favour (QualityMonitorsAPI).",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_current_api,
)

POLICIES = [
    MONITOR_NO_READ_ONLY_INPUTS,
    MONITOR_REPLACED_DELETE_FIRST,
    MONITOR_UNSCHEDULED_ON_PAUSED_STACKS,
    MONITOR_ON_CURRENT_API,
]
