"""Loading training data: a semicolon-separated CSV file or a Spark table."""

from __future__ import annotations

import re

import pandas as pd
from pyspark.sql import DataFrame as SparkDataFrame
from pyspark.sql import SparkSession

DATABRICKS_DATASETS_PREFIX = "/databricks-datasets/"
"""Sample datasets on DBFS; Spark reads them as ``dbfs:/databricks-datasets/...``."""

_INVALID_COLUMN_CHARACTERS = re.compile(r"[ ,;{}()\n\t=]+")
"""Characters Delta (and Parquet) table columns may not contain."""
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_`-]+(\.[A-Za-z0-9_`-]+){0,2}$")


def is_table_name(source: str) -> bool:
    """Whether ``training_data`` names a table (``catalog.schema.table``) rather than a file.

    Paths contain a ``/`` (``/databricks-datasets/...``, ``dbfs:/...``, ``/tmp/x.csv``) or end
    in ``.csv``; anything else that looks like a dotted identifier is a table name.
    """
    if "/" in source or source.lower().endswith(".csv"):
        return False
    return bool(_TABLE_NAME.match(source))


def spark_path(path: str) -> str:
    """The path as Spark should read it: DBFS sample datasets get an explicit ``dbfs:`` scheme."""
    if path.startswith(DATABRICKS_DATASETS_PREFIX):
        return "dbfs:" + path
    return path


def normalize_column_name(name: str) -> str:
    """A column name a Delta table can hold: runs of spaces, ``,;{}()=`` etc. become ``_``.

    The wine-quality CSV has names like ``fixed acidity``; the model is trained on
    ``fixed_acidity`` so that its signature matches columns of a scoring table.
    """
    normalized = _INVALID_COLUMN_CHARACTERS.sub("_", name.strip())
    if not normalized:
        raise ValueError(f"column name {name!r} is empty once normalized")
    return normalized


def normalize_columns(frame: SparkDataFrame) -> SparkDataFrame:
    """Rename every column with :func:`normalize_column_name`; refuse names that would collide."""
    renamed = [normalize_column_name(c) for c in frame.columns]
    duplicates = sorted({c for c in renamed if renamed.count(c) > 1})
    if duplicates:
        raise ValueError(f"columns {duplicates} appear more than once after normalizing names")
    return frame.toDF(*renamed)


def read_training_frame(
    spark: SparkSession, source: str, csv_separator: str = ";"
) -> SparkDataFrame:
    """Read ``source`` with Spark: a CSV file (header row, ``csv_separator``) or a table."""
    if is_table_name(source):
        if not spark.catalog.tableExists(source):
            raise LookupError(f"training data table {source!r} does not exist")
        return spark.table(source)
    return (
        spark.read.option("header", "true")
        .option("sep", csv_separator)
        .option("inferSchema", "true")
        .csv(spark_path(source))
    )


def load_training_data(
    spark: SparkSession, source: str, label_column: str, csv_separator: str = ";"
) -> pd.DataFrame:
    """Training data as pandas, column names normalized, rows without a label dropped.

    ``source`` is a CSV path (e.g. ``/databricks-datasets/wine-quality/winequality-red.csv``,
    or a local file in tests) or a table name. Raises when the label column is missing or no
    labelled row is left.
    """
    frame = normalize_columns(read_training_frame(spark, source, csv_separator))
    label = normalize_column_name(label_column)
    if label not in frame.columns:
        raise ValueError(
            f"label column {label_column!r} is not in training data {source!r}; "
            f"columns: {frame.columns}"
        )
    data: pd.DataFrame = frame.where(frame[label].isNotNull()).toPandas()
    data = data.dropna(subset=[label]).reset_index(drop=True)  # NaN labels too
    if data.empty:
        raise ValueError(f"training data {source!r} has no rows with a {label!r} value")
    return data
