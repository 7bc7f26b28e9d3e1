"""The retraining check reads the monitor's metric tables as the monitor writes them, and the
inference log keeps every batch run's rows for the monitor.

The fake metric tables below spell out the values the monitor writes, not the module's
constants, so a wrong constant fails here. Where they come from:

* Databricks docs, "Monitor metric tables" (now "Data profiling metric tables"),
  https://docs.databricks.com/aws/en/lakehouse-monitoring/monitor-output: the tables are
  ``{output_schema}.{table_name}_profile_metrics`` and ``..._drift_metrics``; "The entire table
  is equivalent to slice_key = NULL and slice_value = NULL": rows with a slice key are per
  slice, in both tables.
* databricks/mlops-stacks ``template/.../monitoring/metric_violation_check_query.py.tmpl``
  (13a10ebf, 2025-02-21), MLOps Stacks' retraining check: ``column_name = ":table" AND
  slice_key IS NULL AND model_id != "*" AND log_type = "INPUT"``, documented as "the metric is
  selected for the entire table", "not the baseline table metrics" and "the metric aggregated
  across all model IDs" (``"*"``), which that check leaves out and ours keeps.
* The dashboard a monitor generates for an inference log with ``model_id_col="model_version"``
  (databricks-demos/dbdemos-notebooks, ``product_demos/Data-Science/mlops-end2end/
  02-mlops-advanced/monitoring/.../advanced_churn_inference_table Monitoring.lvdash.json``,
  08075a77): on both tables ``isnull(slice_key) AND isnull(slice_value) -- default to "No
  Slice"`` and ```model_version` = "*" -- default to all model ids``; on the drift table
  ``drift_type = "CONSECUTIVE"``; per-column rows have ``column_name != ":table"``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from mlops_ml.monitoring import (
    CheckResult,
    Direction,
    MetricCheck,
    MetricNotFoundError,
    append_inference_log,
    check_metric,
    label_in_model_space,
    metric_kind,
)
from mlops_ml.target import Target
from pyspark.sql import SparkSession
from pyspark.sql import functions as F  # noqa: N812 - the usual alias
from pyspark.sql import types as T  # noqa: N812 - the usual alias

from tests.ml.conftest import CLASSIFICATION, NotebookRunner

# Temporary views: they read like the monitor's tables and cost no table write.
PROFILE = "scores_log_profile_metrics"
DRIFT = "scores_log_drift_metrics"
WINDOW = T.StructType(
    [T.StructField("start", T.TimestampType()), T.StructField("end", T.TimestampType())]
)
F1 = T.StructType(
    [T.StructField("macro", T.DoubleType()), T.StructField("weighted", T.DoubleType())]
)


def day(n: int) -> dict[str, dt.datetime]:
    start = dt.datetime(2026, 11, 1) + dt.timedelta(days=n)
    return {"start": start, "end": start + dt.timedelta(days=1)}


def profile_rows(accuracy: list[float | None], **extra: Any) -> list[dict[str, Any]]:
    """One table-level row per daily window (oldest first), aggregated over models, plus rows
    the check must ignore: per model version, per column, sliced, the baseline."""
    rows = []
    for n, value in enumerate(accuracy):
        base: dict[str, Any] = {
            "window": day(n),
            "granularity": "1 day",
            "model_version": "*",
            "column_name": ":table",
            "slice_key": None,
            "slice_value": None,
            "log_type": "INPUT",
            "accuracy_score": value,
            "f1_score": {"macro": value, "weighted": value},
        }
        rows.append(base)
        noise: dict[str, Any] = {"accuracy_score": 0.0, "f1_score": {"macro": 0.0, "weighted": 0.0}}
        rows.append({**base, **noise, "model_version": "3"})
        rows.append({**base, **noise, "column_name": "alcohol"})
        rows.append({**base, **noise, "slice_key": "color", "slice_value": "red"})
        rows.append({**base, **noise, "log_type": "BASELINE"})
        rows.append({**base, **noise, "granularity": "1 week"})
    return rows


GROUPING = [
    T.StructField("window", WINDOW),
    T.StructField("granularity", T.StringType()),
    T.StructField("model_version", T.StringType()),
    T.StructField("column_name", T.StringType()),
    T.StructField("slice_key", T.StringType()),
    T.StructField("slice_value", T.StringType()),
]
"""Columns both metric tables group their rows by (``model_version``: the model-id column)."""

PROFILE_SCHEMA = T.StructType(
    [
        *GROUPING,
        T.StructField("log_type", T.StringType()),
        T.StructField("accuracy_score", T.DoubleType()),
        T.StructField("f1_score", F1),
    ]
)


@pytest.fixture
def tables(spark: SparkSession) -> Iterator[SparkSession]:
    yield spark
    for view in (PROFILE, DRIFT):
        spark.catalog.dropTempView(view)
    for table in ("default.scores", "default.scores_log"):
        spark.sql(f"DROP TABLE IF EXISTS {table}")


def write_profile(spark: SparkSession, accuracy: list[float | None]) -> None:
    spark.createDataFrame(profile_rows(accuracy), PROFILE_SCHEMA).createOrReplaceTempView(PROFILE)


ACCURACY = MetricCheck("accuracy_score", 0.8, Direction.BELOW, 5, 2)


def test_quality_below_threshold_in_enough_recent_windows_is_a_violation(
    tables: SparkSession,
) -> None:
    write_profile(tables, [0.9, 0.9, 0.95, 0.7, 0.9, 0.75, 0.7])
    result = check_metric(tables, PROFILE, ACCURACY)
    assert result == CheckResult(
        True,
        "violated: accuracy_score below 0.8 in 3 of the last 5 window(s), latest 0.7",
        (0.7, 0.75, 0.9, 0.7, 0.95),
    )


def test_an_old_dip_or_a_recovered_model_is_not_a_violation(tables: SparkSession) -> None:
    write_profile(tables, [0.7, 0.7, 0.7, 0.9, 0.9, 0.9, 0.9, 0.9])
    assert not check_metric(tables, PROFILE, ACCURACY).is_violated
    write_profile(tables, [0.9, 0.7, 0.7, 0.9])  # two dips, but the latest window recovered
    result = check_metric(tables, PROFILE, ACCURACY)
    assert not result.is_violated
    assert result.reason.startswith("not violated: accuracy_score below 0.8 in 2 of the last 4")


def test_a_struct_metric_field_is_read(tables: SparkSession) -> None:
    write_profile(tables, [0.5, 0.5])
    check = MetricCheck("f1_score.macro", 0.6, Direction.BELOW, 5, 2)
    assert check_metric(tables, PROFILE, check).values == (0.5, 0.5)


def test_no_metrics_yet_is_not_a_violation(tables: SparkSession) -> None:
    """Before the monitor's first refresh there is no table; before ground truth is joined
    the quality metrics are null."""
    assert check_metric(tables, PROFILE, ACCURACY) == CheckResult(
        False, f"no metrics yet: {PROFILE} does not exist"
    )
    write_profile(tables, [None, None, None])
    result = check_metric(tables, PROFILE, ACCURACY)
    assert (result.is_violated, result.values) == (False, ())
    assert result.reason == "no metrics yet: no 1 day window with a accuracy_score value"


def test_a_metric_the_table_lacks_fails_the_check(tables: SparkSession) -> None:
    write_profile(tables, [0.9])
    with pytest.raises(MetricNotFoundError, match="has no column 'root_mean_squared_error'"):
        check_metric(tables, PROFILE, MetricCheck("root_mean_squared_error", 1.0, Direction.ABOVE))


def test_drift_of_the_prediction_column_above_threshold(tables: SparkSession) -> None:
    schema = T.StructType(
        [
            *GROUPING,
            T.StructField("drift_type", T.StringType()),
            T.StructField("js_distance", T.DoubleType()),
        ]
    )
    rows = []
    for n, value in enumerate([0.05, 0.3, 0.4]):
        base: dict[str, Any] = {
            "window": day(n),
            "granularity": "1 day",
            "model_version": "*",
            "column_name": "prediction",
            "slice_key": None,
            "slice_value": None,
            "drift_type": "CONSECUTIVE",
            "js_distance": value,
        }
        rows.append(base)
        # Rows the check must ignore: another column, baseline drift, one model version, a
        # slice (the whole table is slice_key NULL).
        rows.append({**base, "column_name": "alcohol", "js_distance": 0.9})
        rows.append({**base, "drift_type": "BASELINE", "js_distance": 0.0})
        rows.append({**base, "model_version": "3", "js_distance": 0.9})
        rows.append({**base, "slice_key": "color", "slice_value": "red", "js_distance": 0.9})
    tables.createDataFrame(rows, schema).createOrReplaceTempView(DRIFT)
    check = MetricCheck("js_distance", 0.2, Direction.ABOVE, 3, 2)
    assert check_metric(tables, DRIFT, check) == CheckResult(
        True,
        "violated: js_distance above 0.2 in 2 of the last 3 window(s), latest 0.4",
        (0.4, 0.3, 0.05),
    )


def test_the_check_notebook_sets_the_task_value_the_condition_reads(
    tables: SparkSession, run_notebook: NotebookRunner
) -> None:
    write_profile(tables, [0.9, 0.7, 0.7])
    parameters = {
        "metrics_table": PROFILE,
        "metric": "accuracy_score",
        "threshold": "0.8",
        "direction": "below",
        "num_evaluation_windows": "3",
        "num_violation_windows": "2",
        "granularity": "1 day",
    }
    store: dict[str, Any] = {}
    assert run_notebook("MonitoredMetricCheck", parameters, store) == "true"
    assert store == {"MonitoredMetricCheck": {"is_metric_violated": True}}
    write_profile(tables, [0.9, 0.9, 0.9])
    assert run_notebook("MonitoredMetricCheck", parameters, store) == "false"
    assert store["MonitoredMetricCheck"]["is_metric_violated"] is False
    # A bad job parameter fails the task with a message naming it (not float('')'s).
    with pytest.raises(ValueError, match="threshold must be a finite number, got ''"):
        run_notebook("MonitoredMetricCheck", parameters | {"threshold": ""}, {})


def test_the_check_parameters_are_parsed_with_errors_naming_each_one() -> None:
    parameters = {
        "metric": " f1_score.macro ",
        "threshold": "0.75",
        "direction": "below",
        "num_evaluation_windows": "7",
        "num_violation_windows": "3",
        "granularity": "1 hour",
    }
    assert MetricCheck.from_parameters(**parameters) == MetricCheck(
        "f1_score.macro", 0.75, Direction.BELOW, 7, 3, "1 hour"
    )
    for key, value, message in [
        ("metric", "auc", r"metric: unknown metric 'auc'; expected one of \['accuracy_score'"),
        ("metric", "", "metric: unknown metric ''; expected one of"),
        ("threshold", "", "threshold must be a finite number, got ''"),
        ("threshold", "high", "threshold must be a finite number, got 'high'"),
        ("threshold", "nan", "threshold must be a finite number, got 'nan'"),
        ("direction", "", r"direction must be one of \['above', 'below'\], got ''"),
        ("direction", "up", r"direction must be one of \['above', 'below'\], got 'up'"),
        ("num_evaluation_windows", "5.0", "num_evaluation_windows must be a whole number, got"),
        ("num_evaluation_windows", "0", "num_evaluation_windows must be at least 1, got 0"),
        ("num_violation_windows", "", "num_violation_windows must be a whole number, got ''"),
        (
            "num_violation_windows",
            "8",
            r"num_violation_windows must be between 1 and num_evaluation_windows \(7\), got 8",
        ),
        ("num_violation_windows", "0", "num_violation_windows must be between 1 and"),
        ("granularity", " ", "granularity must be a monitor granularity such as '1 day'"),
    ]:
        with pytest.raises(ValueError, match=message):
            MetricCheck.from_parameters(**(parameters | {key: value}))


def test_metric_kinds() -> None:
    assert metric_kind("js_distance") == "drift"
    assert metric_kind("f1_score.macro") == "quality"
    with pytest.raises(MetricNotFoundError, match="unknown metric 'auc'"):
        metric_kind("auc")


def test_the_inference_log_label_is_in_the_model_s_label_space(tables: SparkSession) -> None:
    """A classification model predicts ``quality >= 7`` as 0/1, and the monitor compares its
    predictions with the log's label column: a raw label (3..8) there made accuracy collapse
    once ground truth was joined, and retraining fire on every check. The label is translated
    with the target definition the trainer used (:meth:`Target.values`), typed like the
    prediction. That an empty label is logged empty, each run appended and the model version
    a string, is checked end to end in ``test_inference.py``."""
    raw = [3, 6, 7, 8, None]
    scored = tables.createDataFrame(
        [(i, 0.5, 1, 2, dt.datetime(2026, 11, 2), q) for i, q in enumerate(raw)],
        "wine_id long, alcohol double, prediction long, model_version long, "
        "scoring_timestamp timestamp, quality long",
    )
    scored.write.saveAsTable("default.scores")
    with pytest.raises(ValueError, match="target definition is unknown"):
        append_inference_log(tables, "default.scores", "default.scores_log", "quality")
    append_inference_log(tables, "default.scores", "default.scores_log", "quality", CLASSIFICATION)

    log = tables.table("default.scores_log")
    types = dict(log.dtypes)
    assert (types["model_version"], types["quality"], types["prediction"]) == (
        "string",
        "bigint",
        "bigint",
    )
    logged = [r["quality"] for r in log.orderBy("wine_id").collect()]
    expected = CLASSIFICATION.values(pd.Series(raw[:4], name="quality")).tolist()
    assert logged == [*expected, None] == [0, 0, 1, 1, None]
    regression = Target("regression", "quality")
    values = scored.select(label_in_model_space(F.col("quality"), regression).alias("q"))
    assert [r["q"] for r in values.collect()] == [3.0, 6.0, 7.0, 8.0, None]
