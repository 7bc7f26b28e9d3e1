"""Lineage of a training run: the code it ran and the data it read.

The code: the commit the job run checked out (``used_commit`` of the run's git snapshot, read
by :mod:`mlops_ml.job_run`) becomes MLflow's ``mlflow.source.git.commit``. ``git_source_info``,
the job parameter MLOps Stacks calls the same, says what was asked for: ``url:<repo>;
branch:<b>`` or ``url:<repo>; tag:<t>`` (plus ``commit:<sha>`` when one is pinned or given for a
manual run), or ``workspace:<folder>`` when the stack uploads the notebooks; its fields become
MLflow's other git source tags. A branch moves, so only the snapshot's commit says which code
ran; without one (a manual run, workspace mode) a ``commit:`` of ``git_source_info`` is used.

The training data is logged as an MLflow dataset input (name, source, digest, schema and row
count; no rows), its digest also as the run parameter :data:`DATA_DIGEST_PARAM`. Row-level
detail of the split is logged as counts and digests of row keys.

Where the installed MLflow has logged models (MLflow 3: ``log_model`` returns a ``model_id``,
``mlflow.log_metrics`` takes ``model_id=`` and ``dataset=``, ``mlflow.set_logged_model_tags``
exists; detected by feature, :func:`has_logged_models`), the same lineage is also attached to
the logged model, which is what a registered version points at on MLflow 3
(:func:`log_model_lineage`): the hold-out metrics are logged with ``model_id=`` and
``dataset=`` the training dataset, so ``mlflow.get_logged_model(model_id).metrics`` carry its
name and digest (the way MLflow 3 links a model to the data it was evaluated on: "link metrics
to datasets", https://mlflow.org/docs/3.3.2/genai/mlflow-3/deep-learning, and the
``model_id``/``dataset_name``/``dataset_digest`` fields of the REST ``log-metric`` call,
https://docs.databricks.com/api/experiments/v1/log-metric.md), and the code tags and the data
digest are set as the logged model's tags; ModelValidation's scores of the version on its
hold-out rows go to the same logged model (``validation_<metric>``, linked to the data
validation read, :func:`log_validation_metrics`). ``mlflow.log_input(..., model=LoggedModelInput)``
is not used: it records a model a run *consumed* (``RUN_INPUT`` -> ``MODEL_INPUT`` in MLflow's
``store/tracking/sqlalchemy_store.py`` ``_log_inputs_impl``), the wrong direction for the run
that trained it (the logged model is that run's output). MLflow 2.13 has none of this and keeps
the run-level lineage only.
"""

from __future__ import annotations

import inspect
from typing import Any

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.data.pandas_dataset import from_pandas
from mlflow.data.spark_dataset_source import SparkDatasetSource

from mlops_ml.data import is_table_name, spark_path

DATA_DIGEST_PARAM = "training_data_digest"
"""Run parameter: the MLflow digest of the training dataset (also on its dataset input)."""
GIT_COMMIT_TAG = "mlflow.source.git.commit"
GIT_SOURCE_INFO_TAG = "git_source_info"
"""Run tag with the raw ``git_source_info`` parameter."""
GIT_TAGS = {
    "url": "mlflow.source.git.repoURL",
    "branch": "mlflow.source.git.branch",
    "commit": GIT_COMMIT_TAG,
    "tag": "git_tag",
    "workspace": "workspace_folder",
}
"""MLflow run tag for each ``git_source_info`` field (MLflow has no tag for a git tag)."""


def parse_git_source_info(text: str) -> dict[str, str]:
    """The ``key:value`` fields of ``git_source_info``; unresolved ``{{...}}`` values dropped."""
    fields: dict[str, str] = {}
    for part in text.split(";"):
        key, sep, value = part.strip().partition(":")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            if part.strip():
                raise ValueError(
                    f"git_source_info part {part.strip()!r} is not 'key:value'; expected e.g. "
                    "'url:https://github.com/org/repo; branch:main'"
                )
            continue
        if value and "{{" not in value:
            fields[key] = value
    return fields


def lineage_tags(git_source_info: str, used_commit: str | None = None) -> dict[str, str]:
    """Run tags for the code: MLflow's git tags, the raw ``git_source_info``, and the commit
    the job run executed (``used_commit``), which wins over a ``commit:`` field."""
    fields = parse_git_source_info(git_source_info)
    tags = {GIT_TAGS[k]: v for k, v in fields.items() if k in GIT_TAGS}
    if git_source_info.strip():
        tags[GIT_SOURCE_INFO_TAG] = git_source_info.strip()
    if used_commit:
        tags[GIT_COMMIT_TAG] = used_commit
    return tags


IN_MEMORY = "(in-memory)"
"""The ``training_data`` parameter of a run trained on a frame handed over in memory."""


def dataset_source(training_data: str) -> SparkDatasetSource:
    """Where Spark read the training data: a table name, or a file path."""
    if is_table_name(training_data):
        return SparkDatasetSource(table_name=training_data)
    return SparkDatasetSource(path=spark_path(training_data) or IN_MEMORY)


def training_dataset(data: pd.DataFrame, training_data: str, target_column: str) -> Any:
    """``data`` as an MLflow dataset (name, source, digest, schema; no rows are logged).

    Integer columns are logged as float64: MLflow 2 cannot infer a dataset schema for integer
    columns, and training uses every feature as float64 anyway. The same rows give the same
    digest whether training or validation builds it.
    """
    if training_data == IN_MEMORY:
        training_data = ""
    ints = [c for c in data.columns if pd.api.types.is_integer_dtype(data[c])]
    frame = data.astype(dict.fromkeys(ints, "float64")) if ints else data
    name = training_data.rsplit("/", 1)[-1] or "training_data"
    return from_pandas(
        frame, source=dataset_source(training_data), targets=target_column, name=name
    )


def log_training_dataset(data: pd.DataFrame, training_data: str, target_column: str) -> Any:
    """Log ``data`` as the active run's ``training`` dataset input; return the dataset."""
    dataset = training_dataset(data, training_data, target_column)
    mlflow.log_input(dataset, context="training")
    return dataset


def has_logged_models() -> bool:
    """Whether the installed MLflow links metrics and tags to logged models (MLflow 3).

    By feature, not version: ``mlflow.log_metrics(..., model_id=, dataset=)`` and
    ``mlflow.set_logged_model_tags`` (MLflow 3's ``mlflow/tracking/fluent.py``); MLflow 2.13
    has neither.
    """
    parameters = inspect.signature(mlflow.log_metrics).parameters
    return (
        "model_id" in parameters
        and "dataset" in parameters
        and callable(getattr(mlflow, "set_logged_model_tags", None))
    )


def log_model_lineage(
    model_info: Any, metrics: dict[str, float], dataset: Any, tags: dict[str, str]
) -> str:
    """Log ``metrics`` to the active run and, on MLflow 3, link them and the lineage to the
    logged model of ``model_info``; return its ``model_id`` ("" on MLflow 2).

    On MLflow 3 the metrics are logged with ``model_id=`` and ``dataset=`` (they land on the
    run too, each carrying the model id and the dataset's name and digest), and ``tags`` (the
    code: :func:`lineage_tags`) plus :data:`DATA_DIGEST_PARAM` become the logged model's tags.
    """
    model_id = str(getattr(model_info, "model_id", None) or "")
    if not model_id or not has_logged_models():
        mlflow.log_metrics(metrics)
        return ""
    mlflow.log_metrics(metrics, model_id=model_id, dataset=dataset)
    mlflow.set_logged_model_tags(model_id, {**tags, DATA_DIGEST_PARAM: dataset.digest})
    return model_id


VALIDATION_METRIC_PREFIX = "validation_"
"""Prefix of the metrics ModelValidation logs (training logs the same names without it)."""


def log_validation_metrics(
    client: MlflowClient, run_id: str, metrics: dict[str, float], dataset: Any
) -> str:
    """On MLflow 3, log ``metrics`` (prefixed :data:`VALIDATION_METRIC_PREFIX`) to the training
    run ``run_id`` and its logged model, linked to ``dataset`` (the rows validation read) by
    name and digest; return the model id. On MLflow 2 (no logged models), log nothing, as
    before, and return "".

    The run's logged model is its one model output (``run.outputs.model_outputs``; training
    logs one model per run). ``MlflowClient.log_metric`` takes ``model_id``, ``dataset_name``
    and ``dataset_digest`` on MLflow 3 (``mlflow/tracking/client.py``).
    """
    if not has_logged_models():
        return ""
    outputs = client.get_run(run_id).outputs
    models = {o.model_id for o in outputs.model_outputs} if outputs is not None else set()
    if len(models) != 1:
        return ""  # a run from before MLflow 3 (no logged model): nothing to link to
    (model_id,) = models
    for name, value in sorted(metrics.items()):
        client.log_metric(
            run_id,
            VALIDATION_METRIC_PREFIX + name,
            value,
            dataset_name=dataset.name,
            dataset_digest=dataset.digest,
            model_id=model_id,
        )
    return model_id
