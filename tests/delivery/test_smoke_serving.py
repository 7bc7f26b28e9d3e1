"""The smoke run of a stack that serves the model: after training and batch inference, a
third one-time run queries the staging endpoint with one row of the scoring input
(``notebooks/ServingSmoke.py``, whose answer check is tested in ``tests/ml/test_serving.py``)."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from databricks.sdk import WorkspaceClient
from databricks.sdk.service import jobs

from mlops_resources.delivery.smoke import SERVING_SMOKE, smoke
from tests.delivery.test_smoke import (
    CLUSTER,
    OUTPUTS,
    SUCCESS,
    FakeClient,
    FakeJobs,
    finished,
    task_run,
)

ENDPOINT = "staging-wine-quality-endpoint"


def run(outputs: dict[str, str], *outcomes: jobs.Run) -> tuple[bool, FakeJobs, list[str]]:
    fake = FakeJobs(list(outcomes))
    said: list[str] = []
    ok = smoke(
        cast(WorkspaceClient, FakeClient(fake)),
        "staging",
        outputs,
        "v1.2.0",
        timedelta(minutes=5),
        said.append,
    )
    return ok, fake, said


def test_a_serving_stack_queries_its_endpoint_after_the_two_runs() -> None:
    ok, fake, said = run(
        {**OUTPUTS, "serving_endpoint_name": ENDPOINT},
        finished(task_run("Train", SUCCESS, 11)),
        finished(task_run("BatchInference", SUCCESS, 21)),
        finished(task_run(SERVING_SMOKE, SUCCESS, 31)),
    )
    assert ok and len(fake.submitted) == 3
    (task,) = fake.submitted[2]["tasks"]
    assert task.task_key == SERVING_SMOKE and task.new_cluster == CLUSTER
    assert task.notebook_task == jobs.NotebookTask(
        notebook_path=f"notebooks/{SERVING_SMOKE}",
        source=jobs.Source.GIT,
        base_parameters={"output_table_name": "s.w.p", "serving_endpoint_name": ENDPOINT},
    )
    assert said[-1] == "serving: SUCCESS https://ws/#run/3"


def test_a_failed_query_fails_the_smoke_run() -> None:
    ok, _, said = run(
        {**OUTPUTS, "serving_endpoint_name": ENDPOINT},
        finished(task_run("Train", SUCCESS, 11)),
        finished(task_run("BatchInference", SUCCESS, 21)),
        finished(task_run(SERVING_SMOKE, jobs.RunResultState.FAILED, 31)),
    )
    assert not ok
    assert said[-2].startswith("serving: FAILED")


def test_without_a_serving_endpoint_only_the_two_runs_are_made() -> None:
    ok, fake, _ = run(
        OUTPUTS,
        finished(task_run("Train", SUCCESS, 11)),
        finished(task_run("BatchInference", SUCCESS, 21)),
    )
    assert ok and len(fake.submitted) == 2
