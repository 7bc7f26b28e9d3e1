"""Training data loads from a semicolon-separated CSV file or from a Spark table."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlops_ml.data import (
    is_table_name,
    load_training_data,
    normalize_column_name,
    spark_path,
)
from pyspark.sql import SparkSession

from tests.ml.conftest import normalized_wine_frame, wine_frame, write_wine_csv


@pytest.mark.parametrize(
    ("source", "is_table"),
    [
        ("/databricks-datasets/wine-quality/winequality-red.csv", False),
        ("dbfs:/FileStore/wine.csv", False),
        ("wine.csv", False),
        ("staging.wine_quality.training", True),
        ("default.training", True),
        ("hive_metastore.`my-schema`.training", True),
    ],
)
def test_sources_are_told_apart(source: str, is_table: bool) -> None:
    assert is_table_name(source) is is_table


def test_databricks_datasets_are_read_from_dbfs() -> None:
    assert spark_path("/databricks-datasets/wine-quality/winequality-red.csv") == (
        "dbfs:/databricks-datasets/wine-quality/winequality-red.csv"
    )
    assert spark_path("/tmp/wine.csv") == "/tmp/wine.csv"


def test_column_names_become_table_safe() -> None:
    assert normalize_column_name("fixed acidity") == "fixed_acidity"
    assert normalize_column_name(" free  sulfur dioxide ") == "free_sulfur_dioxide"
    assert normalize_column_name("a(b)=c") == "a_b_c"
    assert normalize_column_name("pH") == "pH"


def test_loads_a_semicolon_separated_csv(spark: SparkSession, tmp_path: Path) -> None:
    frame = wine_frame(rows=50)
    csv = write_wine_csv(tmp_path / "winequality-red.csv", frame)

    data = load_training_data(spark, str(csv), "quality")

    assert list(data.columns) == list(normalized_wine_frame(rows=50).columns)
    assert len(data) == 50
    assert data["fixed_acidity"].dtype == "float64"
    assert data["quality"].dtype.kind == "i"
    assert data["quality"].tolist() == frame["quality"].tolist()


def test_loads_a_table_and_drops_unlabelled_rows(spark: SparkSession) -> None:
    frame = normalized_wine_frame(rows=40).astype({"quality": "float64"})
    frame.loc[[0, 1], "quality"] = None
    spark.createDataFrame(frame).write.mode("overwrite").saveAsTable("default.wine_training")

    data = load_training_data(spark, "default.wine_training", "quality")

    assert len(data) == 38
    assert list(data.columns) == list(frame.columns)
    assert data["quality"].notna().all()


def test_missing_table_and_label_are_named(spark: SparkSession, tmp_path: Path) -> None:
    with pytest.raises(LookupError, match=r"'default\.no_such_table' does not exist"):
        load_training_data(spark, "default.no_such_table", "quality")
    csv = write_wine_csv(tmp_path / "wine.csv", wine_frame(rows=5))
    with pytest.raises(ValueError, match=r"label column 'grade' is not in training data"):
        load_training_data(spark, str(csv), "grade")
