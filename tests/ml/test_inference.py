"""BatchInference scores a table with the champion and overwrites the output table."""

from __future__ import annotations

import mlflow.sklearn
import pandas as pd
import pytest
from mlflow.models import get_model_info
from mlops_ml.deployment import deploy_version
from mlops_ml.inference import SchemaMismatchError, TableNotFoundError, score_table
from mlops_ml.split import Split
from pyspark.sql import SparkSession
from pyspark.sql import types as T  # noqa: N812 - the usual alias

from tests.ml.conftest import CLASSIFICATION, MlflowEnv, NotebookRunner, normalized_wine_frame

MODEL = "wine_model"
INPUT = "default.scoring_input"
OUTPUT = "default.predictions"
LOG = "default.predictions_log"


def write_input_table(spark: SparkSession, rows: int = 25, labels: bool = False) -> list[str]:
    """Scoring rows: the features plus an id; alcohol is an integer column (model: double).
    With ``labels`` the raw label (quality 3..8) is there too, as ground truth joined early."""
    frame = normalized_wine_frame(rows=rows, seed=11)
    if not labels:
        frame = frame.drop(columns=["quality"])
    frame.insert(0, "wine_id", range(rows))
    frame["alcohol"] = frame["alcohol"].round().astype("int32")
    spark.createDataFrame(frame).write.mode("overwrite").saveAsTable(INPUT)
    return list(frame.columns)


def test_the_batch_notebook_scores_with_the_champion_and_overwrites_the_output(
    run_notebook: NotebookRunner, spark: SparkSession, mlflow_env: MlflowEnv
) -> None:
    spark.sql(f"DROP TABLE IF EXISTS {LOG}")
    # Trained keyed by the id, which is not a feature: scoring needs no id, and keeps it.
    keyed = normalized_wine_frame().assign(wine_id=range(1000, 1300))
    mlflow_env.train(MODEL, data=keyed, split=Split(20, ("wine_id",)))
    deploy_version(MODEL, "1", "disabled")
    input_columns = write_input_table(spark)
    assert dict(spark.table(INPUT).dtypes)["alcohol"] in ("int", "bigint")
    parameters = {
        "env": "staging",
        "input_table_name": INPUT,
        "output_table_name": OUTPUT,
        "model_name": MODEL,
        # Monitoring on: the run is also appended to the inference log.
        "inference_log_table": LOG,
        "label_column": "quality",
    }

    assert run_notebook("BatchInference", parameters, {}) == "25"
    assert run_notebook.registry_uris == ["databricks"]  # a plain name: workspace registry

    output = spark.table(OUTPUT)
    assert output.columns == [*input_columns, "prediction", "model_version", "scoring_timestamp"]
    types = {f.name: f.dataType for f in output.schema.fields}
    assert types["prediction"] == T.LongType()
    assert types["model_version"] == T.LongType()
    assert types["scoring_timestamp"] == T.TimestampType()

    scored: pd.DataFrame = output.toPandas()
    scored = scored.sort_values("wine_id").reset_index(drop=True)
    assert scored["wine_id"].tolist() == list(range(25))
    assert set(scored["model_version"]) == {1}
    assert scored["scoring_timestamp"].notna().all()
    assert scored["scoring_timestamp"].nunique() == 1
    # Same predictions as the registered model itself gives for the same (cast) features.
    model = mlflow.sklearn.load_model(f"models:/{MODEL}/1")
    signature = get_model_info(f"models:/{MODEL}/1").signature
    assert signature is not None and "wine_id" not in signature.inputs.input_names()
    features = scored[input_columns[1:]].astype("float64")
    assert scored["prediction"].tolist() == model.predict(features).tolist()
    assert set(scored["prediction"]) <= {0, 1}

    # A new champion: the next run overwrites every row with its predictions, and the
    # inference log, which the monitor needs, keeps both runs. This time the input has the raw
    # label (quality 3..8): the log holds it as the model predicts it, quality >= 7 as 0/1
    # (the previous log kept 3..8 next to 0/1 predictions, and the monitor's accuracy
    # collapsed once labels were joined).
    mlflow_env.train(MODEL, data=normalized_wine_frame(seed=8))
    deploy_version(MODEL, "2", "disabled")
    write_input_table(spark, labels=True)
    assert run_notebook("BatchInference", parameters, {}) == "25"
    versions: pd.DataFrame = spark.table(OUTPUT).select("model_version").toPandas()
    assert versions["model_version"].tolist() == [2] * 25
    log: pd.DataFrame = spark.table(LOG).toPandas()
    logged = log.sort_values(["model_version", "wine_id"])
    assert dict(spark.table(LOG).dtypes)["model_version"] == "string"
    assert logged["model_version"].tolist() == ["1"] * 25 + ["2"] * 25
    assert logged["quality"].iloc[:25].isna().all()
    raw = normalized_wine_frame(rows=25, seed=11)["quality"]
    assert set(raw) - {0, 1}, "the input must hold raw labels for this check to mean anything"
    assert logged["quality"].iloc[25:].tolist() == CLASSIFICATION.values(raw).tolist()


def test_bad_inputs_are_refused_naming_the_table_and_the_model(
    spark: SparkSession, mlflow_env: MlflowEnv
) -> None:
    with pytest.raises(TableNotFoundError, match=r"input table 'default\.no_such_input' does not"):
        score_table(spark, MODEL, "default.no_such_input", OUTPUT)

    mlflow_env.train(MODEL)
    write_input_table(spark, rows=3)
    with pytest.raises(LookupError, match="'wine_model' has no version with alias 'champion'"):
        score_table(spark, MODEL, INPUT, OUTPUT)

    deploy_version(MODEL, "1", "disabled")
    frame = normalized_wine_frame(rows=5).drop(columns=["quality", "pH", "density"])
    frame = frame.rename(columns={"alcohol": "alcohol content"})
    spark.createDataFrame(frame).write.mode("overwrite").saveAsTable("default.bad_input")
    with pytest.raises(SchemaMismatchError) as error:
        score_table(spark, MODEL, "default.bad_input", "default.bad_predictions")
    message = str(error.value)
    assert "input table 'default.bad_input' lacks columns" in message
    assert "model 'wine_model' version 1 (@champion)" in message
    assert "['density', 'pH', 'alcohol']" in message
    assert not spark.catalog.tableExists("default.bad_predictions")

    frame = normalized_wine_frame(rows=3).drop(columns=["quality"]).assign(prediction=1)
    spark.createDataFrame(frame).write.mode("overwrite").saveAsTable("default.scored_before")
    with pytest.raises(
        SchemaMismatchError, match=r"already has output column\(s\) \['prediction'\]"
    ):
        score_table(spark, MODEL, "default.scored_before", OUTPUT)
