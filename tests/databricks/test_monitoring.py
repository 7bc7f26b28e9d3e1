"""The optional monitoring section: a quality monitor on the inference log and a retraining
job, declared only when enabled, with typed inputs and the other jobs' hardening."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlops_resources.config.stack import DRIFT_METRICS, QUALITY_METRICS
from mlops_resources.offline.evaluation import Evaluation
from tests.stacks import MONITORING, params, personal_stack_overrides, run_stack

MONITOR = "databricks:index/qualityMonitor:QualityMonitor"
SP = {
    "staging": "00000000-0000-0000-0000-00000000a001",
    "prod": "00000000-0000-0000-0000-00000000b001",
}


@pytest.fixture(scope="module", params=["staging", "prod"])
def enabled(request: pytest.FixtureRequest) -> tuple[str, Evaluation]:
    stack: str = request.param
    return stack, run_stack(stack, {"mlops:monitoring": MONITORING})


def test_the_monitor_watches_the_inference_log(enabled: tuple[str, Evaluation]) -> None:
    """A ``databricks.QualityMonitor``: the provider deprecates ``databricks_lakehouse_monitor``
    for it (terraform-provider-databricks v1.118 ``docs/resources/lakehouse_monitor.md``). A
    monitor writes ``{output_schema}.{table_name}_profile_metrics`` and ``..._drift_metrics``
    (docs, "Monitor metric tables",
    https://docs.databricks.com/en/lakehouse-monitoring/monitor-output.html); the mocks name
    them so, and the stack exports the profile table."""
    stack, result = enabled
    (monitor,) = result.of_type(MONITOR)
    assert monitor.parent == "mlops-monitoring"
    assert monitor.inputs == {
        "tableName": f"{stack}.wine_quality.predictions_log",
        "assetsDir": f"/Users/{SP[stack]}/wine-quality/{stack}/monitoring",
        "outputSchemaName": f"{stack}.wine_quality",
        "inferenceLog": {
            "problemType": "PROBLEM_TYPE_CLASSIFICATION",
            "predictionCol": "prediction",
            "modelIdCol": "model_version",
            "timestampCol": "scoring_timestamp",
            "labelCol": "quality",
            "granularities": ["1 day", "1 hour"],
        },
        "schedule": {
            "quartzCronExpression": "0 0 8 * * ?",
            "timezoneId": "UTC",
            "pauseStatus": "UNPAUSED",
        },
        "notifications": {"onFailure": {"emailAddresses": ["ml-oncall@example.com"]}},
    }
    assert result.outputs["monitor_profile_metrics_table"] == (
        f"{stack}.wine_quality.predictions_log_profile_metrics"
    )


def test_the_retraining_job_checks_then_runs_training_when_violated(
    enabled: tuple[str, Evaluation],
) -> None:
    """MLOps Stacks' pattern: a notebook sets a task value, a condition task compares it as a
    string ("true": task values are JSON; == compares strings, docs "If/else condition task"),
    and a run-job task runs the training job on the true branch."""
    stack, result = enabled
    job = result.get("mlops-monitoring-retraining-job").inputs
    tasks = {t["taskKey"]: t for t in job["tasks"]}
    assert list(tasks) == ["IsMetricViolated", "MonitoredMetricCheck", "TriggerRetraining"]
    assert tasks["IsMetricViolated"]["conditionTask"] == {
        "left": "{{tasks.MonitoredMetricCheck.values.is_metric_violated}}",
        "op": "EQUAL_TO",
        "right": "true",
    }
    assert tasks["IsMetricViolated"]["dependsOns"] == [{"taskKey": "MonitoredMetricCheck"}]
    assert "maxRetries" not in tasks["IsMetricViolated"]
    trigger = tasks["TriggerRetraining"]
    assert trigger["dependsOns"] == [{"taskKey": "IsMetricViolated", "outcome": "true"}]
    assert trigger["runJobTask"]["jobId"] == int(result.outputs["training_job_id"])
    assert tasks["MonitoredMetricCheck"]["notebookTask"]["notebookPath"].endswith(
        "notebooks/MonitoredMetricCheck"
    )
    # Serverless, like the other jobs: the check runs in the job's pinned environment; the
    # condition and run-job tasks run no code and name neither an environment nor a cluster.
    assert tasks["MonitoredMetricCheck"]["environmentKey"] == "default"
    for key in ("IsMetricViolated", "TriggerRetraining"):
        assert not {"environmentKey", "jobClusterKey", "newCluster"} & set(tasks[key])
    assert [e["spec"]["environmentVersion"] for e in job["environments"]] == ["5"]
    assert job["budgetPolicyId"] == result.get("mlops-training-job").inputs["budgetPolicyId"]
    parameters = params(result, "mlops-monitoring-retraining-job")
    assert parameters == {
        "env": stack,
        # The table the monitor reports it writes, as the stack exports it.
        "metrics_table": result.outputs["monitor_profile_metrics_table"],
        "metric": "accuracy_score",
        "threshold": "0.8",
        "direction": "below",
        "num_evaluation_windows": "5",
        "num_violation_windows": "2",
        "granularity": "1 day",
    }
    assert job["name"] == f"{stack}-wine-quality-retraining-job"
    assert job["runAs"] == {"servicePrincipalName": SP[stack]}
    assert job["tags"] == {"env": stack, "managed-by": "pulumi", "project": "wine-quality"}
    assert job["schedule"]["quartzCronExpression"] == "0 0 18 * * ?"
    owners = [
        a
        for a in result.get("mlops-monitoring-retraining-permissions").inputs["accessControls"]
        if a["permissionLevel"] == "IS_OWNER"
    ]
    assert owners == [{"servicePrincipalName": SP[stack], "permissionLevel": "IS_OWNER"}]
    assert result.outputs["retraining_job_url"].endswith(
        f"#job/{result.outputs['retraining_job_id']}"
    )


def test_batch_inference_appends_to_the_log_and_the_grants_follow(
    enabled: tuple[str, Evaluation],
) -> None:
    stack, result = enabled
    batch = params(result, "mlops-batch-inference-job")
    assert (batch["inference_log_table"], batch["label_column"]) == (
        f"{stack}.wine_quality.predictions_log",
        "quality",
    )
    # The monitored table must exist: the first logged batch run creates it.
    assert ("table", f"{stack}.wine_quality.predictions_log") in {
        (c.kind, c.name) for c in result.not_checked
    }


def test_monitor_output_schema_and_baseline_get_grants() -> None:
    monitoring = {
        **MONITORING,
        "output_schema": "staging.monitoring",
        "baseline_table": "staging.wine_quality.baseline",
    }
    result = run_stack("staging", {"mlops:monitoring": monitoring})
    jobs = "@wine-quality-staging-jobs"
    grants = {
        r.name.removeprefix("mlops-grants-"): r.inputs["privileges"]
        for r in result.of_type("databricks:index/grant:Grant")
        if r.name.endswith(jobs)
    }
    assert grants[f"schema-staging.monitoring{jobs}"] == ["CREATE_TABLE", "USE_SCHEMA"]
    assert grants[f"table-staging.wine_quality.baseline{jobs}"] == ["SELECT"]
    # The batch job creates the log on its first logged run: CREATE_TABLE on the log's schema.
    assert grants[f"schema-staging.wine_quality{jobs}"] == ["CREATE_TABLE", "USE_SCHEMA"]


def test_a_dev_stack_pauses_the_monitor_and_the_retraining_schedule() -> None:
    result = run_stack(
        "staging",
        {**personal_stack_overrides("x"), "mlops:monitoring": MONITORING},
        as_stack="dev-x",
    )
    (monitor,) = result.of_type(MONITOR)
    assert monitor.inputs["schedule"]["pauseStatus"] == "PAUSED"
    assert (
        result.get("mlops-monitoring-retraining-job").inputs["schedule"]["pauseStatus"] == "PAUSED"
    )
    assert monitor.inputs["tableName"] == "staging.wine_quality.dev_x_scores_log"


def test_disabled_and_absent_declare_the_same() -> None:
    absent = run_stack("staging")
    disabled = run_stack(
        "staging", {"mlops:monitoring": {"enabled": False, "label_column": "quality"}}
    )
    assert json.loads(disabled.to_json()) == json.loads(absent.to_json())
    assert absent.of_type(MONITOR) == []
    assert not [r for r in absent.resources if r.name.startswith("mlops-monitoring")]


def test_log_only_writes_the_log_without_a_monitor() -> None:
    result = run_stack("staging", {"mlops:monitoring": {"log_inferences": True}})
    assert result.of_type(MONITOR) == []
    assert (
        params(result, "mlops-batch-inference-job")["inference_log_table"]
        == "staging.wine_quality.predictions_log"
    )


def test_the_config_and_the_check_know_the_same_metrics() -> None:
    """The config refuses a metric the check could not read, and the check knows no metric the
    config would refuse: the same quality names (over every problem type) and drift names.
    Directions live in the config only; the check gets one as its ``direction`` parameter."""
    from mlops_ml import monitoring as check

    config_quality = {metric for metrics in QUALITY_METRICS.values() for metric in metrics}
    assert sorted(check.QUALITY_METRICS) == sorted(config_quality)
    assert sorted(check.DRIFT_METRICS) == sorted(DRIFT_METRICS)
    assert not config_quality & set(DRIFT_METRICS)  # the table a metric is in is unambiguous


def test_drift_metrics_read_the_drift_table() -> None:
    """A drift metric (``js_distance``) is read from the drift metrics table: the profile table
    holds summary statistics and, for an inference log, model accuracy metrics; the drift
    table "contains statistics that track changes in distribution" (docs, "Monitor metric
    tables"). Databricks' own drift check reads ``js_distance`` from the monitor's
    ``drift_metrics_table_name`` (databricks-demos/dbdemos-notebooks,
    ``product_demos/Data-Science/mlops-end2end/02-mlops-advanced/08_drift_detection.py``)."""
    monitoring: dict[str, Any] = {**MONITORING, "label_column": None}
    monitoring["retraining"] = {
        **MONITORING["retraining"],
        "metric": "js_distance",
        "threshold": 0.2,
    }
    result = run_stack("prod", {"mlops:monitoring": monitoring})
    parameters = params(result, "mlops-monitoring-retraining-job")
    assert (parameters["metrics_table"], parameters["direction"]) == (
        result.outputs["monitor_drift_metrics_table"],
        "above",
    )
    (monitor,) = result.of_type(MONITOR)
    assert "labelCol" not in monitor.inputs["inferenceLog"]
