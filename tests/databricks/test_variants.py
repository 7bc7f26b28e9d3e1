"""The same program with other choices a stack file can make: registry, code source,
personal dev stacks, optional access settings."""

from __future__ import annotations

import base64

import pytest

from mlops_resources import PROJECT_DIR
from mlops_resources.config.reading import ConfigError
from mlops_resources.databricks.code_source import support_files
from mlops_resources.offline.evaluation import OFFLINE_USER, Evaluation
from mlops_resources.offline.render import render_tree
from tests.stacks import (
    classic_cluster,
    classic_overrides,
    existing_tables_overrides,
    params,
    personal_stack_overrides,
    run_stack,
    section,
    workspace_registry_overrides,
)

JOB = "databricks:index/job:Job"

SP = "00000000-0000-0000-0000-00000000a001"
HOME = f"/Users/{SP}"


def test_workspace_registry_declares_mlflow_model_with_permissions() -> None:
    """The run-as principal, which deploys the stack, gets CAN_MANAGE on the model: the
    provider refuses a non-management level for the caller ("cannot remove management
    permissions for the current user", ``permissions/permission_definitions.go``,
    ``validate``), and CAN_MANAGE is the registered model's only management level there
    (CAN_MANAGE_PRODUCTION_VERSIONS is not; it failed the apply)."""
    result = run_stack("staging", workspace_registry_overrides())
    assert result.of_type("databricks:index/registeredModel:RegisteredModel") == []
    assert result.of_type("databricks:index/grants:Grants") == []
    assert result.of_type("databricks:index/grant:Grant") == []
    model = result.get("mlops-model-model")
    assert model.type == "databricks:index/mlflowModel:MlflowModel"
    assert model.inputs["name"] == "staging-wine-quality-model"
    assert model.inputs["tags"] == [
        {"key": "env", "value": "staging"},
        {"key": "project", "value": "wine-quality"},
    ]
    acl = result.get("mlops-model-permissions").inputs
    # The registry's numeric id (a mock value here), not the model name.
    assert acl["registeredModelId"].isdigit()
    assert acl["accessControls"] == [
        {"groupName": "users", "permissionLevel": "CAN_READ"},
        {"servicePrincipalName": SP, "permissionLevel": "CAN_MANAGE"},
    ]
    assert result.outputs["model_name"] == "staging-wine-quality-model"
    training = params(result, "mlops-training-job")
    assert training["model_name"] == "staging-wine-quality-model"
    assert training["model_registry"] == "workspace"


def test_workspace_code_source_uploads_notebooks_and_modules() -> None:
    result = run_stack("staging", {"mlops:code_source": {"type": "workspace"}})
    notebooks = {r.name: r.inputs for r in result.of_type("databricks:index/notebook:Notebook")}
    folder = f"{HOME}/wine-quality/staging/notebooks"
    assert sorted(n["path"] for n in notebooks.values()) == [
        f"{folder}/BatchInference",
        f"{folder}/ModelDeployment",
        f"{folder}/ModelValidation",
        f"{folder}/Train",
    ]
    # Every folder an upload needs is a resource of its own, created after its parent and
    # deleted before it, recursively. An upload creates a missing parent folder itself
    # (provider workspace/resource_notebook.go, resource_workspace_file.go: mkdirs, then
    # retry), and such a folder belongs to no resource: removing the uploads (code_source
    # back to git, or destroying a stack whose folder is protected and kept) would leave it
    # behind. A folder goes with its content only on a recursive delete
    # (workspace/resource_directory.go: delete_recursive, default false). Notebooks also wait
    # for the modules they import.
    folders = {r.name: r for r in result.of_type("databricks:index/directory:Directory")}
    assert folders["mlops-code-folder"].inputs == {"deleteRecursive": True, "path": folder}
    assert folders["mlops-code-folder"].dependencies == ("mlops-experiment-directory",)
    package = folders["mlops-code-folder-mlops_ml"]
    assert package.inputs == {"deleteRecursive": True, "path": f"{folder}/mlops_ml"}
    assert package.dependencies == ("mlops-code-folder",)
    files = result.of_type("databricks:index/workspaceFile:WorkspaceFile")
    assert files, "the notebooks' package is uploaded"
    assert {f.dependencies for f in files} == {("mlops-code-folder-mlops_ml",)}
    assert {n.dependencies for n in result.of_type("databricks:index/notebook:Notebook")} == {
        tuple(sorted(["mlops-code-folder", *(f.name for f in files)]))
    }
    train = notebooks["mlops-code-notebook-Train"]
    assert train["language"] == "PYTHON"
    assert (
        base64.b64decode(train["contentBase64"])
        == (PROJECT_DIR / "notebooks/Train.py").read_bytes()
    )
    assert sorted(f.inputs["path"] for f in files) == sorted(
        f"{folder}/{p.relative_to(PROJECT_DIR / 'notebooks').as_posix()}" for p in support_files()
    )
    for name in ("mlops-training-job", "mlops-batch-inference-job"):
        job = result.get(name).inputs
        assert "gitSource" not in job
        for task in job["tasks"]:
            assert task["notebookTask"]["source"] == "WORKSPACE"
            assert task["notebookTask"]["notebookPath"] == f"{folder}/{task['taskKey']}"
    assert params(result, "mlops-training-job")["git_source_info"] == f"workspace:{folder}"


def test_git_branch_instead_of_tag() -> None:
    source = section("prod", "code_source", branch="release")
    del source["tag"]
    result = run_stack("prod", {"mlops:code_source": source})
    assert result.get("mlops-training-job").inputs["gitSource"] == {
        "url": "https://github.com/example-org/wine-quality-mlops",
        "provider": "gitHub",
        "branch": "release",
    }
    assert params(result, "mlops-training-job")["git_source_info"] == (
        "url:https://github.com/example-org/wine-quality-mlops; branch:release"
    )


def test_personal_dev_stack_prefixes_names_and_pauses_schedules() -> None:
    result = run_stack("staging", personal_stack_overrides("alice"), as_stack="dev-alice")
    jobs = {r.name: r.inputs for r in result.of_type(JOB)}
    assert jobs["mlops-training-job"]["name"] == "dev-alice-wine-quality-model-training-job"
    assert jobs["mlops-batch-inference-job"]["name"] == "dev-alice-wine-quality-batch-inference-job"
    assert {j["schedule"]["pauseStatus"] for j in jobs.values()} == {"PAUSED"}
    assert result.outputs["model_name"] == "staging.wine_quality.dev_alice_wine_quality_model"
    # In the home of the user who deploys it (offline, the mocks' stand-in).
    assert result.deploying_user == OFFLINE_USER
    assert result.outputs["experiment_name"] == (
        f"/Users/{OFFLINE_USER}/wine-quality/dev-alice/dev-alice-wine-quality-experiment"
    )
    assert f"shown offline as {OFFLINE_USER}." in render_tree(result, "mlops")
    assert result.of_type("databricks:index/grant:Grant") == []


def test_a_copy_of_staging_as_a_personal_stack_is_refused_before_anything_is_declared() -> None:
    """A dev stack copied from staging would overwrite staging's predictions and manage
    staging's grants (two Grant resources on one pair revoke each other's privileges:
    ``catalog/resource_grant.go``)."""
    with pytest.raises(ConfigError) as caught:
        run_stack("staging", as_stack="dev-alice")
    assert caught.value.problems[0].startswith(
        "mlops:batch_inference.output_table_name: 'staging.wine_quality.predictions' is a "
        "table of Pulumi.staging.yaml"
    )


def test_stack_file_can_pause_a_schedule() -> None:
    batch = section("prod", "batch_inference")
    batch["schedule"]["paused"] = True
    result = run_stack("prod", {"mlops:batch_inference": batch})
    assert result.get("mlops-batch-inference-job").inputs["schedule"]["pauseStatus"] == "PAUSED"
    assert result.get("mlops-training-job").inputs["schedule"]["pauseStatus"] == "UNPAUSED"


def test_without_operators_emails_or_groups() -> None:
    result = run_stack(
        "staging",
        {
            "mlops:access": {"readers_group": "data-scientists", "run_as_service_principal": SP},
            "mlops:jobs": {},
        },
    )
    for name in ("mlops-training-job", "mlops-batch-inference-job"):
        job = result.get(name).inputs
        assert job["runAs"] == {"servicePrincipalName": SP}
        # An empty notifications block would read back as absent: a diff on every preview.
        assert "emailNotifications" not in job
        assert job["timeoutSeconds"] == 14400
    assert result.get("mlops-training-permissions").inputs["accessControls"] == [
        {"groupName": "data-scientists", "permissionLevel": "CAN_VIEW"},
        {"servicePrincipalName": SP, "permissionLevel": "IS_OWNER"},
    ]
    assert result.get("mlops-model-model").inputs["owner"] == SP
    # No group configured: no Unity Catalog grant is declared at all.
    assert result.of_type("databricks:index/grant:Grant") == []
    assert not [r for r in result.resources if r.type == "mlops:databricks:UnityCatalogGrants"]


def test_existing_output_table_and_training_table_get_grants() -> None:
    result = run_stack("staging", existing_tables_overrides("shared.scores.wine_predictions"))
    jobs = "@wine-quality-staging-jobs"
    grants = {
        r.name.removeprefix("mlops-grants-"): r.inputs["privileges"]
        for r in result.of_type("databricks:index/grant:Grant")
        if r.name.endswith(jobs)
    }
    # Batch inference overwrites an existing output table and reads it back: SELECT and
    # MODIFY on it, and no CREATE_TABLE on its schema.
    assert grants == {
        f"catalog-raw{jobs}": ["USE_CATALOG"],
        f"catalog-shared{jobs}": ["USE_CATALOG"],
        f"catalog-staging{jobs}": ["USE_CATALOG"],
        f"schema-raw.wine{jobs}": ["USE_SCHEMA"],
        f"schema-shared.scores{jobs}": ["USE_SCHEMA"],
        f"schema-staging.wine_quality{jobs}": ["USE_SCHEMA"],
        f"table-raw.wine.samples{jobs}": ["SELECT"],
        f"table-shared.scores.wine_predictions{jobs}": ["MODIFY", "SELECT"],
        f"table-staging.wine_quality.scoring_input{jobs}": ["SELECT"],
    }


def test_logical_names_do_not_change_with_config_values() -> None:
    """Nor with the compute: a serverless stack moved back to a classic cluster (or a classic
    one moved to serverless) keeps every logical name, so its jobs are updated in place. The
    provider replaces no job on any change: no field of the job schema is ``force_new``
    (``jobs/resource_job.go``; ``common/reflect_resource.go``, ``handleForceNew``), and an
    update resets the same job's settings (``jobs/jobs_api_go_sdk.go``, ``Update``:
    ``Jobs.Reset`` with the job id), v1.118.0."""

    def names(result: Evaluation) -> set[str]:
        return {r.name for r in result.resources if not r.type.endswith("grant:Grant")}

    base = run_stack("staging")
    changed = run_stack(
        "staging",
        {
            **classic_overrides("staging"),
            "mlops:project_name": "churn-model",
            "mlops:cluster": {**classic_cluster("staging"), "num_workers": 8},
            "mlops:model": section("staging", "model", catalog="ml", schema="churn"),
        },
    )
    assert names(changed) == names(base)
    job = changed.get("mlops-training-job").inputs
    assert job["name"] == "staging-churn-model-model-training-job"
    assert job["jobClusters"][0]["newCluster"]["numWorkers"] == 8
    assert "environments" in base.get("mlops-training-job").inputs


def test_regression_target_and_validation_settings_become_job_parameters() -> None:
    training = section(
        "prod",
        "training",
        problem_type="regression",
        validation={
            "holdout_percent": 25,
            "split_key_columns": ["wine_id"],
            "baseline_check": False,
            "thresholds": {
                "root_mean_squared_error": {"threshold": 0.7},
                "r2_score": {"tolerance": 0.02, "threshold": 0.3},
            },
        },
    )
    del training["positive_threshold"]
    result = run_stack("prod", {"mlops:training": training})
    parameters = params(result, "mlops-training-job")
    assert parameters["problem_type"] == "regression"
    assert parameters["positive_threshold"] == ""
    assert (parameters["holdout_percent"], parameters["split_key_columns"]) == ("25", '["wine_id"]')
    assert parameters["baseline_check"] == "false"
    # Sorted JSON with every field, so a reordered stack file gives the same parameter.
    assert parameters["validation_thresholds"] == (
        '{"r2_score": {"threshold": 0.3, "tolerance": 0.02}, '
        '"root_mean_squared_error": {"threshold": 0.7, "tolerance": 0.0}}'
    )
