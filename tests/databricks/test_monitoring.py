"""The optional monitoring section: a data-quality monitor on the inference log and a
retraining job, declared only when enabled, with typed inputs and the other jobs' hardening,
and only what a real workspace takes: no read-only input, replaced by deleting first, no
schedule on a paused stack, updated only by the identity that created it."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

import pulumi
import pytest
from databricks.sdk.service import dataquality

from mlops_resources.config.monitoring import DRIFT_METRICS, GRANULARITIES, QUALITY_METRICS
from mlops_resources.databricks.monitoring import PROBLEM_TYPES, granularity
from mlops_resources.databricks.prerequisites import DeployerError
from mlops_resources.offline.check import run_policies
from mlops_resources.offline.evaluation import (
    CURRENT_USER,
    OFFLINE_USER,
    Evaluation,
    install_mocks,
    offline_id,
    run_program,
)
from mlops_resources.offline.render import render_tree
from tests.stacks import (
    MONITORING,
    example_dir,
    example_stack_file,
    params,
    personal_stack_overrides,
    run_stack,
    section,
)

MONITOR = "databricks:index/dataQualityMonitor:DataQualityMonitor"
LEGACY_MONITOR = "databricks:index/qualityMonitor:QualityMonitor"
SP = {
    "staging": "00000000-0000-0000-0000-00000000a001",
    "prod": "00000000-0000-0000-0000-00000000b001",
}
DEV = {**personal_stack_overrides("x"), "mlops:monitoring": MONITORING}
"""Staging's file made ``dev-x``'s (schedules left to the default, paused), monitoring on."""


@cache
def monitored(stack: str) -> Evaluation:
    """The example stack file with monitoring on, evaluated once per test process."""
    return run_stack(stack, {"mlops:monitoring": MONITORING})


@pytest.fixture(scope="module", params=["staging", "prod"])
def enabled(request: pytest.FixtureRequest) -> tuple[str, Evaluation]:
    stack: str = request.param
    return stack, monitored(stack)


@pytest.fixture(scope="module")
def personal() -> Evaluation:
    return run_stack("staging", DEV, as_stack="dev-x")


def test_the_monitor_watches_the_inference_log(enabled: tuple[str, Evaluation]) -> None:
    """A ``databricks.DataQualityMonitor``: the installed databricks-sdk deprecates the quality
    monitors API for it (``catalog.QualityMonitorsAPI``: "Deprecated: Please use the Data
    Quality Monitors API instead"), which terraform-provider-databricks has declared since
    v1.92.0 (CHANGELOG, #5092). It is keyed by ids: ``object_id`` is the watched table's
    ``table_id`` and ``output_schema_id`` the schema's ``schema_id`` (the resource's
    docstring), both from the existence checks (``catalog/data_table.go`` sets the table's id
    to ``TableId``; ``data_schema.go`` returns ``schema_info``), which the mocks answer with
    :func:`offline_id`. A monitor writes ``{output_schema}.{table_name}_profile_metrics`` and
    ``..._drift_metrics`` (docs, "Monitor metric tables"); the mocks name them so, and the
    stack exports the profile table."""
    stack, result = enabled
    (monitor,) = result.of_type(MONITOR)
    assert monitor.parent == "mlops-monitoring"
    log = f"{stack}.wine_quality.predictions_log"
    assert monitor.inputs == {
        "objectType": "table",
        "objectId": offline_id("table", log),
        "dataProfilingConfig": {
            "outputSchemaId": offline_id("schema", f"{stack}.wine_quality"),
            "assetsDir": f"/Users/{SP[stack]}/wine-quality/{stack}/monitoring",
            "inferenceLog": {
                "problemType": "INFERENCE_PROBLEM_TYPE_CLASSIFICATION",
                "predictionColumn": "prediction",
                "modelIdColumn": "model_version",
                "timestampColumn": "scoring_timestamp",
                "labelColumn": "quality",
                "granularities": [
                    "AGGREGATION_GRANULARITY_1_DAY",
                    "AGGREGATION_GRANULARITY_1_HOUR",
                ],
            },
            # No pause_status: the provider computes it (dataquality_tf/model.go, CronSchedule).
            "schedule": {"quartzCronExpression": "0 0 8 * * ?", "timezoneId": "UTC"},
            "notificationSettings": {"onFailure": {"emailAddresses": ["ml-oncall@example.com"]}},
        },
    }
    assert result.of_type(LEGACY_MONITOR) == []
    assert result.outputs["monitor_profile_metrics_table"] == f"{log}_profile_metrics"
    assert result.outputs["monitor_drift_metrics_table"] == f"{log}_drift_metrics"


def test_windows_and_problem_types_are_the_data_quality_api_values() -> None:
    """The data-quality API takes enum values, not the quality monitors API's strings
    ("1 day", "PROBLEM_TYPE_CLASSIFICATION"): ``AggregationGranularity`` and
    ``InferenceProblemType`` of the installed databricks-sdk (``service/dataquality.py``)."""
    assert {granularity(window) for window in GRANULARITIES} == {
        member.value for member in dataquality.AggregationGranularity
    }
    assert set(PROBLEM_TYPES.values()) == {
        member.value for member in dataquality.InferenceProblemType
    }


def _leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every leaf input (lists are leaves)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(item, f"{prefix}{key}.")
    else:
        yield prefix.rstrip("."), value


def _replaces(before: Mapping[str, Any], after: Mapping[str, Any], paths: tuple[str, ...]) -> bool:
    """Whether the engine replaces a resource whose inputs change from ``before`` to ``after``
    given ``replace_on_changes`` ``paths``: a changed input at or under one of them."""
    old, new = dict(_leaves(before)), dict(_leaves(after))
    changed = {path for path in old.keys() | new.keys() if old.get(path) != new.get(path)}
    return any(c == p or c.startswith(f"{p}.") for c in changed for p in paths)


@pytest.mark.parametrize(
    ("change", "replaced"),
    [
        pytest.param(
            {"inference_log_table": "staging.wine_quality.scores_log"}, True, id="another table"
        ),
        pytest.param({"granularities": ["1 day"]}, False, id="another window"),
    ],
)
def test_changing_the_watched_table_replaces_the_monitor_deleting_it_first(
    change: dict[str, Any], replaced: bool
) -> None:
    """Given staging's monitor, created on its inference log; when the stack file moves the
    log to another table, then the monitor is replaced, the old one deleted first; another
    window is an update in place.

    Nothing but ``provider_config.workspace_id`` forces the provider to replace a monitor
    (terraform-provider-databricks v1.118.0 ``internal/providers/pluginfw/products/
    data_quality_monitor/resource_data_quality_monitor.go``: ``object_id`` has only
    ``UseStateForUnknown``; ``Update`` sends ``UpdateMonitor`` for the planned
    ``object_id``), so a new table would be an update of a monitor that does not exist there.
    The Databricks CLI recreates a monitor whose table changes (``bundle/direct/dresources/
    resources.yml``: ``table_name`` is its id field). ``replace_on_changes`` makes the engine
    replace on a change of the listed inputs, ``delete_before_replace`` deletes the old one
    first (Pulumi docs, "Resource options"): a table has one monitor, addressed by
    ``object_type``/``object_id`` (the import id ``object_type,object_id``)."""
    (before,) = monitored("staging").of_type(MONITOR)
    after_result = run_stack("staging", {"mlops:monitoring": {**MONITORING, **change}})
    (after,) = after_result.of_type(MONITOR)
    assert after.name == before.name  # the same logical resource
    assert before.inputs != after.inputs  # the change reaches the monitor
    assert before.delete_before_replace and after.delete_before_replace
    assert after.replace_on_changes == ("objectId", "dataProfilingConfig.assetsDir")
    assert _replaces(before.inputs, after.inputs, after.replace_on_changes) is replaced


def test_moving_the_assets_folder_replaces_the_monitor() -> None:
    """Given staging's monitor; when ``workspace_root`` moves the project's folder, then the
    dashboard's folder moves and the monitor is replaced, deleting first: the assets folder is
    immutable (the Databricks CLI recreates on it: ``bundle/direct/dresources/resources.yml``,
    ``recreate_on_changes: assets_dir``), and the legacy API refuses to update "output asset
    identifiers" (``QualityMonitorsAPI.update``). Deleting keeps the metric tables and the
    dashboard (``DataQualityAPI.delete_monitor``)."""
    (before,) = monitored("staging").of_type(MONITOR)
    moved = run_stack(
        "staging",
        {"mlops:monitoring": MONITORING, "mlops:workspace_root": "/Workspace/ml/wine-quality"},
    )
    (after,) = moved.of_type(MONITOR)
    assert (
        after.input("dataProfilingConfig.assetsDir")
        == "/Workspace/ml/wine-quality/staging/monitoring"
    )
    assert after.input("objectId") == before.input("objectId")
    assert _replaces(before.inputs, after.inputs, after.replace_on_changes)
    assert after.delete_before_replace


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


def test_a_dev_stack_schedules_no_monitor_refresh(personal: Evaluation) -> None:
    """A monitor's schedule cannot be paused: the provider computes ``pause_status``
    (``dataquality_tf/model.go``, ``CronSchedule``), and the Databricks CLI removes the
    schedule of every monitor it would pause, "since they don't support pausing/unpausing"
    (``bundle/config/mutator/resourcemutator/apply_presets.go``; databricks/cli#1481). A
    personal stack, whose jobs are paused, so declares its monitor without a schedule: no
    refresh is billed until someone runs one."""
    (monitor,) = personal.of_type(MONITOR)
    assert "schedule" not in monitor.inputs["dataProfilingConfig"]
    retraining = personal.get("mlops-monitoring-retraining-job").inputs
    assert retraining["schedule"]["pauseStatus"] == "PAUSED"
    assert monitor.input("objectId") == offline_id("table", "staging.wine_quality.dev_x_scores_log")


def test_a_stack_whose_jobs_are_all_paused_schedules_no_monitor_refresh() -> None:
    """Staging with every job's schedule paused in its file, the monitor's left unset: the
    monitor has no schedule either."""
    retraining = MONITORING["retraining"]
    monitoring = {
        **MONITORING,
        "retraining": {**retraining, "schedule": {**retraining["schedule"], "paused": True}},
    }
    overrides: dict[str, Any] = {"mlops:monitoring": monitoring}
    for name in ("training", "batch_inference"):
        value = section("staging", name)
        value["schedule"] = {**value["schedule"], "paused": True}
        overrides[f"mlops:{name}"] = value
    result = run_stack("staging", overrides)
    (monitor,) = result.of_type(MONITOR)
    assert "schedule" not in monitor.inputs["dataProfilingConfig"]


def test_disabled_and_absent_declare_the_same() -> None:
    absent = run_stack("staging")
    disabled = run_stack(
        "staging", {"mlops:monitoring": {"enabled": False, "label_column": "quality"}}
    )
    assert json.loads(disabled.to_json()) == json.loads(absent.to_json())
    assert absent.of_type(MONITOR) == []
    assert CURRENT_USER not in {lookup.function for lookup in absent.not_checked}
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
    assert "labelColumn" not in monitor.inputs["dataProfilingConfig"]["inferenceLog"]


WORKSPACE_MODE = {"mlops:code_source": {"type": "workspace"}, "mlops:monitoring": MONITORING}
"""Staging with uploaded notebooks (the check notebook among them) and monitoring on."""


@pytest.mark.parametrize("variant", ["staging", "personal stack", "workspace mode"])
def test_every_stack_with_a_monitor_declares_what_a_workspace_takes(
    variant: str, personal: Evaluation
) -> None:
    """Staging, a personal stack and workspace mode, monitoring on: the whole policy pack
    passes, its monitor policies included (no read-only input, replaced deleting first, no
    schedule on a paused stack, the current API; each fails a broken render in
    tests/policies); the render carries the replacement options, which policies cannot see,
    and schedules a refresh only where the jobs run."""
    renders = {
        "staging": lambda: monitored("staging"),
        "personal stack": lambda: personal,
        "workspace mode": lambda: run_stack("staging", WORKSPACE_MODE),
    }
    result = renders[variant]()
    assert run_policies(result, "mlops") == []
    (monitor,) = result.of_type(MONITOR)
    assert monitor.delete_before_replace
    assert monitor.replace_on_changes == ("objectId", "dataProfilingConfig.assetsDir")
    scheduled = "schedule" in monitor.inputs["dataProfilingConfig"]
    assert scheduled is (variant != "personal stack")


def _update_as(caller: str, stack: str = "staging") -> tuple[Exception | None, int]:
    """An update (not a preview) of ``stack`` with monitoring on, as ``caller``: the error the
    program raised, if any, and how many resources it had declared."""
    source = example_stack_file(stack, {"mlops:monitoring": MONITORING})
    monitor = install_mocks(stack, source, example_dir(), caller=caller)
    try:
        run_program(stack, monitor, example_dir())
    except Exception as error:
        return error, len(monitor.declared)
    return None, len(monitor.declared)


def test_an_update_by_another_identity_than_the_monitors_creator_is_refused() -> None:
    """Given staging's monitor, created by the deploy workflow as the run-as principal; when an
    operator runs ``pulumi up`` as themselves, then the program stops before declaring
    anything, naming who may deploy.

    The legacy API lets only "the original creator of the monitor" update it, from the
    workspace where it was created (databricks-sdk ``catalog.QualityMonitorsAPI.update``); the
    data-quality API wants MANAGE (or ownership) on the table, its schema or its catalog
    (``dataquality.DataQualityAPI.update_monitor``), which the run-as principal has as the
    owner of the inference log its batch job created, and creates the dashboard as the caller
    in the assets folder (``create_monitor``), which is in the run-as principal's home.
    ``get_current_user`` answers a service principal's application id as ``user_name``
    (terraform-provider-databricks ``scim/data_current_user.go``)."""
    error, declared = _update_as("ops@example.com")
    assert isinstance(error, DeployerError), error
    assert str(error).startswith(
        "Pulumi.staging.yaml: this stack's data-quality monitor is created and updated by the "
        f"stack's run-as principal ({SP['staging']}, mlops:access.run_as_service_principal)"
    )
    assert "this update runs as 'ops@example.com'" in str(error)
    assert declared == 0
    assert _update_as(SP["staging"].upper()) == (None, len(monitored("staging").resources))


def test_a_preview_and_a_personal_stack_do_not_check_the_caller(
    personal: Evaluation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A preview runs as the read-only principal and changes nothing: it never checks who
    deploys. A personal stack runs as whoever deploys it (it reads the caller only to run as
    them), so its monitor's creator is always its deployer: no refusal applies."""
    monkeypatch.setattr(pulumi.runtime, "is_dry_run", lambda: True)
    assert _update_as("preview-principal") == (None, len(monitored("staging").resources))
    assert personal.deploying_user == OFFLINE_USER
    assert "the caller of an update must be the run-as principal" not in render_tree(
        personal, "mlops"
    )
    assert CURRENT_USER in {lookup.function for lookup in monitored("staging").not_checked}
    assert "Not checked offline: the caller of an update must be the run-as principal" in (
        render_tree(monitored("staging"), "mlops")
    )


PREVIEW_GROUP = "wine-quality-staging-preview"
READ_PRIVILEGE = {"catalog": "USE_CATALOG", "schema": "USE_SCHEMA", "table": "SELECT"}
"""What reading an object by name takes when the request has no ``include_browse``, as the
provider's data sources send it (terraform-provider-databricks v1.118.0
``catalog/data_catalog.go``, ``data_schema.go``, ``data_table.go``): ``CatalogsAPI.get``
USE_CATALOG, ``SchemasAPI.get`` USE_SCHEMA, ``TablesAPI.get`` SELECT with USE_CATALOG and
USE_SCHEMA on the parents (databricks-sdk ``service/catalog.py``). BROWSE is not enough."""


@pytest.mark.parametrize("monitoring", [False, True], ids=["base stack", "with a monitor"])
def test_the_preview_group_is_granted_exactly_what_a_preview_and_a_refresh_read(
    monitoring: bool,
) -> None:
    """The reads are taken from the render, not from the grant plan: every existence check the
    program made, the Unity Catalog model a refresh reads (``RegisteredModelsAPI.get``: EXECUTE
    with USE_CATALOG/USE_SCHEMA) and the table of every monitor a refresh reads
    (``DataQualityAPI.get_monitor``: SELECT on it with USE_CATALOG/USE_SCHEMA). A read the
    preview group was not granted fails the test, and so does a grant nothing reads."""
    overrides: dict[str, Any] = {
        "mlops:access": section("staging", "access", preview_group=PREVIEW_GROUP)
    }
    if monitoring:
        overrides["mlops:monitoring"] = MONITORING
    result = run_stack("staging", overrides)
    checked = {(c.kind, c.name) for c in result.not_checked if c.is_existence_check}
    tables = {offline_id("table", name): name for kind, name in checked if kind == "table"}
    needed: set[tuple[str, str, str]] = set()
    for kind, name in checked:
        needed.add((kind, name, READ_PRIVILEGE[kind]))
    for model in result.of_type("databricks:index/registeredModel:RegisteredModel"):
        name = ".".join(model.inputs[key] for key in ("catalogName", "schemaName", "name"))
        needed.add(("model", name, "EXECUTE"))
    for monitor in result.of_type(MONITOR):
        needed.add(("table", tables[monitor.input("objectId")], "SELECT"))
    for kind, name, _ in list(needed):
        parts = name.split(".")
        if kind != "catalog":
            needed.add(("catalog", parts[0], "USE_CATALOG"))
        if kind in ("table", "model"):
            needed.add(("schema", ".".join(parts[:2]), "USE_SCHEMA"))
    granted = {
        (kind, grant.inputs[kind], privilege)
        for grant in result.of_type("databricks:index/grant:Grant")
        if grant.inputs["principal"] == PREVIEW_GROUP
        for kind in ("catalog", "schema", "table", "model")
        if kind in grant.inputs
        for privilege in grant.inputs["privileges"]
    }
    assert granted == needed
    assert (("table", "staging.wine_quality.predictions_log", "SELECT") in granted) is monitoring
