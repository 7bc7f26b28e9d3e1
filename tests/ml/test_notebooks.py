"""The notebooks are Databricks source files, and each runs end to end as its job runs it.

A stand-in ``dbutils`` gives each notebook its job parameters as widgets, keeps task values
between the tasks of one job run (or, for a notebook run by hand, returns their debug value)
and turns ``dbutils.notebook.exit`` into the notebook's result; ``spark`` is the tests' local
session and MLflow the test's local store (BatchInference runs in ``test_inference.py``). That
the widgets are exactly the jobs' parameters
is checked with the infrastructure tests (``tests/databricks/test_notebook_parameters.py``):
it evaluates the Pulumi program.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
from mlops_ml.deployment import DeploymentRefusedError
from mlops_ml.registry import CHALLENGER_ALIAS, CHAMPION_ALIAS
from mlops_ml.validation import ModelValidationError

from tests.ml.conftest import (
    NOTEBOOKS,
    FakeJobsApi,
    MlflowEnv,
    NotebookRunner,
    in_job_run,
    wine_frame,
    write_wine_csv,
)

TRAINING_NOTEBOOKS = ("Train", "ModelValidation", "ModelDeployment")
ALL_NOTEBOOKS = (
    *TRAINING_NOTEBOOKS,
    "BatchInference",
    "MonitoredMetricCheck",
    "ServingInferenceLog",
)
_WIDGET = re.compile(r"""dbutils\.widgets\.(text|get)\(\s*["']([^"']+)["']""")


def source(notebook: str) -> str:
    return (NOTEBOOKS / f"{notebook}.py").read_text()


def widgets(notebook: str, call: str) -> set[str]:
    """Names passed to ``dbutils.widgets.<call>`` in the notebook."""
    return {name for kind, name in _WIDGET.findall(source(notebook)) if kind == call}


@pytest.mark.parametrize("notebook", ALL_NOTEBOOKS)
def test_notebooks_are_databricks_source_files(notebook: str) -> None:
    text = source(notebook)
    assert text.splitlines()[0] == "# Databricks notebook source"
    assert "\n# COMMAND ----------\n" in text
    assert "# MAGIC %md" in text
    ast.parse(text)  # cells are plain Python; magic lines are comments
    # Each widget the notebook declares is read, and each one it reads is declared.
    assert widgets(notebook, "text") == widgets(notebook, "get")


MODEL = "staging.wine_quality.staging_wine_quality_model"


def job_parameters(env: MlflowEnv, csv: Path, **changes: str) -> dict[str, str]:
    """The training job's parameters, as staging sets them, for a local CSV."""
    parameters = {
        "env": "staging",
        "experiment_name": env.experiment_name,
        "model_name": MODEL,
        "model_registry": "unity_catalog",
        "training_data": str(csv),
        "label_column": "quality",
        "problem_type": "classification",
        "positive_threshold": "7",
        "holdout_percent": "20",
        "split_key_columns": "[]",
        "run_mode": "enabled",
        "validation_thresholds": json.dumps({"roc_auc": {"threshold": 0.75, "tolerance": 0.01}}),
        "baseline_check": "true",
        "model_version": "",
        "git_source_info": "url:https://github.com/example-org/wine-quality-mlops; branch:main",
    }
    return parameters | changes


def aliases(env: MlflowEnv) -> dict[str, str]:
    return {k: str(v) for k, v in env.client.get_registered_model(MODEL).aliases.items()}


def test_a_job_run_hands_its_version_from_train_to_deployment(
    run_notebook: NotebookRunner,
    mlflow_env: MlflowEnv,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    csv = write_wine_csv(tmp_path / "winequality-red.csv", wine_frame())
    parameters = job_parameters(mlflow_env, csv)
    job = FakeJobsApi(declared=dict(parameters))  # the job declares what the stack deployed
    in_job_run(monkeypatch, job)
    store: dict[str, Any] = {}

    assert run_notebook("Train", parameters, store) == f"models:/{MODEL}/1"
    assert store["Train"] == {
        "model_name": MODEL,
        "model_version": "1",
        "model_uri": f"models:/{MODEL}/1",
    }
    run = mlflow_env.client.get_run(str(mlflow_env.client.get_model_version(MODEL, "1").run_id))
    assert run.data.tags["mlflow.source.git.branch"] == "main"
    assert run.inputs is not None
    assert run.inputs.dataset_inputs[0].dataset.name == "winequality-red.csv"
    assert not mlflow_env.client.get_registered_model(MODEL).aliases

    assert run_notebook("ModelValidation", parameters, store) == "PASSED"
    assert aliases(mlflow_env) == {CHALLENGER_ALIAS: "1"}
    assert run_notebook("ModelDeployment", parameters, store) == "1"
    assert aliases(mlflow_env) == {CHAMPION_ALIAS: "1"}
    assert run_notebook.registry_uris == ["databricks-uc"] * 3

    # The next scheduled run trains v2, which fails an (impossible) threshold the stack now
    # declares: the task fails and v2 never becomes challenger.
    failing = job_parameters(
        mlflow_env, csv, validation_thresholds=json.dumps({"roc_auc": {"threshold": 0.999}})
    )
    in_job_run(monkeypatch, FakeJobsApi(declared=dict(failing), job_run_id=6000, task_run_id=6001))
    store = {}
    assert run_notebook("Train", failing, store) == f"models:/{MODEL}/2"
    with pytest.raises(ModelValidationError, match=r"roc_auc: .* < threshold 0\.9990"):
        run_notebook("ModelValidation", failing, store)
    # Someone who may run the job repairs it with the gate lowered for the run (run-now and
    # repair take job_parameters): the job's declaration applies, and v2's verdict stands.
    lowered = failing | {"run_mode": "dry_run", "validation_thresholds": "{}"}
    with pytest.raises(ModelValidationError, match="version 2 already FAILED validation"):
        run_notebook("ModelValidation", lowered, store)
    for mode in ("dry_run", "disabled"):
        with pytest.raises(DeploymentRefusedError, match="version 2 failed validation"):
            run_notebook("ModelDeployment", failing | {"run_mode": mode}, store)
    assert aliases(mlflow_env) == {CHAMPION_ALIAS: "1"}

    # Lineage: the commit the first job run checked out, from its git snapshot.
    assert run.data.tags["mlflow.source.git.commit"] == job.used_commit


def test_tasks_run_by_hand_act_on_the_version_their_parameters_name(
    run_notebook: NotebookRunner, mlflow_env: MlflowEnv, tmp_path: Path
) -> None:
    csv = write_wine_csv(tmp_path / "wine.csv", wine_frame())
    by_hand = job_parameters(mlflow_env, csv, run_mode="dry_run")
    assert run_notebook("Train", by_hand, {}, in_job=False) == f"models:/{MODEL}/1"
    with pytest.raises(LookupError, match="no model version to act on"):
        run_notebook("ModelValidation", by_hand, {}, in_job=False)

    named = by_hand | {"model_version": "1"}
    assert run_notebook("ModelValidation", named | {"run_mode": "disabled"}, {}, False) == (
        "SKIPPED"
    )
    assert not mlflow_env.client.get_registered_model(MODEL).aliases
    assert run_notebook("ModelValidation", named, {}, in_job=False) == "PASSED"
    assert run_notebook("ModelDeployment", named, {}, in_job=False) == "1"
    assert aliases(mlflow_env) == {CHAMPION_ALIAS: "1"}
