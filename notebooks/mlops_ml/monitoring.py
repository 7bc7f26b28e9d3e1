"""Model monitoring: the inference log a Databricks quality monitor watches, and the check that
decides, from the monitor's metric tables, whether the model should be retrained.

Batch inference overwrites its output table on every run; a monitor needs history, so with
monitoring on each run's scored rows are also appended to an inference-log table
(:func:`append_inference_log`). The monitor (inference-log profile) computes, per time window,
model-quality metrics into ``<output schema>.<table>_profile_metrics`` when the table has a
label column, and drift metrics into ``<output schema>.<table>_drift_metrics``.

:func:`check_metric` reads the configured metric over the latest windows and says whether it
crossed its threshold in enough of them, the latest included: the retraining job's condition
task reads that verdict as a task value and runs the training job only then.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum

from pyspark.sql import Column, SparkSession
from pyspark.sql import DataFrame as SparkDataFrame
from pyspark.sql import functions as F  # noqa: N812 - the usual alias

from mlops_ml.inference import MODEL_VERSION_COLUMN, PREDICTION_COLUMN
from mlops_ml.target import Target

ALL_MODELS = "*"
"""The monitor's value of the model-id column for rows aggregated over every model version."""
TABLE_LEVEL = ":table"
"""The monitor's ``column_name`` of metrics computed over the whole table (model quality)."""


class Direction(str, Enum):
    """Which side of the threshold is a violation."""

    ABOVE = "above"
    """Error and drift metrics: worse when higher."""
    BELOW = "below"
    """Quality metrics such as accuracy: worse when lower."""


QUALITY_METRICS = (
    # classification
    "accuracy_score",
    "precision.macro",
    "precision.weighted",
    "recall.macro",
    "recall.weighted",
    "f1_score.macro",
    "f1_score.weighted",
    # regression
    "root_mean_squared_error",
    "mean_squared_error",
    "mean_absolute_error",
    "r2_score",
)
"""Model-quality metrics of the profile table (they need a label column). Which of them fit a
problem type, and which side of the threshold is a violation (the ``direction`` parameter), is
the stack config's business (``mlops_resources/config/monitoring.py``); a test keeps the names
equal."""

DRIFT_METRICS = (
    "js_distance",
    "population_stability_index",
    "wasserstein_distance",
    "ks_test.statistic",
    "chi_squared_test.statistic",
    "tv_distance",
    "l_infinity_distance",
)
"""Drift metrics of the drift table, computed on the prediction column; no label needed."""


class MetricNotFoundError(LookupError):
    """The metric is not a column of the metric table (a configuration error)."""


@dataclass(frozen=True)
class MetricCheck:
    """What the retraining job checks."""

    metric: str
    """One of :data:`QUALITY_METRICS` (profile table) or :data:`DRIFT_METRICS` (drift table);
    a dotted name selects a field of a struct column (``f1_score.macro``)."""
    threshold: float
    direction: Direction
    num_evaluation_windows: int = 5
    """How many of the latest windows (with a value) are looked at."""
    num_violation_windows: int = 2
    """How many of them must cross the threshold, the latest included."""
    granularity: str = "1 day"
    """The monitor granularity the windows are of."""

    def __post_init__(self) -> None:
        if self.num_evaluation_windows < 1:
            raise ValueError(
                f"num_evaluation_windows must be at least 1, got {self.num_evaluation_windows}"
            )
        if not 1 <= self.num_violation_windows <= self.num_evaluation_windows:
            raise ValueError(
                "num_violation_windows must be between 1 and num_evaluation_windows "
                f"({self.num_evaluation_windows}), got {self.num_violation_windows}"
            )

    @classmethod
    def from_parameters(
        cls,
        metric: str,
        threshold: str,
        direction: str,
        num_evaluation_windows: str,
        num_violation_windows: str,
        granularity: str,
    ) -> MetricCheck:
        """The check from the retraining job's parameters (strings); a ValueError naming the
        parameter and what it expects for a bad one."""
        name = metric.strip()
        try:
            metric_kind(name)
        except MetricNotFoundError as error:
            raise ValueError(f"metric: {error}") from None
        try:
            limit = float(threshold.strip())
        except ValueError:
            limit = math.nan
        if not math.isfinite(limit):
            raise ValueError(f"threshold must be a finite number, got {threshold!r}")
        try:
            side = Direction(direction.strip())
        except ValueError:
            allowed = [d.value for d in Direction]
            raise ValueError(f"direction must be one of {allowed}, got {direction!r}") from None

        def whole(key: str, text: str) -> int:
            try:
                return int(text.strip())
            except ValueError:
                raise ValueError(f"{key} must be a whole number, got {text!r}") from None

        evaluated = whole("num_evaluation_windows", num_evaluation_windows)
        violating = whole("num_violation_windows", num_violation_windows)
        if not granularity.strip():
            raise ValueError(
                f"granularity must be a monitor granularity such as '1 day', got {granularity!r}"
            )
        return cls(name, limit, side, evaluated, violating, granularity.strip())


@dataclass(frozen=True)
class CheckResult:
    """The verdict, with what it was based on (latest window first)."""

    is_violated: bool
    reason: str
    values: tuple[float, ...] = field(default_factory=tuple)


def metric_kind(metric: str) -> str:
    """``drift`` or ``quality``; raises for a metric the monitor does not compute."""
    if metric in DRIFT_METRICS:
        return "drift"
    if metric in QUALITY_METRICS:
        return "quality"
    known = sorted({*DRIFT_METRICS, *QUALITY_METRICS})
    raise MetricNotFoundError(f"unknown metric {metric!r}; expected one of {known}")


def _recent(spark: SparkSession, table: str, check: MetricCheck) -> SparkDataFrame:
    frame = spark.table(table)
    column, _, struct_field = check.metric.partition(".")
    if column not in frame.columns:
        raise MetricNotFoundError(
            f"metric table {table!r} has no column {column!r} (metric {check.metric!r}); its "
            f"columns: {frame.columns}"
        )
    value = F.col(column).getField(struct_field) if struct_field else F.col(column)
    # The whole table, not a slice: "The entire table is equivalent to slice_key = NULL".
    rows = frame.where((F.col("granularity") == check.granularity) & F.col("slice_key").isNull())
    if MODEL_VERSION_COLUMN in frame.columns:
        # One row per window: the metric over every model version scored in it.
        rows = rows.where(F.col(MODEL_VERSION_COLUMN).cast("string") == ALL_MODELS)
    if metric_kind(check.metric) == "drift":
        rows = rows.where(
            (F.col("column_name") == PREDICTION_COLUMN) & (F.col("drift_type") == "CONSECUTIVE")
        )
    else:
        rows = rows.where((F.col("column_name") == TABLE_LEVEL) & (F.col("log_type") == "INPUT"))
    return (
        rows.select(F.col("window.start").alias("start"), value.cast("double").alias("value"))
        .where(F.col("value").isNotNull())
        .orderBy(F.col("start").desc())
        .limit(check.num_evaluation_windows)
    )


def check_metric(spark: SparkSession, table: str, check: MetricCheck) -> CheckResult:
    """Whether ``check.metric`` crossed its threshold in at least ``num_violation_windows`` of
    the latest ``num_evaluation_windows`` windows, the latest one included.

    No metric table yet (the monitor has not refreshed) or no window with a value (no labels
    joined yet) is not a violation: nothing to retrain on. A metric the table lacks raises
    :class:`MetricNotFoundError`.
    """
    if not spark.catalog.tableExists(table):
        return CheckResult(False, f"no metrics yet: {table} does not exist")
    values = tuple(float(row["value"]) for row in _recent(spark, table, check).collect())
    if not values:
        reason = f"no metrics yet: no {check.granularity} window with a {check.metric} value"
        return CheckResult(False, reason)
    above = check.direction is Direction.ABOVE

    def crosses(value: float) -> bool:
        return value > check.threshold if above else value < check.threshold

    violations = sum(crosses(v) for v in values)
    side = "above" if above else "below"
    summary = (
        f"{check.metric} {side} {check.threshold} in {violations} of the last {len(values)} "
        f"window(s), latest {values[0]}"
    )
    violated = violations >= check.num_violation_windows and crosses(values[0])
    return CheckResult(violated, ("violated: " if violated else "not violated: ") + summary, values)


def label_in_model_space(label: Column, target: Target) -> Column:
    """The label as the model predicts it: Spark's form of :meth:`Target.values`.

    Classification models predict ``label >= positive_threshold`` as 0/1 (a good wine is
    ``quality >= 7``), so the monitor must compare them with that, not with the raw label
    (3..8), or accuracy collapses once ground truth is joined. Regression keeps the label as a
    double. A missing label stays missing.
    """
    if target.problem_type == "classification":
        assert target.positive_threshold is not None  # Target checks it
        return (label.cast("double") >= F.lit(target.positive_threshold)).cast("long")
    return label.cast("double")


def append_inference_log(
    spark: SparkSession,
    scored_table: str,
    log_table: str,
    label_column: str | None = None,
    target: Target | None = None,
) -> None:
    """Append the rows batch inference just wrote to the inference log.

    The log has the scored columns (features, ``prediction``, ``model_version`` as a string,
    the monitor's model-id column, and ``scoring_timestamp``) and, when a label column is
    configured, that column in the model's label space (:func:`label_in_model_space`, with
    ``target``, the scoring version's target definition from its training run), typed like
    ``prediction``; when the scored rows have no such column it is empty: ground truth is
    joined in later, and then the monitor computes model quality. A label without a ``target``
    to translate it is refused rather than logged raw.
    """
    rows = spark.table(scored_table).withColumn(
        MODEL_VERSION_COLUMN, F.col(MODEL_VERSION_COLUMN).cast("string")
    )
    if label_column:
        prediction_type = dict(rows.dtypes)[PREDICTION_COLUMN]
        if label_column not in rows.columns:
            rows = rows.withColumn(label_column, F.lit(None).cast(prediction_type))
        elif target is None:
            raise ValueError(
                f"{scored_table} has label column {label_column!r} but the scoring version's "
                "target definition is unknown (its training run logged none): the label cannot "
                "be put in the model's label space for the monitor"
            )
        else:
            label = label_in_model_space(F.col(label_column), target)
            rows = rows.withColumn(label_column, label.cast(prediction_type))
    rows.write.mode("append").option("mergeSchema", "true").saveAsTable(log_table)
