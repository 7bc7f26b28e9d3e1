"""ModelDeployment points ``champion`` at exactly the handed-off version."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from mlops_ml.deployment import (
    BREAK_GLASS_TAG,
    DeploymentRefusedError,
    break_glass_deploy,
    deploy_version,
)
from mlops_ml.registry import (
    CHALLENGER_ALIAS,
    CHAMPION_ALIAS,
    VALIDATION_MODE_TAG,
    VALIDATION_STATUS_TAG,
)
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
    mlflow_env.copy_version(MODEL, "1")
    validate_version(MODEL, "2", "enabled", THRESHOLDS, load_data=LOAD)
    mlflow_env.copy_version(MODEL, "1")
    validate_version(MODEL, "3", "enabled", THRESHOLDS, load_data=LOAD)
    assert aliases(mlflow_env) == {CHAMPION_ALIAS: "1", CHALLENGER_ALIAS: "3"}
    second = deploy_version(MODEL, "2", "enabled")
    assert (second.version, second.previous_champion) == ("2", "1")
    assert aliases(mlflow_env) == {CHAMPION_ALIAS: "2", CHALLENGER_ALIAS: "3"}
    deploy_version(MODEL, "3", "enabled")
    assert aliases(mlflow_env) == {CHAMPION_ALIAS: "3"}


def test_no_run_promotes_a_failed_version_and_break_glass_is_explicit(
    mlflow_env: MlflowEnv,
) -> None:
    mlflow_env.train(MODEL, estimator=DummyClassifier(strategy="most_frequent"))
    with pytest.raises(ModelValidationError):
        validate_version(MODEL, "1", "enabled", THRESHOLDS, load_data=LOAD)
    # The verdict is a fact about version 1: a repair run in dry_run or disabled mode does not
    # re-decide it (it used to overwrite the tags, and deployment then promoted the version)...
    for mode in ("dry_run", "disabled"):
        report = validate_version(MODEL, "1", mode, THRESHOLDS, load_data=LOAD)
        assert report.status == "FAILED"
        assert "already FAILED validation in enabled mode" in report.checks[0].message
    version_1 = mlflow_env.client.get_model_version(MODEL, "1").tags
    assert (version_1[VALIDATION_STATUS_TAG], version_1[VALIDATION_MODE_TAG]) == (
        "FAILED",
        "enabled",
    )
    # ...and no deployment takes it, whatever the mode.
    for mode in ("enabled", "dry_run", "disabled"):
        with pytest.raises(DeploymentRefusedError, match="version 1 failed validation in enabled"):
            deploy_version(MODEL, "1", mode)
    assert aliases(mlflow_env) == {}

    # dry_run reports, and never moves champion to a version that FAILED (it used to).
    mlflow_env.train(MODEL, estimator=DummyClassifier(strategy="most_frequent"))
    assert validate_version(MODEL, "2", "dry_run", THRESHOLDS, load_data=LOAD).status == "FAILED"
    for mode in ("dry_run", "disabled"):
        skipped = deploy_version(MODEL, "2", mode)
        assert (skipped.deployed, skipped.previous_champion) == (False, None)
        assert skipped.reason.startswith("version 2 FAILED validation (dry_run mode: ")
        assert skipped.reason.endswith("champion stays unset")
    assert aliases(mlflow_env) == {}

    # enabled deploys only PASSED: not a version never validated, nor one skipped.
    mlflow_env.train(MODEL)
    with pytest.raises(DeploymentRefusedError, match="validation_status 'PENDING'"):
        deploy_version(MODEL, "3", "enabled")
    validate_version(MODEL, "3", "disabled", THRESHOLDS, load_data=LOAD)
    with pytest.raises(DeploymentRefusedError, match="validation_status 'SKIPPED'"):
        deploy_version(MODEL, "3", "enabled")
    assert deploy_version(MODEL, "3", "disabled").validation_status == "SKIPPED"
    assert aliases(mlflow_env) == {CHAMPION_ALIAS: "3"}

    # Break-glass: a person, with their own registry privileges, names who and why; the version
    # keeps its FAILED verdict and records the override.
    with pytest.raises(ValueError, match="needs a reason"):
        break_glass_deploy(MODEL, "1", " ", "alice@example.com")
    forced = break_glass_deploy(MODEL, "1", "INC-42: reviewed the report", "alice@example.com")
    assert (forced.deployed, forced.previous_champion, forced.validation_status) == (
        True,
        "3",
        "FAILED",
    )
    assert aliases(mlflow_env) == {CHAMPION_ALIAS: "1"}
    assert mlflow_env.client.get_model_version(MODEL, "1").tags[BREAK_GLASS_TAG] == (
        "alice@example.com: INC-42: reviewed the report (champion was 3)"
    )


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
