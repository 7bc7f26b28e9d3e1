"""A Databricks job of tasks on one job cluster or on serverless compute, hardened by default.

The training, batch inference and retraining jobs share this: each gets either a pinned,
tagged, Unity Catalog capable job cluster (classic) or a pinned serverless environment and a
budget policy (serverless; ``mlops_resources.config.compute`` has the evidence), job-level
parameters, a Quartz schedule, run-as, failure emails, a timeout, one concurrent run (more are
queued), tags, a UI lock, and one authoritative ``Permissions`` resource. Notebook tasks run on
the job cluster, or in the job's environment, with retries; the retraining job adds an if/else
condition task (no compute, no retries) and a run-job task that starts the training job on
the condition's outcome (no retries: the run job retries its own tasks).
Everything that becomes a list is sorted, so evaluating the same config twice gives identical
inputs and the provider sees no reordering diffs (pulumi-databricks#49: tasks must be in
``task_key`` order).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import pulumi
import pulumi_databricks as databricks

from mlops_resources.config.access import Principal
from mlops_resources.config.compute import ENVIRONMENT_KEY
from mlops_resources.databricks.code_source import CodeSource
from mlops_resources.databricks.common import MANAGED_BY, access_controls, child_opts

CLUSTER_SOURCE = "mlops-stacks-pulumi"


@dataclass(frozen=True)
class ClusterSpec:
    """The job cluster all of a job's tasks share."""

    spark_version: str
    """Pinned Databricks runtime."""
    node_type_id: str
    """Worker and driver node type."""
    num_workers: int
    """Fixed number of workers."""
    data_security_mode: str
    """SINGLE_USER: the Unity Catalog capable mode that runs ML runtimes."""
    custom_tags: Mapping[str, str] = field(default_factory=dict)
    """Extra cluster tags from config; the project/env tags win on a clash."""


@dataclass(frozen=True)
class ServerlessSpec:
    """The serverless environment every notebook task runs in, and the job's budget policy."""

    environment_version: str
    """Pinned serverless environment version (Python and library set)."""
    dependencies: tuple[str, ...]
    """pip requirement lines installed on top of it (notebooks/requirements.txt)."""
    budget_policy_id: str | None
    """Budget policy whose tags the job's usage carries (None: Databricks infers one)."""


@dataclass(frozen=True)
class JobSettings:
    """Hardening and access shared by every job of a stack."""

    environment: str
    """Stack name: tags and names carry it."""
    project: str
    """Project name, for tags."""
    cluster: ClusterSpec | None
    """Job cluster spec (classic); None on serverless."""
    timeout_seconds: int
    """Run timeout."""
    max_retries: int
    """Retries per task."""
    min_retry_interval_millis: int
    """Wait before a retry."""
    on_failure_emails: tuple[str, ...]
    """Addresses emailed on failure."""
    readers_group: str
    """Granted CAN_VIEW."""
    operators_group: str | None
    """Granted CAN_MANAGE_RUN when set."""
    run_as: Principal
    """Who the job runs as, owns it (IS_OWNER) and whose dedicated cluster it is: a service
    principal, or on a personal stack its developer."""
    serverless: ServerlessSpec | None = None
    """Serverless environment and budget policy; None on classic compute."""


@dataclass(frozen=True)
class Schedule:
    """A resolved job schedule."""

    quartz_cron: str
    """Quartz cron expression."""
    timezone: str
    """Time zone id."""
    paused: bool
    """Pause status."""

    @property
    def pause_status(self) -> str:
        """``PAUSED`` or ``UNPAUSED``, as jobs take it (a monitor's schedule has no pause)."""
        return "PAUSED" if self.paused else "UNPAUSED"


@dataclass(frozen=True)
class NotebookTask:
    """One task: a notebook of notebooks/ and the tasks it waits for."""

    key: str
    """Task key, also the notebook name."""
    depends_on: tuple[str, ...] = ()
    """Task keys that must succeed first."""


@dataclass(frozen=True)
class ConditionTask:
    """An if/else task: compares two values (no cluster; the Jobs API allows it no retries)."""

    key: str
    left: str
    """Usually a task value reference, ``{{tasks.<key>.values.<name>}}``."""
    op: str
    """``EQUAL_TO``, ``NOT_EQUAL``, ``GREATER_THAN``, ... (== and != compare strings)."""
    right: str
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunJobTask:
    """Runs another job of the stack when a condition task had the given outcome."""

    key: str
    job_id: pulumi.Input[int]
    condition: str
    """Key of the condition task this task waits for."""
    outcome: str = "true"


Task = NotebookTask | ConditionTask | RunJobTask


@dataclass(frozen=True)
class NotebookJobArgs:
    """Inputs of :class:`NotebookJob`."""

    job_name: str
    """Databricks job name (carries the environment)."""
    cluster_key: str
    """Key of the shared job cluster (classic compute)."""
    tasks: tuple[Task, ...]
    """Tasks; they are declared sorted by key whatever the order here."""
    parameters: Mapping[str, pulumi.Input[str]]
    """Job-level parameters; Databricks passes them to every notebook as widgets."""
    schedule: Schedule
    """When the job runs."""
    code: CodeSource
    """Where task notebooks come from."""
    settings: JobSettings
    """Shared hardening."""
    depends_on: tuple[pulumi.Resource, ...] = ()
    """Resources the job's parameters name (experiment, model): created first."""


def cluster_tags(cluster: ClusterSpec, settings: JobSettings) -> dict[str, str]:
    tags = dict(cluster.custom_tags)
    tags.update(
        {"clusterSource": CLUSTER_SOURCE, "env": settings.environment, "project": settings.project}
    )
    return dict(sorted(tags.items()))


def job_cluster(
    cluster_key: str, spec: ClusterSpec, settings: JobSettings
) -> databricks.JobJobClusterArgs:
    """The shared job cluster: pinned runtime, fixed size, tags, UC-capable access mode."""
    return databricks.JobJobClusterArgs(
        job_cluster_key=cluster_key,
        new_cluster=databricks.JobJobClusterNewClusterArgs(
            spark_version=spec.spark_version,
            node_type_id=spec.node_type_id,
            num_workers=spec.num_workers,
            data_security_mode=spec.data_security_mode,
            # The dedicated cluster's user, from config rather than left to the API's default.
            single_user_name=settings.run_as.name,
            custom_tags=cluster_tags(spec, settings),
        ),
    )


def job_environment(spec: ServerlessSpec) -> databricks.JobEnvironmentArgs:
    """The job's one serverless environment: a pinned version and the notebooks' pins.

    ``environment_version``, not the deprecated ``client`` (databricks-sdk
    ``compute.Environment.client``: "Use ``environment_version`` instead"; provider
    ``docs/resources/job.md``, "environment Configuration Block").
    """
    return databricks.JobEnvironmentArgs(
        environment_key=ENVIRONMENT_KEY,
        spec=databricks.JobEnvironmentSpecArgs(
            environment_version=spec.environment_version,
            dependencies=list(spec.dependencies),
        ),
    )


Notifications = TypeVar("Notifications")


def failure_notifications(
    settings: JobSettings, block: Callable[[list[str]], Notifications]
) -> Notifications | None:
    """``block`` of the sorted failure addresses, or None without any: an empty notification
    block reads back as absent, a diff on every preview."""
    emails = sorted(settings.on_failure_emails)
    return block(emails) if emails else None


def run_as(principal: Principal) -> databricks.JobRunAsArgs:
    """The job's ``run_as``: exactly one of ``service_principal_name`` and ``user_name``
    (terraform-provider-databricks ``jobs/resource_job.go``, ``SetExactlyOneOf``). A user may
    set only their own user name (databricks-sdk ``service/jobs.py``, ``JobRunAs.user_name``:
    "Non-admin users can only set this field to their own email"), which is why a personal
    stack runs as the developer who deploys it; a service principal needs the caller to hold
    its servicePrincipal/user role."""
    if principal.kind == "user":
        return databricks.JobRunAsArgs(user_name=principal.name)
    return databricks.JobRunAsArgs(service_principal_name=principal.name)


def job_tags(settings: JobSettings) -> dict[str, str]:
    return {"env": settings.environment, "managed-by": MANAGED_BY, "project": settings.project}


class NotebookJob(pulumi.ComponentResource):
    """Base of the job components: a hardened notebook job and its permissions."""

    job_id: pulumi.Output[str]
    url: pulumi.Output[str]

    def __init__(
        self,
        type_token: str,
        name: str,
        args: NotebookJobArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(type_token, name, None, opts)
        settings = args.settings
        cluster, serverless = settings.cluster, settings.serverless
        job = databricks.Job(
            f"{name}-job",
            name=args.job_name,
            # Exactly one of the two: a task that names no cluster runs on serverless compute.
            job_clusters=[job_cluster(args.cluster_key, cluster, settings)] if cluster else None,
            environments=[job_environment(serverless)] if serverless else None,
            budget_policy_id=serverless.budget_policy_id if serverless else None,
            tasks=[self._task(args, task) for task in sorted(args.tasks, key=lambda t: t.key)],
            parameters=[
                databricks.JobParameterArgs(name=key, default=value)
                for key, value in sorted(args.parameters.items())
            ],
            git_source=args.code.git_source,
            schedule=databricks.JobScheduleArgs(
                quartz_cron_expression=args.schedule.quartz_cron,
                timezone_id=args.schedule.timezone,
                pause_status=args.schedule.pause_status,
            ),
            run_as=run_as(settings.run_as),
            email_notifications=failure_notifications(
                settings, lambda emails: databricks.JobEmailNotificationsArgs(on_failures=emails)
            ),
            # A run skipped by max_concurrent_runs is expected, not an alert. (The same flag
            # inside email_notifications is deprecated in the Jobs API.)
            notification_settings=databricks.JobNotificationSettingsArgs(
                no_alert_for_skipped_runs=True
            ),
            timeout_seconds=settings.timeout_seconds,
            max_concurrent_runs=1,
            queue=databricks.JobQueueArgs(enabled=True),
            # Edits belong in the stack file; a UI edit would be silent drift.
            edit_mode="UI_LOCKED",
            tags=job_tags(settings),
            opts=child_opts(self, depends_on=list(args.depends_on) or None),
        )
        groups = {settings.readers_group: "CAN_VIEW"}
        if settings.operators_group:
            groups[settings.operators_group] = "CAN_MANAGE_RUN"
        # The owner is pinned: without an IS_OWNER entry the provider makes the caller the
        # owner and hides that entry from the caller only, so a preview by another principal
        # shows a change forever (permissions/permission_definitions.go; TF #2468).
        databricks.Permissions(
            f"{name}-permissions",
            job_id=job.id,
            access_controls=access_controls(groups, {settings.run_as: "IS_OWNER"}),
            opts=child_opts(self),
        )
        self.job_id = job.id
        self.url = job.url
        self.register_outputs({"job_id": self.job_id, "url": self.url})

    @staticmethod
    def _task(args: NotebookJobArgs, task: Task) -> databricks.JobTaskArgs:
        settings = args.settings
        if isinstance(task, ConditionTask):
            return databricks.JobTaskArgs(
                task_key=task.key,
                depends_ons=_depends(task.depends_on),
                condition_task=databricks.JobTaskConditionTaskArgs(
                    left=task.left, op=task.op, right=task.right
                ),
            )
        if isinstance(task, RunJobTask):
            return databricks.JobTaskArgs(
                task_key=task.key,
                depends_ons=[
                    databricks.JobTaskDependsOnArgs(task_key=task.condition, outcome=task.outcome)
                ],
                run_job_task=databricks.JobTaskRunJobTaskArgs(job_id=task.job_id),
                # The run job retries its own tasks; a retry here would start it twice.
                max_retries=0,
            )
        return databricks.JobTaskArgs(
            task_key=task.key,
            depends_ons=_depends(task.depends_on),
            job_cluster_key=args.cluster_key if settings.cluster else None,
            # On serverless the job's environment, not the notebook's (it has none): pinned.
            environment_key=ENVIRONMENT_KEY if settings.serverless else None,
            notebook_task=databricks.JobTaskNotebookTaskArgs(
                notebook_path=args.code.notebook_path(task.key),
                source=args.code.task_source,
            ),
            max_retries=settings.max_retries,
            min_retry_interval_millis=settings.min_retry_interval_millis,
            retry_on_timeout=False,
        )


def _depends(keys: tuple[str, ...]) -> list[databricks.JobTaskDependsOnArgs] | None:
    """Dependencies in task_key order (the provider diffs forever otherwise); none: absent."""
    return [databricks.JobTaskDependsOnArgs(task_key=key) for key in sorted(keys)] or None
