"""``mlops:monitoring``: the data-quality monitor on the inference log, the metrics it
computes, and retraining when one of them degrades (its derived table names are
``StackConfig.inference_log_table`` and ``metrics_table``)."""

from __future__ import annotations

import re
from typing import Literal, Protocol

from pydantic import Field

from mlops_resources.config.batch_inference import BatchInferenceConfig
from mlops_resources.config.checks import Identifier, MetricRange, NonEmpty, TableName, is_uc_table
from mlops_resources.config.jobs import JobsConfig
from mlops_resources.config.model import ModelConfig
from mlops_resources.config.namespace import NAMESPACE
from mlops_resources.config.reading import Section
from mlops_resources.config.schedule import ScheduleConfig
from mlops_resources.config.training import TrainingConfig

GRANULARITIES = (
    "5 minutes",
    "30 minutes",
    "1 hour",
    "1 day",
    "1 week",
    "2 weeks",
    "3 weeks",
    "4 weeks",
    "1 month",
    "1 year",
)
"""The time windows a data-quality monitor aggregates over, as the stack file spells them."""

QUALITY_METRICS: dict[str, dict[str, str]] = {
    "classification": {
        "accuracy_score": "below",
        "precision.macro": "below",
        "precision.weighted": "below",
        "recall.macro": "below",
        "recall.weighted": "below",
        "f1_score.macro": "below",
        "f1_score.weighted": "below",
    },
    "regression": {
        "root_mean_squared_error": "above",
        "mean_squared_error": "above",
        "mean_absolute_error": "above",
        "r2_score": "below",
    },
}
"""Model-quality metrics a monitor computes into its profile table when it has a label column,
per problem type, with the side of the threshold that is a violation. The retraining check
(``notebooks/mlops_ml/monitoring.py``) knows the same metric names (it gets the side as its
``direction`` parameter, from here); a test keeps the names equal."""

DRIFT_METRICS: dict[str, str] = {
    "js_distance": "above",
    "population_stability_index": "above",
    "wasserstein_distance": "above",
    "ks_test.statistic": "above",
    "chi_squared_test.statistic": "above",
    "tv_distance": "above",
    "l_infinity_distance": "above",
}
"""Drift metrics a monitor computes into its drift table (here: of the prediction column),
with or without labels."""

MONITORED_METRIC_RANGES: dict[str, MetricRange] = {
    **{
        name: MetricRange(True, 0.0, 1.0)
        for name in QUALITY_METRICS["classification"]  # fractions, never percentages
    },
    "root_mean_squared_error": MetricRange(False, 0.0, None),
    "mean_squared_error": MetricRange(False, 0.0, None),
    "mean_absolute_error": MetricRange(False, 0.0, None),
    "r2_score": MetricRange(True, None, 1.0),
    "js_distance": MetricRange(False, 0.0, 1.0),
    "population_stability_index": MetricRange(False, 0.0, None),
    "wasserstein_distance": MetricRange(False, 0.0, None),
    "ks_test.statistic": MetricRange(False, 0.0, 1.0),
    "chi_squared_test.statistic": MetricRange(False, 0.0, None),
    "tv_distance": MetricRange(False, 0.0, 1.0),
    "l_infinity_distance": MetricRange(False, 0.0, 1.0),
}
"""The values each monitored metric can take, by its definition: scores that are fractions
(accuracy, precision, recall, F1), errors and divergences that are never negative, and the
distances between two probability distributions that are at most 1 (Jensen-Shannon with base
2 logarithms, Kolmogorov-Smirnov, total variation, L-infinity). A threshold outside its
metric's range is never crossed, or always: retraining would never run, or run every time."""


class RetrainingConfig(Section):
    """When the monitor's metrics trigger a training run."""

    metric: NonEmpty = Field(
        examples=["accuracy_score"],
        description="a drift metric of the prediction column (js_distance, ...), or with a "
        "label column a quality metric of the problem type (accuracy_score, f1_score.macro, "
        "root_mean_squared_error, ...)",
    )
    threshold: float = Field(
        examples=[0.8],
        description="crossing it is a violation: below for quality metrics such as accuracy, "
        "above for error and drift metrics",
    )
    num_evaluation_windows: int = Field(
        5, ge=1, le=100, examples=[7], description="how many of the latest windows are read"
    )
    num_violation_windows: int = Field(
        2,
        ge=1,
        le=100,
        examples=[3],
        description="how many of them must cross the threshold, the latest included",
    )
    schedule: ScheduleConfig = Field(description="when the retraining check runs")


class MonitoringConfig(Section):
    """An optional data-quality monitor on the inference log, and retraining when it degrades."""

    enabled: bool = Field(
        False,
        examples=[True],
        description="declare the monitor and the retraining job (the inference log must exist: "
        "enable log_inferences and run batch inference once first)",
    )
    log_inferences: bool | None = Field(
        None,
        examples=[True],
        description="batch inference appends each run's rows to the inference log; default: "
        "as enabled",
    )
    inference_log_table: TableName | None = Field(
        None,
        examples=["staging.wine_quality.predictions_log"],
        description="table batch inference appends each run's rows to, which the monitor "
        "watches; default: <output_table_name>_log",
    )
    output_schema: NonEmpty | None = Field(
        None,
        examples=["staging.wine_quality_monitoring"],
        description="<catalog>.<schema> of the monitor's metric tables; default: the "
        "inference log's schema",
    )
    label_column: Identifier | None = Field(
        None,
        examples=["quality"],
        description="ground-truth column, joined into the log later; without it the monitor "
        "computes drift only, no model quality",
    )
    granularities: list[Literal[GRANULARITIES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["1 day"],
        examples=[["1 hour", "1 day"]],
        description="time windows the monitor aggregates over",
    )
    baseline_table: TableName | None = Field(
        None,
        examples=["staging.wine_quality.training_baseline"],
        description="table drift is also measured against (optional)",
    )
    schedule: ScheduleConfig | None = Field(
        None,
        description="when the monitor refreshes its metrics (it runs compute); a paused "
        "schedule is left out: a monitor's schedule cannot be paused",
    )
    retraining: RetrainingConfig | None = Field(None, description="the retraining job's check")


class MonitoredStack(Protocol):
    """What the monitoring checks read of a stack's config (a ``StackConfig``)."""

    @property
    def model(self) -> ModelConfig: ...

    @property
    def training(self) -> TrainingConfig: ...

    @property
    def batch_inference(self) -> BatchInferenceConfig: ...

    @property
    def jobs(self) -> JobsConfig: ...

    @property
    def monitoring(self) -> MonitoringConfig: ...

    @property
    def logs_inferences(self) -> bool: ...

    @property
    def inference_log_table(self) -> str: ...

    @property
    def jobs_paused(self) -> bool: ...


def monitoring_problems(cfg: MonitoredStack) -> list[str]:
    monitoring = cfg.monitoring
    key = f"{NAMESPACE}:monitoring"
    if not (monitoring.enabled or cfg.logs_inferences):
        return []
    problems = []
    if monitoring.enabled and not cfg.logs_inferences:
        problems.append(
            f"{key}.log_inferences: the monitor watches the inference log; expected true (or "
            "unset) when monitoring.enabled is true"
        )
    for name in ("schedule", "retraining"):
        if monitoring.enabled and getattr(monitoring, name) is None:
            problems.append(f"{key}.{name}: required when monitoring.enabled is true")
    if cfg.model.registry != "unity_catalog":
        problems.append(
            f"{key}.enabled: quality monitors watch Unity Catalog tables; expected "
            "model.registry 'unity_catalog'"
        )
    for name, value in (
        ("inference_log_table", cfg.inference_log_table),
        ("baseline_table", monitoring.baseline_table),
    ):
        if value is not None and not is_uc_table(value):
            problems.append(
                f"{key}.{name}: expected a three-part Unity Catalog name, got {value!r}"
            )
    schema = monitoring.output_schema
    if schema is not None and not re.match(r"^[a-z0-9_]+\.[a-z0-9_]+$", schema):
        problems.append(f"{key}.output_schema: expected <catalog>.<schema>, got {schema!r}")
    baseline = monitoring.baseline_table
    if baseline is not None and baseline.lower() == cfg.inference_log_table.lower():
        problems.append(
            f"{key}.baseline_table: must differ from the table it is a baseline for, the "
            f"inference log {cfg.inference_log_table!r}: drift measured against itself is "
            "always zero"
        )
    if cfg.inference_log_table.lower() in {
        cfg.batch_inference.input_table_name.lower(),
        cfg.batch_inference.output_table_name.lower(),
    }:
        problems.append(
            f"{key}.inference_log_table: must differ from the batch job's input and output "
            "tables: batch inference appends to it"
        )
    retraining = monitoring.retraining
    if retraining is not None:
        problems += _retraining_problems(cfg, retraining, key)
    if monitoring.enabled:
        problems += _monitor_schedule_problems(cfg, key)
    return problems


MAX_MONITOR_EMAILS = 5
"""Addresses a data-quality monitor's failure notification takes (terraform-provider-databricks
v1.118.0 ``docs/resources/data_quality_monitor.md``, NotificationDestination)."""


def _monitor_schedule_problems(cfg: MonitoredStack, key: str) -> list[str]:
    problems = []
    schedule = cfg.monitoring.schedule
    if schedule is not None and schedule.paused is False and cfg.jobs_paused:
        problems.append(
            f"{key}.schedule.paused: false on a stack whose jobs are all paused; a monitor's "
            "schedule cannot be paused, so it would refresh (billed compute) while no job "
            "reads its metrics. Leave it unset (the monitor then has no schedule; refresh it "
            "by hand) or unpause a job"
        )
    emails = cfg.jobs.on_failure_emails
    if len(emails) > MAX_MONITOR_EMAILS:
        problems.append(
            f"{NAMESPACE}:jobs.on_failure_emails: {len(emails)} addresses; the monitor's "
            f"failure notification takes at most {MAX_MONITOR_EMAILS} when monitoring.enabled "
            "is true"
        )
    return problems


def _retraining_problems(cfg: MonitoredStack, retraining: RetrainingConfig, key: str) -> list[str]:
    problems = []
    quality = QUALITY_METRICS[cfg.training.problem_type]
    metric = retraining.metric
    if metric in quality and cfg.monitoring.label_column is None:
        problems.append(
            f"{key}.retraining.metric: {metric!r} is a model-quality metric, which the monitor "
            "computes only with a label column; set monitoring.label_column, or pick a drift "
            f"metric ({', '.join(DRIFT_METRICS)})"
        )
    elif metric not in quality and metric not in DRIFT_METRICS:
        problems.append(
            f"{key}.retraining.metric: {metric!r} is not a metric the monitor computes for a "
            f"{cfg.training.problem_type} model; expected one of: "
            f"{', '.join([*quality, *DRIFT_METRICS])}"
        )
    bounds = MONITORED_METRIC_RANGES.get(metric)
    if bounds is not None and not (
        (bounds.lower is None or retraining.threshold >= bounds.lower)
        and (bounds.upper is None or retraining.threshold <= bounds.upper)
    ):
        fraction = bounds.upper == 1.0 and retraining.threshold > 1.0
        hint = f" (a fraction: {retraining.threshold / 100:g} for {retraining.threshold:g}%)"
        problems.append(
            f"{key}.retraining.threshold: {retraining.threshold:g} is outside the range of "
            f"{metric}, {bounds.describe()}{hint if fraction else ''}; it would never be "
            "crossed, or always"
        )
    if retraining.num_violation_windows > retraining.num_evaluation_windows:
        problems.append(
            f"{key}.retraining.num_violation_windows: {retraining.num_violation_windows} is more "
            f"than num_evaluation_windows ({retraining.num_evaluation_windows})"
        )
    return problems


def monitored_metric_direction(cfg: MonitoredStack) -> str:
    """``above`` or ``below``: the side of the threshold that is a violation."""
    retraining = cfg.monitoring.retraining
    assert retraining is not None
    metric = retraining.metric
    return QUALITY_METRICS[cfg.training.problem_type].get(metric) or DRIFT_METRICS[metric]
