"""Run the code prod will run, once, in staging: ``python -m mlops_resources smoke``.

Before prod deploys, its tag (``code_source.tag`` of ``Pulumi.prod.yaml``) runs in staging:
one one-time run of the staging training job's tasks, then one of the batch inference job's,
each built from the deployed staging job's settings (tasks, parameters, cluster, run-as) with
``git_source`` at that tag, as Databricks' own MLOps templates run the training job after
deploying to their test workspace. The runs write what staging's jobs write (staging's model,
experiment and output table): that is what staging is for.

One-time runs (``jobs/runs/submit``) have no shared job clusters, so each task gets its job
cluster's spec as its own ``new_cluster``; nor job-level parameters, so each notebook task gets
them as ``base_parameters`` (a notebook reads both as widgets). A serverless job's environments
and budget policy go with the run as they are: its tasks name the environment by key, and a
one-time run "will not be attributed to any budget policy" unless it names one
(databricks-sdk ``JobsAPI.submit``, ``environments`` and ``budget_policy_id``).

The code comes from the stack whose code is promoted (``--code-from prod``): its
``code_source`` gives the repository URL, provider and tag, so the run checks out the very
repository prod's jobs will (``jobs.GitSource(git_url=...)``), not staging's, whose URL prod's
stack file need not share.

``Wait.result`` returns when a run terminates, whether it succeeded or not; only the run's
``result_state`` says which. On timeout the run is cancelled, so nothing is left running.

The training run's lineage names what ran: its ``git_source_info`` parameter says ``tag:<ref>``
(the deployed job's says staging's branch), and Train also records the commit the run checked
out. Staging validates in ``dry_run``, where a FAILED verdict does not fail the task, so the
smoke run reads the verdict ModelValidation exits with (``runs/get-output``,
``notebook_output.result``: "The value passed to dbutils.notebook.exit()", databricks-sdk
``jobs.py``, ``NotebookOutput``), reports it, and fails on FAILED: a tag whose model fails the
gate does not pass the smoke run.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import OperationFailed
from databricks.sdk.service import jobs

from mlops_resources import PROJECT_DIR
from mlops_resources.config.host import DATABRICKS_HOST_KEY
from mlops_resources.config.load import validate
from mlops_resources.config.reading import ConfigError, RawConfig
from mlops_resources.config.stack_files import StackFileError, read_stack_file

Print = Callable[[str], None]


class SmokeError(Exception):
    """The smoke run cannot start: missing outputs, a job it cannot rebuild."""


@dataclass(frozen=True)
class SmokeJob:
    """A deployed job to run once, and the stack output that holds its id."""

    label: str
    """What the report calls it."""
    output: str
    """Stack output holding the job id."""


JOBS = (
    SmokeJob("training", "training_job_id"),
    SmokeJob("batch inference", "batch_inference_job_id"),
)
"""In order: batch inference scores with the model the training run registered."""
SERVING_OUTPUT = "serving_endpoint_name"
"""Stack output of the serving endpoint (``mlops:serving``, once a champion exists)."""
SERVING_SMOKE = "ServingSmoke"
"""The notebook that queries the endpoint with one row of the scoring input and checks the
answer's shape (``notebooks/ServingSmoke.py``). It runs third, with the batch inference job's
settings (compute, run-as, parameters such as ``input_table_name``), after the training run's
ServingUpdate task pointed the endpoint at the new champion."""


@dataclass(frozen=True)
class CodeSource:
    """Where a stack's jobs check their code out: what the smoke run checks out instead of the
    staging job's own repository."""

    url: str
    provider: jobs.GitProvider
    tag: str


def code_source_of(stack: str, project_dir: Path | None = None) -> CodeSource:
    """The validated ``code_source`` of ``stack``'s file; it must name a git tag."""
    try:
        source = read_stack_file(stack, project_dir)
        code = validate(RawConfig.from_stack_file(source), stack).code_source
    except ConfigError as error:
        raise SmokeError(str(error)) from None
    if code.type != "git" or code.url is None or code.tag is None:
        raise SmokeError(
            f"Pulumi.{stack}.yaml: mlops:code_source: expected type 'git' with a url and a "
            "tag, the code the smoke run checks out"
        )
    return CodeSource(code.url, jobs.GitProvider(code.provider or "gitHub"), code.tag)


VALIDATION_TASK = "ModelValidation"
"""Task key of the training job's validation task (``training_job.TASKS``); it exits with the
verdict."""
GIT_SOURCE_INFO = "git_source_info"
"""The training job's lineage parameter (``training_job.git_source_info``)."""


def stack_outputs(stack: str, outputs_file: Path | None = None) -> dict[str, Any]:
    """The stack's outputs: from a file (``pulumi stack output --json``), or the Pulumi CLI."""
    if outputs_file is not None:
        text = outputs_file.read_text()
    else:
        done = subprocess.run(
            ["pulumi", "stack", "output", "--json", "--stack", stack],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SmokeError(f"pulumi stack output --stack {stack} failed: {done.stderr.strip()}")
        text = done.stdout
    outputs: dict[str, Any] = json.loads(text)
    return outputs


def one_time_tasks(
    settings: jobs.JobSettings, overrides: Mapping[str, str] | None = None
) -> list[jobs.SubmitTask]:
    """The job's tasks as a one-time run takes them: own cluster, job parameters inlined
    (``overrides`` replace the values of parameters the job declares)."""
    clusters = {c.job_cluster_key: c.new_cluster for c in settings.job_clusters or []}
    parameters = {p.name: p.default for p in settings.parameters or [] if p.name}
    parameters |= {k: v for k, v in (overrides or {}).items() if k in parameters}
    tasks = []
    for task in settings.tasks or []:
        notebook = task.notebook_task
        if notebook is None:
            raise SmokeError(
                f"job {settings.name}: task {task.task_key} is not a notebook task; the smoke "
                "run can rebuild only notebook tasks"
            )
        if task.job_cluster_key and task.job_cluster_key not in clusters:
            raise SmokeError(
                f"job {settings.name}: task {task.task_key} names job cluster "
                f"{task.job_cluster_key}, which the job does not declare"
            )
        tasks.append(
            jobs.SubmitTask(
                task_key=task.task_key,
                depends_on=task.depends_on,
                notebook_task=jobs.NotebookTask(
                    notebook_path=notebook.notebook_path,
                    source=notebook.source,
                    base_parameters={**parameters, **(notebook.base_parameters or {})},
                ),
                new_cluster=clusters[task.job_cluster_key]
                if task.job_cluster_key
                else task.new_cluster,
                existing_cluster_id=task.existing_cluster_id,
                environment_key=task.environment_key,
                libraries=task.libraries,
                timeout_seconds=task.timeout_seconds,
            )
        )
    return tasks


def serving_smoke_tasks(settings: jobs.JobSettings, endpoint: str) -> list[jobs.SubmitTask]:
    """One task: the batch inference job's first notebook task, running :data:`SERVING_SMOKE`
    from the same folder, with the endpoint's name added to its parameters."""
    first = one_time_tasks(settings)[0]
    notebook = first.notebook_task
    assert notebook is not None  # one_time_tasks refuses other tasks
    folder = notebook.notebook_path.rsplit("/", 1)[0]
    return [
        dataclasses.replace(
            first,
            task_key=SERVING_SMOKE,
            depends_on=None,
            notebook_task=jobs.NotebookTask(
                notebook_path=f"{folder}/{SERVING_SMOKE}",
                source=notebook.source,
                base_parameters={**(notebook.base_parameters or {}), SERVING_OUTPUT: endpoint},
            ),
        )
    ]


def _failed_tasks(client: WorkspaceClient, run: jobs.Run) -> list[str]:
    """One line per task that did not succeed: its key, state, message or error, URL."""
    lines = []
    for task in run.tasks or []:
        state = task.state.result_state if task.state else None
        if state in (None, jobs.RunResultState.SUCCESS):
            continue
        message = task.state.state_message if task.state else ""
        if task.run_id is not None and state != jobs.RunResultState.UPSTREAM_FAILED:
            output = client.jobs.get_run_output(task.run_id)
            message = output.error or message
        lines.append(f"task {task.task_key} {state.value}: {message or '-'} {task.run_page_url}")
    return lines


def _verdict(client: WorkspaceClient, run: jobs.Run) -> str | None:
    """What the validation task exited with (PASSED, FAILED, SKIPPED), if the run has one."""
    for task in run.tasks or []:
        if task.task_key == VALIDATION_TASK and task.run_id is not None:
            output = client.jobs.get_run_output(task.run_id).notebook_output
            return output.result if output is not None else None
    return None


def run_once(
    client: WorkspaceClient,
    stack: str,
    job: SmokeJob,
    job_id: int,
    ref: str,
    timeout: timedelta,
    say: Print,
    code: CodeSource | None = None,
    tasks: Callable[[jobs.JobSettings], list[jobs.SubmitTask]] | None = None,
) -> bool:
    """Run the deployed job's tasks (or those ``tasks`` makes of its settings) once at ``ref``
    (of ``code``'s repository, or else the job's own), its lineage parameter naming that tag;
    True when the run succeeded."""
    settings = client.jobs.get(job_id).settings
    if settings is None or settings.git_source is None:
        raise SmokeError(
            f"{job.label} job {job_id} has no git_source, and the smoke run checks the code "
            f"out at a git tag: Pulumi.{stack}.yaml: mlops:code_source.type: expected 'git'"
        )
    git = settings.git_source
    repo, provider = (code.url, code.provider) if code else (git.git_url, git.git_provider)
    # The lineage the runs record names the tag checked out, not the job's branch.
    lineage = {GIT_SOURCE_INFO: f"url:{repo}; tag:{ref}"}
    waiter = client.jobs.submit(
        run_name=f"smoke {ref}: {settings.name}",
        git_source=jobs.GitSource(git_url=repo, git_provider=provider, git_tag=ref),
        tasks=tasks(settings) if tasks else one_time_tasks(settings, lineage),
        environments=settings.environments,
        budget_policy_id=settings.budget_policy_id,
        run_as=settings.run_as,
        timeout_seconds=settings.timeout_seconds,
    )
    run_id: int = waiter.run_id
    url = client.jobs.get_run(run_id).run_page_url
    say(f"{job.label}: run {run_id} of {settings.name} at {ref}: {url}")
    try:
        run = waiter.result(timeout=timeout)
    except TimeoutError:
        client.jobs.cancel_run(run_id)
        say(f"{job.label}: FAILED, no result within {timeout}; run {run_id} cancelled: {url}")
        return False
    except OperationFailed as error:
        say(f"{job.label}: FAILED, {error}: {url}")
        return False
    state = run.state.result_state if run.state else None
    if state == jobs.RunResultState.SUCCESS:
        verdict = _verdict(client, run)
        if verdict == "FAILED":
            say(f"{job.label}: FAILED, model validation FAILED {url}")
            return False
        if verdict is not None:
            say(f"{job.label}: model validation {verdict}")
        say(f"{job.label}: SUCCESS {url}")
        return True
    say(f"{job.label}: FAILED ({state.value if state else 'no result'}) {url}")
    for line in _failed_tasks(client, run):
        say(f"  {line}")
    return False


def smoke(
    client: WorkspaceClient,
    stack: str,
    outputs: Mapping[str, Any],
    ref: str,
    timeout: timedelta,
    say: Print = print,
    code: CodeSource | None = None,
) -> bool:
    """Training then batch inference of ``stack``'s deployed jobs, each once at ``ref`` (of
    ``code``'s repository when given), then, when the stack serves the model, a query of its
    endpoint (:data:`SERVING_SMOKE`); True when all succeeded. A stack of several models
    exports each model's outputs under ``models`` (model key -> outputs): every model is run
    so, one after the other, and a failed model does not stop the next."""
    models = per_model_outputs(outputs)
    for key, model_outputs in models.items():
        missing = [j.output for j in JOBS if not model_outputs.get(j.output)]
        if missing:
            where = " " if key is None else f" models.{key}."
            raise SmokeError(f"the stack has no output{where}{', '.join(missing)}; deploy it first")
    results = []
    for key, model_outputs in models.items():
        if key is not None:
            say(f"model {key}:")
        results.append(_smoke_model(client, stack, model_outputs, ref, timeout, say, code))
    return all(results)


def per_model_outputs(outputs: Mapping[str, Any]) -> dict[str | None, Mapping[str, Any]]:
    """Each model's outputs, by key (None: the one model of a one-model stack)."""
    models = outputs.get("models")
    if isinstance(models, Mapping):
        return {str(key): value for key, value in models.items()}
    return {None: outputs}


def _smoke_model(
    client: WorkspaceClient,
    stack: str,
    outputs: Mapping[str, Any],
    ref: str,
    timeout: timedelta,
    say: Print,
    code: CodeSource | None,
) -> bool:
    """One model's runs (:func:`smoke`)."""
    for index, job in enumerate(JOBS):
        if not run_once(client, stack, job, int(outputs[job.output]), ref, timeout, say, code):
            for skipped in JOBS[index + 1 :]:
                say(f"{skipped.label}: not run, {job.label} failed")
            return False
    endpoint = outputs.get(SERVING_OUTPUT)
    if not endpoint:  # serving off, or no champion yet when the stack was last deployed
        return True
    batch = SmokeJob("serving", JOBS[-1].output)
    return run_once(
        client,
        stack,
        batch,
        int(outputs[batch.output]),
        ref,
        timeout,
        say,
        code,
        tasks=lambda settings: serving_smoke_tasks(settings, str(endpoint)),
    )


def main(
    stack: str,
    ref: str | None,
    timeout_minutes: int,
    outputs_file: Path | None,
    code_from: str | None = None,
) -> int:
    """The ``smoke`` command: exit 0 when both runs succeeded, 1 when one failed, 2 when
    it could not start. ``code_from`` names the stack whose repository and tag to run."""
    try:
        code = code_source_of(code_from) if code_from else None
        if code and ref and ref != code.tag:
            raise SmokeError(f"--ref {ref} is not {code_from}'s code_source.tag {code.tag}")
        ref = ref or (code.tag if code else None)
        if not ref:
            raise SmokeError("give --ref TAG or --code-from STACK")
        host = read_stack_file(stack).values.get(DATABRICKS_HOST_KEY)
        outputs = stack_outputs(stack, outputs_file)
    except (StackFileError, SmokeError, OSError, ValueError) as error:
        print(f"smoke: {error}")
        return 2
    # Authentication comes from the environment (in CI: DATABRICKS_AUTH_TYPE=github-oidc and
    # DATABRICKS_CLIENT_ID); the workspace is the stack file's.
    client = WorkspaceClient(host=host)
    try:
        ok = smoke(client, stack, outputs, ref, timedelta(minutes=timeout_minutes), print, code)
    except SmokeError as error:
        print(f"smoke: {error}")
        return 2
    return 0 if ok else 1
