"""The smoke command's control flow, against a fake workspace client (no workspace here)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import compute, jobs

from mlops_resources import PROJECT_DIR
from mlops_resources.databricks.training_job import TASKS as TRAINING_TASKS
from mlops_resources.delivery.smoke import (
    VALIDATION_TASK,
    CodeSource,
    SmokeError,
    code_source_of,
    one_time_tasks,
    smoke,
    stack_outputs,
)
from mlops_resources.offline.cli import main
from tests.stacks import example_dir

TRAINING, BATCH = 101, 202
OUTPUTS = {"training_job_id": str(TRAINING), "batch_inference_job_id": str(BATCH)}
CLUSTER = compute.ClusterSpec(
    spark_version="15.4.x-cpu-ml-scala2.12", node_type_id="i3.xlarge", num_workers=2
)
GIT = jobs.GitSource(
    git_url="https://github.com/example-org/wine-quality-mlops",
    git_provider=jobs.GitProvider.GIT_HUB,
    git_branch="main",
)
RUN_AS = jobs.JobRunAs(service_principal_name="00000000-0000-0000-0000-00000000a001")


def notebook_task(key: str, cluster: str, after: str | None = None) -> jobs.Task:
    return jobs.Task(
        task_key=key,
        job_cluster_key=cluster,
        depends_on=[jobs.TaskDependency(task_key=after)] if after else None,
        notebook_task=jobs.NotebookTask(notebook_path=f"notebooks/{key}", source=jobs.Source.GIT),
    )


SETTINGS = {
    TRAINING: jobs.JobSettings(
        name="staging-wine-quality-model-training-job",
        git_source=GIT,
        run_as=RUN_AS,
        timeout_seconds=7200,
        job_clusters=[jobs.JobCluster(job_cluster_key="training", new_cluster=CLUSTER)],
        parameters=[
            jobs.JobParameterDefinition(name="env", default="staging"),
            jobs.JobParameterDefinition(name="model_name", default="staging.wine_quality.m"),
            jobs.JobParameterDefinition(
                name="git_source_info", default=f"url:{GIT.git_url}; branch:main"
            ),
        ],
        tasks=[
            notebook_task("ModelDeployment", "training", after="ModelValidation"),
            notebook_task("ModelValidation", "training", after="Train"),
            notebook_task("Train", "training"),
        ],
    ),
    BATCH: jobs.JobSettings(
        name="staging-wine-quality-batch-inference-job",
        git_source=GIT,
        run_as=RUN_AS,
        timeout_seconds=7200,
        job_clusters=[jobs.JobCluster(job_cluster_key="batch", new_cluster=CLUSTER)],
        parameters=[jobs.JobParameterDefinition(name="output_table_name", default="s.w.p")],
        tasks=[notebook_task("BatchInference", "batch")],
    ),
}


def task_run(key: str, state: jobs.RunResultState, run_id: int) -> jobs.RunTask:
    return jobs.RunTask(
        task_key=key,
        run_id=run_id,
        run_page_url=f"https://ws/#run/{run_id}",
        state=jobs.RunState(result_state=state, state_message=f"{key} said {state.value}"),
    )


def finished(*tasks: jobs.RunTask) -> jobs.Run:
    ok = all(t.state and t.state.result_state == jobs.RunResultState.SUCCESS for t in tasks)
    state = jobs.RunResultState.SUCCESS if ok else jobs.RunResultState.FAILED
    return jobs.Run(state=jobs.RunState(result_state=state), tasks=list(tasks))


SUCCESS = jobs.RunResultState.SUCCESS


@dataclass
class FakeWait:
    run_id: int
    outcome: jobs.Run | BaseException

    def result(self, timeout: timedelta) -> jobs.Run:
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


@dataclass
class FakeJobs:
    """The few Jobs API calls the smoke run makes; each submit gets the next outcome. A task
    run in ``exits`` ended with ``dbutils.notebook.exit(<value>)``."""

    outcomes: list[jobs.Run | BaseException]
    submitted: list[dict[str, Any]] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    exits: dict[int, str] = field(default_factory=dict)

    def get(self, job_id: int) -> jobs.Job:
        return jobs.Job(job_id=job_id, settings=SETTINGS[job_id])

    def submit(self, **kwargs: Any) -> FakeWait:
        self.submitted.append(kwargs)
        return FakeWait(len(self.submitted), self.outcomes[len(self.submitted) - 1])

    def get_run(self, run_id: int) -> jobs.Run:
        return jobs.Run(run_id=run_id, run_page_url=f"https://ws/#run/{run_id}")

    def get_run_output(self, run_id: int) -> jobs.RunOutput:
        if run_id in self.exits:
            return jobs.RunOutput(notebook_output=jobs.NotebookOutput(result=self.exits[run_id]))
        return jobs.RunOutput(error=f"AssertionError in run {run_id}")

    def cancel_run(self, run_id: int) -> None:
        self.cancelled.append(run_id)


@dataclass
class FakeClient:
    jobs: FakeJobs


def run_smoke(
    *outcomes: jobs.Run | BaseException, exits: dict[int, str] | None = None
) -> tuple[bool, FakeJobs, list[str]]:
    fake = FakeJobs(list(outcomes), exits=exits or {})
    said: list[str] = []
    client = cast(WorkspaceClient, FakeClient(fake))
    ok = smoke(client, "staging", OUTPUTS, "v1.2.0", timedelta(minutes=5), said.append)
    return ok, fake, said


def test_training_then_batch_inference_run_once_at_the_tag() -> None:
    ok, fake, said = run_smoke(
        finished(task_run("Train", SUCCESS, 11)), finished(task_run("BatchInference", SUCCESS, 21))
    )
    assert ok
    training, batch = fake.submitted
    assert training["run_name"] == "smoke v1.2.0: staging-wine-quality-model-training-job"
    assert training["git_source"] == jobs.GitSource(
        git_url=GIT.git_url, git_provider=jobs.GitProvider.GIT_HUB, git_tag="v1.2.0"
    )
    assert training["run_as"] == RUN_AS and training["timeout_seconds"] == 7200
    assert [t.task_key for t in training["tasks"]] == [
        "ModelDeployment",
        "ModelValidation",
        "Train",
    ]
    assert [t.task_key for t in batch["tasks"]] == ["BatchInference"]
    assert said == [
        "training: run 1 of staging-wine-quality-model-training-job at v1.2.0: https://ws/#run/1",
        "training: SUCCESS https://ws/#run/1",
        "batch inference: run 2 of staging-wine-quality-batch-inference-job at v1.2.0: "
        "https://ws/#run/2",
        "batch inference: SUCCESS https://ws/#run/2",
    ]


def test_one_time_tasks_get_their_job_cluster_and_the_job_parameters() -> None:
    deployment, validation, train = one_time_tasks(SETTINGS[TRAINING])
    assert train.new_cluster == CLUSTER and train.depends_on is None
    assert validation.depends_on == [jobs.TaskDependency(task_key="Train")]
    assert deployment.notebook_task == jobs.NotebookTask(
        notebook_path="notebooks/ModelDeployment",
        source=jobs.Source.GIT,
        base_parameters={
            "env": "staging",
            "model_name": "staging.wine_quality.m",
            "git_source_info": f"url:{GIT.git_url}; branch:main",
        },
    )


def test_a_serverless_job_runs_once_in_its_environment_with_its_budget_policy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its tasks name the job's environment (the run must declare it, or the key names
    nothing), and a one-time run without a budget policy "will not be attributed to any
    budget policy" (databricks-sdk ``JobsAPI.submit``)."""
    environment = jobs.JobEnvironment(
        environment_key="default",
        spec=compute.Environment(environment_version="5", dependencies=["scikit-learn==1.6.1"]),
    )
    policy = "3c5e1a2b-7d4f-4e6a-9b8c-1d2e3f4a5b6c"
    for job_id in (TRAINING, BATCH):
        serverless = dataclasses.replace(
            SETTINGS[job_id],
            job_clusters=None,
            environments=[environment],
            budget_policy_id=policy,
            tasks=[
                dataclasses.replace(t, job_cluster_key=None, environment_key="default")
                for t in SETTINGS[job_id].tasks or []
            ],
        )
        monkeypatch.setitem(SETTINGS, job_id, serverless)
    ok, fake, _ = run_smoke(
        finished(task_run("Train", SUCCESS, 11)), finished(task_run("BatchInference", SUCCESS, 21))
    )
    assert ok
    for submitted in fake.submitted:
        assert submitted["environments"] == [environment]
        assert submitted["budget_policy_id"] == policy
        for task in submitted["tasks"]:
            assert task.environment_key == "default"
            assert task.new_cluster is None and task.existing_cluster_id is None


def test_the_training_run_records_the_tag_it_checked_out_and_reports_the_verdict() -> None:
    """The runs are tagged with what they ran: the tag, not the staging job's branch (the
    smoke run used to record ``branch:main`` for code checked out at a tag)."""
    ran = finished(task_run("Train", SUCCESS, 11), task_run("ModelValidation", SUCCESS, 12))
    ok, fake, said = run_smoke(
        ran, finished(task_run("BatchInference", SUCCESS, 21)), exits={12: "PASSED"}
    )
    assert ok
    for task in fake.submitted[0]["tasks"]:
        assert task.notebook_task.base_parameters["git_source_info"] == (
            f"url:{GIT.git_url}; tag:v1.2.0"
        )
    batch = fake.submitted[1]["tasks"][0].notebook_task.base_parameters
    assert "git_source_info" not in batch  # only parameters the job declares are replaced
    assert said[1:3] == ["training: model validation PASSED", "training: SUCCESS https://ws/#run/1"]


def test_a_tag_whose_model_fails_validation_fails_the_smoke_run() -> None:
    """Staging validates in dry_run, where a FAILED verdict does not fail the task: the smoke
    run reads the verdict the task exited with, and fails on it."""
    ran = finished(task_run("Train", SUCCESS, 11), task_run("ModelValidation", SUCCESS, 12))
    ok, fake, said = run_smoke(ran, exits={12: "FAILED"})
    assert not ok and len(fake.submitted) == 1
    assert said[1:] == [
        "training: FAILED, model validation FAILED https://ws/#run/1",
        "batch inference: not run, training failed",
    ]


def test_the_validation_task_is_the_training_job_s() -> None:
    assert VALIDATION_TASK in [task.key for task in TRAINING_TASKS]


def test_a_failed_task_is_named_and_batch_inference_does_not_run() -> None:
    failed = finished(
        task_run("Train", SUCCESS, 11),
        task_run("ModelValidation", jobs.RunResultState.FAILED, 12),
        task_run("ModelDeployment", jobs.RunResultState.UPSTREAM_FAILED, 13),
    )
    ok, fake, said = run_smoke(failed)
    assert not ok
    assert len(fake.submitted) == 1
    assert said[1:] == [
        "training: FAILED (FAILED) https://ws/#run/1",
        "  task ModelValidation FAILED: AssertionError in run 12 https://ws/#run/12",
        "  task ModelDeployment UPSTREAM_FAILED: ModelDeployment said UPSTREAM_FAILED "
        "https://ws/#run/13",
        "batch inference: not run, training failed",
    ]


def test_a_failed_batch_inference_fails_the_smoke_run() -> None:
    ok, fake, said = run_smoke(
        finished(task_run("Train", SUCCESS, 11)),
        finished(task_run("BatchInference", jobs.RunResultState.FAILED, 21)),
    )
    assert not ok and len(fake.submitted) == 2
    assert said[-1] == "  task BatchInference FAILED: AssertionError in run 21 https://ws/#run/21"


def test_a_run_past_its_time_limit_is_cancelled_and_fails() -> None:
    ok, fake, said = run_smoke(TimeoutError("timed out after 0:05:00"))
    assert not ok
    assert fake.cancelled == [1]
    assert said[1] == (
        "training: FAILED, no result within 0:05:00; run 1 cancelled: https://ws/#run/1"
    )
    assert said[2] == "batch inference: not run, training failed"


def test_missing_outputs_or_a_job_without_git_source_stop_before_any_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeJobs([])
    client = cast(WorkspaceClient, FakeClient(fake))
    with pytest.raises(SmokeError, match="no output batch_inference_job_id; deploy it first"):
        smoke(client, "staging", {"training_job_id": "1"}, "v1", timedelta(minutes=1))
    monkeypatch.setitem(SETTINGS, TRAINING, jobs.JobSettings(name="x", tasks=[]))
    with pytest.raises(SmokeError) as caught:
        smoke(client, "dev-x", OUTPUTS, "v1", timedelta(minutes=1))
    assert str(caught.value) == (
        f"training job {TRAINING} has no git_source, and the smoke run checks the code out at a "
        "git tag: Pulumi.dev-x.yaml: mlops:code_source.type: expected 'git'"
    )
    assert fake.submitted == []


def test_a_task_the_smoke_run_cannot_rebuild_names_its_job() -> None:
    condition = jobs.Task(
        task_key="IsMetricViolated",
        condition_task=jobs.ConditionTask(left="a", op=jobs.ConditionTaskOp.EQUAL_TO, right="b"),
    )
    settings = jobs.JobSettings(name="staging-wine-quality-retraining-job", tasks=[condition])
    with pytest.raises(SmokeError) as caught:
        one_time_tasks(settings)
    assert str(caught.value) == (
        "job staging-wine-quality-retraining-job: task IsMetricViolated is not a notebook task; "
        "the smoke run can rebuild only notebook tasks"
    )
    orphan = dataclasses.replace(SETTINGS[BATCH], job_clusters=[])
    with pytest.raises(SmokeError) as caught:
        one_time_tasks(orphan)
    assert str(caught.value) == (
        "job staging-wine-quality-batch-inference-job: task BatchInference names job cluster "
        "batch, which the job does not declare"
    )


def test_outputs_come_from_a_file_as_pulumi_stack_output_prints_them(tmp_path: Path) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(OUTPUTS))
    assert stack_outputs("staging", path) == OUTPUTS


def test_cli_reports_what_stops_it_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.json"
    argv = ["smoke", "--stack", "staging", "--ref", "v1", "--outputs", str(missing)]
    assert main(argv) == 2
    assert "none.json" in capsys.readouterr().out
    # An outputs file that exists: only the stack file is missing.
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(OUTPUTS))
    assert main(["smoke", "--stack", "nope", "--ref", "v1", "--outputs", str(outputs)]) == 2
    assert capsys.readouterr().out.startswith("smoke: Pulumi.nope.yaml: no such stack file in ")


def test_offline_commands_do_not_load_the_databricks_sdk() -> None:
    code = (
        "import sys, mlops_resources.offline.cli; "
        "assert not [m for m in sys.modules if m.startswith('databricks.sdk')]"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_the_run_checks_out_prods_repository_not_staging_jobs() -> None:
    """Prod's stack file may name another repository than staging's (a fork, a mirror): the
    smoke run of prod's tag must check out what prod's jobs will, so ``--code-from prod``
    takes the URL, provider and tag from prod's ``code_source`` (the Jobs API's
    ``GitSource.git_url``, installed databricks-sdk ``service/jobs.py``)."""
    code = code_source_of("prod", example_dir())
    assert code == CodeSource(
        "https://github.com/example-org/wine-quality-mlops", jobs.GitProvider.GIT_HUB, "v0.1.0"
    )
    mirror = dataclasses.replace(code, url="https://github.com/example-org/prod-mirror")
    fake = FakeJobs([finished(task_run("Train", SUCCESS, 11)), finished()])
    client = cast(WorkspaceClient, FakeClient(fake))
    assert smoke(client, "staging", OUTPUTS, mirror.tag, timedelta(minutes=5), print, mirror)
    for submitted in fake.submitted:
        assert submitted["git_source"] == jobs.GitSource(
            git_url="https://github.com/example-org/prod-mirror",
            git_provider=jobs.GitProvider.GIT_HUB,
            git_tag="v0.1.0",
        )
    with pytest.raises(
        SmokeError, match=r"Pulumi\.staging\.yaml: mlops:code_source: expected type"
    ):
        code_source_of("staging", example_dir())  # staging follows a branch, not a tag


def test_cli_refuses_a_ref_other_than_the_code_stacks_tag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(OUTPUTS))
    argv = ["smoke", "--stack", "staging", "--code-from", "prod", "--outputs", str(outputs)]
    assert main([*argv, "--ref", "v9.9.9"]) == 2
    assert "--ref v9.9.9 is not prod's code_source.tag" in capsys.readouterr().out
    assert main(["smoke", "--stack", "staging", "--outputs", str(outputs)]) == 2
    assert "give --ref TAG or --code-from STACK" in capsys.readouterr().out


def test_every_model_of_a_stack_of_several_runs_and_a_failed_one_does_not_stop_the_next() -> None:
    """A stack of several models exports each model's outputs under ``models``; the smoke run
    runs every model's training and batch inference (here: both models' ids are staging's)."""
    fake = FakeJobs(
        [
            finished(task_run("Train", jobs.RunResultState.FAILED, 11)),
            finished(task_run("Train", SUCCESS, 12)),
            finished(task_run("BatchInference", SUCCESS, 22)),
        ]
    )
    said: list[str] = []
    client = cast(WorkspaceClient, FakeClient(fake))
    outputs = {"models": {"churn": OUTPUTS, "fraud": OUTPUTS}}
    assert not smoke(client, "staging", outputs, "v1.2.0", timedelta(minutes=5), said.append)
    assert len(fake.submitted) == 3
    assert said[0] == "model churn:"
    assert "batch inference: not run, training failed" in said
    assert "model fraud:" in said and said[-1] == "batch inference: SUCCESS https://ws/#run/3"
    with pytest.raises(SmokeError, match=r"no output models\.fraud\.batch_inference_job_id"):
        smoke(
            client,
            "staging",
            {"models": {"churn": OUTPUTS, "fraud": {"training_job_id": "1"}}},
            "v1",
            timedelta(minutes=1),
        )
