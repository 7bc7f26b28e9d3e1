"""The serving inference log: the endpoint's AI Gateway inference table, unpacked into the
table the monitor watches, with the batch inference log's columns and label rule.

The payload rows below spell out the documented table, not the module's constants:
* Databricks docs, "Monitor served models using AI Gateway-enabled inference tables", the
  inference table schema (https://docs.databricks.com/aws/en/ai-gateway/inference-tables):
  ``databricks_request_id`` STRING, ``request_time`` TIMESTAMP, ``status_code`` INT (the HTTP
  status returned), ``request``/``response`` STRING (the raw JSON bodies; null when too large,
  with ``MAX_REQUEST_SIZE_EXCEEDED``/``MAX_RESPONSE_SIZE_EXCEEDED`` in ``logging_error_codes``),
  ``served_entity_id`` STRING, ...
* MLflow's scoring server input formats (``dataframe_split``, ``dataframe_records``,
  ``instances``, ``inputs``) and its ``{"predictions": [...]}`` answer (MLflow docs, "Deploy
  MLflow models", https://mlflow.org/docs/latest/deployment/deploy-model-locally/).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from mlops_ml.serving_log import (
    append_serving_log,
    request_records,
    response_predictions,
    unpack_payload,
)
from pyspark.sql import SparkSession

from tests.ml.conftest import CLASSIFICATION

PAYLOAD_SCHEMA = (
    "databricks_request_id string, request_date date, client_request_id string, "
    "request_time timestamp, status_code int, sampling_fraction double, "
    "execution_duration_ms bigint, request string, response string, "
    "served_entity_id string, logging_error_codes array<string>, requester string"
)
"""The documented AI Gateway inference table (see the module docstring)."""
ENTITY_V3, ENTITY_V4 = "a1b2c3", "d4e5f6"
VERSIONS = {ENTITY_V3: "3", ENTITY_V4: "4"}
"""Served entity id -> version, as ``system.serving.served_entities`` has them."""
PAYLOAD, LOG = "serving_payload", "default.serving_processed"


def request(
    request_id: str,
    records: list[dict[str, Any]] | None,
    predictions: list[Any] | None,
    *,
    status: int = 200,
    entity: str = ENTITY_V3,
    minute: int = 0,
) -> tuple[Any, ...]:
    """One payload row: ``dataframe_records`` in, ``predictions`` out."""
    time = dt.datetime(2026, 12, 1, 9, minute)
    return (
        request_id,
        time.date(),
        None,
        time,
        status,
        1.0,
        12,
        None if records is None else json.dumps({"dataframe_records": records}),
        None if predictions is None else json.dumps({"predictions": predictions}),
        entity,
        [] if records is not None else ["MAX_REQUEST_SIZE_EXCEEDED"],
        "app@example.com",
    )


ROWS = [
    request("r1", [{"alcohol": 12.5, "quality": 7}, {"alcohol": 9.1, "quality": 5}], [1, 0]),
    request("r2", [{"alcohol": 11.0, "quality": 8}], None, status=500),  # failed: no answer
    request("r3", None, None, minute=1),  # body too large to log
    request("r4", [{"alcohol": 13.2, "quality": 6}], [1], entity=ENTITY_V4, minute=2),
]


def frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    names = [c.split()[0] for c in PAYLOAD_SCHEMA.split(", ")]
    return pd.DataFrame(rows, columns=names)


def test_request_and_response_bodies_in_every_mlflow_scoring_format() -> None:
    expected = [{"a": 1, "b": 2.0}, {"a": 3, "b": 4.0}]
    bodies = [
        {"dataframe_records": expected},
        {"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2.0], [3, 4.0]]}},
        {"instances": expected},
        {"inputs": {"a": [1, 3], "b": [2.0, 4.0]}},
    ]
    for body in bodies:
        assert request_records(json.dumps(body)) == expected
    assert response_predictions('{"predictions": [1, 0]}') == [1, 0]
    assert response_predictions('{"predictions": [{"prediction": 0.5}]}') == [0.5]


def test_only_successful_requests_of_known_versions_become_one_row_per_record() -> None:
    gone = request("r5", [{}], [1], entity="gone")  # an entity the system table lacks
    rows, skipped = unpack_payload(frame([*ROWS, gone]), VERSIONS)
    assert rows[["databricks_request_id", "alcohol", "prediction", "model_version"]].to_dict(
        "records"
    ) == [
        {"databricks_request_id": "r1", "alcohol": 12.5, "prediction": 1, "model_version": "3"},
        {"databricks_request_id": "r1", "alcohol": 9.1, "prediction": 0, "model_version": "3"},
        {"databricks_request_id": "r4", "alcohol": 13.2, "prediction": 1, "model_version": "4"},
    ]
    assert list(rows["scoring_timestamp"].unique()) == [
        pd.Timestamp(2026, 12, 1, 9, 0),
        pd.Timestamp(2026, 12, 1, 9, 2),
    ]
    assert dict(skipped) == {
        "failed request(s)": 1,
        "request(s) whose body was not logged": 1,
        "request(s) of an unknown served entity": 1,
    }


@pytest.fixture
def payload(spark: SparkSession) -> Iterator[SparkSession]:
    """The payload table as a temporary view (read like a table, no table write)."""
    spark.createDataFrame(ROWS[:2], PAYLOAD_SCHEMA).createOrReplaceTempView(PAYLOAD)
    yield spark
    spark.catalog.dropTempView(PAYLOAD)
    spark.sql(f"DROP TABLE IF EXISTS {LOG}")


def test_a_re_run_appends_only_new_requests_with_the_label_in_the_model_s_space(
    payload: SparkSession,
) -> None:
    """Given the log unpacked from the payload, when the job runs again (a repair) and once
    more after new requests arrive, then no request is logged twice, and the label the
    requests carry (quality 3..8) is logged as the classifier predicts it (``quality >= 7``
    as 0/1, the version's target definition), typed like the prediction, with the version a
    string: the batch inference log's columns and rule (:func:`mlops_ml.monitoring.log_rows`,
    whose refusal of a label without a target is tested in test_monitoring.py and whose empty
    label the batch log's end-to-end test covers)."""
    asked: list[str] = []

    def target(version: str) -> Any:
        asked.append(version)
        return CLASSIFICATION

    first = append_serving_log(payload, PAYLOAD, LOG, VERSIONS, "quality", target)
    again = append_serving_log(payload, PAYLOAD, LOG, VERSIONS, "quality", target)
    assert (first.appended, again.appended) == (2, 0)
    assert again.skipped == {"failed request(s)": 1}  # still failed, still left out
    payload.createDataFrame(ROWS, PAYLOAD_SCHEMA).createOrReplaceTempView(PAYLOAD)
    later = append_serving_log(payload, PAYLOAD, LOG, VERSIONS, "quality", target)
    assert later.appended == 1
    assert asked == ["3", "4"]

    log = payload.table(LOG)
    types = dict(log.dtypes)
    assert (types["model_version"], types["prediction"], types["quality"]) == (
        "string",
        "bigint",
        "bigint",
    )
    logged = [
        (r["databricks_request_id"], r["alcohol"], r["quality"], r["model_version"])
        for r in log.orderBy("scoring_timestamp", "alcohol").collect()
    ]
    assert logged == [("r1", 9.1, 0, "3"), ("r1", 12.5, 1, "3"), ("r4", 13.2, 0, "4")]
