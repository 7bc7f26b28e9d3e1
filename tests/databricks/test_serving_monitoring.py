"""The monitor watching the serving endpoint's traffic (``mlops:monitoring.source: serving``),
as a story: staging serves its champion with an AI Gateway inference table, and the team points
the monitor at the endpoint's requests instead of the batch inference log.

Evidence:
- An AI Gateway inference table holds raw request and response JSON, one row per request
  (``databricks_request_id``, ``request_time``, ``status_code``, ``request``, ``response``,
  ``served_entity_id``, ...: Databricks docs, "Monitor served models using AI Gateway-enabled
  inference tables", https://docs.databricks.com/aws/en/ai-gateway/inference-tables), in
  ``<catalog>.<schema>.<prefix>_payload`` (databricks-sdk
  ``AiGatewayInferenceTableConfig.table_name_prefix``).
- A data-quality monitor's InferenceLog profile names a prediction, a model-id and a timestamp
  column of the watched table (``DataQualityMonitorDataProfilingConfigInferenceLogArgs``), which
  the payload table does not have: the monitor watches the table the serving inference log job
  unpacks the payload into, by its ``table_id`` (``catalog/data_table.go``).
- Data sources fail on a missing table (``catalog/data_table.go``), so a missing payload table
  fails the preview before anything is declared, naming the key.
"""

from __future__ import annotations

from typing import Any

import pytest

from mlops_resources import PROJECT_DIR
from mlops_resources.databricks.prerequisites import MissingObjectsError
from mlops_resources.offline.evaluation import Evaluation, offline_id
from tests.ml.test_notebooks import widgets
from tests.stacks import MONITORING, params, refused, run_stack

SERVING: dict[str, Any] = {
    "enabled": True,
    "query_group": "wine-quality-clients",
    "inference_table": {"enabled": True},
}
FROM_SERVING = {
    "mlops:serving": SERVING,
    "mlops:monitoring": {**MONITORING, "source": "serving"},
}
PAYLOAD = "staging.wine_quality.staging_wine_quality_serving_payload"
PROCESSED = "staging.wine_quality.staging_wine_quality_serving_processed"
MONITOR = "databricks:index/dataQualityMonitor:DataQualityMonitor"


@pytest.fixture(scope="module")
def from_serving() -> Evaluation:
    """Staging after its first champion (version 3), the monitor fed by the endpoint."""
    return run_stack("staging", FROM_SERVING, champion=3, endpoints={})


def test_the_monitor_watches_the_table_unpacked_from_the_endpoint_s_payload(
    from_serving: Evaluation,
) -> None:
    (monitor,) = from_serving.of_type(MONITOR)
    assert monitor.inputs["objectId"] == offline_id("table", PROCESSED)
    inference_log = monitor.input("dataProfilingConfig.inferenceLog")
    assert (
        inference_log["predictionColumn"],
        inference_log["modelIdColumn"],
        inference_log["timestampColumn"],
        inference_log["labelColumn"],
    ) == ("prediction", "model_version", "scoring_timestamp", "quality")
    assert from_serving.outputs["monitor_profile_metrics_table"] == (f"{PROCESSED}_profile_metrics")


def test_a_serving_log_job_unpacks_the_payload_and_batch_inference_no_longer_logs(
    from_serving: Evaluation,
) -> None:
    """Its own job, on the batch inference schedule, hardened like the others; its notebook
    reads exactly its parameters. Batch inference keeps scoring but appends nothing."""
    job = from_serving.get("mlops-serving-log-job")
    assert job.inputs["name"] == "staging-wine-quality-serving-log-job"
    assert params(from_serving, "mlops-serving-log-job") == {
        "env": "staging",
        "model_name": "staging.wine_quality.staging_wine_quality_model",
        "serving_endpoint_name": "staging-wine-quality-endpoint",
        "payload_table": PAYLOAD,
        "inference_log_table": PROCESSED,
        "label_column": "quality",
    }
    (task,) = job.inputs["tasks"]
    notebook = task["notebookTask"]["notebookPath"].split("/")[-1]
    assert notebook == "ServingInferenceLog"
    assert (PROJECT_DIR / "notebooks" / f"{notebook}.py").is_file()
    assert widgets(notebook, "get") == {p["name"] for p in job.inputs["parameters"]}
    assert job.inputs["maxConcurrentRuns"] == 1  # runs never overlap: no double append
    assert job.inputs["runAs"] == from_serving.get("mlops-training-job").inputs["runAs"]
    batch = from_serving.get("mlops-batch-inference-job")
    assert job.inputs["schedule"] == batch.inputs["schedule"]
    batch_params = params(from_serving, "mlops-batch-inference-job")
    assert (batch_params["inference_log_table"], batch_params["label_column"]) == ("", "")


def test_the_jobs_group_may_read_the_payload(from_serving: Evaluation) -> None:
    """SELECT, like the batch input table. That this render breaks no policy (provider inputs
    included) is tests/policies' ``test_the_example_stacks_break_no_policy``."""
    grant = from_serving.get(f"mlops-grants-table-{PAYLOAD}@wine-quality-staging-jobs")
    assert grant.inputs["privileges"] == ["SELECT"]
    assert from_serving.warnings == ()


def test_without_the_payload_table_the_preview_fails_naming_the_key() -> None:
    error, declared = refused("staging", FROM_SERVING, missing=frozenset({PAYLOAD}))
    assert isinstance(error, MissingObjectsError)
    assert declared == []
    assert f"mlops:serving.inference_table.table_name_prefix: table '{PAYLOAD}' is missing" in str(
        error
    )


def test_a_monitored_stack_switched_to_the_endpoint_is_told_which_job_creates_the_table() -> None:
    """Day two: staging's monitor watches the batch log, and the team sets ``source: serving``
    in one change. The monitored table is now ``<prefix>_processed``, which only the serving
    log job this same change declares creates, and a monitor needs its table (``table_id``,
    ``catalog/data_table.go``): the preview fails before anything is declared, naming the key
    and the job, and the order that gets there, not "create the table"."""
    error, declared = refused("staging", FROM_SERVING, missing=frozenset({PROCESSED}))
    assert isinstance(error, MissingObjectsError)
    assert declared == []
    message = str(error)
    assert f"mlops:monitoring.inference_log_table: table '{PROCESSED}' is missing" in message
    assert "the first run of job 'staging-wine-quality-serving-log-job' creates it" in message
    assert "monitoring.enabled false" in message
    assert "create the table" not in message
