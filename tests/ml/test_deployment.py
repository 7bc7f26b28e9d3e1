"""ModelDeployment points ``champion`` at exactly the handed-off version."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from mlops_ml.deployment import DeploymentRefusedError, deploy_version
from mlops_ml.registry import CHALLENGER_ALIAS, CHAMPION_ALIAS
from mlops_ml.validation import ModelValidationError, validate_version
from sklearn.dummy import DummyClassifier

from tests.ml.conftest import MlflowEnv, loader, normalized_wine_frame

MODEL = "wine_model"
THRESHOLDS = {"roc_auc": {"threshold": 0.75, "tolerance": 0.01}}
LOAD = loader(normalized_wine_frame())


def aliases(env: MlflowEnv) -> dict[str, str]:
    return {k: str(v) for k, v in env.client.get_registered_model(MODEL).aliases.items()}


def test_deployment_moves_champion_to_exactly_the_handed_off_version(
    mlflow_env: MlflowEnv,
) -> None:
    mlflow_env.train(MODEL)
    validate_version(MODEL, "1", "enabled", THRESHOLDS, load_data=LOAD)
    first = deploy_version(MODEL, "1", "enabled")
    assert (first.version, first.previous_champion, first.validation_status) == (
        "1",
        None,
        "PASSED",
    )
    assert aliases(mlflow_env) == {CHAMPION_ALIAS: "1"}

    # This run registers and validates v2; meanwhile another run registers and validates v3,
    # which takes `challenger`. This run still deploys v2, and leaves v3 its alias.
    mlflow_env.train(MODEL)
    validate_version(MODEL, "2", "enabled", THRESHOLDS, load_data=LOAD)
    mlflow_env.train(MODEL)
    validate_version(MODEL, "3", "enabled", THRESHOLDS, load_data=LOAD)
    assert aliases(mlflow_env) == {CHAMPION_ALIAS: "1", CHALLENGER_ALIAS: "3"}
    second = deploy_version(MODEL, "2", "enabled")
    assert (second.version, second.previous_champion) == ("2", "1")
    assert aliases(mlflow_env) == {CHAMPION_ALIAS: "2", CHALLENGER_ALIAS: "3"}
    deploy_version(MODEL, "3", "enabled")
    assert aliases(mlflow_env) == {CHAMPION_ALIAS: "3"}


def test_what_each_run_mode_deploys(mlflow_env: MlflowEnv) -> None:
    mlflow_env.train(MODEL, estimator=DummyClassifier(strategy="most_frequent"))
    with pytest.raises(ModelValidationError):
        validate_version(MODEL, "1", "enabled", THRESHOLDS, load_data=LOAD)
    # Failed in enabled mode: refused whatever the mode now (e.g. a repair run of this task).
    for mode in ("enabled", "dry_run", "disabled"):
        with pytest.raises(DeploymentRefusedError, match="version 1 failed validation in enabled"):
            deploy_version(MODEL, "1", mode)
    assert aliases(mlflow_env) == {}

    # dry_run deploys what failed in dry_run: that is what dry_run means.
    mlflow_env.train(MODEL, estimator=DummyClassifier(strategy="most_frequent"))
    assert validate_version(MODEL, "2", "dry_run", THRESHOLDS, load_data=LOAD).status == "FAILED"
    assert deploy_version(MODEL, "2", "dry_run").validation_status == "FAILED"
    assert aliases(mlflow_env) == {CHAMPION_ALIAS: "2"}

    # enabled deploys only PASSED: not a version never validated, nor one skipped.
    mlflow_env.train(MODEL)
    with pytest.raises(DeploymentRefusedError, match="validation_status 'PENDING'"):
        deploy_version(MODEL, "3", "enabled")
    validate_version(MODEL, "3", "disabled", THRESHOLDS, load_data=LOAD)
    with pytest.raises(DeploymentRefusedError, match="validation_status 'SKIPPED'"):
        deploy_version(MODEL, "3", "enabled")
    assert deploy_version(MODEL, "3", "disabled").validation_status == "SKIPPED"
    assert aliases(mlflow_env) == {CHAMPION_ALIAS: "3"}


def test_the_deployment_task_imports_no_training_or_validation_code() -> None:
    """ModelDeployment only moves aliases: it loads neither scikit-learn nor the modules that
    train and score models."""
    notebooks = Path(__file__).resolve().parents[2] / "notebooks"
    probe = (
        "import sys; import mlops_ml.deployment, mlops_ml.handoff, mlops_ml.registry; "
        "print(sorted(m for m in ('sklearn', 'mlops_ml.train', 'mlops_ml.validation', "
        "'mlops_ml.metrics') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=notebooks,
        capture_output=True,
        text=True,
        check=True,
        env={"MLFLOW_DISABLE_TELEMETRY": "true", "PATH": ""},
    ).stdout.strip()
    assert loaded == "[]"
