"""Jobs hardened by default: who they run as, how they fail, what they run on, and no
perpetual diffs. Mandatory where a breach drifts or opens access, advisory for hygiene."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from mlops_resources.policies.support import JOB, get, run_as_of

PINNED_RUNTIME = re.compile(r"^\d+\.\d+\.x-([a-z0-9-]+-)?scala\d+\.\d+$")
UC_ACCESS_MODES = ("SINGLE_USER", "USER_ISOLATION")
REQUIRED_TAGS = ("env", "managed-by", "project")
SHARED_ENVIRONMENTS = ("staging", "prod")
"""Environments whose jobs run as a service principal; a personal stack's run as its
developer (the Jobs API lets a user set run_as to themselves only)."""

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


def _run_as(props: Mapping[str, Any]) -> Iterable[str]:
    env = get(props, "tags.env")
    if env in SHARED_ENVIRONMENTS and not get(props, "runAs.servicePrincipalName"):
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


MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY

POLICIES = [
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
    _job_policy(
        "job-pinned-runtime",
        "Every job cluster pins its Databricks runtime (no 'latest', no moving target).",
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
