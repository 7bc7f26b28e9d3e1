"""The serving inference log: the endpoint's AI Gateway inference table, unpacked into the
table the monitor watches (``mlops:monitoring.source: serving``).

An AI Gateway inference table (``<catalog>.<schema>.<prefix>_payload``) has one row per request
with the raw JSON: ``request_date``, ``databricks_request_id``, ``client_request_id``,
``request_time``, ``status_code``, ``sampling_fraction``, ``execution_duration_ms``,
``request``, ``response``, ``served_entity_id``, ``logging_error_codes``, ``requester``
(Databricks docs, "Monitor served models using AI Gateway-enabled inference tables", the
inference table schema: https://docs.databricks.com/aws/en/ai-gateway/inference-tables). A
request or response too large to log is null, with ``MAX_REQUEST_SIZE_EXCEEDED`` or
``MAX_RESPONSE_SIZE_EXCEEDED`` in ``logging_error_codes`` (same schema). ``served_entity_id``
names the served entity; the docs' schema says to join ``system.serving.served_entities`` for
its details, which has the entity's ``endpoint_name`` and ``entity_version`` (Databricks docs,
"Model serving system tables reference",
https://docs.databricks.com/aws/en/admin/system-tables/serving-endpoint-usage). Reading it
needs SELECT on the ``system.serving`` schema, which a metastore admin grants.

A monitor's InferenceLog profile wants one row per prediction with the features, a prediction,
a model-id and a timestamp column, so :func:`append_serving_log` turns each successful request
into the batch inference log's rows: the record's features, ``prediction``, ``model_version``
(a string) and ``scoring_timestamp`` (the request's ``request_time``), with the label column
handled by the batch log's rule (:func:`mlops_ml.monitoring.log_rows`). MLflow model serving
takes ``dataframe_records``, ``dataframe_split``, ``instances`` or ``inputs`` and answers
``{"predictions": [...]}`` (MLflow docs, "Deploy MLflow models", the scoring server's input
formats: https://mlflow.org/docs/latest/deployment/deploy-model-locally/).

Each row keeps its ``databricks_request_id``: a run appends only requests the log does not hold
yet, so a re-run or a repair after a failure appends nothing twice (the job runs one at a time:
``max_concurrent_runs`` 1), and a request delivered late (delivery is best effort) is picked up
by the next run.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame as SparkDataFrame
from pyspark.sql import SparkSession
from pyspark.sql import functions as F  # noqa: N812 - the usual alias

from mlops_ml.inference import MODEL_VERSION_COLUMN, PREDICTION_COLUMN, TIMESTAMP_COLUMN
from mlops_ml.monitoring import log_rows
from mlops_ml.target import Target

REQUEST_ID_COLUMN = "databricks_request_id"
"""The payload table's request id, kept in the log: what makes a re-run append nothing twice."""
PAYLOAD_COLUMNS = (
    REQUEST_ID_COLUMN,
    "request_time",
    "status_code",
    "request",
    "response",
    "served_entity_id",
)
"""The payload table's columns the unpacking reads."""
SERVED_ENTITIES_TABLE = "system.serving.served_entities"
"""Served entity id -> endpoint, entity name and version (a system table)."""
SUCCESS = 200


class PayloadFormatError(ValueError):
    """A request or response body in no format MLflow model serving takes or answers."""


@dataclass(frozen=True)
class ServingLogResult:
    """What one run appended, and what it left out, by reason."""

    appended: int
    skipped: Mapping[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        left_out = ", ".join(f"{count} {why}" for why, count in sorted(self.skipped.items()))
        return f"appended {self.appended} row(s)" + (f"; left out: {left_out}" if left_out else "")


def request_records(body: str) -> list[dict[str, Any]]:
    """The records of a request body: ``dataframe_records`` (a list of objects),
    ``dataframe_split`` (columns and data), or ``instances``/``inputs`` as a list of objects
    or an object of equally long lists."""
    parsed = json.loads(body)
    if not isinstance(parsed, dict):
        raise PayloadFormatError(f"a request body is a JSON object, got {type(parsed).__name__}")
    if "dataframe_records" in parsed:
        records = parsed["dataframe_records"]
    elif "dataframe_split" in parsed:
        split = parsed["dataframe_split"]
        records = [dict(zip(split["columns"], row, strict=True)) for row in split["data"]]
    else:
        key = next((k for k in ("instances", "inputs") if k in parsed), None)
        if key is None:
            raise PayloadFormatError(
                "a request body has dataframe_records, dataframe_split, instances or inputs; "
                f"got keys {sorted(parsed)}"
            )
        records = parsed[key]
        if isinstance(records, dict):
            columns = {name: list(values) for name, values in records.items()}
            length = len(next(iter(columns.values()), []))
            records = [{name: columns[name][i] for name in columns} for i in range(length)]
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise PayloadFormatError("request records must be JSON objects (one per row)")
    return records


def response_predictions(body: str) -> list[Any]:
    """The predictions of a response body: ``{"predictions": [...]}`` (or a bare list); a
    prediction that is an object of one value (``{"prediction": 1}``) is that value."""
    parsed = json.loads(body)
    predictions = parsed.get("predictions") if isinstance(parsed, dict) else parsed
    if not isinstance(predictions, list):
        raise PayloadFormatError("a response body has a 'predictions' list")
    return [
        next(iter(p.values())) if isinstance(p, dict) and len(p) == 1 else p for p in predictions
    ]


def unpack_payload(
    payload: pd.DataFrame, versions: Mapping[str, str]
) -> tuple[pd.DataFrame, Counter[str]]:
    """One row per predicted record of each successful request (status 200): the record's
    fields, ``prediction``, ``model_version`` (the served entity's version, a string),
    ``scoring_timestamp`` (``request_time``) and ``databricks_request_id``. Left out, counted
    by reason: failed requests, bodies not logged (too large), bodies in no known format,
    a count of predictions unlike the count of records, and served entities ``versions`` does
    not know (a served entity id -> version map)."""
    rows: list[dict[str, Any]] = []
    skipped: Counter[str] = Counter()
    for request in payload.to_dict("records"):
        if request["status_code"] != SUCCESS:
            skipped["failed request(s)"] += 1
            continue
        if request["request"] is None or request["response"] is None:
            skipped["request(s) whose body was not logged"] += 1
            continue
        version = versions.get(str(request["served_entity_id"]))
        if version is None:
            skipped["request(s) of an unknown served entity"] += 1
            continue
        try:
            records = request_records(request["request"])
            predictions = response_predictions(request["response"])
        except (PayloadFormatError, ValueError, KeyError, TypeError):
            skipped["request(s) in no known format"] += 1
            continue
        if len(records) != len(predictions):
            skipped["request(s) with unlike record and prediction counts"] += 1
            continue
        for record, prediction in zip(records, predictions, strict=True):
            rows.append(
                {
                    **record,
                    PREDICTION_COLUMN: prediction,
                    MODEL_VERSION_COLUMN: str(version),
                    TIMESTAMP_COLUMN: request["request_time"],
                    REQUEST_ID_COLUMN: request[REQUEST_ID_COLUMN],
                }
            )
    return pd.DataFrame(rows), skipped


def served_versions(spark: SparkSession, endpoint_name: str) -> dict[str, str]:
    """Served entity id -> version of every entity the endpoint ever served
    (``system.serving.served_entities``: one row per served entity configuration)."""
    rows = (
        spark.table(SERVED_ENTITIES_TABLE)
        .where(F.col("endpoint_name") == endpoint_name)
        .select("served_entity_id", "entity_version")
        .distinct()
        .collect()
    )
    return {
        str(row["served_entity_id"]): str(row["entity_version"])
        for row in rows
        if row["entity_version"] is not None
    }


def new_requests(spark: SparkSession, payload_table: str, log_table: str) -> SparkDataFrame:
    """The payload rows whose request the log does not hold yet."""
    payload = spark.table(payload_table).select(*PAYLOAD_COLUMNS)
    if not spark.catalog.tableExists(log_table):
        return payload
    logged = spark.table(log_table).select(REQUEST_ID_COLUMN).distinct()
    return payload.join(logged, on=REQUEST_ID_COLUMN, how="left_anti")


def append_serving_log(
    spark: SparkSession,
    payload_table: str,
    log_table: str,
    versions: Mapping[str, str],
    label_column: str | None = None,
    target: Callable[[str], Target | None] = lambda version: None,
) -> ServingLogResult:
    """Append the payload's new successful requests to ``log_table`` as inference log rows
    (:func:`unpack_payload`), each model version's label by the batch log's rule with that
    version's target definition (``target(version)``, asked only when the requests carry the
    label column)."""
    unpacked, skipped = unpack_payload(
        new_requests(spark, payload_table, log_table).toPandas(), versions
    )
    if unpacked.empty:
        return ServingLogResult(0, dict(skipped))
    frame = spark.createDataFrame(unpacked)
    has_label = bool(label_column) and label_column in unpacked.columns
    by_version = [
        log_rows(
            frame.where(F.col(MODEL_VERSION_COLUMN) == version),
            f"{payload_table} (model version {version})",
            label_column,
            target(version) if has_label else None,
        )
        for version in sorted(unpacked[MODEL_VERSION_COLUMN].unique())
    ]
    rows = reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), by_version)
    rows.write.mode("append").option("mergeSchema", "true").saveAsTable(log_table)
    return ServingLogResult(len(unpacked), dict(skipped))
