"""The job run a task belongs to, read back from the Jobs API: what the job declares and the
commit the run executed.

Every job parameter can be changed for one run: ``run-now`` and ``repair`` both take
``job_parameters`` ("Job-level parameters used in the run", databricks-sdk
``databricks/sdk/service/jobs.py``, ``JobsAPI.run_now`` and ``JobsAPI.repair_run``; a repair
re-runs tasks "as part of the original job run"), so anyone with CAN_MANAGE_RUN could run the
gate with ``run_mode=dry_run``. What the *job* declares is not a run's to change: the job's
settings (``jobs/get``, ``settings.parameters[].default``) are the stack file's values, changed
only by a deployment. So the gate's settings are read from there, by the run-as principal
(the job's owner, so it may read the job), and a run's parameters may raise ``run_mode`` but
never lower it (:func:`effective_run_mode`).

The run is identified by the notebook's context, not by a widget a run could override:
MLflow's ``databricks_utils.get_job_run_id`` (the same value MLflow tags runs with as
``mlflow.databricks.jobRunID``). Outside a job run (a notebook run by hand, the local tests)
there is no job run and nothing is enforced: such a run acts as the person running it.

The commit comes from the job run's git snapshot: ``git_source.git_snapshot.used_commit``,
"Commit that was used to execute the run. If git_branch was specified, this points to the HEAD
of the branch at the time of the run; if git_tag was specified, this points to the commit the
tag points to" (databricks-sdk ``jobs.py``, ``GitSnapshot``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from mlops_ml.registry import RunMode

GATE_PARAMETERS = ("run_mode", "validation_thresholds", "baseline_check")
"""Job parameters that decide a verdict or a deployment; in a job run, their declared values
apply (``run_mode`` may be raised)."""


class JobsApi(Protocol):
    """The two Jobs API reads used here (``WorkspaceClient().jobs``)."""

    def get_run(self, run_id: int) -> Any: ...

    def get(self, job_id: int) -> Any: ...


@dataclass(frozen=True)
class JobRun:
    """What the Jobs API says about the job run a task belongs to."""

    run_id: int | None = None
    """The job run (not the task run); None outside a job run."""
    job_id: int | None = None
    declared: Mapping[str, str] = field(default_factory=dict)
    """The job's parameters as it declares them (name -> default); empty outside a job run and
    in one-time runs (``runs/submit``), which have no job-level parameters."""
    used_commit: str | None = None
    """The commit the run checked out (git source only)."""
    one_time: bool = False
    """A one-time run (``runs/submit``): its parameters are set by whoever submitted it, who must
    be allowed to run as the run-as principal; there is no declaration to read."""

    @property
    def in_job(self) -> bool:
        return self.run_id is not None


NOT_A_JOB_RUN = JobRun()


def _value(obj: Any, name: str) -> Any:
    """An attribute of an SDK object, None when the SDK version or the response lacks it."""
    return getattr(obj, name, None) if obj is not None else None


def read_job_run(jobs: JobsApi, task_run_id: int) -> JobRun:
    """The job run ``task_run_id`` belongs to, its job's declared parameters and its commit.

    ``runs/get`` of a task run names its job run in ``job_run_id`` ("For task runs, the field is
    populated with the ID of the job run that the task run belongs to", databricks-sdk
    ``jobs.py``, ``Run.job_run_id``); a one-time run is ``run_type`` ``SUBMIT_RUN``. Errors are
    raised: the run-as principal owns the job, so a failed read is a misconfiguration, and the
    gate does not fall back to the run's own parameters.
    """
    run = jobs.get_run(task_run_id)
    parent_id = _value(run, "job_run_id") or _value(run, "run_id") or task_run_id
    if parent_id != _value(run, "run_id"):
        run = jobs.get_run(parent_id)
    snapshot = _value(_value(run, "git_source"), "git_snapshot")
    commit = _value(snapshot, "used_commit")
    run_type = _value(run, "run_type")
    one_time = str(_value(run_type, "value") or run_type or "") == "SUBMIT_RUN"
    job_id = _value(run, "job_id")
    declared: dict[str, str] = {}
    if not one_time and job_id is not None:
        settings = _value(jobs.get(job_id), "settings")
        for parameter in _value(settings, "parameters") or []:
            name, default = _value(parameter, "name"), _value(parameter, "default")
            if name and default is not None:
                declared[str(name)] = str(default)
    return JobRun(int(parent_id), job_id, declared, commit or None, one_time)


def current_job_run() -> JobRun:
    """The job run of the notebook running this (:data:`NOT_A_JOB_RUN` outside one).

    Reads with the Databricks SDK, which Databricks Runtime bundles from 13.1 on and which
    authenticates as the notebook's principal there (databricks/databricks-sdk-py README,
    "Databricks Runtime starting from version 13.1 includes a bundled version of the Python SDK").
    """
    from mlflow.utils import databricks_utils

    task_run_id = databricks_utils.get_job_run_id()
    if task_run_id is None:
        return NOT_A_JOB_RUN
    from databricks.sdk import WorkspaceClient  # on the runtime only; not a local dependency

    return read_job_run(WorkspaceClient().jobs, int(task_run_id))


@dataclass(frozen=True)
class GateSettings:
    """The settings a gate task applies, and what was refused of the run's own parameters."""

    run_mode: RunMode
    values: Mapping[str, str]
    """Every gate parameter's value as applied."""
    notes: tuple[str, ...] = ()
    """One line per run-time value that was not applied, naming it and why."""


def gate_settings(parameters: Mapping[str, str], job_run: JobRun) -> GateSettings:
    """The gate's settings for this run: the job's declared ones in a job run.

    ``parameters`` are the task's widgets (the run's values). In a job run whose job declares a
    gate parameter, the declared value applies, except that ``run_mode`` may be raised
    (``dry_run`` -> ``enabled``) but never lowered: a run-time override of a stricter stack
    file is ignored and reported. Outside a job run, and in one-time runs, the widgets apply.
    """
    values = {name: parameters[name] for name in GATE_PARAMETERS if name in parameters}
    notes: list[str] = []
    declared = job_run.declared
    for name in GATE_PARAMETERS:
        if name == "run_mode" or name not in declared or name not in values:
            continue
        if values[name] != declared[name]:
            notes.append(
                f"{name}={values[name]!r} given for this run is not applied: the job declares "
                f"{declared[name]!r} (change it in the stack file)"
            )
            values[name] = declared[name]
    mode = RunMode.parse(values.get("run_mode", RunMode.DRY_RUN.value))
    if "run_mode" in declared:
        floor = RunMode.parse(declared["run_mode"])
        if mode.strictness < floor.strictness:
            notes.append(
                f"run_mode={mode.value!r} given for this run is not applied: the job declares "
                f"{floor.value!r}, and a run may raise run_mode but not lower it (break-glass: "
                "README, 'The model gate on day two')"
            )
            mode = floor
    values["run_mode"] = mode.value
    return GateSettings(mode, values, tuple(notes))
