"""ModelValidation: thresholds and the champion comparison, in each run_mode."""

from __future__ import annotations

import json

import pytest
from mlops_ml.registry import (
    CHAMPION_ALIAS,
    VALIDATION_DETAILS_TAG,
    VALIDATION_MODE_TAG,
    VALIDATION_STATUS_TAG,
)
from mlops_ml.validation import (
    REPORT_ARTIFACT,
    ModelValidationError,
    RunMode,
    parse_thresholds,
    validate_challenger,
)
from sklearn.dummy import DummyClassifier

from tests.ml.conftest import MlflowEnv

MODEL = "wine_model"
ALWAYS_NOT_GOOD = DummyClassifier(strategy="most_frequent")
"""A useless challenger/champion: predicts the majority class ("not good") for every wine."""


def version_tags(env: MlflowEnv, version: str) -> dict[str, str]:
    return dict(env.client.get_model_version(MODEL, version).tags)


def test_thresholds_parse_from_the_job_parameter() -> None:
    assert parse_thresholds('{"accuracy_score": 0.5, "f1_score": 1}') == {
        "accuracy_score": 0.5,
        "f1_score": 1.0,
    }
    assert parse_thresholds("{}") == {}
    assert parse_thresholds("") == {}
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_thresholds("{accuracy_score: 0.5}")
    with pytest.raises(ValueError, match="must be a JSON object"):
        parse_thresholds("[0.5]")
    with pytest.raises(ValueError, match="'accuracy_score' must be a number"):
        parse_thresholds('{"accuracy_score": "high"}')


def test_run_mode_must_be_known() -> None:
    assert RunMode.parse("dry_run") is RunMode.DRY_RUN
    with pytest.raises(ValueError, match=r"run_mode must be one of .*'enabled'.*got 'on'"):
        RunMode.parse("on")


@pytest.mark.parametrize("mode", ["dry_run", "enabled"])
def test_a_good_challenger_passes_its_thresholds(mlflow_env: MlflowEnv, mode: str) -> None:
    trained = mlflow_env.train(MODEL)
    report = validate_challenger(MODEL, mode, {"accuracy_score": 0.8, "f1_score": 0.6})

    assert report.status == "PASSED"
    assert [c.metric for c in report.checks] == ["accuracy_score", "f1_score"]
    # Scored on the run's hold-out rows, so the metrics are the ones training logged.
    assert report.candidate_metrics == pytest.approx(trained.metrics)
    assert report.champion_version is None
    tags = version_tags(mlflow_env, "1")
    assert tags[VALIDATION_STATUS_TAG] == "PASSED"
    assert tags[VALIDATION_MODE_TAG] == mode
    assert tags[VALIDATION_DETAILS_TAG] == "all checks passed"
    artifacts = [a.path for a in mlflow_env.client.list_artifacts(trained.run_id, "validation")]
    assert REPORT_ARTIFACT in artifacts


def test_dry_run_reports_a_failed_threshold_without_raising(mlflow_env: MlflowEnv) -> None:
    mlflow_env.train(MODEL, estimator=ALWAYS_NOT_GOOD)
    report = validate_challenger(MODEL, "dry_run", {"f1_score": 0.5, "accuracy_score": 0.5})

    assert report.status == "FAILED"
    assert [c.metric for c in report.failed_checks] == ["f1_score"]
    assert "f1_score: 0.0000 < threshold 0.5000" in report.summary()
    tags = version_tags(mlflow_env, "1")
    assert tags[VALIDATION_STATUS_TAG] == "FAILED"
    assert tags[VALIDATION_MODE_TAG] == "dry_run"
    assert "f1_score" in tags[VALIDATION_DETAILS_TAG]


def test_enabled_raises_on_a_failed_threshold_after_recording_it(mlflow_env: MlflowEnv) -> None:
    mlflow_env.train(MODEL, estimator=ALWAYS_NOT_GOOD)
    with pytest.raises(ModelValidationError, match=r"'wine_model' version 1: validation FAILED"):
        validate_challenger(MODEL, "enabled", {"f1_score": 0.5})
    tags = version_tags(mlflow_env, "1")
    assert tags[VALIDATION_STATUS_TAG] == "FAILED"
    assert tags[VALIDATION_MODE_TAG] == "enabled"


def test_disabled_skips_the_checks(mlflow_env: MlflowEnv) -> None:
    # A useless challenger against a good champion and a threshold it misses: all skipped.
    mlflow_env.train(MODEL)
    mlflow_env.client.set_registered_model_alias(MODEL, CHAMPION_ALIAS, "1")
    mlflow_env.train(MODEL, estimator=ALWAYS_NOT_GOOD)
    report = validate_challenger(MODEL, "disabled", {"f1_score": 0.5})

    assert report.status == "SKIPPED"
    assert report.checks == ()
    assert report.champion_version is None
    tags = version_tags(mlflow_env, "2")
    assert tags[VALIDATION_STATUS_TAG] == "SKIPPED"
    assert tags[VALIDATION_MODE_TAG] == "disabled"


def test_a_threshold_on_an_unknown_metric_fails(mlflow_env: MlflowEnv) -> None:
    mlflow_env.train(MODEL)
    with pytest.raises(ModelValidationError, match=r"log_loss: not computed for the candidate"):
        validate_challenger(MODEL, "enabled", {"log_loss": 0.1})


def test_a_challenger_worse_than_the_champion_fails(mlflow_env: MlflowEnv) -> None:
    mlflow_env.train(MODEL)
    mlflow_env.client.set_registered_model_alias(MODEL, CHAMPION_ALIAS, "1")
    mlflow_env.train(MODEL, estimator=ALWAYS_NOT_GOOD)

    # No thresholds: the primary metric (roc_auc) is still compared with the champion's.
    report = validate_challenger(MODEL, "dry_run", {})
    assert report.status == "FAILED"
    assert report.champion_version == "1"
    (check,) = report.failed_checks
    assert check.kind == "champion"
    assert check.metric == "roc_auc"
    assert check.candidate == pytest.approx(0.5)
    assert check.reference is not None and check.reference > 0.85
    assert "is worse than champion v1" in check.message

    with pytest.raises(ModelValidationError, match=r"accuracy_score: .* is worse than champion v1"):
        validate_challenger(MODEL, "enabled", {"accuracy_score": 0.5})
    assert version_tags(mlflow_env, "2")[VALIDATION_STATUS_TAG] == "FAILED"


def test_a_challenger_better_than_the_champion_passes(mlflow_env: MlflowEnv) -> None:
    mlflow_env.train(MODEL, estimator=ALWAYS_NOT_GOOD)
    mlflow_env.client.set_registered_model_alias(MODEL, CHAMPION_ALIAS, "1")
    trained = mlflow_env.train(MODEL)

    report = validate_challenger(MODEL, "enabled", {"accuracy_score": 0.5})

    assert report.status == "PASSED"
    assert report.champion_version == "1"
    assert {(c.kind, c.metric) for c in report.checks} == {
        ("threshold", "accuracy_score"),
        ("champion", "accuracy_score"),
        ("champion", "roc_auc"),
    }
    assert report.champion_metrics["roc_auc"] == pytest.approx(0.5)
    downloaded = mlflow_env.client.download_artifacts(
        trained.run_id, REPORT_ARTIFACT, str(mlflow_env.artifact_root.parent)
    )
    with open(downloaded) as handle:
        logged = json.load(handle)
    assert logged["status"] == "PASSED"
    assert logged["champion_version"] == "1"


def test_validation_needs_a_challenger(mlflow_env: MlflowEnv) -> None:
    with pytest.raises(LookupError, match="'wine_model' has no version with alias 'challenger'"):
        validate_challenger(MODEL, "enabled", {})
