"""Training: a binary wine-quality classifier logged, registered and marked ``challenger``.

The model predicts whether a wine is *good*: ``label >= GOOD_QUALITY_THRESHOLD`` (quality 7 or
more) is class 1, anything lower class 0. Features are every other column of the training
data; they must be numeric and are used as float64 (missing values are imputed with the
median). The default estimator is a random forest inside a scikit-learn pipeline.
"""

from __future__ import annotations

import inspect
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.models import infer_signature
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from mlops_ml.data import normalize_column_name
from mlops_ml.registry import (
    CHALLENGER_ALIAS,
    VALIDATION_STATUS_TAG,
)

GOOD_QUALITY_THRESHOLD = 7
"""Labels at or above this value are the positive class (a good wine)."""
TARGET_COLUMN = "_target"
"""Name of the binary target column in the logged hold-out set."""
HOLDOUT_ARTIFACT = "validation/holdout.parquet"
"""Run artifact: the hold-out rows (features plus :data:`TARGET_COLUMN`) metrics are computed on."""
MODEL_ARTIFACT = "model"
"""Name (MLflow 3) or artifact path (MLflow 2) of the logged model."""
MIN_ROWS = 10
"""Fewest labelled rows training accepts."""
METRIC_NAMES = ("accuracy_score", "precision_score", "recall_score", "f1_score", "roc_auc")
"""Metrics computed on the hold-out set; ``roc_auc`` needs both classes and probabilities."""


@dataclass(frozen=True)
class TrainingResult:
    """What one training run produced."""

    run_id: str
    model_name: str
    model_version: str
    model_uri: str
    """URI of the logged model (``runs:/...`` in MLflow 2, ``models:/m-...`` in MLflow 3)."""
    metrics: dict[str, float] = field(default_factory=dict)


def default_estimator(random_state: int = 42, n_estimators: int = 200) -> Pipeline:
    """The classifier trained by default: median imputation, then a random forest."""
    return Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            (
                "classifier",
                RandomForestClassifier(
                    n_estimators=n_estimators,
                    min_samples_leaf=2,
                    random_state=random_state,
                    n_jobs=1,
                ),
            ),
        ]
    )


def binarize_label(label: pd.Series, threshold: float = GOOD_QUALITY_THRESHOLD) -> pd.Series:
    """The binary target: 1 where ``label >= threshold``, else 0."""
    if not pd.api.types.is_numeric_dtype(label):
        raise ValueError(f"label column {label.name!r} must be numeric, got dtype {label.dtype}")
    return (label >= threshold).astype("int64").rename(TARGET_COLUMN)


def split_features(data: pd.DataFrame, label_column: str) -> tuple[pd.DataFrame, pd.Series]:
    """Features (every column but the label, as float64) and the binary target."""
    label = normalize_column_name(label_column)
    if label not in data.columns:
        raise ValueError(f"label column {label_column!r} is not in {list(data.columns)}")
    features = data.drop(columns=[label])
    if features.shape[1] == 0:
        raise ValueError("training data has no feature columns besides the label")
    if TARGET_COLUMN in features.columns:
        raise ValueError(f"feature column name {TARGET_COLUMN!r} is reserved")
    non_numeric = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if non_numeric:
        raise ValueError(f"feature columns must be numeric; not numeric: {non_numeric}")
    return features.astype("float64"), binarize_label(data[label])


def compute_metrics(
    y_true: pd.Series | np.ndarray[Any, Any],
    y_pred: np.ndarray[Any, Any],
    y_score: np.ndarray[Any, Any] | None = None,
) -> dict[str, float]:
    """Hold-out metrics of a binary classifier; ``roc_auc`` only with scores and both classes."""
    metrics = {
        "accuracy_score": float(accuracy_score(y_true, y_pred)),
        "precision_score": float(precision_score(y_true, y_pred, zero_division=0)),
        "recall_score": float(recall_score(y_true, y_pred, zero_division=0)),
        "f1_score": float(f1_score(y_true, y_pred, zero_division=0)),
    }
    if y_score is not None and len(np.unique(np.asarray(y_true))) == 2:
        metrics["roc_auc"] = float(roc_auc_score(y_true, y_score))
    return metrics


def evaluate_classifier(model: Any, holdout: pd.DataFrame) -> dict[str, float]:
    """Metrics of a fitted classifier on a hold-out frame (features plus :data:`TARGET_COLUMN`)."""
    features = holdout.drop(columns=[TARGET_COLUMN])
    y_true = holdout[TARGET_COLUMN]
    y_pred = np.asarray(model.predict(features))
    y_score = None
    if hasattr(model, "predict_proba"):
        probabilities = np.asarray(model.predict_proba(features))
        classes = list(getattr(model, "classes_", [0, 1]))
        if 1 in classes and probabilities.ndim == 2:
            y_score = probabilities[:, classes.index(1)]
    return compute_metrics(y_true, y_pred, y_score)


def _experiment_id(client: MlflowClient, experiment_name: str) -> str:
    """Id of the experiment (the Pulumi program creates it; created here when missing)."""
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is not None:
        return str(experiment.experiment_id)
    return str(client.create_experiment(experiment_name))


def _log_sklearn_model(model: Any, signature: Any, input_example: pd.DataFrame) -> Any:
    """Log the model under :data:`MODEL_ARTIFACT`, with MLflow 2 and 3 keyword names.

    cloudpickle is explicit: it is the Databricks default, and MLflow 3's local default (skops)
    refuses random forests unless their types are listed as trusted.
    """
    kwargs: dict[str, Any] = {
        "signature": signature,
        "input_example": input_example,
        "serialization_format": "cloudpickle",
        "pip_requirements": mlflow.sklearn.get_default_pip_requirements(include_cloudpickle=True),
    }
    if "name" in inspect.signature(mlflow.sklearn.log_model).parameters:
        kwargs["name"] = MODEL_ARTIFACT
    else:  # MLflow 2
        kwargs["artifact_path"] = MODEL_ARTIFACT
    return mlflow.sklearn.log_model(model, **kwargs)


def train_model(
    data: pd.DataFrame,
    label_column: str,
    experiment_name: str,
    model_name: str,
    *,
    training_data: str = "",
    estimator: Any = None,
    test_size: float = 0.2,
    random_state: int = 42,
    client: MlflowClient | None = None,
) -> TrainingResult:
    """Fit the classifier, log it to ``experiment_name`` and register a new ``model_name`` version.

    Logs parameters, hold-out metrics (:data:`METRIC_NAMES`), the hold-out rows as the
    artifact :data:`HOLDOUT_ARTIFACT` (ModelValidation scores candidate and champion on them)
    and the model with its signature and an input example. The new version gets the
    ``challenger`` alias and ``validation_status=PENDING``. Uses the current tracking and
    registry URIs; ``estimator`` replaces :func:`default_estimator` (it is cloned).
    """
    client = client or MlflowClient()
    features, target = split_features(data, label_column)
    if len(features) < MIN_ROWS:
        raise ValueError(f"training data has {len(features)} labelled rows; need {MIN_ROWS}")
    if target.nunique() < 2:
        raise ValueError(
            f"label column {label_column!r} gives one class only: every value is "
            f"{'>=' if target.iloc[0] else '<'} {GOOD_QUALITY_THRESHOLD}"
        )
    stratify = target if target.value_counts().min() >= 2 else None
    x_train, x_test, y_train, y_test = train_test_split(
        features, target, test_size=test_size, random_state=random_state, stratify=stratify
    )
    model = clone(estimator) if estimator is not None else default_estimator(random_state)
    experiment_id = _experiment_id(client, experiment_name)

    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.set_tags({"model_name": model_name, "training_data": training_data})
        mlflow.log_params(
            {
                "estimator": type(model).__name__,
                "label_column": label_column,
                "positive_class": f"{label_column} >= {GOOD_QUALITY_THRESHOLD}",
                "features": len(features.columns),
                "training_rows": len(x_train),
                "holdout_rows": len(x_test),
                "test_size": test_size,
                "random_state": random_state,
                "training_data": training_data or "(in-memory)",
            }
        )
        model.fit(x_train, y_train)
        holdout = x_test.assign(**{TARGET_COLUMN: y_test})
        metrics = evaluate_classifier(model, holdout)
        mlflow.log_metrics(metrics)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(HOLDOUT_ARTIFACT).name
            holdout.to_parquet(path, index=False)
            mlflow.log_artifact(str(path), str(Path(HOLDOUT_ARTIFACT).parent))
        signature = infer_signature(x_train, model.predict(x_train))
        model_info = _log_sklearn_model(model, signature, x_train.head(5))

    version = mlflow.register_model(model_info.model_uri, model_name)
    client.set_model_version_tag(model_name, version.version, VALIDATION_STATUS_TAG, "PENDING")
    client.set_registered_model_alias(model_name, CHALLENGER_ALIAS, version.version)
    return TrainingResult(
        run_id=run.info.run_id,
        model_name=model_name,
        model_version=str(version.version),
        model_uri=str(model_info.model_uri),
        metrics=metrics,
    )
