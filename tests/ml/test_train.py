"""Training logs metrics, lineage and a model with signature, then registers a version.

On MLflow 3 the lineage is on the logged model too. MLflow 3 links a logged model to the data
it was evaluated on through its metrics ("link metrics to datasets",
https://mlflow.org/docs/3.3.2/genai/mlflow-3/deep-learning): ``mlflow.log_metrics`` takes
``model_id=`` and ``dataset=``, and ``mlflow.get_logged_model(model_id)`` returns a
``LoggedModel`` whose ``metrics`` carry ``dataset_name``, ``dataset_digest`` and ``model_id``,
whose ``tags`` hold what ``mlflow.set_logged_model_tags`` set and whose ``source_run_id`` is the
training run (MLflow's ``mlflow/tracking/fluent.py`` and ``mlflow/entities/logged_model.py``);
the run lists it in ``run.outputs.model_outputs``, and a version registered from it has
``models:/<model_id>`` as its ``source``.
"""

from __future__ import annotations

import json

import mlflow
import mlflow.sklearn
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.artifacts import download_artifacts
from mlflow.entities import Run
from mlflow.models import Model, get_model_info
from mlops_ml.lineage import has_logged_models
from mlops_ml.metrics import metric_names
from mlops_ml.registry import VALIDATION_STATUS_TAG
from mlops_ml.split import SPLIT_ARTIFACT, Split, digest
from mlops_ml.target import Target, split_features
from mlops_ml.train import TrainingResult, default_estimator, train_model

from tests.ml.conftest import MlflowEnv, normalized_wine_frame

MODEL = "wine_model"
GIT = "url:https://github.com/example-org/wine-quality-mlops; branch:main; commit:0a1b2c3"


def assert_lineage_on_the_logged_model(
    client: MlflowClient, result: TrainingResult, run: Run, code: dict[str, str]
) -> None:
    """On MLflow 3, the logged model of ``result`` carries the hold-out metrics (each linked to
    the run's training dataset by name and digest), the ``code`` tags and the data digest; on
    MLflow 2 there is no logged model and the run alone carries the lineage (the callers assert
    it)."""
    # Feature detection must find logged models on every MLflow 3 and none on MLflow 2.
    assert has_logged_models() is (int(mlflow.__version__.split(".")[0]) >= 3)
    if not has_logged_models():
        assert result.logged_model_id == ""
        return
    model = mlflow.get_logged_model(result.logged_model_id)
    assert model.source_run_id == run.info.run_id
    assert run.outputs is not None
    assert [o.model_id for o in run.outputs.model_outputs] == [model.model_id]
    version = client.get_model_version(result.model_name, result.model_version)
    assert version.source == model.model_uri, version.source
    assert run.inputs is not None
    (dataset_input,) = run.inputs.dataset_inputs
    dataset = dataset_input.dataset
    assert model.metrics is not None
    assert {m.key: m.value for m in model.metrics} == pytest.approx(result.metrics)
    assert {(m.dataset_name, m.dataset_digest, m.model_id) for m in model.metrics} == {
        (dataset.name, dataset.digest, model.model_id)
    }
    assert code.items() <= model.tags.items()
    assert model.tags["training_data_digest"] == dataset.digest


def test_training_registers_a_pending_version_with_lineage_and_no_rows(
    mlflow_env: MlflowEnv,
) -> None:
    data = normalized_wine_frame()
    result = mlflow_env.train(MODEL, git_source_info=GIT)
    client = mlflow_env.client

    # A new version, PENDING and without alias: validation decides about `challenger`.
    assert (result.model_version, result.model_uri) == ("1", f"models:/{MODEL}/1")
    version = client.get_model_version(MODEL, "1")
    assert version.run_id == result.run_id
    assert version.tags[VALIDATION_STATUS_TAG] == "PENDING"
    assert not client.get_registered_model(MODEL).aliases

    run = client.get_run(result.run_id)
    experiment = client.get_experiment_by_name(mlflow_env.experiment_name)
    assert experiment is not None and run.info.experiment_id == experiment.experiment_id
    # Hold-out metrics: all classification metrics, and the synthetic label is learnable.
    assert set(run.data.metrics) == set(metric_names("classification"))
    assert run.data.metrics == pytest.approx(result.metrics)
    assert result.metrics["roc_auc"] > 0.85

    # Target definition and split are parameters: validation rebuilds both from them.
    params = run.data.params
    assert Target.from_params(params) == Target("classification", "quality", 7)
    assert params["target"] == "quality >= 7"
    holdout = Split(20).holdout(data)
    assert Split.from_params(params) == Split(20)
    assert (params["training_rows"], params["holdout_rows"]) == (
        str((~holdout).sum()),
        str(holdout.sum()),
    )
    assert (result.training_rows, result.holdout_rows) == ((~holdout).sum(), holdout.sum())

    # Lineage: git source tags, the training data as a dataset input.
    tags = run.data.tags
    assert tags["mlflow.source.git.repoURL"] == "https://github.com/example-org/wine-quality-mlops"
    assert (tags["mlflow.source.git.branch"], tags["mlflow.source.git.commit"]) == (
        "main",
        "0a1b2c3",
    )
    assert tags["git_source_info"] == GIT
    assert run.inputs is not None
    (dataset_input,) = run.inputs.dataset_inputs
    assert json.loads(str(dataset_input.dataset.profile))["num_rows"] == len(data)
    assert {t.key: t.value for t in dataset_input.tags}["mlflow.data.context"] == "training"

    # No rows in artifacts: counts and key digests of the split, a synthetic input example.
    artifacts = [a.path for a in client.list_artifacts(result.run_id, "validation")]
    assert artifacts == [SPLIT_ARTIFACT]
    path = client.download_artifacts(result.run_id, SPLIT_ARTIFACT, str(mlflow_env.artifact_root))
    with open(path) as handle:
        logged = json.load(handle)
    keys = Split(20).keys(data)
    assert logged["holdout_key_digest"] == digest(keys[holdout])
    assert logged["rows"] == len(data)
    info = get_model_info(f"models:/{MODEL}/1")
    assert info.signature is not None
    assert info.signature.inputs.input_names() == [c for c in data.columns if c != "quality"]

    # MLflow 3: the same lineage on the logged model the version points at.
    code = {
        "mlflow.source.git.repoURL": "https://github.com/example-org/wine-quality-mlops",
        "mlflow.source.git.branch": "main",
        "mlflow.source.git.commit": "0a1b2c3",
        "git_source_info": GIT,
    }
    assert_lineage_on_the_logged_model(client, result, run, code)


def test_a_keyed_run_logs_one_model_without_the_key_and_no_row_values(
    mlflow_env: MlflowEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Databricks switches autologging on in ML runtime notebooks with ``exclusive=False``
    (https://docs.databricks.com/mlflow/databricks-autologging.html), which logged a second
    model and more datasets into the run; the input example held feature medians (a median of
    an id or of a discrete column is a real value); the split's id column was a feature."""
    data = normalized_wine_frame().assign(wine_id=range(1000, 1300))
    commit = "5e1f0c9d2b7a4e3f8a6b1c0d9e8f7a6b5c4d3e2f"
    # Databricks calls mlflow.autolog() before the notebook runs; scikit-learn's integration is
    # what logs the second model (a global call would also hook pyspark in this process).
    # MLflow 2.13 enables it by importing every scikit-learn module, setuptools' among them,
    # whose distutils shim refuses to load once MLflow 2.13 has imported the stdlib distutils
    # (it does when it logs a model): keep the stdlib one for this call.
    monkeypatch.setenv("SETUPTOOLS_USE_DISTUTILS", "stdlib")
    mlflow.sklearn.autolog()
    try:
        result = train_model(
            data,
            Target("classification", "quality", 7),
            mlflow_env.experiment_name,
            MODEL,
            split=Split(20, ("wine_id",)),
            training_data="staging.wine_quality.training",
            git_source_info="url:https://github.com/example-org/wine; tag:v1.2.0",
            used_commit=commit,
            estimator=default_estimator(n_estimators=10),
            client=mlflow_env.client,
        )
    finally:
        mlflow.autolog(disable=True)
    run = mlflow_env.client.get_run(result.run_id)
    assert not [m for m in run.data.metrics if m.startswith("training_")]  # no autologged run
    assert run.inputs is not None and len(run.inputs.dataset_inputs) == 1
    (dataset_input,) = run.inputs.dataset_inputs
    params = run.data.params
    assert params["training_data_digest"] == dataset_input.dataset.digest
    assert run.data.tags["mlflow.source.git.commit"] == commit
    # The commit the job ran, not the tag asked for, is the logged model's commit (MLflow 3).
    code = {"mlflow.source.git.commit": commit, "git_tag": "v1.2.0"}
    assert_lineage_on_the_logged_model(mlflow_env.client, result, run, code)
    # The split records its key columns and each side's key digests, for validation.
    keys = Split(20, ("wine_id",)).keys(data)
    holdout = Split(20, ("wine_id",)).holdout(data, keys)
    assert json.loads(params["split_key_columns_used"]) == ["wine_id"]
    assert params["split_holdout_key_digest"] == digest(keys[holdout])
    assert params["split_training_key_digest"] == digest(keys[~holdout])

    features = [c for c in data.columns if c not in ("quality", "wine_id")]
    info = get_model_info(f"models:/{MODEL}/1")
    assert info.signature is not None and info.signature.inputs.input_names() == features
    local = download_artifacts(f"models:/{MODEL}/1", dst_path=str(mlflow_env.artifact_root / "m"))
    example = Model.load(local).load_input_example(local)
    assert isinstance(example, pd.DataFrame)
    assert list(example.columns) == features
    assert example.to_numpy().tolist() == [[0.0] * len(features)]  # no value of any row


def test_regression_trains_on_the_label_itself(mlflow_env: MlflowEnv) -> None:
    result = mlflow_env.train(MODEL, target=Target("regression", "quality"))
    assert set(result.metrics) == set(metric_names("regression"))
    params = mlflow_env.client.get_run(result.run_id).data.params
    assert (params["problem_type"], params["target"], params["positive_threshold"]) == (
        "regression",
        "quality",
        "",
    )
    assert result.metrics["r2_score"] > 0.5


def test_training_refuses_data_it_cannot_split_or_learn(mlflow_env: MlflowEnv) -> None:
    target = Target("classification", "quality", 7)
    with pytest.raises(
        ValueError, match="target quality >= 7 has one class only in the training rows"
    ):
        train_model(normalized_wine_frame().assign(quality=5), target, "exp", MODEL)
    with pytest.raises(ValueError, match=r"the holdout side of the split \(20% hold-out .*\) has"):
        train_model(normalized_wine_frame(rows=30), target, "exp", MODEL)
    assert mlflow_env.client.search_registered_models() == []


def test_features_are_every_other_column_but_the_key_as_float() -> None:
    target = Target("classification", "quality", 7)
    frame = pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5], "quality": [5, 7]})
    features, y = split_features(frame, target)
    assert list(features.columns) == ["a", "b"]
    assert all(features.dtypes == "float64")
    assert y.tolist() == [0, 1]
    with pytest.raises(ValueError, match=r"not numeric: \['colour'\]"):
        split_features(frame.assign(colour=["red", "white"]), target)
    with pytest.raises(ValueError, match="label column 'score' is not in"):
        split_features(frame, Target("classification", "score", 7))
    with pytest.raises(ValueError, match="'_target' is reserved"):
        split_features(frame.assign(_target=1), target)
    keyed = frame.assign(wine_id=[10, 11])
    assert list(split_features(keyed, target, ("wine_id",))[0].columns) == ["a", "b"]
    with pytest.raises(ValueError, match=r"split_key_columns \['quality'\] hold the label"):
        split_features(frame, target, ("quality",))
