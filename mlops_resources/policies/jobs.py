"""Jobs hardened by default: who they run as, how they fail, what they run on (a pinned
runtime, or a pinned serverless environment and a budget policy), and no perpetual diffs.
Mandatory where a breach drifts or opens access, advisory for hygiene."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from mlops_resources.config.namespace import SCHEDULED_STACKS
from mlops_resources.policies.support import (
    ENVIRONMENT_SCHEMA,
    JOB,
    environment,
    get,
    of_type,
    run_as_of,
)

PINNED_RUNTIME = re.compile(r"^\d+\.\d+\.x-([a-z0-9-]+-)?scala\d+\.\d+$")
UC_ACCESS_MODES = ("SINGLE_USER", "USER_ISOLATION")
REQUIRED_TAGS = ("env", "managed-by", "project")

JobCheck = Callable[[Mapping[str, Any]], Iterable[str]]


def _job_policy(
    name: str, description: str, level: EnforcementLevel, check: JobCheck
) -> ResourceValidationPolicy:
    """A policy over Job resources; ``check`` yields one message per problem."""

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type == JOB:
            for message in check(args.props):
                report(message, None)

    return ResourceValidationPolicy(
        name=name, description=description, enforcement_level=level, validate=validate
    )


def _clusters(props: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every cluster spec of a job: shared job clusters and per-task new clusters."""
    specs = [c.get("newCluster") or {} for c in props.get("jobClusters") or []]
    specs += [t["newCluster"] for t in props.get("tasks") or [] if t.get("newCluster")]
    return specs


CLUSTER_KEYS = ("jobClusterKey", "newCluster", "existingClusterId")
NO_COMPUTE_TASKS = ("conditionTask", "runJobTask")
"""Task types that run no code of their own, on no compute."""


def serverless_tasks(props: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The job's tasks that run code and name no cluster: they run on serverless compute
    (provider ``docs/resources/job.md``, v1.118.0, "task Configuration Block")."""
    return [
        task
        for task in props.get("tasks") or []
        if not any(task.get(key) for key in (*CLUSTER_KEYS, *NO_COMPUTE_TASKS))
    ]


def _run_as(props: Mapping[str, Any]) -> Iterable[str]:
    env = get(props, "tags.env")
    # Staging and prod run as a service principal; a personal stack as its developer (the
    # Jobs API lets a user set run_as to themselves only).
    if env in SCHEDULED_STACKS and not get(props, "runAs.servicePrincipalName"):
        yield (
            f"run_as names no service principal: a {env} job would run as a person, or as "
            "whoever deployed it last. Set run_as to the environment's run-as service principal."
        )
    elif not run_as_of(props):
        yield (
            "run_as names no one: the job runs as its owner, whoever deployed it last. Set "
            "run_as to the environment's service principal (a personal stack: its developer)."
        )


def _timeout(props: Mapping[str, Any]) -> Iterable[str]:
    if not props.get("timeoutSeconds"):
        yield "no timeout_seconds: a stuck run holds its cluster (and the queue) forever."


def _retries(props: Mapping[str, Any]) -> Iterable[str]:
    for task in props.get("tasks") or []:
        # A condition task runs no code; the Jobs API allows it no retries.
        if task.get("maxRetries") is None and not task.get("conditionTask"):
            key = task.get("taskKey")
            yield f"task {key} sets no max_retries: a transient failure fails the run."


def _notifications(props: Mapping[str, Any]) -> Iterable[str]:
    if not (
        get(props, "emailNotifications.onFailures") or get(props, "webhookNotifications.onFailures")
    ):
        yield "nobody is notified when a run fails: set email or webhook on_failure."


def _one_run(props: Mapping[str, Any]) -> Iterable[str]:
    if props.get("maxConcurrentRuns") != 1:
        yield (
            f"max_concurrent_runs is {props.get('maxConcurrentRuns')}: two training runs would "
            "race for the challenger alias. Set it to 1 (with queueing)."
        )


def _tags(props: Mapping[str, Any]) -> Iterable[str]:
    missing = [tag for tag in REQUIRED_TAGS if not (props.get("tags") or {}).get(tag)]
    if missing:
        yield f"job tags lack {', '.join(missing)} (cost attribution, ownership)."


def _pinned_runtime(props: Mapping[str, Any]) -> Iterable[str]:
    for spec in _clusters(props):
        version = str(spec.get("sparkVersion") or "")
        if not PINNED_RUNTIME.match(version) or "latest" in version:
            yield (
                f"spark_version {version!r} is not a pinned runtime: a moving runtime changes "
                "what runs and shows as drift. Pin one, e.g. '15.4.x-cpu-ml-scala2.12'."
            )
    environments = {
        e.get("environmentKey"): e.get("spec") or {} for e in props.get("environments") or []
    }
    for task in serverless_tasks(props):
        key, name = task.get("environmentKey"), task.get("taskKey")
        if key not in environments:
            # Without one a notebook task gets the notebook's own environment, if any, and
            # other tasks are refused (databricks-sdk jobs.JobSettings.environments).
            yield (
                f"serverless task {name} names no job environment (environment_key): it runs "
                "in whatever environment its notebook carries or the workspace defaults to. "
                "Declare an environment with a pinned environment_version and name it."
            )
        elif not environments[key].get("environmentVersion"):
            yield (
                f"environment {key!r} of serverless task {name} pins no environment_version: "
                "the Python version and library set would be whatever the default is. Pin "
                "one, e.g. '5'."
            )


def _access_mode(props: Mapping[str, Any]) -> Iterable[str]:
    for spec in _clusters(props):
        mode = spec.get("dataSecurityMode")
        version = str(spec.get("sparkVersion") or "")
        if mode not in UC_ACCESS_MODES:
            yield f"data_security_mode {mode!r} cannot read Unity Catalog: use SINGLE_USER."
        elif mode == "USER_ISOLATION" and "-ml-" in version:
            yield (
                "USER_ISOLATION (standard access mode) does not run Databricks Runtime for ML "
                f"({version}): use SINGLE_USER."
            )


def _task_order(props: Mapping[str, Any]) -> Iterable[str]:
    tasks = props.get("tasks") or []
    keys = [str(t.get("taskKey")) for t in tasks]
    if keys != sorted(keys):
        yield f"tasks are not in task_key order ({keys}): the provider shows a diff forever."
    for task in tasks:
        depends = [str(d.get("taskKey")) for d in task.get("dependsOns") or []]
        if depends != sorted(depends):
            yield f"depends_on of task {task.get('taskKey')} is not sorted ({depends})."


def _budget_policy(args: StackValidationArgs, report: ReportViolation) -> None:
    if environment(args) not in SCHEDULED_STACKS:
        return
    for job in of_type(args.resources, JOB):
        props = job.props
        if serverless_tasks(props) and not (
            props.get("budgetPolicyId") or props.get("usagePolicyId")
        ):
            report(
                f"serverless job '{job.name}' carries no budget policy: its usage gets "
                "whatever policy Databricks infers for the run-as principal, or none, and "
                "cluster tags do not apply on serverless. Set compute.budget_policy_id.",
                job.urn,
            )


MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY

# Mandatory: without the job's budget_policy_id "a default budget policy may be applied when
# creating or modifying the job" (databricks-sdk jobs.JobSettings.budget_policy_id), the
# deploying principal's only policy or the alphabetically first of several (docs, "Attribute
# usage with serverless budget policies"): attribution that follows whoever deployed, without a
# diff. Config refuses staging and prod serverless without compute.budget_policy_id too; this
# is the check on what reaches the engine.
SERVERLESS_BUDGET_POLICY = StackValidationPolicy(
    name="serverless-job-budget-policy",
    description="In staging and prod, every job with serverless tasks carries a budget policy: "
    "serverless usage is attributed by its policy's tags (docs, 'Monitor the cost of "
    "serverless compute'), not by cluster tags, and without one Databricks applies the "
    "deploying principal's default policy.",
    enforcement_level=MANDATORY,
    config_schema=ENVIRONMENT_SCHEMA,
    validate=_budget_policy,
)

POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    _job_policy(
        "job-runs-as-service-principal",
        "Every job names who it runs as (run_as), never whoever deployed it: a service "
        "principal in staging and prod, its developer on a personal stack.",
        MANDATORY,
        _run_as,
    ),
    _job_policy("job-timeout", "Every job has a timeout.", ADVISORY, _timeout),
    _job_policy("job-task-retries", "Every task sets its retries.", ADVISORY, _retries),
    _job_policy(
        "job-failure-notifications",
        "Someone is notified when a job fails (email or webhook on_failure).",
        ADVISORY,
        _notifications,
    ),
    _job_policy(
        "job-one-concurrent-run",
        "Jobs run one at a time (max_concurrent_runs = 1).",
        ADVISORY,
        _one_run,
    ),
    _job_policy(
        "job-tags",
        "Jobs carry the project, env and managed-by tags.",
        ADVISORY,
        _tags,
    ),
    SERVERLESS_BUDGET_POLICY,
    _job_policy(
        "job-pinned-runtime",
        "Every job cluster pins its Databricks runtime (no 'latest', no moving target), and "
        "every serverless task runs in a job environment that pins its environment_version.",
        MANDATORY,
        _pinned_runtime,
    ),
    _job_policy(
        "job-unity-catalog-access-mode",
        "Job clusters use a Unity Catalog capable access mode, dedicated for ML runtimes "
        "(docs: 'Databricks Runtime for ML is not supported' in standard access mode).",
        MANDATORY,
        _access_mode,
    ),
    _job_policy(
        "job-tasks-in-key-order",
        "Tasks (and their dependencies) are declared in task_key order, or the provider diffs "
        "forever (pulumi-databricks#49).",
        MANDATORY,
        _task_order,
    ),
]
