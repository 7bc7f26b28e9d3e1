"""Training: fit a model on the training side of a stable split, log it, register a version.

The target comes from :class:`~mlops_ml.target.Target` (a binary class from a label threshold,
or the label itself for regression). Features are every other column of the training data but
the split's key columns (a row's id is not a feature); they must be numeric and are used as
float64 (missing values are imputed with the median). The default estimator is a random
forest inside a scikit-learn pipeline.

The run records what validation needs to rebuild everything from the data, and no rows: the
target definition and split (with the columns its keys were made of and digests of each side's
keys) as parameters, the training data as an MLflow dataset input and its digest, the code (git
source tags and the commit the job run executed), row counts and key digests of both sides as
:data:`SPLIT_ARTIFACT`. Where the installed MLflow has logged models (MLflow 3), the hold-out
metrics (with the training dataset's name and digest) and the code tags are attached to the
logged model too (:func:`mlops_ml.lineage.log_model_lineage`). The model's input example is
schema-only (zeros), so no value of any row is stored with the model. MLflow autologging is
switched off first: on Databricks Runtime ML (10.4 LTS and above) "Databricks Autologging calls
mlflow.autolog()" when a notebook attaches, with ``log_models=True`` and ``exclusive=False``
(Databricks docs, "Databricks Autologging",
https://docs.databricks.com/mlflow/databricks-autologging.html), and ``exclusive=False`` means
"autologged content is logged to the active fluent run, which may be user-created" (MLflow's
``mlflow.autolog`` docstring, 2.13.1 and 3.x): a second model and more datasets in this run.
``mlflow.autolog(disable=True)`` "disables all supported autologging integrations" (same
docstring). The new version is tagged ``validation_status=PENDING`` and gets no alias:
ModelValidation gives it ``challenger`` once it passes.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

import mlflow
import mlflow.sklearn
import pandas as pd
from mlflow import MlflowClient
from mlflow.models import infer_signature
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline

from mlops_ml.lineage import (
    DATA_DIGEST_PARAM,
    IN_MEMORY,
    lineage_tags,
    log_model_lineage,
    log_training_dataset,
)
from mlops_ml.metrics import score_model
from mlops_ml.registry import VALIDATION_STATUS_TAG, version_uri
from mlops_ml.split import SPLIT_ARTIFACT, Split, digest
from mlops_ml.target import Target, split_features

MODEL_ARTIFACT = "model"
"""Name (MLflow 3) or artifact path (MLflow 2) of the logged model."""
MIN_ROWS = 10
"""Fewest labelled rows training accepts on each side of the split."""
DEFAULT_N_ESTIMATORS = 200
"""Trees of the default random forest."""


@dataclass(frozen=True)
class TrainingResult:
    """What one training run produced."""

    run_id: str
    model_name: str
    model_version: str
    metrics: dict[str, float] = field(default_factory=dict)
    """Hold-out metrics."""
    training_rows: int = 0
    holdout_rows: int = 0
    logged_model_id: str = ""
    """MLflow 3's logged model (its metrics and lineage tags); "" on MLflow 2."""

    @property
    def model_uri(self) -> str:
        """The registered version's URI: what Train hands to the next tasks."""
        return version_uri(self.model_name, self.model_version)


def default_estimator(
    problem_type: str = "classification", random_state: int = 42, n_estimators: int | None = None
) -> Pipeline:
    """The model trained by default: median imputation, then a random forest."""
    trees = n_estimators or DEFAULT_N_ESTIMATORS
    forest: Any
    if problem_type == "regression":
        forest = RandomForestRegressor(
            n_estimators=trees, min_samples_leaf=2, random_state=random_state, n_jobs=1
        )
    else:
        forest = RandomForestClassifier(
            n_estimators=trees, min_samples_leaf=2, random_state=random_state, n_jobs=1
        )
    return Pipeline([("impute", SimpleImputer(strategy="median")), ("model", forest)])


def _experiment_id(client: MlflowClient, experiment_name: str) -> str:
    """Id of the experiment (the Pulumi program creates it; created here when missing)."""
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is not None:
        return str(experiment.experiment_id)
    return str(client.create_experiment(experiment_name))


def schema_only_example(features: pd.DataFrame) -> pd.DataFrame:
    """One input row of zeros with the features' names and types: shows the model's input
    shape without holding any value of any row (a median of an id or a category is a real
    value)."""
    return pd.DataFrame([[0.0] * len(features.columns)], columns=list(features.columns)).astype(
        features.dtypes.to_dict()
    )


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
    target: Target,
    experiment_name: str,
    model_name: str,
    *,
    split: Split | None = None,
    training_data: str = "",
    git_source_info: str = "",
    used_commit: str | None = None,
    estimator: Any = None,
    random_state: int = 42,
    client: MlflowClient | None = None,
) -> TrainingResult:
    """Fit on the training side of ``split``, log to ``experiment_name``, register a version.

    Logs parameters (target definition, split, estimator, row counts, data digest), hold-out
    metrics, lineage (git source tags and ``used_commit``, the commit the job run executed; the
    training data as a dataset input; :data:`SPLIT_ARTIFACT`) and the model with its signature
    and a schema-only input example. The split's key columns are not features. Registers a new
    ``model_name`` version tagged ``validation_status=PENDING``, without alias. Uses the current
    tracking and registry URIs; ``estimator`` replaces :func:`default_estimator` (it is cloned).
    """
    # One model and one dataset per run (see the module docstring). mlflow.autolog leaves alone
    # an integration whose own autolog was called (``setup_autologging`` in MLflow's
    # ``tracking/fluent.py``), so scikit-learn's is switched off by name too.
    mlflow.autolog(disable=True)
    mlflow.sklearn.autolog(disable=True)
    client = client or MlflowClient()
    split = split or Split()
    features, y = split_features(data, target, split.key_columns)
    keys = split.keys(data)
    holdout = split.holdout(data, keys)
    sides = {"training": int((~holdout).sum()), "holdout": int(holdout.sum())}
    for side, rows in sides.items():
        if rows < MIN_ROWS:
            raise ValueError(
                f"the {side} side of the split ({split.describe()}) has {rows} of "
                f"{len(data)} labelled rows; need {MIN_ROWS}"
            )
    x_train, y_train = features[~holdout], y[~holdout]
    if target.problem_type == "classification" and y_train.nunique() < 2:
        raise ValueError(
            f"target {target.describe()} has one class only in the training rows "
            f"(every value is {int(y_train.iloc[0])})"
        )
    model = (
        clone(estimator)
        if estimator is not None
        else default_estimator(target.problem_type, random_state)
    )
    experiment_id = _experiment_id(client, experiment_name)

    with mlflow.start_run(experiment_id=experiment_id) as run:
        code = lineage_tags(git_source_info, used_commit)
        mlflow.set_tags({"model_name": model_name, **code})
        dataset = log_training_dataset(data, training_data, target.label)
        mlflow.log_params(
            {
                **target.params(),
                **split.params(),
                **split.logged(data, keys, holdout),
                "estimator": type(model).__name__,
                "features": len(features.columns),
                "training_rows": sides["training"],
                "holdout_rows": sides["holdout"],
                "random_state": random_state,
                "training_data": training_data or IN_MEMORY,
                DATA_DIGEST_PARAM: dataset.digest,
            }
        )
        model.fit(x_train, y_train)
        metrics = score_model(model, features[holdout], y[holdout], target.problem_type)
        mlflow.log_dict(
            {
                "split": split.params(),
                "rows": len(data),
                "training_rows": sides["training"],
                "holdout_rows": sides["holdout"],
                "training_key_digest": digest(keys[~holdout]),
                "holdout_key_digest": digest(keys[holdout]),
            },
            SPLIT_ARTIFACT,
        )
        signature = infer_signature(x_train, model.predict(x_train))
        model_info = _log_sklearn_model(model, signature, schema_only_example(x_train))
        # After the model: on MLflow 3 the metrics and the lineage go to its logged model too.
        logged_model_id = log_model_lineage(model_info, metrics, dataset, code)

    version = mlflow.register_model(model_info.model_uri, model_name)
    client.set_model_version_tag(model_name, version.version, VALIDATION_STATUS_TAG, "PENDING")
    return TrainingResult(
        run_id=run.info.run_id,
        model_name=model_name,
        model_version=str(version.version),
        metrics=metrics,
        training_rows=sides["training"],
        holdout_rows=sides["holdout"],
        logged_model_id=logged_model_id,
    )
