"""``mlops:monitoring.source``: what fills the table the monitor watches. ``batch_inference``
(the default) keeps every stack file as it was; ``serving`` unpacks the serving endpoint's AI
Gateway inference table, so it is refused, naming the file, the key and what is expected, when
the stack has no such table or nothing would be monitored.

Evidence: the inference table is ``<catalog>.<schema>.<prefix>_payload`` (databricks-sdk
``AiGatewayInferenceTableConfig.table_name_prefix``); it holds raw request and response JSON
(Databricks docs, "Monitor served models using AI Gateway-enabled inference tables", the
inference table schema, https://docs.databricks.com/aws/en/ai-gateway/inference-tables), so the
monitor watches a table unpacked from it (``mlops_resources/databricks/serving_log_job.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_resources.config.load import validate
from mlops_resources.config.reading import ConfigError, RawConfig
from mlops_resources.config.stack import StackConfig
from mlops_resources.config.unity_catalog import (
    LOG_KEY,
    PAYLOAD_KEY,
    GrantKey,
    Securable,
    grant_plan,
    required_objects,
)
from tests.stacks import MONITORING, example_stack_file

SERVING: dict[str, Any] = {
    "enabled": True,
    "query_group": "wine-quality-clients",
    "inference_table": {"enabled": True},
}
FROM_SERVING = {**MONITORING, "source": "serving"}
PAYLOAD = "staging.wine_quality.staging_wine_quality_serving_payload"
PROCESSED = "staging.wine_quality.staging_wine_quality_serving_processed"
JOBS = "wine-quality-staging-jobs"


def config(overrides: dict[str, Any]) -> StackConfig:
    return validate(RawConfig.from_stack_file(example_stack_file("staging", overrides)), "staging")


def problems(overrides: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as error:
        config(overrides)
    assert error.value.stack_file == "Pulumi.staging.yaml"
    return error.value.problems


def test_the_default_source_is_the_batch_inference_log() -> None:
    cfg = config({"mlops:monitoring": MONITORING})
    assert cfg.monitoring.source == "batch_inference"
    assert cfg.batch_logs_inferences and not cfg.serving_logs_inferences
    assert cfg.inference_log_table == "staging.wine_quality.predictions_log"


@pytest.mark.parametrize(
    ("overrides", "key", "expected"),
    [
        (
            {"mlops:monitoring": FROM_SERVING},
            "mlops:monitoring.source",
            "but serving.enabled is false; expected serving.enabled and "
            "serving.inference_table.enabled true, or source 'batch_inference'",
        ),
        (
            {"mlops:monitoring": FROM_SERVING, "mlops:serving": {**SERVING, "inference_table": {}}},
            "mlops:monitoring.source",
            "but serving.inference_table.enabled is false",
        ),
        (
            {"mlops:monitoring": {"source": "serving"}, "mlops:serving": SERVING},
            "mlops:monitoring.source",
            "only used when monitoring.enabled or monitoring.log_inferences is true",
        ),
        (
            {
                "mlops:monitoring": {**FROM_SERVING, "inference_log_table": PAYLOAD},
                "mlops:serving": SERVING,
            },
            "mlops:monitoring.inference_log_table",
            "must differ from the endpoint's inference table",
        ),
        (
            {"mlops:monitoring": {**MONITORING, "source": "endpoint"}},
            "mlops:monitoring.source",
            "'batch_inference'",
        ),
    ],
)
def test_a_serving_source_that_cannot_work_is_refused(
    overrides: dict[str, Any], key: str, expected: str
) -> None:
    found = [p for p in problems(overrides) if p.startswith(f"{key}:")]
    assert found, problems(overrides)
    assert expected in found[0]


def test_the_serving_source_reads_the_payload_and_fills_a_processed_table_beside_it() -> None:
    """Given serving with its inference table, when the monitor's source is the endpoint, then
    batch inference no longer logs, the monitored table defaults to ``<prefix>_processed`` in
    the payload's schema, and the batch log's rules apply to it: created by its first run
    (CREATE_TABLE on its schema), required once the monitor watches it. The payload table is
    read like an input table: it must exist (the endpoint, not the stack, creates it) and the
    jobs group gets SELECT on it."""
    cfg = config({"mlops:monitoring": FROM_SERVING, "mlops:serving": SERVING})
    assert (cfg.serving_payload_table, cfg.inference_log_table) == (PAYLOAD, PROCESSED)
    assert cfg.serving_logs_inferences and not cfg.batch_logs_inferences
    plan = grant_plan(cfg)
    assert plan[GrantKey(JOBS, Securable("table", PAYLOAD))] == ("SELECT",)
    assert "CREATE_TABLE" in plan[GrantKey(JOBS, Securable("schema", "staging.wine_quality"))]
    required = {r.securable: r.key for r in required_objects(cfg)}
    assert required[Securable("table", PAYLOAD)] == PAYLOAD_KEY
    assert required[Securable("table", PROCESSED)] == LOG_KEY

    log_only = config(
        {
            "mlops:monitoring": {"source": "serving", "log_inferences": True},
            "mlops:serving": SERVING,
        }
    )
    assert log_only.serving_logs_inferences
    needed = {r.securable for r in required_objects(log_only)}
    assert Securable("table", PAYLOAD) in needed
    assert Securable("table", PROCESSED) not in needed  # its first run creates it
