"""The real program, run under mocks for the staging and prod stack files of the example
project ``init`` renders with its defaults (``tests/stacks.py``)."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from mlops_resources.config.compute import notebook_requirements
from mlops_resources.offline.evaluation import Evaluation, OfflineMocks
from tests.stacks import classic_overrides, params, run_stack

JOB = "databricks:index/job:Job"
PERMISSIONS = "databricks:index/permissions:Permissions"
EXPERIMENT = "databricks:index/mlflowExperiment:MlflowExperiment"
SP = {
    "staging": "00000000-0000-0000-0000-00000000a001",
    "prod": "00000000-0000-0000-0000-00000000b001",
}
HOME = {stack: f"/Users/{principal}" for stack, principal in SP.items()}
"""The run-as principal's home folder: the default workspace root."""


@pytest.fixture(scope="module", params=["staging", "prod"])
def stack(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(scope="module")
def result(stack: str) -> Evaluation:
    return run_stack(stack)


@pytest.fixture(scope="module")
def classic() -> Evaluation:
    """The prod example as a classic stack file: no ``mlops:compute`` key, a job cluster
    (staging's classic variant is the workspace-registry one, tests/databricks/test_variants.py)."""
    return run_stack("prod", classic_overrides("prod"))


def test_declares_the_mlops_resources_under_typed_components(result: Evaluation) -> None:
    by_name = {r.name: (r.type, r.parent) for r in result.resources}
    assert by_name["mlops"] == ("mlops:databricks:MlopsStack", None)
    assert by_name["mlops-experiment-experiment"] == (
        "databricks:index/mlflowExperiment:MlflowExperiment",
        "mlops-experiment",
    )
    assert by_name["mlops-model-model"] == (
        "databricks:index/registeredModel:RegisteredModel",
        "mlops-model",
    )
    assert by_name["mlops-training-job"] == (JOB, "mlops-training")
    assert by_name["mlops-batch-inference-job"] == (JOB, "mlops-batch-inference")
    components = {r.name: r.type for r in result.resources if not r.custom}
    assert components == {
        "mlops": "mlops:databricks:MlopsStack",
        "mlops-code": "mlops:databricks:CodeSource",
        "mlops-experiment": "mlops:databricks:Experiment",
        "mlops-model": "mlops:databricks:Model",
        "mlops-training": "mlops:databricks:TrainingJob",
        "mlops-batch-inference": "mlops:databricks:BatchInferenceJob",
        "mlops-grants": "mlops:databricks:UnityCatalogGrants",
    }
    assert all(r.parent for r in result.resources if r.name != "mlops")


def test_names_carry_the_environment(result: Evaluation, stack: str) -> None:
    assert result.get("mlops-training-job").inputs["name"] == (
        f"{stack}-wine-quality-model-training-job"
    )
    assert result.get("mlops-batch-inference-job").inputs["name"] == (
        f"{stack}-wine-quality-batch-inference-job"
    )
    assert result.get("mlops-experiment-experiment").inputs["name"] == (
        f"{HOME[stack]}/wine-quality/{stack}/{stack}-wine-quality-experiment"
    )
    assert (
        result.get("mlops-experiment-directory").inputs["path"]
        == f"{HOME[stack]}/wine-quality/{stack}"
    )
    model = result.get("mlops-model-model").inputs
    assert (model["catalogName"], model["schemaName"], model["name"]) == (
        stack,
        "wine_quality",
        f"{stack}_wine_quality_model",
    )


def test_training_job_runs_three_tasks_in_order_in_one_environment(result: Evaluation) -> None:
    job = result.get("mlops-training-job").inputs
    tasks = job["tasks"]
    assert [t["taskKey"] for t in tasks] == ["ModelDeployment", "ModelValidation", "Train"]
    depends = {t["taskKey"]: [d["taskKey"] for d in t.get("dependsOns", [])] for t in tasks}
    assert depends == {
        "Train": [],
        "ModelValidation": ["Train"],
        "ModelDeployment": ["ModelValidation"],
    }
    assert [e["environmentKey"] for e in job["environments"]] == ["default"]
    assert {t["environmentKey"] for t in tasks} == {"default"}
    assert {t["notebookTask"]["notebookPath"] for t in tasks} == {
        "notebooks/Train",
        "notebooks/ModelValidation",
        "notebooks/ModelDeployment",
    }


def test_training_parameters_match_config(result: Evaluation, stack: str) -> None:
    assert params(result, "mlops-training-job") == {
        "env": stack,
        "experiment_name": f"{HOME[stack]}/wine-quality/{stack}/{stack}-wine-quality-experiment",
        "model_name": f"{stack}.wine_quality.{stack}_wine_quality_model",
        "model_registry": "unity_catalog",
        # Prod enforces validation, which needs a row id: the sample CSV has none.
        "training_data": {
            "staging": "/databricks-datasets/wine-quality/winequality-red.csv",
            "prod": "prod.wine_quality.training",
        }[stack],
        "label_column": "quality",
        "problem_type": "classification",
        "positive_threshold": "7",
        "holdout_percent": "20",
        "split_key_columns": {"staging": "[]", "prod": '["wine_id"]'}[stack],
        "run_mode": {"staging": "dry_run", "prod": "enabled"}[stack],
        "validation_thresholds": json.dumps(
            {
                "f1_score": {"threshold": 0.2, "tolerance": 0.05},
                "roc_auc": {"threshold": 0.75, "tolerance": 0.01},
            }
        ),
        "baseline_check": "true",
        "model_version": "",
        "git_source_info": "url:https://github.com/example-org/wine-quality-mlops; "
        + {"staging": "branch:main", "prod": "tag:v0.1.0"}[stack],
    }


def test_batch_job_parameters_name_the_tables(result: Evaluation, stack: str) -> None:
    assert params(result, "mlops-batch-inference-job") == {
        "env": stack,
        "input_table_name": f"{stack}.wine_quality.scoring_input",
        "output_table_name": f"{stack}.wine_quality.predictions",
        "model_name": f"{stack}.wine_quality.{stack}_wine_quality_model",
        # Monitoring is off: no inference log (the parameters stay, for the notebook's widgets).
        "inference_log_table": "",
        "label_column": "",
    }
    tasks = result.get("mlops-batch-inference-job").inputs["tasks"]
    assert [(t["taskKey"], t["notebookTask"]["notebookPath"]) for t in tasks] == [
        ("BatchInference", "notebooks/BatchInference")
    ]


def test_schedules_come_from_the_stack_file(result: Evaluation, stack: str) -> None:
    training = result.get("mlops-training-job").inputs["schedule"]
    batch = result.get("mlops-batch-inference-job").inputs["schedule"]
    assert training == {
        "quartzCronExpression": {"staging": "0 0 9 * * ?", "prod": "0 0 9 ? * MON"}[stack],
        "timezoneId": "UTC",
        "pauseStatus": "UNPAUSED",
    }
    assert batch == {
        "quartzCronExpression": "0 0 11 * * ?",
        "timezoneId": "UTC",
        "pauseStatus": "UNPAUSED",
    }


def test_jobs_are_hardened(result: Evaluation, stack: str) -> None:
    """Among the hardening: each job runs as the configured service principal. Without
    ``run_as`` a job runs as the identity that created it, and ``service_principal_name`` takes
    the application id (terraform-provider-databricks v1.118 ``docs/resources/job.md``, "run_as
    Configuration Block")."""
    for name in ("mlops-training-job", "mlops-batch-inference-job"):
        job = result.get(name).inputs
        assert job["runAs"] == {"servicePrincipalName": SP[stack]}
        assert job["emailNotifications"] == {"onFailures": ["ml-oncall@example.com"]}
        assert job["notificationSettings"] == {"noAlertForSkippedRuns": True}
        assert job["timeoutSeconds"] == 7200 and isinstance(job["timeoutSeconds"], int)
        assert job["maxConcurrentRuns"] == 1
        assert job["editMode"] == "UI_LOCKED"
        assert job["tags"] == {"env": stack, "managed-by": "pulumi", "project": "wine-quality"}
        retries = {"staging": 1, "prod": 2}[stack]
        assert {(t["maxRetries"], t["retryOnTimeout"]) for t in job["tasks"]} == {(retries, False)}
        # Staging follows main; prod runs an immutable tag a pull request promotes.
        ref = {"staging": {"branch": "main"}, "prod": {"tag": "v0.1.0"}}[stack]
        assert job["gitSource"] == {
            "url": "https://github.com/example-org/wine-quality-mlops",
            "provider": "gitHub",
            **ref,
        }
        assert {t["notebookTask"]["source"] for t in job["tasks"]} == {"GIT"}


BUDGET_POLICY = {
    "staging": "00000000-0000-0000-0000-00000000c001",
    "prod": "00000000-0000-0000-0000-00000000d001",
}


def test_serverless_jobs_pin_their_environment_and_carry_the_budget_policy(
    result: Evaluation, stack: str
) -> None:
    """A task that names no cluster runs on serverless compute (provider
    ``docs/resources/job.md`` v1.118.0, "task Configuration Block"). A notebook task without
    an ``environment_key`` gets the notebook's own environment, which a plain ``.py`` notebook
    does not carry; a job environment "will override the notebook environment"
    (databricks-sdk ``jobs.JobSettings.environments``): so every notebook task names the job's
    environment, pinned to version 5 with ``notebooks/requirements.txt`` as its dependencies.
    The budget policy attributes the serverless usage ("custom_tags ... inherited from
    serverless budget policies", docs "Monitor the cost of serverless compute"); the job tags
    stay as on classic compute."""
    for name in ("mlops-training-job", "mlops-batch-inference-job"):
        job = result.get(name).inputs
        assert "jobClusters" not in job
        assert job["environments"] == [
            {
                "environmentKey": "default",
                "spec": {
                    "environmentVersion": "5",
                    "dependencies": list(notebook_requirements()),
                },
            }
        ]
        assert "scikit-learn==1.6.1" in job["environments"][0]["spec"]["dependencies"]
        assert job["budgetPolicyId"] == BUDGET_POLICY[stack]
        for task in job["tasks"]:
            assert "jobClusterKey" not in task and "newCluster" not in task
            assert task["environmentKey"] == "default"
        assert job["tags"] == {"env": stack, "managed-by": "pulumi", "project": "wine-quality"}


def test_classic_job_cluster_is_pinned_tagged_and_unity_catalog_capable(
    classic: Evaluation,
) -> None:
    """A stack file without ``mlops:compute`` keeps today's job cluster, and nothing of the
    serverless environment."""
    for name in ("mlops-training-job", "mlops-batch-inference-job"):
        job = classic.get(name).inputs
        (cluster,) = job["jobClusters"]
        spec = cluster["newCluster"]
        assert spec["sparkVersion"] == "15.4.x-cpu-ml-scala2.12"
        assert spec["nodeTypeId"] == "i3.xlarge"
        assert spec["numWorkers"] == 3
        assert isinstance(spec["numWorkers"], int)
        assert spec["dataSecurityMode"] == "SINGLE_USER"
        assert spec["customTags"] == {
            "clusterSource": "mlops-stacks-pulumi",
            "cost-center": "ml-platform",
            "env": "prod",
            "project": "wine-quality",
        }
        assert {t["jobClusterKey"] for t in job["tasks"]} == {cluster["jobClusterKey"]}
        assert all("environmentKey" not in t for t in job["tasks"])
        assert "environments" not in job and "budgetPolicyId" not in job
        assert job["tags"] == {"env": "prod", "managed-by": "pulumi", "project": "wine-quality"}


def test_one_permission_level_per_principal(result: Evaluation, stack: str) -> None:
    """The provider drifts forever when one principal holds two levels on an object (the
    ``databricks.Permissions`` docs), and refuses a non-management level for the caller
    ("cannot remove management permissions for the current user",
    ``permissions/permission_definitions.go``): the run-as principal, which deploys the
    stack, holds only management levels (IS_OWNER on jobs, CAN_MANAGE elsewhere).

    The stack folder's ACL reaches everything in it: "Objects in a folder inherit all
    permissions settings of that folder" (Databricks docs, "Share workspace objects using
    folders", https://learn.microsoft.com/en-us/azure/databricks/security/auth-authz/access-control/workspace-acl;
    provider ``docs/resources/permissions.md``, "Folder usage": notebooks and experiments in a
    folder inherit them). Readers get CAN_READ, one of the folder levels CAN_READ, CAN_RUN,
    CAN_EDIT and CAN_MANAGE, the last the only management one (``permission_definitions.go``,
    ``directory_path``).

    Each job pins its owner to the run-as principal: without an IS_OWNER entry the provider
    adds the caller as owner and hides that entry from the caller only
    (``permissions/permission_definitions.go``: ``addOwnerPermissionIfNeeded``,
    ``prepareResponse``; TF #2468), so a preview or drift check run by another principal would
    show a change on every run."""
    acls = {r.name: r.inputs["accessControls"] for r in result.of_type(PERMISSIONS)}
    owner = {"servicePrincipalName": SP[stack], "permissionLevel": "IS_OWNER"}
    manager = {"servicePrincipalName": SP[stack], "permissionLevel": "CAN_MANAGE"}
    readers = {"groupName": "users", "permissionLevel": "CAN_READ"}
    job_acl = [
        {"groupName": "ml-engineers", "permissionLevel": "CAN_MANAGE_RUN"},
        {"groupName": "users", "permissionLevel": "CAN_VIEW"},
        owner,
    ]
    assert acls == {
        "mlops-training-permissions": job_acl,
        "mlops-batch-inference-permissions": job_acl,
        "mlops-experiment-permissions": [readers, manager],
        "mlops-experiment-directory-permissions": [readers, manager],
    }


def test_unity_catalog_model_is_owned_by_the_run_as_principal(
    result: Evaluation, stack: str
) -> None:
    """Only a registered model's owner may create versions and set aliases (RegisteredModels
    API docs); the training job, running as the run-as principal, does both."""
    model = result.get("mlops-model-model").inputs
    assert model["owner"] == SP[stack]
    assert result.of_type("databricks:index/grants:Grants") == []


def test_unity_catalog_grants_go_to_account_groups(result: Evaluation, stack: str) -> None:
    """Unity Catalog refuses workspace-local groups such as ``users`` ("Could not find
    principal": SQL reference "Principal"; TF #5413, #4680), and ``databricks.Grant`` is
    authoritative for its principal on its securable (``catalog/resource_grant.go``): grants go
    to the configured account groups, one resource per pair, never to the run-as principal,
    whose own grants (CREATE_MODEL, MANAGE) the stack must not revoke. Readers of the model
    need USE_CATALOG and USE_SCHEMA besides EXECUTE (docs, "Upgrade ML workflows to target
    models in Unity Catalog")."""
    grants = {
        r.name.removeprefix("mlops-grants-"): (r.inputs["principal"], r.inputs["privileges"])
        for r in result.of_type("databricks:index/grant:Grant")
    }
    jobs, readers = f"wine-quality-{stack}-jobs", "wine-quality-model-readers"
    model = f"{stack}.wine_quality.{stack}_wine_quality_model"
    assert grants == {
        f"catalog-{stack}@{jobs}": (jobs, ["USE_CATALOG"]),
        f"schema-{stack}.wine_quality@{jobs}": (jobs, ["CREATE_TABLE", "USE_SCHEMA"]),
        f"table-{stack}.wine_quality.scoring_input@{jobs}": (jobs, ["SELECT"]),
        # Prod trains on a table with a row id (run_mode enabled needs split_key_columns).
        **(
            {f"table-{stack}.wine_quality.training@{jobs}": (jobs, ["SELECT"])}
            if stack == "prod"
            else {}
        ),
        f"catalog-{stack}@{readers}": (readers, ["USE_CATALOG"]),
        f"schema-{stack}.wine_quality@{readers}": (readers, ["USE_SCHEMA"]),
        f"model-{model}@{readers}": (readers, ["EXECUTE"]),
    }
    assert result.get(f"mlops-grants-model-{model}@{readers}").inputs["model"] == model
    principals = {r.inputs["principal"] for r in result.of_type("databricks:index/grant:Grant")}
    assert SP[stack] not in principals


def test_a_grant_on_the_model_waits_for_the_model(result: Evaluation, stack: str) -> None:
    """The Grant names the model by a string from config, so nothing else orders the two, and
    Pulumi creates resources that do not depend on each other in parallel: on a new stack's
    first deploy the grant would be made on a model that does not exist yet. The provider's
    own acceptance test grants on ``databricks_registered_model.model.id`` (an implicit
    dependency; terraform-provider-databricks#2771, ``internal/acceptance/
    registered_model_test.go``); the same first-apply failure on a catalog ("does not exist",
    fixed by a dependency): AbhiDatabricks/databricks-uc-quickstart#13. The other grants are on
    objects that exist before the deploy (checked at preview)."""
    model = f"{stack}.wine_quality.{stack}_wine_quality_model"
    grants = result.of_type("databricks:index/grant:Grant")
    waits = {g.name: g.dependencies for g in grants}
    on_model = f"mlops-grants-model-{model}@wine-quality-model-readers"
    assert waits.pop(on_model) == ("mlops-model-model",)
    assert set(waits.values()) == {()}


def test_protection_follows_the_stack(result: Evaluation, stack: str) -> None:
    protected = {r.name for r in result.resources if r.protect and r.retain_on_delete}
    if stack == "prod":
        assert protected == {
            "mlops-experiment-directory",
            "mlops-experiment-experiment",
            "mlops-model-model",
        }
    else:
        assert protected == set()
    assert not any(r.protect for r in result.of_type(JOB))


def test_outputs(result: Evaluation, stack: str) -> None:
    outputs = result.outputs
    host = f"https://dbc-{stack}-0000.cloud.databricks.com"
    assert outputs["experiment_name"] == (
        f"{HOME[stack]}/wine-quality/{stack}/{stack}-wine-quality-experiment"
    )
    assert outputs["model_name"] == f"{stack}.wine_quality.{stack}_wine_quality_model"
    assert outputs["training_job_url"] == f"{host}/#job/{outputs['training_job_id']}"
    assert outputs["batch_inference_job_url"] == f"{host}/#job/{outputs['batch_inference_job_id']}"
    assert outputs["experiment_id"]
    assert outputs["training_job_id"] != outputs["batch_inference_job_id"]


def test_experiment_declares_no_deprecated_description(result: Evaluation) -> None:
    """``databricks_mlflow_experiment.description`` is deprecated and never sent to the API
    (``mlflow/resource_mlflow_experiment.go``: "the API never accepts description"); the SDK
    warns on every run."""
    assert "description" not in result.get("mlops-experiment-experiment").inputs


def test_jobs_name_the_configured_experiment_and_model_and_wait_for_them(
    stack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The provider keeps an experiment's name as the workspace reads it back
    (terraform-provider-databricks v1.118 ``mlflow/resource_mlflow_experiment.go``: Read copies
    ``GetExperiment``'s experiment into state) and suppresses only a ``/Workspace`` prefix or
    trailing ``/`` difference from the configured name (``experimentNameSuppressDiff``, PR
    #4606 for TF #4601; its test ``TestExperimentNameSuppressDiff`` pairs state
    ``/Workspace/EXPERIMENT`` with config ``/EXPERIMENT``; databricks/cli #4285: the name read
    back starts with ``/Workspace/Users``). A job parameter taken from that output would change
    with the read-back form, so the jobs take the configured names and an explicit dependency.

    The mocks echo inputs as outputs, and Pulumi adds the resources an input comes from to the
    dependencies anyway (``pulumi/runtime/resource.py``, ``prepare_resource``): here the
    experiment is read back with the ``/Workspace`` prefix, so a job reading the output would
    pass the prefix on and fail this test."""
    original = OfflineMocks.new_resource

    def workspace_read_back(
        mocks: OfflineMocks, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str, dict[str, Any]]:
        resource_id, outputs = original(mocks, args)
        if args.typ == EXPERIMENT:
            outputs["name"] = f"/Workspace{outputs['name']}"
        return resource_id, outputs

    monkeypatch.setattr(OfflineMocks, "new_resource", workspace_read_back)
    result = run_stack(stack)
    configured = f"{HOME[stack]}/wine-quality/{stack}/{stack}-wine-quality-experiment"
    # The read-back form reaches the experiment's outputs ...
    assert result.outputs["experiment_name"] == f"/Workspace{configured}"
    # ... but not the job, which names the experiment and the model as configured.
    training = result.get("mlops-training-job")
    batch = result.get("mlops-batch-inference-job")
    assert params(result, "mlops-training-job")["experiment_name"] == configured
    model = f"{stack}.wine_quality.{stack}_wine_quality_model"
    assert params(result, "mlops-training-job")["model_name"] == model
    assert params(result, "mlops-batch-inference-job")["model_name"] == model
    assert set(training.dependencies) == {"mlops-experiment-experiment", "mlops-model-model"}
    assert set(batch.dependencies) == {"mlops-model-model"}


def test_dedicated_cluster_belongs_to_the_run_as_principal(classic: Evaluation) -> None:
    """ML runtimes run only in dedicated (SINGLE_USER) access mode (docs, "Standard compute
    requirements and limitations": "Databricks Runtime for ML is not supported"); the
    cluster's user is the run-as principal, from config."""
    for name in ("mlops-training-job", "mlops-batch-inference-job"):
        (cluster,) = classic.get(name).inputs["jobClusters"]
        assert cluster["newCluster"]["dataSecurityMode"] == "SINGLE_USER"
        assert cluster["newCluster"]["singleUserName"] == SP["prod"]
        assert "-ml-" in cluster["newCluster"]["sparkVersion"]


def test_the_stack_folder_is_deleted_recursively_unless_protected(
    result: Evaluation, stack: str
) -> None:
    """The Workspace API refuses to delete a non-empty folder unless the delete is recursive
    (DIRECTORY_NOT_EMPTY; ``databricks_directory.delete_recursive`` defaults to false:
    ``workspace/resource_directory.go``). An unprotected stack's folder goes with its content
    on destroy; a protected one is kept (retain_on_delete) and never deleted recursively."""
    directory = result.get("mlops-experiment-directory")
    assert directory.inputs["deleteRecursive"] is (stack != "prod")
    assert directory.protect is (stack == "prod")
