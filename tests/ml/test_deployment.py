"""ModelDeployment moves ``champion`` to the validated challenger and drops ``challenger``."""

from __future__ import annotations

import pytest
from mlops_ml.deployment import DeploymentRefusedError, deploy_challenger
from mlops_ml.registry import CHALLENGER_ALIAS, CHAMPION_ALIAS
from mlops_ml.validation import ModelValidationError, validate_challenger
from sklearn.dummy import DummyClassifier

from tests.ml.conftest import MlflowEnv

MODEL = "wine_model"


def aliases(env: MlflowEnv) -> dict[str, str]:
    return {k: str(v) for k, v in env.client.get_registered_model(MODEL).aliases.items()}


def test_deployment_moves_the_champion_alias(mlflow_env: MlflowEnv) -> None:
    mlflow_env.train(MODEL)
    validate_challenger(MODEL, "enabled", {"accuracy_score": 0.5})
    first = deploy_challenger(MODEL, "enabled")
    assert (first.version, first.previous_champion) == ("1", None)
    assert first.validation_status == "PASSED"
    assert aliases(mlflow_env) == {CHAMPION_ALIAS: "1"}

    # Retrained on the same data: a challenger exactly as good as the champion passes.
    mlflow_env.train(MODEL)
    assert aliases(mlflow_env) == {CHAMPION_ALIAS: "1", CHALLENGER_ALIAS: "2"}
    validate_challenger(MODEL, "enabled", {"accuracy_score": 0.5})
    second = deploy_challenger(MODEL, "enabled")
    assert (second.version, second.previous_champion) == ("2", "1")
    assert aliases(mlflow_env) == {CHAMPION_ALIAS: "2"}


def test_a_version_that_failed_in_enabled_mode_is_not_deployed(mlflow_env: MlflowEnv) -> None:
    mlflow_env.train(MODEL, estimator=DummyClassifier(strategy="most_frequent"))
    with pytest.raises(ModelValidationError):
        validate_challenger(MODEL, "enabled", {"f1_score": 0.5})

    # e.g. someone repairs the run and reruns only ModelDeployment, in whatever mode.
    for mode in ("enabled", "dry_run", "disabled"):
        with pytest.raises(DeploymentRefusedError, match="version 1 failed validation"):
            deploy_challenger(MODEL, mode)
    assert aliases(mlflow_env) == {CHALLENGER_ALIAS: "1"}


def test_dry_run_deploys_despite_a_failed_validation(mlflow_env: MlflowEnv) -> None:
    mlflow_env.train(MODEL, estimator=DummyClassifier(strategy="most_frequent"))
    assert validate_challenger(MODEL, "dry_run", {"f1_score": 0.5}).status == "FAILED"
    result = deploy_challenger(MODEL, "dry_run")
    assert result.validation_status == "FAILED"
    assert aliases(mlflow_env) == {CHAMPION_ALIAS: "1"}


def test_enabled_mode_deploys_only_a_passed_version(mlflow_env: MlflowEnv) -> None:
    mlflow_env.train(MODEL)  # validation never ran: validation_status is PENDING
    with pytest.raises(DeploymentRefusedError, match="validation_status 'PENDING'"):
        deploy_challenger(MODEL, "enabled")
    validate_challenger(MODEL, "disabled", {})
    with pytest.raises(DeploymentRefusedError, match="validation_status 'SKIPPED'"):
        deploy_challenger(MODEL, "enabled")
    assert deploy_challenger(MODEL, "disabled").validation_status == "SKIPPED"
    assert aliases(mlflow_env) == {CHAMPION_ALIAS: "1"}


def test_deployment_needs_a_challenger(mlflow_env: MlflowEnv) -> None:
    mlflow_env.train(MODEL)
    deploy_challenger(MODEL, "disabled")
    with pytest.raises(LookupError, match="no version with alias 'challenger'"):
        deploy_challenger(MODEL, "disabled")
