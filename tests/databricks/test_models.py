"""A stack of several models (``mlops:models``), rendered once for the whole module: three
models of the example staging file, one with serving (at champion version 3) and a monitor
fed by its endpoint's inference table (``monitoring.source: serving``), one with its own model
readers group and git branch (``access`` and ``code_source`` overrides).

``databricks.Grant`` is authoritative for its principal on its securable: it revokes that
principal's undeclared privileges there (terraform-provider-databricks
``catalog/resource_grant.go``, create and update replace the principal's privileges; see
``mlops_resources/databricks/grants.py``), so models that share a schema must share its Grant.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from mlops_resources.offline.check import run_policies
from mlops_resources.offline.evaluation import DeclaredResource, Evaluation
from tests.stacks import MONITORING, models_overrides, run_stack

KEYS = ("red", "white", "rose")
SERVING = {
    "enabled": True,
    "query_group": "wine-quality-clients",
    "inference_table": {"enabled": True},
}
JOB = "databricks:index/job:Job"
GRANT = "databricks:index/grant:Grant"
JOBS_GROUP = "wine-quality-staging-jobs"
SCHEMA = "staging.wine_quality"


@pytest.fixture(scope="module")
def three() -> Evaluation:
    models = {
        "red": {},
        "white": {"monitoring": {**MONITORING, "source": "serving"}, "serving": SERVING},
        "rose": {
            "access": {"model_readers_group": "wine-quality-rose-readers"},
            "code_source": {"branch": "rose-experiments"},
        },
    }
    return run_stack("staging", models_overrides("staging", models), champion=3)


def _ancestors(evaluation: Evaluation, resource: DeclaredResource) -> list[str]:
    by_name = {r.name: r for r in evaluation.resources}
    chain = []
    parent = resource.parent
    while parent is not None:
        chain.append(parent)
        parent = by_name[parent].parent
    return chain


def test_each_model_has_its_resources_under_its_own_component(three: Evaluation) -> None:
    components = three.of_type("mlops:databricks:ModelResources")
    assert sorted((c.name, c.parent) for c in components) == sorted(
        (f"mlops-{key}", "mlops") for key in KEYS
    )
    per_model = [
        r
        for r in three.resources
        if r.type
        in {
            JOB,
            "databricks:index/mlflowExperiment:MlflowExperiment",
            "databricks:index/registeredModel:RegisteredModel",
            "databricks:index/modelServing:ModelServing",
            "databricks:index/dataQualityMonitor:DataQualityMonitor",
        }
    ]
    # 3 x (experiment, model, 2 jobs) + white's endpoint, monitor, retraining and serving log
    # jobs.
    assert len(per_model) == 3 * 4 + 4
    owners: Counter[str] = Counter()
    for resource in per_model:
        model = next(p for p in _ancestors(three, resource) if p in {c.name for c in components})
        assert resource.name.startswith(f"{model}-"), resource.name
        owners[model] += 1
    assert owners == {"mlops-red": 4, "mlops-rose": 4, "mlops-white": 8}


def test_no_two_models_share_a_databricks_name(three: Evaluation) -> None:
    names = {
        JOB: [r.inputs["name"] for r in three.of_type(JOB)],
        "experiment": [
            r.inputs["name"]
            for r in three.of_type("databricks:index/mlflowExperiment:MlflowExperiment")
        ],
        "model": [
            r.inputs["name"]
            for r in three.of_type("databricks:index/registeredModel:RegisteredModel")
        ],
    }
    for kind, found in names.items():
        assert len(found) == len(set(found)), (kind, found)
    assert sorted(names["model"]) == sorted(f"staging_wine_quality_{key}_model" for key in KEYS)
    assert "staging-wine-quality-white-model-training-job" in names[JOB]
    endpoint = three.get("mlops-white-serving-endpoint")
    assert endpoint.inputs["name"] == "staging-wine-quality-white-endpoint"
    # The endpoint's inference table and the job unpacking it carry the key too.
    prefix = endpoint.inputs["aiGateway"]["inferenceTableConfig"]["tableNamePrefix"]
    assert prefix == "staging_wine_quality_white_serving"
    serving_log = three.get("mlops-white-serving-log-job")
    assert serving_log.inputs["name"] == "staging-wine-quality-white-serving-log-job"
    parameters = {p["name"]: p["default"] for p in serving_log.inputs["parameters"]}
    assert parameters["payload_table"] == f"{SCHEMA}.{prefix}_payload"
    assert parameters["inference_log_table"] == f"{SCHEMA}.{prefix}_processed"
    # The monitor's dashboard folder is the model's own: an assets folder cannot move.
    monitor = three.get("mlops-white-monitoring-monitor")
    assert monitor.inputs["dataProfilingConfig"]["assetsDir"].endswith("/monitoring/white")


def test_the_folder_code_source_and_grants_are_the_stacks_and_shared(three: Evaluation) -> None:
    # rose overrides code_source (another branch): a code source of its own.
    assert sorted((c.name, c.parent) for c in three.of_type("mlops:databricks:CodeSource")) == [
        ("mlops-code", "mlops"),
        ("mlops-rose-code", "mlops"),
    ]
    branches = {
        job.name: job.inputs["gitSource"]["branch"]
        for job in three.of_type(JOB)
        if job.name.endswith("-training-job")
    }
    assert branches == {
        "mlops-red-training-job": "main",
        "mlops-white-training-job": "main",
        "mlops-rose-training-job": "rose-experiments",
    }
    directories = three.of_type("databricks:index/directory:Directory")
    assert [(d.name, d.parent) for d in directories] == [("mlops-directory", "mlops")]
    assert [(g.name, g.parent) for g in three.of_type("mlops:databricks:UnityCatalogGrants")] == [
        ("mlops-grants", "mlops")
    ]


def test_models_sharing_a_securable_get_one_grant_holding_every_privilege(
    three: Evaluation,
) -> None:
    """One Grant per (principal, securable): two would revoke each other's privileges."""
    grants = three.of_type(GRANT)
    pairs = Counter(
        (
            g.inputs["principal"],
            next(k for k in ("catalog", "schema", "table", "model") if k in g.inputs),
            next(g.inputs[k] for k in ("catalog", "schema", "table", "model") if k in g.inputs),
        )
        for g in grants
    )
    assert [pair for pair, count in pairs.items() if count > 1] == []
    schema = [
        g
        for g in grants
        if g.inputs.get("schema") == SCHEMA and g.inputs["principal"] == JOBS_GROUP
    ]
    # Every model writes its output table (CREATE_TABLE), white's monitor and endpoint too.
    assert len(schema) == 1 and set(schema[0].inputs["privileges"]) == {
        "CREATE_TABLE",
        "USE_SCHEMA",
    }
    readers = {g.inputs["model"]: g.inputs["principal"] for g in grants if "model" in g.inputs}
    assert readers == {
        "staging.wine_quality.staging_wine_quality_red_model": "wine-quality-model-readers",
        "staging.wine_quality.staging_wine_quality_white_model": "wine-quality-model-readers",
        "staging.wine_quality.staging_wine_quality_rose_model": "wine-quality-rose-readers",
    }


def test_each_grant_on_a_model_waits_for_that_model(three: Evaluation) -> None:
    """The stack's grants are declared after every model's registered model (and before the
    endpoints, which wait for them): a Grant on a model depends on its resource
    (``tests/databricks/test_stack.py``, the one-model case, cites why)."""
    waits = {g.inputs["model"]: g.dependencies for g in three.of_type(GRANT) if "model" in g.inputs}
    assert waits == {
        f"{SCHEMA}.staging_wine_quality_{key}_model": (f"mlops-{key}-model-model",) for key in KEYS
    }
    endpoint = three.get("mlops-white-serving-endpoint")
    assert {g.name for g in three.of_type(GRANT)} <= set(endpoint.dependencies)


def test_each_model_has_its_own_outputs(three: Evaluation) -> None:
    outputs = three.outputs["models"]
    assert sorted(outputs) == sorted(KEYS)
    assert {key: sorted(value) for key, value in outputs.items()}["red"] == [
        "batch_inference_job_id",
        "batch_inference_job_url",
        "experiment_id",
        "experiment_name",
        "model_name",
        "training_job_id",
        "training_job_url",
    ]
    assert outputs["white"]["serving_endpoint_name"] == "staging-wine-quality-white-endpoint"
    assert outputs["white"]["retraining_job_id"]
    assert outputs["white"]["serving_log_job_id"]


def test_the_render_is_clean_and_the_policies_check_every_model(three: Evaluation) -> None:
    """Every nested input went through the SDK's typed Args classes (a key the provider schema
    lacks is a TypeError there, so the render would have failed); the policy pack, which
    checks resource by resource, finds nothing in any of the three models, and finds one
    model's job without a timeout."""
    assert three.warnings == ()
    assert run_policies(three, "mlops") == []
    job = three.get("mlops-rose-training-job")
    inputs = {k: v for k, v in job.inputs.items() if k != "timeoutSeconds"}
    resources = tuple(
        dataclasses.replace(r, inputs=inputs) if r is job else r for r in three.resources
    )
    broken = dataclasses.replace(three, resources=resources)
    assert [(v.policy, v.resource) for v in run_policies(broken, "mlops")] == [
        ("job-timeout", "mlops-rose-training-job")
    ]
