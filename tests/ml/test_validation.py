"""ModelValidation: thresholds, baseline and a leak-free champion comparison, failing closed."""

from __future__ import annotations

import json
from typing import Any

import mlflow
import mlflow.sklearn
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST
from mlops_ml.lineage import has_logged_models
from mlops_ml.registry import (
    CHALLENGER_ALIAS,
    CHAMPION_ALIAS,
    VALIDATION_DETAILS_TAG,
    VALIDATION_MODE_TAG,
    VALIDATION_STATUS_TAG,
)
from mlops_ml.split import Split
from mlops_ml.target import Target, split_features
from mlops_ml.validation import REPORT_ARTIFACT, ModelValidationError, validate_version
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.neighbors import KNeighborsClassifier

from tests.ml.conftest import CLASSIFICATION, MlflowEnv, loader, normalized_wine_frame

MODEL = "wine_model"
DATA = normalized_wine_frame()
ALWAYS_NOT_GOOD = DummyClassifier(strategy="most_frequent")
"""A useless model: predicts the majority class ("not good") for every wine."""
COMMITTED = {
    "roc_auc": {"threshold": 0.75, "tolerance": 0.01},
    "f1_score": {"threshold": 0.2, "tolerance": 0.05},
}
"""The thresholds Pulumi.staging.yaml and Pulumi.prod.yaml commit."""


def tags(env: MlflowEnv, version: str) -> dict[str, str]:
    return dict(env.client.get_model_version(MODEL, version).tags)


def aliases(env: MlflowEnv) -> dict[str, str]:
    return {k: str(v) for k, v in env.client.get_registered_model(MODEL).aliases.items()}


def validate(version: str, mode: str, thresholds: Any = None, **kwargs: Any) -> Any:
    kwargs.setdefault("load_data", loader(DATA))
    return validate_version(
        MODEL, version, mode, COMMITTED if thresholds is None else thresholds, **kwargs
    )


def test_a_good_version_passes_and_becomes_challenger(mlflow_env: MlflowEnv) -> None:
    trained = mlflow_env.train(MODEL)
    report = validate("1", "enabled")

    assert report.status == "PASSED", report.summary()
    assert [(c.kind, c.metric) for c in report.checks] == [
        ("threshold", "f1_score"),
        ("threshold", "roc_auc"),
        ("baseline", "roc_auc"),
    ]
    # Scored on the hold-out rows the split gives, so the metrics are the ones training logged.
    assert report.candidate_metrics == pytest.approx(trained.metrics)
    assert report.holdout_rows == trained.holdout_rows
    assert report.baseline_metrics["roc_auc"] == pytest.approx(0.5)
    assert aliases(mlflow_env) == {CHALLENGER_ALIAS: "1"}
    version_tags = tags(mlflow_env, "1")
    assert version_tags[VALIDATION_STATUS_TAG] == "PASSED"
    assert version_tags[VALIDATION_MODE_TAG] == "enabled"
    assert version_tags[VALIDATION_DETAILS_TAG] == "all checks passed"
    path = mlflow_env.client.download_artifacts(
        trained.run_id, REPORT_ARTIFACT, str(mlflow_env.artifact_root.parent)
    )
    with open(path) as handle:
        logged = json.load(handle)
    assert logged["status"] == "PASSED" and logged["holdout_rows"] == trained.holdout_rows
    assert "alcohol" not in json.dumps(logged)  # numbers about rows, never rows

    # MLflow 3: the scores are on the version's logged model too, as validation_<metric>, each
    # linked to the rows validation read (here the rows training read: the same digest) by
    # MlflowClient.log_metric's model_id, dataset_name and dataset_digest
    # (mlflow/tracking/client.py; mlflow.get_logged_model(id).metrics,
    # mlflow/entities/logged_model.py). MLflow 2 has no logged model; the run gets no metric.
    run = mlflow_env.client.get_run(trained.run_id)
    if not has_logged_models():
        assert set(run.data.metrics) == set(trained.metrics)
        return
    model = mlflow.get_logged_model(trained.logged_model_id)
    assert model.metrics is not None
    scores = {m.key: m for m in model.metrics if m.key.startswith("validation_")}
    assert {k: m.value for k, m in scores.items()} == pytest.approx(
        {f"validation_{k}": v for k, v in report.candidate_metrics.items()}
    )
    assert run.inputs is not None
    (dataset_input,) = run.inputs.dataset_inputs
    assert {(m.dataset_name, m.dataset_digest, m.model_id) for m in scores.values()} == {
        (dataset_input.dataset.name, dataset_input.dataset.digest, model.model_id)
    }


def test_a_constant_classifier_is_skipped_failed_or_recorded_as_each_run_mode_says(
    mlflow_env: MlflowEnv,
) -> None:
    mlflow_env.train(MODEL, estimator=ALWAYS_NOT_GOOD)
    # disabled checks nothing, records SKIPPED and gives no alias.
    skipped = validate("1", "disabled")
    assert (skipped.status, skipped.checks) == ("SKIPPED", ())
    assert tags(mlflow_env, "1")[VALIDATION_DETAILS_TAG] == "validation disabled"
    assert aliases(mlflow_env) == {}
    # Say a pre-gate Train gave it `challenger`: failing in enabled mode takes it away.
    mlflow_env.client.set_registered_model_alias(MODEL, CHALLENGER_ALIAS, "1")
    with pytest.raises(ModelValidationError) as failed:
        validate("1", "enabled")
    message = str(failed.value)
    assert "'wine_model' version 1: validation FAILED (run_mode=enabled)" in message
    assert "f1_score: 0.0000 < threshold 0.2000" in message
    assert "roc_auc: 0.5000 < threshold 0.7500" in message
    assert "roc_auc: 0.5000 does not beat the baseline (a trivial predictor) 0.5000" in message
    assert tags(mlflow_env, "1")[VALIDATION_STATUS_TAG] == "FAILED"
    assert aliases(mlflow_env) == {}

    # dry_run records the same verdict and does not raise; a FAILED version is no challenger
    # (dry_run used to give it the alias, and then deploy it).
    mlflow_env.train(MODEL, estimator=ALWAYS_NOT_GOOD)
    report = validate("2", "dry_run")
    assert report.status == "FAILED"
    assert {c.metric for c in report.failed_checks} == {"f1_score", "roc_auc"}
    assert tags(mlflow_env, "2")[VALIDATION_MODE_TAG] == "dry_run"
    assert aliases(mlflow_env) == {}

    # Without thresholds the baseline check (on by default) still rejects it...
    assert validate("2", "dry_run", {}).status == "FAILED"
    # ...and with it switched off nothing checks the model, which is no pass either.
    blind = validate("2", "dry_run", {}, baseline=False)
    assert blind.status == "FAILED"
    assert blind.checks[0].message.startswith("no check ran")


def test_the_champion_is_compared_on_rows_neither_version_trained_on(
    mlflow_env: MlflowEnv,
) -> None:
    # The case: the same model retrained after the table grew. The old gate scored the
    # champion on the challenger's random hold-out rows, many of which the champion trained on
    # (it scored 1.0000 on both metrics here), and failed this challenger.
    mlflow_env.train(MODEL)
    mlflow_env.client.set_registered_model_alias(MODEL, CHAMPION_ALIAS, "1")
    grown = pd.concat([DATA, normalized_wine_frame(seed=11)], ignore_index=True)
    mlflow_env.train(MODEL, data=grown)
    no_tolerance = {"accuracy_score": {"tolerance": 0.0}, "roc_auc": {"tolerance": 0.0}}

    report = validate("2", "enabled", no_tolerance, load_data=loader(grown))

    assert report.status == "PASSED", report.summary()
    assert report.champion_version == "1"
    assert [(c.kind, c.metric) for c in report.checks] == [
        ("baseline", "roc_auc"),
        ("champion", "accuracy_score"),
        ("champion", "roc_auc"),
    ]
    # The comparison rows are the grown table's hold-out rows; none of DATA's training rows
    # (the champion's) is among them: a row keeps its side of the split as the table grows.
    holdout = Split(20).holdout(grown)
    champion_trained_on = ~Split(20).holdout(DATA)
    assert report.comparison_rows == holdout.sum()
    assert not (holdout.iloc[: len(DATA)] & champion_trained_on).any()

    # How the old comparison flattered the champion: on rows it trained on it is far better
    # than on the rows neither version saw.
    champion = mlflow.sklearn.load_model(f"models:/{MODEL}/1")
    features, y = split_features(DATA, CLASSIFICATION)
    seen = float((champion.predict(features[champion_trained_on]) == y[champion_trained_on]).mean())
    assert seen > report.champion_metrics["accuracy_score"] + 0.05


def test_a_champion_with_another_split_is_compared_on_the_rows_both_held_out(
    mlflow_env: MlflowEnv,
) -> None:
    mlflow_env.train(MODEL, split=Split(30))
    mlflow_env.client.set_registered_model_alias(MODEL, CHAMPION_ALIAS, "1")
    mlflow_env.train(MODEL, split=Split(20))
    report = validate("2", "dry_run", {"roc_auc": {"tolerance": 0.2}})
    both = Split(20).holdout(DATA) & Split(30).holdout(DATA)
    assert report.comparison_rows == both.sum() >= 20
    assert report.status == "PASSED", report.summary()

    # Held out by only one of them, too few rows are left: no comparison is no pass.
    mlflow_env.train(MODEL, split=Split(10, ("alcohol",)))
    report = validate("3", "dry_run", {"roc_auc": {"tolerance": 0.2}})
    assert report.status == "FAILED"
    assert "rows are held out by both the candidate" in report.failed_checks[0].message


def test_errors_fail_closed_and_say_what_failed(
    mlflow_env: MlflowEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    mlflow_env.train(MODEL)
    mlflow_env.client.set_registered_model_alias(MODEL, CHAMPION_ALIAS, "1")
    mlflow_env.copy_version(MODEL, "1")
    mlflow_env.copy_version(MODEL, "1")
    real_load = mlflow.sklearn.load_model
    outage = [True]

    def flaky_load(uri: str, *args: Any, **kwargs: Any) -> Any:
        if outage[0] and uri.endswith("/1"):
            raise OSError("connection reset by peer")
        return real_load(uri, *args, **kwargs)

    # A transient error loading the champion: it used to count as a pass.
    monkeypatch.setattr(mlflow.sklearn, "load_model", flaky_load)
    report = validate("3", "dry_run")
    assert report.status == "FAILED"
    assert [c.kind for c in report.checks] == ["threshold", "threshold", "baseline", "error"]
    assert "loading champion v1 failed: OSError: connection reset" in report.checks[-1].message
    # The report keeps what was found before the error, and nothing after it.
    assert report.candidate_metrics and report.baseline_metrics and report.holdout_rows > 0
    assert report.champion_version == "1" and report.comparison_rows > 0
    assert report.champion_metrics == {} and report.candidate_comparison_metrics == {}
    with pytest.raises(
        ModelValidationError, match="loading champion v1 failed: OSError: connection reset"
    ):
        validate("3", "enabled")
    assert tags(mlflow_env, "3")[VALIDATION_STATUS_TAG] == "FAILED"
    assert "OSError" in tags(mlflow_env, "3")[VALIDATION_DETAILS_TAG]
    outage[0] = False

    def gone(source: str, label: str) -> pd.DataFrame:
        raise LookupError(f"training data table {source!r} does not exist")

    report = validate("2", "dry_run", load_data=gone)
    assert report.failed_checks[0].message == (
        "loading the training data 'synthetic' failed: LookupError: training data table "
        "'synthetic' does not exist"
    )

    # A version whose run records no target or split (registered before the gate).
    client = mlflow_env.client
    experiment = client.get_experiment_by_name(mlflow_env.experiment_name)
    assert experiment is not None
    bare_run = client.create_run(experiment.experiment_id)
    source = str(client.get_model_version(MODEL, "1").source)
    client.create_model_version(MODEL, source, bare_run.info.run_id)
    report = validate("4", "dry_run")
    assert "reading the training run of version 4 failed: LookupError" in report.summary()

    # Without a version there is nothing to record a verdict on: every mode raises.
    for mode in ("disabled", "dry_run", "enabled"):
        with pytest.raises(MlflowException):
            validate("9", mode)


class AliasesUnlisted(MlflowClient):
    """A registry whose registered-model reads leave the alias list empty, as Unity Catalog
    does unless asked with ``include_aliases`` (MLflow's ``uc_native_rest_store.py``,
    ``get_registered_model``: "without it the response omits registered-model aliases";
    databricks/databricks-sdk-py#868, "RegisteredModelInfo.aliases is empty despite registered
    aliases existing")."""

    def get_registered_model(self, name: str) -> Any:
        model = super().get_registered_model(name)
        model._aliases = {}
        return model


class ChampionVersionUnreadable(MlflowClient):
    """The champion alias is set but the version it names cannot be read: the by-alias read
    answers RESOURCE_DOES_NOT_EXIST, as a registry does for a missing version."""

    def get_model_version_by_alias(self, name: str, alias: str) -> Any:
        raise MlflowException(
            f"Model version for alias {alias} not found.", error_code=RESOURCE_DOES_NOT_EXIST
        )


def test_a_worse_challenger_fails_against_the_champion(mlflow_env: MlflowEnv) -> None:
    mlflow_env.train(MODEL)
    mlflow_env.client.set_registered_model_alias(MODEL, CHAMPION_ALIAS, "1")
    mlflow_env.train(MODEL, estimator=KNeighborsClassifier(n_neighbors=1))
    thresholds = {"roc_auc": {"tolerance": 0.01}}
    report = validate("2", "dry_run", thresholds, baseline=False)
    assert report.status == "FAILED"
    (check,) = report.failed_checks
    assert (check.kind, check.metric) == ("champion", "roc_auc")
    assert check.reference is not None and check.candidate is not None
    assert check.candidate < check.reference - 0.01
    assert "is worse than champion v1" in check.message

    # The champion is read by its alias, not looked up in the model's alias list: with that
    # list empty the previous gate saw no champion and passed this version.
    unlisted = AliasesUnlisted(mlflow_env.uri, mlflow_env.uri)
    report = validate("2", "dry_run", thresholds, baseline=False, client=unlisted)
    assert report.status == "FAILED" and report.champion_version == "1"

    # The alias is set but its version cannot be read: that fails closed, saying so; it is not
    # "no champion yet" (which passed any version).
    unreadable = ChampionVersionUnreadable(mlflow_env.uri, mlflow_env.uri)
    report = validate("2", "dry_run", thresholds, baseline=False, client=unreadable)
    assert report.status == "FAILED"
    assert report.failed_checks[0].message == (
        "looking up the champion failed: AliasUnreadableError: model 'wine_model': alias "
        "'champion' points at version 1, which cannot be read (RESOURCE_DOES_NOT_EXIST: Model "
        "version for alias champion not found.); point 'champion' at a version that exists "
        "(README, 'The model gate on day two') before validating or deploying against it"
    )


def test_regression_thresholds_where_lower_is_better(mlflow_env: MlflowEnv) -> None:
    target = Target("regression", "quality")
    thresholds = {
        "root_mean_squared_error": {"threshold": 0.8},
        "r2_score": {"threshold": 0.3},
    }
    mlflow_env.train(MODEL, target=target)
    report = validate("1", "enabled", thresholds)
    assert report.status == "PASSED", report.summary()
    assert [c.message.split(" ")[2] for c in report.checks] == [">=", "<=", "beats"]

    mlflow_env.train(MODEL, target=target, estimator=DummyRegressor())
    report = validate("2", "dry_run", thresholds)
    assert {(c.kind, c.metric) for c in report.failed_checks} == {
        ("threshold", "root_mean_squared_error"),
        ("threshold", "r2_score"),
        ("baseline", "root_mean_squared_error"),
    }
