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
"""

from __future__ import annotations

from typing import Any

import mlflow
import pandas as pd
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


def dataset_source(training_data: str) -> SparkDatasetSource:
    """Where Spark read the training data: a table name, or a file path."""
    if is_table_name(training_data):
        return SparkDatasetSource(table_name=training_data)
    return SparkDatasetSource(path=spark_path(training_data) or "(in-memory)")


def log_training_dataset(data: pd.DataFrame, training_data: str, target_column: str) -> Any:
    """Log ``data`` as the active run's ``training`` dataset input; return the dataset.

    Integer columns are logged as float64: MLflow 2 cannot infer a dataset schema for integer
    columns, and training uses every feature as float64 anyway.
    """
    ints = [c for c in data.columns if pd.api.types.is_integer_dtype(data[c])]
    frame = data.astype(dict.fromkeys(ints, "float64")) if ints else data
    name = training_data.rsplit("/", 1)[-1] or "training_data"
    dataset = from_pandas(
        frame, source=dataset_source(training_data), targets=target_column, name=name
    )
    mlflow.log_input(dataset, context="training")
    return dataset
