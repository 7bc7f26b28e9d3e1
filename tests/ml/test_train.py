"""Training logs metrics, the hold-out set and a model with signature, then registers it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from mlflow.models import get_model_info
from mlops_ml.registry import CHALLENGER_ALIAS, VALIDATION_STATUS_TAG
from mlops_ml.train import (
    HOLDOUT_ARTIFACT,
    METRIC_NAMES,
    TARGET_COLUMN,
    binarize_label,
    compute_metrics,
    split_features,
    train_model,
)

from tests.ml.conftest import MlflowEnv, normalized_wine_frame

MODEL = "wine_model"


def test_training_registers_a_challenger_version_with_signature_and_metrics(
    mlflow_env: MlflowEnv,
) -> None:
    result = mlflow_env.train(MODEL)
    client = mlflow_env.client

    assert result.model_version == "1"
    version = client.get_model_version_by_alias(MODEL, CHALLENGER_ALIAS)
    assert str(version.version) == "1"
    assert version.run_id == result.run_id
    assert client.get_model_version(MODEL, "1").tags[VALIDATION_STATUS_TAG] == "PENDING"

    info = get_model_info(f"models:/{MODEL}/1")
    assert info.signature is not None
    expected_features = [c for c in normalized_wine_frame().columns if c != "quality"]
    assert info.signature.inputs.input_names() == expected_features
    assert "fixed_acidity" in expected_features
    assert info.saved_input_example_info is not None

    run = client.get_run(result.run_id)
    experiment = client.get_experiment_by_name(mlflow_env.experiment_name)
    assert experiment is not None
    assert run.info.experiment_id == experiment.experiment_id
    for metric in METRIC_NAMES:
        assert run.data.metrics[metric] == pytest.approx(result.metrics[metric])
        assert 0.0 <= run.data.metrics[metric] <= 1.0
    # The synthetic label is learnable: far better than always predicting "not good".
    assert result.metrics["accuracy_score"] > 0.8
    assert result.metrics["roc_auc"] > 0.85
    assert run.data.params["label_column"] == "quality"
    assert run.data.params["training_rows"] == "240"
    assert run.data.params["holdout_rows"] == "60"
    artifacts = [a.path for a in client.list_artifacts(result.run_id, "validation")]
    assert artifacts == [HOLDOUT_ARTIFACT]


def test_a_second_training_moves_the_challenger_alias(mlflow_env: MlflowEnv) -> None:
    mlflow_env.train(MODEL)
    second = mlflow_env.train(MODEL, seed=8)
    assert second.model_version == "2"
    client = mlflow_env.client
    assert str(client.get_model_version_by_alias(MODEL, CHALLENGER_ALIAS).version) == "2"
    assert len(client.search_model_versions(f"name='{MODEL}'")) == 2


def test_label_is_binarized_at_quality_seven() -> None:
    label = pd.Series([3, 6, 7, 8], name="quality")
    assert binarize_label(label).tolist() == [0, 0, 1, 1]
    with pytest.raises(ValueError, match="'grade' must be numeric"):
        binarize_label(pd.Series(["a", "b"], name="grade"))


def test_features_are_every_other_column_as_float() -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5], "quality": [5, 7]})
    features, target = split_features(frame, "quality")
    assert list(features.columns) == ["a", "b"]
    assert all(features.dtypes == "float64")
    assert target.name == TARGET_COLUMN
    assert target.tolist() == [0, 1]
    with pytest.raises(ValueError, match=r"not numeric: \['colour'\]"):
        split_features(frame.assign(colour=["red", "white"]), "quality")
    with pytest.raises(ValueError, match="label column 'score' is not in"):
        split_features(frame, "score")


def test_training_refuses_a_label_with_one_class(mlflow_env: MlflowEnv) -> None:
    data = normalized_wine_frame().assign(quality=5)
    with pytest.raises(ValueError, match="'quality' gives one class only"):
        train_model(data, "quality", mlflow_env.experiment_name, MODEL)
    assert mlflow_env.client.search_registered_models() == []


def test_metrics_of_a_perfect_and_a_constant_classifier() -> None:
    y_true = np.array([0, 0, 1, 1])
    perfect = compute_metrics(y_true, np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.8, 0.9]))
    assert perfect == {
        "accuracy_score": 1.0,
        "precision_score": 1.0,
        "recall_score": 1.0,
        "f1_score": 1.0,
        "roc_auc": 1.0,
    }
    constant = compute_metrics(y_true, np.array([0, 0, 0, 0]))
    assert constant["accuracy_score"] == 0.5
    assert constant["f1_score"] == 0.0
    assert "roc_auc" not in constant
