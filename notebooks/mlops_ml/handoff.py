"""Hand-off of the exact model version between the training job's tasks, by task values.

Train publishes the version it registered (``model_name``, ``model_version``, ``model_uri``)
with ``dbutils.jobs.taskValues``; ModelValidation and ModelDeployment read them from the
``Train`` task of the same job run, so they act on that version and never on whatever an alias
points at by then. Outside a job run (a notebook run by hand) task values are empty, and the
``model_name`` and ``model_version`` widgets say which version to act on, as in MLOps Stacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from mlops_ml.registry import version_uri

TRAIN_TASK = "Train"
"""Task key of the task that registers the version."""


class TaskValues(Protocol):
    """``dbutils.jobs.taskValues``."""

    def get(
        self,
        task_key: str,
        key: str,
        /,
        default: Any = ...,
        debugValue: Any = ...,  # noqa: N803 - dbutils' keyword
    ) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...


@dataclass(frozen=True)
class ModelRef:
    """One registered model version, and where the reference came from."""

    name: str
    version: str
    source: str
    """Where the reference came from: Train's registration, its task values, or the widgets of
    a manual run."""

    @property
    def uri(self) -> str:
        return version_uri(self.name, self.version)


def publish(task_values: TaskValues, ref: ModelRef) -> None:
    """Set the task values later tasks read: model name, version and URI."""
    values = {"model_name": ref.name, "model_version": ref.version, "model_uri": ref.uri}
    for key, value in values.items():
        task_values.set(key, value)


def handed_off_version(
    task_values: TaskValues, model_name: str, model_version: str, from_task: str = TRAIN_TASK
) -> ModelRef:
    """The version ``from_task`` published in this job run, else ``model_name``/``model_version``
    (the widgets of a manual run).

    Raises LookupError when there is neither (e.g. Train did not run and ``model_version``
    is empty), instead of guessing from an alias.
    """
    version = str(task_values.get(from_task, "model_version", default="", debugValue="") or "")
    if version:
        name = str(task_values.get(from_task, "model_name", default="", debugValue="") or "")
        if not name:
            raise LookupError(f"task {from_task!r} handed off model_version {version} but no name")
        return ModelRef(name, version, f"task values of {from_task}")
    name, version = model_name.strip(), model_version.strip()
    if not (name and version):
        raise LookupError(
            f"no model version to act on: task {from_task!r} set no task values in this run "
            "and the model_name/model_version parameters are not both set; run the whole job, "
            "or set model_version to run this task alone"
        )
    return ModelRef(name, version, "the model_name/model_version parameters")
