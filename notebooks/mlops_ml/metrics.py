"""The metrics a model is scored on, per problem type: their direction, range and computation.

Training logs exactly :func:`metric_names` for its problem type; validation checks thresholds
and compares versions on them. The stack config validates threshold names and values against
a copy of :data:`METRICS` (``mlops_resources/config/checks.py``, which must not import this
package); a test keeps the two equal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
)


@dataclass(frozen=True)
class Metric:
    """One metric: which way is better and the range its values can take."""

    name: str
    greater_is_better: bool
    lower: float | None = None
    """Smallest possible value (None: unbounded)."""
    upper: float | None = None
    """Largest possible value (None: unbounded)."""

    def meets(self, value: float, threshold: float) -> bool:
        """Whether ``value`` is at least as good as ``threshold``."""
        return value >= threshold if self.greater_is_better else value <= threshold

    def not_worse(self, value: float, reference: float, tolerance: float) -> bool:
        """Whether ``value`` is no worse than ``reference`` by more than ``tolerance``.

        A relative epsilon absorbs float noise, so that equal models compare equal.
        """
        slack = tolerance + 1e-12 * max(1.0, abs(reference))
        if self.greater_is_better:
            return value >= reference - slack
        return value <= reference + slack

    def better(self, value: float, reference: float) -> bool:
        """Whether ``value`` is strictly better than ``reference``."""
        return value > reference if self.greater_is_better else value < reference

    @property
    def comparison(self) -> str:
        """The operator a passing value satisfies against its threshold."""
        return ">=" if self.greater_is_better else "<="


METRICS: dict[str, tuple[Metric, ...]] = {
    "classification": (
        Metric("accuracy_score", True, 0.0, 1.0),
        Metric("precision_score", True, 0.0, 1.0),
        Metric("recall_score", True, 0.0, 1.0),
        Metric("f1_score", True, 0.0, 1.0),
        Metric("roc_auc", True, 0.0, 1.0),
        Metric("log_loss", False, 0.0, None),
    ),
    "regression": (
        Metric("root_mean_squared_error", False, 0.0, None),
        Metric("mean_absolute_error", False, 0.0, None),
        Metric("r2_score", True, None, 1.0),
    ),
}
"""Every metric training logs, per problem type. ``roc_auc`` and ``log_loss`` need predicted
probabilities (and ``roc_auc`` both classes among the scored rows)."""

PROBLEM_TYPES = tuple(METRICS)
"""Values of the ``problem_type`` job parameter (and of ``mlops:training.problem_type``)."""

PRIMARY_METRIC = {"classification": "roc_auc", "regression": "root_mean_squared_error"}
"""Metric the candidate must beat the baseline on and must not lose on against the champion,
configured or not."""


def check_problem_type(problem_type: str) -> str:
    """``problem_type`` itself, or a clear error naming the allowed values."""
    if problem_type not in METRICS:
        raise ValueError(f"problem_type must be one of {list(PROBLEM_TYPES)}, got {problem_type!r}")
    return problem_type


def metric_names(problem_type: str) -> tuple[str, ...]:
    """Names of the metrics training logs for ``problem_type``."""
    return tuple(m.name for m in METRICS[check_problem_type(problem_type)])


def get_metric(problem_type: str, name: str) -> Metric:
    """The metric ``name`` of ``problem_type``; a ValueError listing the known ones otherwise."""
    for metric in METRICS[check_problem_type(problem_type)]:
        if metric.name == name:
            return metric
    raise ValueError(
        f"{name!r} is not a {problem_type} metric; training logs {list(metric_names(problem_type))}"
    )


def compute_metrics(
    problem_type: str,
    y_true: pd.Series | np.ndarray[Any, Any],
    y_pred: np.ndarray[Any, Any],
    y_score: np.ndarray[Any, Any] | None = None,
) -> dict[str, float]:
    """The metrics of :data:`METRICS` that can be computed from these predictions."""
    if check_problem_type(problem_type) == "regression":
        return {
            "root_mean_squared_error": math.sqrt(float(mean_squared_error(y_true, y_pred))),
            "mean_absolute_error": float(mean_absolute_error(y_true, y_pred)),
            "r2_score": float(r2_score(y_true, y_pred)),
        }
    metrics = {
        "accuracy_score": float(accuracy_score(y_true, y_pred)),
        "precision_score": float(precision_score(y_true, y_pred, zero_division=0)),
        "recall_score": float(recall_score(y_true, y_pred, zero_division=0)),
        "f1_score": float(f1_score(y_true, y_pred, zero_division=0)),
    }
    if y_score is not None:
        metrics["log_loss"] = float(log_loss(y_true, y_score, labels=[0, 1]))
        if len(np.unique(np.asarray(y_true))) == 2:
            metrics["roc_auc"] = float(roc_auc_score(y_true, y_score))
    return metrics


def model_features(model: Any, features: pd.DataFrame) -> pd.DataFrame:
    """The columns ``model`` was fitted on, in its order (a KeyError names missing ones)."""
    names = getattr(model, "feature_names_in_", None)
    return features if names is None else features[list(names)]


def score_model(
    model: Any, features: pd.DataFrame, target: pd.Series, problem_type: str
) -> dict[str, float]:
    """Metrics of a fitted scikit-learn model on ``features`` against ``target``."""
    inputs = model_features(model, features)
    y_pred = np.asarray(model.predict(inputs))
    y_score = None
    if problem_type == "classification" and hasattr(model, "predict_proba"):
        probabilities = np.asarray(model.predict_proba(inputs))
        classes = list(getattr(model, "classes_", [0, 1]))
        if probabilities.ndim == 2 and 1 in classes:
            y_score = probabilities[:, classes.index(1)]
        elif probabilities.ndim == 2:  # trained on negatives only: P(1) is 0
            y_score = np.zeros(len(inputs))
    return compute_metrics(problem_type, target, y_pred, y_score)
