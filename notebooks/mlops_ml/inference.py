"""Batch inference: score a table with the ``champion`` version and write the predictions."""

from __future__ import annotations

from dataclasses import dataclass

import mlflow.pyfunc
from mlflow import MlflowClient
from mlflow.models import ModelSignature, get_model_info
from pyspark.sql import Column, SparkSession
from pyspark.sql import DataFrame as SparkDataFrame
from pyspark.sql import functions as F  # noqa: N812 - the usual alias

from mlops_ml.registry import CHAMPION_ALIAS, require_version_by_alias, version_uri
from mlops_ml.target import Target

PREDICTION_COLUMN = "prediction"
MODEL_VERSION_COLUMN = "model_version"
"""The version that scored the row (a long); the quality monitor's model-id column."""
TIMESTAMP_COLUMN = "scoring_timestamp"
"""One timestamp per run; the quality monitor's timestamp column."""
OUTPUT_COLUMNS = (PREDICTION_COLUMN, MODEL_VERSION_COLUMN, TIMESTAMP_COLUMN)
"""Columns batch inference adds to the input columns."""

_NUMPY_TO_SPARK = {
    "int64": "long",
    "int32": "int",
    "float64": "double",
    "float32": "float",
    "bool": "boolean",
    "object": "string",
    "str": "string",
}


class TableNotFoundError(LookupError):
    """The input table does not exist."""


class SchemaMismatchError(ValueError):
    """The input table lacks columns the model's signature needs (or clashes with outputs)."""


@dataclass(frozen=True)
class ScoringResult:
    """What one batch inference run wrote."""

    output_table_name: str
    model_version: str
    rows: int


def prediction_type(signature: ModelSignature) -> str:
    """Spark type of the ``prediction`` column, from the signature's single output."""
    outputs = signature.outputs
    if outputs is None or len(outputs.inputs) != 1:
        return "double"
    spec = outputs.inputs[0]
    if outputs.is_tensor_spec():
        return _NUMPY_TO_SPARK.get(str(spec.type), "double")
    return str(spec.type.to_spark().simpleString())


def feature_columns(
    frame: SparkDataFrame, signature: ModelSignature, table_name: str, model_label: str
) -> list[str]:
    """The signature's input columns, checked against the table's columns."""
    names = [str(n) for n in signature.inputs.input_names()]
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise SchemaMismatchError(
            f"input table {table_name!r} lacks columns that {model_label} needs: {missing}; "
            f"table columns: {frame.columns}"
        )
    clashing = [c for c in OUTPUT_COLUMNS if c in frame.columns]
    if clashing:
        raise SchemaMismatchError(
            f"input table {table_name!r} already has output column(s) {clashing}; "
            "rename them before scoring"
        )
    return names


def model_input_columns(signature: ModelSignature, features: list[str]) -> list[Column]:
    """The feature columns, cast to the signature's types (e.g. int columns to double)."""
    if signature.inputs.is_tensor_spec():
        return [F.col(name) for name in features]
    types = {spec.name: spec.type for spec in signature.inputs.inputs}
    return [F.col(name).cast(types[name].to_spark()).alias(name) for name in features]


def score_table(
    spark: SparkSession,
    model_name: str,
    input_table_name: str,
    output_table_name: str,
    *,
    alias: str = CHAMPION_ALIAS,
    client: MlflowClient | None = None,
) -> ScoringResult:
    """Score ``input_table_name`` with ``models:/<model_name>@<alias>``; overwrite the output.

    The output table has the input columns, ``prediction``, ``model_version`` (the version
    the alias resolved to, a long) and ``scoring_timestamp`` (one timestamp per run). The
    alias is resolved once, so a deployment during the run can't mix versions.
    """
    client = client or MlflowClient()
    if not spark.catalog.tableExists(input_table_name):
        raise TableNotFoundError(f"input table {input_table_name!r} does not exist")
    version = str(require_version_by_alias(client, model_name, alias).version)
    model_uri = version_uri(model_name, version)
    model_label = f"model {model_name!r} version {version} (@{alias})"
    signature = get_model_info(model_uri).signature
    if signature is None or signature.inputs is None:
        raise SchemaMismatchError(f"{model_label} has no input signature; cannot select columns")

    table = spark.table(input_table_name)
    features = feature_columns(table, signature, input_table_name, model_label)
    predict = mlflow.pyfunc.spark_udf(
        spark, model_uri, result_type=prediction_type(signature), env_manager="local"
    )
    output = (
        table.withColumn(
            PREDICTION_COLUMN, predict(F.struct(*model_input_columns(signature, features)))
        )
        .withColumn(MODEL_VERSION_COLUMN, F.lit(int(version)).cast("long"))
        .withColumn(TIMESTAMP_COLUMN, F.current_timestamp())
    )
    output.write.mode("overwrite").option("overwriteSchema", "true").saveAsTable(output_table_name)
    return ScoringResult(output_table_name, version, spark.table(output_table_name).count())


def version_target(client: MlflowClient, model_name: str, version: str) -> Target | None:
    """The target definition version ``version`` was trained for (its training run's
    parameters); None for a version whose run logged none (registered before the gate)."""
    run_id = client.get_model_version(model_name, version).run_id
    if not run_id:
        return None
    try:
        return Target.from_params(client.get_run(run_id).data.params)
    except LookupError:
        return None
