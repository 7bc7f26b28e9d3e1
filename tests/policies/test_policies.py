"""The policy pack: every policy passes the real renders and fails a real render broken in the
way it exists to stop. The callables are the pack's own (``mlops_resources.policies``), run
the way the engine runs them (``mlops_resources.offline.check``)."""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest

from mlops_resources import PROJECT_DIR
from mlops_resources.config.load import validate
from mlops_resources.config.reading import RawConfig
from mlops_resources.config.stack import StackConfig
from mlops_resources.config.stack_files import read_stack_file
from mlops_resources.offline.check import Violation, run_policies
from mlops_resources.offline.evaluation import DeclaredResource, Evaluation, evaluate
from mlops_resources.policies import POLICIES
from mlops_resources.policies.cross_stack import (
    SHARED_TABLES,
    CrossStackViolation,
    cross_stack_violations,
)
from tests.stacks import (
    MONITORING,
    VARIANTS,
    bootstrap_dir,
    bootstrap_stack_file,
    encode_overrides,
    example_dir,
    personal_stack_overrides,
    run_stack,
    section,
)

Edit = Callable[[dict[str, DeclaredResource]], None]


MONITORED, MONITORED_DEV = "staging with monitoring", "dev-x with monitoring"
"""Renders with a data-quality monitor: staging's example file with monitoring on, and the same
file made ``dev-x``'s (schedules paused)."""
SERVED = "staging with serving"
"""Staging's example file with ``mlops:serving`` on, after the first champion (version 3)."""
CLASSIC = "workspace registry + uploaded notebooks"
"""The classic-compute variant a team uses (tests/stacks.py): the job cluster policies'
renders."""


@cache
def render(stack: str) -> Evaluation:
    """A render of the example project: ``staging``, ``prod``, ``shared`` (bootstrap) or a
    variant of :data:`VARIANTS`."""
    if stack == "shared":
        return evaluate("shared", bootstrap_dir(), bootstrap_stack_file())
    if stack == MONITORED:
        return run_stack("staging", {"mlops:monitoring": MONITORING})
    if stack == SERVED:
        serving = {"enabled": True, "query_group": "wine-quality-clients"}
        return run_stack("staging", {"mlops:serving": serving}, champion=3)
    if stack == MONITORED_DEV:
        overrides = {**personal_stack_overrides("x"), "mlops:monitoring": MONITORING}
        return run_stack("staging", overrides, as_stack="dev-x")
    if stack in VARIANTS:
        stack_file, overrides, as_stack = VARIANTS[stack]
        return run_stack(stack_file, overrides, as_stack)
    return run_stack(stack)


def project(stack: str) -> str:
    return "mlops-bootstrap" if stack == "shared" else "mlops"


@pytest.mark.parametrize("stack", ["staging", "prod", "shared", SERVED])
def test_the_example_stacks_break_no_policy(stack: str) -> None:
    """The example project's stacks (``init``'s defaults, tests/stacks.py); the committed
    stack files are checked in tests/repo/test_committed_stacks.py."""
    assert run_policies(render(stack), project(stack)) == []


def broken(stack: str, edit: Edit) -> Evaluation:
    """A real render with resources changed by ``edit`` (a deep copy; the cache stays)."""
    evaluation = render(stack)
    resources = {r.name: copy.deepcopy(r) for r in evaluation.resources}
    edit(resources)
    return dataclasses.replace(evaluation, resources=tuple(resources.values()))


def inputs(name: str, **changes: Any) -> Edit:
    def edit(resources: dict[str, DeclaredResource]) -> None:
        resources[name].inputs.update(changes)

    return edit


def options(name: str, **changes: Any) -> Edit:
    def edit(resources: dict[str, DeclaredResource]) -> None:
        resources[name] = dataclasses.replace(resources[name], **changes)

    return edit


def set_input(name: str, path: str, value: Any) -> Edit:
    """Set (or, given ``REMOVE``, delete) a nested input of a resource by dotted path, the
    parent found as :meth:`DeclaredResource.input` finds it (list indexes as numbers)."""

    def edit(resources: dict[str, DeclaredResource]) -> None:
        resource = resources[name]
        parent, _, leaf = path.rpartition(".")
        target: Any = resource.input(parent) if parent else resource.inputs
        if value is REMOVE:
            del target[leaf]
        else:
            target[leaf] = value

    return edit


def reverse_tasks(name: str) -> Edit:
    def edit(resources: dict[str, DeclaredResource]) -> None:
        resources[name].inputs["tasks"].reverse()

    return edit


def add_resource(resource: DeclaredResource) -> Edit:
    def edit(resources: dict[str, DeclaredResource]) -> None:
        resources[resource.name] = resource

    return edit


REMOVE = object()
ENDPOINT, ENDPOINT_ACL = "mlops-serving-endpoint", "mlops-serving-permissions"
JOB, JOB_ACL = "mlops-training-job", "mlops-training-permissions"
SP = {
    "staging": "00000000-0000-0000-0000-00000000a001",
    "prod": "00000000-0000-0000-0000-00000000b001",
}
READERS_GRANT = "mlops-grants-catalog-staging@wine-quality-model-readers"
MONITOR = "mlops-monitoring-monitor"


def extra_grant(**overrides: Any) -> Edit:
    def edit(resources: dict[str, DeclaredResource]) -> None:
        base = resources[READERS_GRANT]
        resources["extra"] = dataclasses.replace(
            copy.deepcopy(base), name="extra", inputs={**base.inputs, **overrides}
        )

    return edit


def acl(entries: list[dict[str, str]]) -> Edit:
    return inputs(JOB_ACL, accessControls=entries)


# (policy, stack, how the render is broken, what the violation says)
FAILING: list[tuple[str, str, Edit, str]] = [
    (
        "uc-account-principals",
        "staging",
        inputs(READERS_GRANT, principal="users"),
        "workspace-local group",
    ),
    (
        "no-authoritative-grants",
        "staging",
        add_resource(
            DeclaredResource(
                "databricks:index/grants:Grants",
                "model-grants",
                "mlops-model",
                True,
                False,
                False,
                {
                    "model": "staging.wine_quality.m",
                    "grants": [{"principal": "g", "privileges": ["EXECUTE"]}],
                },
            )
        ),
        "use one databricks.Grant per principal",
    ),
    (
        "grants-not-to-run-as-principal",
        "staging",
        inputs(READERS_GRANT, principal=SP["staging"]),
        "goes to the run-as principal itself",
    ),
    (
        "one-grant-per-principal-and-securable",
        "staging",
        extra_grant(privileges=["BROWSE"]),
        f"Grant 'extra': Grant '{READERS_GRANT}' also manages 'wine-quality-model-readers' on "
        "catalog 'staging'",
    ),
    (
        "job-owner-pinned",
        "staging",
        acl([{"groupName": "users", "permissionLevel": "CAN_VIEW"}]),
        f"exactly one IS_OWNER entry, its run-as principal ('{SP['staging']}'); found 0: none",
    ),
    (
        "job-owner-pinned",
        "staging",
        acl([{"servicePrincipalName": "someone-else", "permissionLevel": "IS_OWNER"}]),
        f"its run-as principal ('{SP['staging']}'); found 1: 'someone-else'",
    ),
    (
        # The same name as a user is another identity: the owner must be the run-as principal.
        "job-owner-pinned",
        "staging",
        acl([{"userName": SP["staging"], "permissionLevel": "IS_OWNER"}]),
        f"its run-as principal ('{SP['staging']}'); found 1: '{SP['staging']}'",
    ),
    (
        "deployer-management-level",
        "staging",
        inputs(
            "mlops-experiment-permissions",
            accessControls=[{"servicePrincipalName": SP["staging"], "permissionLevel": "CAN_READ"}],
        ),
        "cannot remove management permissions",
    ),
    (
        "no-shared-folder-in-prod",
        "prod",
        inputs("mlops-experiment-directory", path="/Shared/wine-quality/prod"),
        "every workspace user can manage objects under /Shared",
    ),
    (
        "recursive-delete-of-unprotected-folders",
        "staging",
        inputs("mlops-experiment-directory", deleteRecursive=False),
        "DIRECTORY_NOT_EMPTY",
    ),
    (
        "recursive-delete-of-unprotected-folders",
        "prod",
        inputs("mlops-experiment-directory", deleteRecursive=True),
        "A protected folder is deleted recursively",
    ),
    (
        "no-deprecated-inputs",
        "staging",
        inputs("mlops-experiment-experiment", description="x"),
        "description is deprecated",
    ),
    (
        "uc-model-owned-by-run-as-principal",
        "staging",
        inputs("mlops-model-model", owner="someone"),
        "only the owner may add versions",
    ),
    (
        "job-runs-as-service-principal",
        "staging",
        set_input(JOB, "runAs", REMOVE),
        "run_as names no service principal",
    ),
    (
        "job-runs-as-service-principal",
        "staging",
        set_input(JOB, "runAs", {"userName": "alice@example.com"}),
        "a staging job would run as a person",
    ),
    ("job-timeout", "staging", set_input(JOB, "timeoutSeconds", REMOVE), "no timeout_seconds"),
    (
        "job-task-retries",
        "staging",
        set_input(JOB, "tasks.0.maxRetries", REMOVE),
        "sets no max_retries",
    ),
    (
        "job-failure-notifications",
        "staging",
        set_input(JOB, "emailNotifications", REMOVE),
        "nobody is notified",
    ),
    (
        "job-one-concurrent-run",
        "staging",
        inputs(JOB, maxConcurrentRuns=4),
        "max_concurrent_runs is 4",
    ),
    (
        "job-tags",
        "staging",
        inputs(JOB, tags={"env": "staging"}),
        "job tags lack managed-by, project",
    ),
    (
        "serverless-job-budget-policy",
        "staging",
        set_input(JOB, "budgetPolicyId", REMOVE),
        "serverless job 'mlops-training-job' carries no budget policy",
    ),
    (
        "job-pinned-runtime",
        CLASSIC,
        set_input(JOB, "jobClusters.0.newCluster.sparkVersion", "latest"),
        "not a pinned runtime",
    ),
    (
        "job-pinned-runtime",
        "staging",
        set_input(JOB, "environments.0.spec.environmentVersion", REMOVE),
        "environment 'default' of serverless task ModelDeployment pins no environment_version",
    ),
    (
        "job-pinned-runtime",
        "prod",
        set_input(JOB, "tasks.2.environmentKey", REMOVE),
        "serverless task Train names no job environment (environment_key)",
    ),
    (
        "job-unity-catalog-access-mode",
        CLASSIC,
        set_input(JOB, "jobClusters.0.newCluster.dataSecurityMode", "USER_ISOLATION"),
        "does not run Databricks Runtime for ML",
    ),
    (
        "job-unity-catalog-access-mode",
        CLASSIC,
        set_input(JOB, "jobClusters.0.newCluster.dataSecurityMode", "NONE"),
        "cannot read Unity Catalog",
    ),
    (
        "job-tasks-in-key-order",
        "staging",
        reverse_tasks(JOB),
        "not in task_key order",
    ),
    (
        "prod-ml-assets-protected",
        "prod",
        options("mlops-model-model", protect=False),
        "is not protected",
    ),
    (
        "prod-ml-assets-protected",
        "prod",
        options("mlops-experiment-directory", protect=False),
        "is not protected",
    ),
    (
        "one-permission-level-per-principal",
        "staging",
        inputs(
            "mlops-experiment-permissions",
            accessControls=[
                {"groupName": "users", "permissionLevel": "CAN_READ"},
                {"groupName": "users", "permissionLevel": "CAN_MANAGE"},
                {"servicePrincipalName": SP["staging"], "permissionLevel": "CAN_MANAGE"},
            ],
        ),
        "users is listed 2 times",
    ),
    (
        "state-bucket-versioned",
        "shared",
        set_input("state-versioning", "versioningConfiguration.status", "Suspended"),
        "versioning is not enabled",
    ),
    (
        "state-bucket-kms-encrypted",
        "shared",
        set_input("state-encryption", "rules.0.bucketKeyEnabled", False),
        "SSE-KMS with a bucket key",
    ),
    (
        "state-bucket-public-access-blocked",
        "shared",
        inputs("state-public-access-block", restrictPublicBuckets=False),
        "public access blocks",
    ),
    (
        "state-bucket-tls-only",
        "shared",
        inputs("state-policy", policy=json.dumps({"Statement": []})),
        "denies requests without TLS",
    ),
    (
        "state-bucket-state-key-only",
        "shared",
        inputs("state-policy", policy=json.dumps({"Statement": []})),
        "naming another s3:x-amz-server-side-encryption-aws-kms-key-id",
    ),
    (
        "state-bucket-writers-limited",
        "shared",
        inputs("state-policy", policy=json.dumps({"Statement": []})),
        "other than named ones",
    ),
    ("state-backend-protected", "shared", options("state-key", protect=False), "is not protected"),
    (
        "monitor-no-read-only-inputs",
        MONITORED,
        set_input(MONITOR, "dataProfilingConfig.schedule.pauseStatus", "UNPAUSED"),
        "dataProfilingConfig.schedule.pauseStatus is read-only",
    ),
    (
        "monitor-no-read-only-inputs",
        MONITORED,
        set_input(MONITOR, "dataProfilingConfig.profileMetricsTableName", "staging.m.p"),
        "dataProfilingConfig.profileMetricsTableName is read-only",
    ),
    (
        "monitor-replaced-delete-first",
        MONITORED,
        options(MONITOR, delete_before_replace=False),
        "delete_before_replace=True",
    ),
    (
        "monitor-unscheduled-on-paused-stacks",
        MONITORED_DEV,
        set_input(
            MONITOR,
            "dataProfilingConfig.schedule",
            {"quartzCronExpression": "0 0 8 * * ?", "timezoneId": "UTC"},
        ),
        f"Monitor '{MONITOR}' refreshes on a schedule while every job of the stack is paused",
    ),
    (
        "monitor-on-current-api",
        MONITORED,
        add_resource(
            DeclaredResource(
                "databricks:index/qualityMonitor:QualityMonitor",
                "legacy-monitor",
                "mlops-monitoring",
                True,
                False,
                False,
                {"tableName": "staging.wine_quality.predictions_log"},
                delete_before_replace=True,
            )
        ),
        "The quality monitors API is deprecated",
    ),
    (
        "serving-endpoint-name",
        SERVED,
        set_input(ENDPOINT, "name", "staging.wine-quality-endpoint"),
        "expected alphanumeric characters, dashes and underscores",
    ),
    ("serving-endpoint-name", SERVED, set_input(ENDPOINT, "name", "e" * 64), "at most 63"),
    (
        "serving-entity-version-string",
        SERVED,
        set_input(ENDPOINT, "config.servedEntities.0.entityVersion", 3),
        "must be a model version as a decimal string",
    ),
    (
        "serving-entity-version-ignored",
        SERVED,
        options(ENDPOINT, ignore_changes=()),
        "is not in ignore_changes",
    ),
    (
        "serving-entity-version-ignored",
        SERVED,
        set_input(ENDPOINT, "config.servedEntities.0.name", REMOVE),
        "exactly one served entity, with an explicit name",
    ),
    (
        "serving-no-legacy-or-replacing-inputs",
        SERVED,
        set_input(
            ENDPOINT,
            "config.autoCaptureConfig",
            {"catalogName": "staging", "schemaName": "wine_quality", "enabled": True},
        ),
        "legacy inference table",
    ),
    (
        "serving-no-legacy-or-replacing-inputs",
        SERVED,
        inputs(ENDPOINT, routeOptimized=True),
        "routeOptimized is ForceNew",
    ),
    (
        "serving-endpoint-permissions",
        SERVED,
        set_input(ENDPOINT_ACL, "accessControls.2.permissionLevel", "CAN_QUERY"),
        "does not list the run-as principal as CAN_MANAGE",
    ),
    (
        "serving-endpoint-permissions",
        SERVED,
        set_input(ENDPOINT_ACL, "accessControls.1.permissionLevel", "CAN_RUN"),
        "CAN_RUN is not a serving endpoint level",
    ),
]


@pytest.mark.parametrize(
    ("policy", "stack", "edit", "message"),
    FAILING,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(FAILING)],
)
def test_each_policy_fails_the_render_it_exists_to_stop(
    policy: str, stack: str, edit: Edit, message: str
) -> None:
    violations = [
        v for v in run_policies(broken(stack, edit), project(stack)) if v.policy == policy
    ]
    assert any(message in v.message for v in violations), violations


def test_every_policy_has_a_failing_case() -> None:
    assert {case[0] for case in FAILING} == {p.name for p in POLICIES}


def test_prod_rules_apply_to_prod_only() -> None:
    """The prod policies read the environment from policy config (the offline check passes
    the stack name; in the engine the stack tag or the jobs' env tag)."""
    edit = options("mlops-model-model", protect=False)
    assert run_policies(broken("staging", edit), "mlops") == []
    staging_as_prod = run_policies(
        broken("staging", edit), "mlops", {"prod-ml-assets-protected": {"environment": "prod"}}
    )
    assert {v.policy for v in staging_as_prod} == {"prod-ml-assets-protected"}


def test_the_budget_policy_rule_stops_staging_and_prod_only() -> None:
    """A personal stack may go without a budget policy (its developer may have none to
    use); staging and prod may not, and the rule is mandatory there: without the job's
    ``budget_policy_id`` "a default budget policy may be applied when creating or modifying
    the job" (databricks-sdk ``jobs.JobSettings.budget_policy_id``), the deploying principal's,
    so the job's cost would be attributed by whoever deployed it. With one (the committed
    renders), the rule passes. A classic job, attributed by its cluster tags, is not
    concerned."""
    edit = set_input(JOB, "budgetPolicyId", REMOVE)
    as_dev = {"serverless-job-budget-policy": {"environment": "dev-alice"}}
    assert run_policies(broken("staging", edit), "mlops", as_dev) == []
    for stack in ("staging", "prod"):
        (violation,) = run_policies(broken(stack, edit), "mlops")
        assert (violation.policy, violation.level) == ("serverless-job-budget-policy", "mandatory")
        assert violation.mandatory
        assert render(stack).get(JOB).inputs["budgetPolicyId"]
        assert not [v for v in run_policies(render(stack), "mlops") if v.policy == violation.policy]
    assert "budgetPolicyId" not in render(CLASSIC).get(JOB).inputs


def test_policy_config_overrides_a_level() -> None:
    evaluation = broken("prod", options("mlops-model-model", protect=False))
    (violation,) = run_policies(evaluation, "mlops", {"prod-ml-assets-protected": "advisory"})
    assert violation == Violation(
        "advisory", "prod-ml-assets-protected", "mlops-model-model", violation.message
    )
    assert not violation.mandatory
    disabled = {"prod-ml-assets-protected": {"enforcementLevel": "disabled"}}
    assert run_policies(evaluation, "mlops", disabled) == []


def test_the_pack_entry_point_serves_the_policies() -> None:
    """``policy/__main__.py`` is what the engine starts: it builds the PolicyPack, which
    listens for the engine and prints its port."""
    process = subprocess.Popen(
        [sys.executable, str(PROJECT_DIR / "policy" / "__main__.py")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        assert port.isdigit(), process.stderr.read() if process.stderr else port
    finally:
        process.kill()
        process.wait(timeout=10)


@pytest.mark.parametrize(
    "variant", ["workspace registry + uploaded notebooks", "personal dev stack"]
)
def test_the_variants_a_team_uses_break_no_policy(variant: str) -> None:
    assert run_policies(render(variant), "mlops") == []


def committed(stack: str, overrides: dict[str, Any] | None = None) -> tuple[str, StackConfig]:
    """(file name, validated config) of an example stack file with config overrides."""
    source = read_stack_file(stack, example_dir())
    values = {**source.values, **encode_overrides(overrides or {})}
    return source.path.name, validate(RawConfig(values, source.secret_keys), stack)


def writing_to(table: str) -> dict[str, Any]:
    """Staging's batch inference moved to write ``table``."""
    return {"mlops:batch_inference": section("staging", "batch_inference", output_table_name=table)}


def test_a_stack_file_may_not_write_a_table_another_reads_or_writes() -> None:
    """The cross-stack rules apply the program's own collision checks to every pair of stack
    files: staging overwriting prod's input table is caught, not only two stacks writing one
    output table; each file is told the key of its own that writes the table."""
    prod = committed("prod")
    assert cross_stack_violations([committed("staging"), prod]) == []
    overwrite = (
        "mlops:batch_inference.output_table_name: {table!r} is a table of {other}; this "
        "stack would overwrite it. Write to a table of its own"
    )
    prod_input = "prod.wine_quality.scoring_input"
    staging = committed("staging", writing_to(prod_input))
    assert cross_stack_violations([staging, prod]) == [
        CrossStackViolation(
            SHARED_TABLES,
            "Pulumi.staging.yaml",
            overwrite.format(table=prod_input, other="Pulumi.prod.yaml"),
        )
    ]
    prod_output = "prod.wine_quality.predictions"
    staging = committed("staging", writing_to(prod_output))
    assert cross_stack_violations([staging, prod]) == [
        CrossStackViolation(
            SHARED_TABLES,
            file,
            overwrite.format(table=prod_output, other=other),
        )
        for file, other in [
            ("Pulumi.staging.yaml", "Pulumi.prod.yaml"),
            ("Pulumi.prod.yaml", "Pulumi.staging.yaml"),
        ]
    ]
