"""GitHub Actions: every workflow, the composite action and dependabot.yml are valid against
GitHub's schemas (offline, the copies check-jsonschema ships); zizmor finds nothing offline;
and each job holds only the credentials of its trust domain, with the concurrency, timeouts,
pins and order the docs promise. The Pulumi project files are checked against Pulumi's project
schema (a copy in tests/repo/schemas/)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from check_jsonschema.cli.main_command import main as check_jsonschema_command
from click.testing import CliRunner

from mlops_resources import PROJECT_DIR
from mlops_resources.aws.ci_role import SESSION_SECONDS
from mlops_resources.offline.evaluation import Evaluation, evaluate

GITHUB = PROJECT_DIR / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
ACTION = GITHUB / "actions/setup/action.yml"
DEPLOYMENT_GUIDE = (PROJECT_DIR / "docs" / "deployment.md").read_text()
SETUP = "$/.github/actions/setup"
DATABRICKS_OIDC = {
    "DATABRICKS_AUTH_TYPE": "github-oidc",
    "DATABRICKS_CLIENT_ID": "${{ vars.DATABRICKS_CLIENT_ID }}",
    "DATABRICKS_TOKEN_AUDIENCE": "${{ vars.DATABRICKS_ACCOUNT_ID }}",
}
"""Keyless Databricks auth (workload identity federation): the environment's principal, the
host from the stack file, the audience its federation policy names. The audience is set
because the SDK's own choice may differ: it takes ``DATABRICKS_TOKEN_AUDIENCE`` (config
``token_audience``) first, else the host metadata's ``token_federation_default_oidc_audiences[0]``
(or, for an account host, the account id; ``config.py`` _resolve_host_metadata), else the
workspace's OIDC token endpoint (``credentials_provider.py`` _oidc_credentials_provider:
``audience = cfg.token_audience``, ``if audience is None: audience =
cfg.databricks_oidc_endpoints.token_endpoint``), databricks/databricks-sdk-py 9ae2241564 and
the installed databricks-sdk 0.162.0."""


def load(name: str) -> dict[str, Any]:
    raw: Any = yaml.safe_load((GITHUB / "workflows" / name).read_text())
    # YAML 1.1 reads the key `on` as the boolean true.
    raw["on"] = raw.pop(True)
    document: dict[str, Any] = raw
    return document


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if str(s.get("uses", "")).startswith(action)]


def all_jobs() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{p.name}:{name}", job) for p in WORKFLOWS for name, job in load(p.name)["jobs"].items()
    ]


def step_jobs() -> list[tuple[str, dict[str, Any]]]:
    """Jobs that run steps (not calls of a reusable workflow)."""
    return [(name, job) for name, job in all_jobs() if "steps" in job]


@dataclass(frozen=True)
class SchemaCheck:
    returncode: int
    stdout: str
    stderr: str = ""


def check_schema(schema: str, files: list[Path]) -> SchemaCheck:
    """check-jsonschema (its command, run in this process: no interpreter start per check)
    with a schema it ships (``vendor.*``) or a schema file's path."""
    option = (
        ["--builtin-schema", schema] if schema.startswith("vendor.") else ["--schemafile", schema]
    )
    result = CliRunner().invoke(check_jsonschema_command, [*option, *map(str, files)])
    return SchemaCheck(result.exit_code, result.output)


@pytest.fixture(scope="module")
def bootstrap() -> Evaluation:
    return evaluate("shared", PROJECT_DIR / "bootstrap")


def test_workflows_action_and_dependabot_match_github_schemas() -> None:
    assert {w.name for w in WORKFLOWS} == {
        "deploy-stack.yml",
        "deploy.yml",
        "drift.yml",
        "pull-request.yml",
    }
    for schema, files in (
        ("vendor.github-workflows", WORKFLOWS),
        ("vendor.github-actions", [ACTION]),
        ("vendor.dependabot", [GITHUB / "dependabot.yml"]),
    ):
        done = check_schema(schema, files)
        assert done.returncode == 0, done.stdout + done.stderr


def test_vendored_schema_knows_concurrency_queue(tmp_path: Path) -> None:
    """``queue: max`` is new (2026-05); check-jsonschema vendors it from 0.37.3, the floor of
    requirements-dev.txt. The schema accepts ``max`` with ``cancel-in-progress: true``, which
    GitHub refuses, so another test checks that pair."""
    vendored = resources.files("check_jsonschema") / "builtin_schemas/vendor/github-workflows.json"
    schema = json.loads(vendored.read_text())
    assert schema["definitions"]["concurrency"]["properties"]["queue"]["enum"] == ["single", "max"]
    assert "check-jsonschema>=0.37.3," in (PROJECT_DIR / "requirements-dev.txt").read_text()
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    bad_queue = tmp_path / "bad-queue.yml"
    bad_queue.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n"
        "    concurrency: {group: g, queue: all}\n    steps: [{run: 'true'}]\n"
    )
    done = check_schema("vendor.github-workflows", [broken, bad_queue])
    assert done.returncode != 0
    assert "broken.yml" in done.stdout and "bad-queue.yml" in done.stdout


def test_zizmor_finds_nothing_offline() -> None:
    """The workflow audit, run here only (locally and in .ci/run's pytest, so once per CI
    run): no finding of any severity, pedantic ones included (the auditor persona, which also
    asks for concurrency limits and documented permissions), every action hash-pinned."""
    zizmor = Path(sys.executable).parent / "zizmor"
    done = subprocess.run(
        [str(zizmor), "--offline", "--persona", "auditor", "--format", "json", ".github"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    findings = json.loads(done.stdout)
    assert [(f["ident"], f["determinations"]["severity"]) for f in findings] == []
    assert done.returncode == 0, done.stderr
    ci = (PROJECT_DIR / ".ci/run").read_text().splitlines()
    assert "venv/bin/python -m pytest" in ci
    assert not [line for line in ci if "zizmor" in line and not line.startswith("#")]
    config = yaml.safe_load((GITHUB / "zizmor.yml").read_text())
    assert config["rules"]["unpinned-uses"]["config"]["policies"] == {"*": "hash-pin"}


def test_every_action_is_pinned_by_commit_sha_with_its_version() -> None:
    seen: dict[str, str] = {}
    for path in [*WORKFLOWS, ACTION]:
        for line in path.read_text().splitlines():
            match = re.match(r"^\s*(?:- )?uses: (\S+)(.*)$", line)
            if not match or match.group(1).startswith("$/"):
                continue
            reference, comment = match.groups()
            pinned = re.fullmatch(r"([\w.-]+/[\w.-]+)@([0-9a-f]{40})", reference)
            assert pinned, f"{path.name}: {reference} is not pinned by a full commit SHA"
            version = re.fullmatch(r" # (v\d+\.\d+\.\d+)", comment)
            assert version, f"{path.name}: {reference} has no '# vX.Y.Z' comment"
            # One version per commit everywhere (Dependabot rewrites both).
            assert seen.setdefault(reference, version.group(1)) == version.group(1)
    assert len({r.split("@")[0] for r in seen}) == 5


def test_no_workflow_grants_permissions_by_default_and_checkouts_keep_no_token() -> None:
    for path in WORKFLOWS:
        assert load(path.name)["permissions"] == {}, path.name
    for name, job in all_jobs():
        assert "permissions" in job, name
        for step in steps_using(job, "actions/checkout@"):
            assert step["with"]["persist-credentials"] is False, name
        if "uses" not in job:
            assert job["timeout-minutes"] <= 150, name


def test_pull_request_runs_ci_renders_diffs_and_previews_only_staging_read_only() -> None:
    workflow = load("pull-request.yml")
    assert workflow["on"] == {"pull_request": {"branches": ["main"]}}
    jobs = workflow["jobs"]
    assert [s["run"] for s in jobs["checks"]["steps"] if "run" in s] == ["bash .ci/run"]

    render = "\n".join(s.get("run", "") for s in jobs["render-diff"]["steps"])
    assert "for stack in staging prod" in render
    assert 'render --stack "$stack" --format json' in render
    assert (
        'diff "renders/base-$stack.json" "renders/head-$stack.json" >> "$GITHUB_STEP_SUMMARY"'
        in render
    )
    assert "id-token" not in jobs["render-diff"]["permissions"]

    preview = jobs["preview"]
    assert preview["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert preview["environment"] == "staging-preview"
    (pulumi,) = steps_using(preview, "pulumi/actions@")
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["stack-name"] == "staging"
    assert pulumi["with"]["comment-on-pr"] is True
    assert preview["permissions"]["pull-requests"] == "write"
    # Superseded previews are cancelled, per pull request; they take no lock.
    assert preview["concurrency"] == {
        "group": "preview-staging-pr-${{ github.event.pull_request.number }}",
        "cancel-in-progress": True,
    }
    # No pull-request job names a prod environment: prod shows through the render diff.
    assert not [j for j in jobs.values() if "prod" in str(j.get("environment", ""))]


def test_merge_deploys_staging_smoke_runs_prod_tag_then_deploys_prod() -> None:
    workflow = load("deploy.yml")
    assert workflow["on"]["push"] == {"branches": ["main"]}
    jobs = workflow["jobs"]
    assert list(jobs) == ["staging", "smoke", "prod"]
    assert jobs["smoke"]["needs"] == "staging"
    assert jobs["prod"]["needs"] == "smoke"
    for stack in ("staging", "prod"):
        assert jobs[stack]["uses"] == "$/.github/workflows/deploy-stack.yml"
        assert jobs[stack]["with"] == {"stack": stack}
        assert jobs[stack]["permissions"] == {"contents": "read", "id-token": "write"}
        assert "secrets" not in jobs[stack]


def test_smoke_job_runs_the_prod_tag_in_staging_with_the_staging_principal_only() -> None:
    smoke = load("deploy.yml")["jobs"]["smoke"]
    assert smoke["environment"] == "staging"
    assert smoke["env"] == DATABRICKS_OIDC
    # Its own job: no AWS role, and no deploy job's session to outlive.
    assert steps_using(smoke, "aws-actions/") == []
    assert steps_using(smoke, "pulumi/actions@") == []
    (run,) = [s for s in smoke["steps"] if "smoke" in s.get("run", "")]
    assert '["config"]["mlops:code_source"]["tag"]' in run["run"]
    assert 'open("Pulumi.prod.yaml")' in run["run"]
    assert 'mlops_resources smoke --stack staging --ref "$tag"' in run["run"]
    assert run["env"] == {
        "TRAINING_JOB_ID": "${{ needs.staging.outputs.training_job_id }}",
        "BATCH_INFERENCE_JOB_ID": "${{ needs.staging.outputs.batch_inference_job_id }}",
    }
    minutes = int(re.search(r"--timeout-minutes (\d+)", run["run"]).group(1))  # type: ignore[union-attr]
    assert smoke["timeout-minutes"] > 2 * minutes


def test_each_deploy_previews_ups_then_proves_convergence_and_exports_job_ids() -> None:
    workflow = load("deploy-stack.yml")
    call = workflow["on"]["workflow_call"]
    assert call["inputs"]["stack"]["required"] is True
    (job,) = workflow["jobs"].values()
    assert job["environment"] == "${{ inputs.stack }}"
    commands = [
        (s["with"]["command"], s["with"].get("expect-no-changes", False))
        for s in steps_using(job, "pulumi/actions@")
    ]
    assert commands == [("preview", False), ("up", False), ("preview", True)]
    assert {s["with"]["stack-name"] for s in steps_using(job, "pulumi/actions@")} == {
        "${{ inputs.stack }}"
    }
    # pulumi/actions sets a step output per stack output; the smoke job reads these.
    for output in ("training_job_id", "batch_inference_job_id"):
        assert job["outputs"][output] == f"${{{{ steps.up.outputs.{output} }}}}"
        assert call["outputs"][output]["value"] == f"${{{{ jobs.up.outputs.{output} }}}}"


def guard(job: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = job["steps"][0]
    return first


@pytest.mark.parametrize(
    "job",
    [load("deploy-stack.yml")["jobs"]["up"], load("deploy.yml")["jobs"]["smoke"]],
    ids=["deploy-stack", "smoke"],
)
def test_deploy_jobs_refuse_refs_other_than_the_default_branch_first(job: dict[str, Any]) -> None:
    step = guard(job)
    assert step["name"] == "Refuse refs other than the default branch"
    assert step["env"] == {
        "REF": "${{ github.ref }}",
        "DEFAULT_BRANCH": "${{ github.event.repository.default_branch }}",
    }
    assert 'if [ "$REF" != "refs/heads/$DEFAULT_BRANCH" ]' in step["run"]
    assert "exit 1" in step["run"]


def test_guard_refuses_another_branch_and_passes_the_default_one() -> None:
    script = guard(load("deploy-stack.yml")["jobs"]["up"])["run"]
    for ref, code in (("refs/heads/main", 0), ("refs/heads/feature", 1), ("refs/tags/v1", 1)):
        done = subprocess.run(
            ["bash", "-c", script],
            env={"REF": ref, "DEFAULT_BRANCH": "main", "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == code, (ref, done.stdout)


def test_drift_check_refreshes_read_only_daily_and_reports_an_issue() -> None:
    workflow = load("drift.yml")
    assert [s["cron"] for s in workflow["on"]["schedule"]] == ["17 6 * * *"]
    job = workflow["jobs"]["drift"]
    assert job["strategy"]["matrix"]["include"] == [
        {"stack": "staging", "environment": "staging-preview"},
        {"stack": "prod", "environment": "prod-drift"},
    ]
    assert job["environment"] == "${{ matrix.environment }}"
    (pulumi,) = steps_using(job, "pulumi/actions@")
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["refresh"] is True
    assert pulumi["with"]["expect-no-changes"] is True
    report = job["steps"][-1]
    assert report["if"] == "failure()"
    assert "gh issue create" in report["run"]


def stack_jobs() -> list[tuple[str, dict[str, Any]]]:
    return [(name, job) for name, job in step_jobs() if steps_using(job, "pulumi/actions@")]


@pytest.mark.parametrize(("name", "job"), stack_jobs())
def test_stack_jobs_use_oidc_for_aws_and_databricks_and_the_pinned_cli(
    name: str, job: dict[str, Any]
) -> None:
    assert job["permissions"]["id-token"] == "write"
    assert job["env"] == DATABRICKS_OIDC
    (aws,) = steps_using(job, "aws-actions/configure-aws-credentials@")
    assert aws["with"] == {
        "role-to-assume": "${{ vars.AWS_ROLE_ARN }}",
        "aws-region": "${{ vars.AWS_REGION }}",
        "role-duration-seconds": SESSION_SECONDS,
    }
    assert [s.get("uses") for s in job["steps"] if s.get("id") == "setup"] == [SETUP]
    for step in steps_using(job, "pulumi/actions@"):
        assert step["with"]["cloud-url"] == "${{ steps.setup.outputs.backend-url }}"
        assert step["with"]["pulumi-version-file"] == ".pulumi-version"
        assert "pulumi-version" not in step["with"]


def test_deploys_and_drift_queue_in_the_stack_group_and_lock_holders_end_before_the_session() -> (
    None
):
    """GitHub's concurrency queue (docs, "Control the concurrency of workflows and jobs",
    https://docs.github.com/en/actions/how-tos/write-workflows/choose-when-workflows-run/control-workflow-concurrency):
    ``single`` (default) keeps "at most one" pending run and a new one cancels and replaces it;
    ``max`` keeps "up to 100"; "The combination of `queue: max` and `cancel-in-progress: true`
    is not allowed and will result in a workflow validation error"; runs wait "in
    first-in-first-out (FIFO) order according to the time each one started waiting", though
    "ordering is not guaranteed". So no deploy or drift check of a stack cancels another."""
    groups = {}
    for name, job in stack_jobs():
        commands = {s["with"]["command"] for s in steps_using(job, "pulumi/actions@")}
        concurrency = job["concurrency"]
        # GitHub refuses queue: max with cancel-in-progress: true (the schema does not).
        assert not (concurrency.get("queue") == "max" and concurrency["cancel-in-progress"])
        if "up" in commands:
            # The role's session ends after SESSION_SECONDS: an `up` still running then fails
            # its last checkpoint and leaves the lock.
            assert job["timeout-minutes"] * 60 < SESSION_SECONDS, name
        if name.startswith("pull-request.yml"):
            continue
        assert concurrency["cancel-in-progress"] is False and concurrency["queue"] == "max"
        groups[name] = concurrency["group"]
    assert groups == {
        "deploy-stack.yml:up": "pulumi-${{ inputs.stack }}",
        "drift.yml:drift": "pulumi-${{ matrix.stack }}",
    }


def test_smoke_runs_in_staging_queue_one_at_a_time() -> None:
    """Two merges in quick succession each run prod's tag in staging: one-time runs
    (``jobs/runs/submit``) are not limited by the jobs' ``max_concurrent_runs``, so without a
    queue both would train and score in staging at once. GitHub keeps one pending job per
    concurrency group unless ``queue: max``; cancelling a pending one would leave its prod
    deploy waiting for nothing, so none is cancelled (GitHub docs, "Control the concurrency of
    workflows and jobs": ``single`` cancels and replaces the pending run, ``max`` keeps up to
    100, FIFO by the time each started waiting)."""
    smoke = load("deploy.yml")["jobs"]["smoke"]
    assert smoke["environment"] == "staging"
    assert smoke["concurrency"] == {
        "group": "smoke-staging",
        "cancel-in-progress": False,
        "queue": "max",
    }


def environments_used() -> dict[str, str]:
    """GitHub environment -> job that assumes an AWS role in it."""
    used = {"staging": "deploy-stack.yml:up", "prod": "deploy-stack.yml:up"}
    used["staging-preview"] = "pull-request.yml:preview"
    for entry in load("drift.yml")["jobs"]["drift"]["strategy"]["matrix"]["include"]:
        used.setdefault(entry["environment"], "drift.yml:drift")
    return used


def test_each_job_environment_is_one_bootstrap_trust_domain_of_the_right_access(
    bootstrap: Evaluation,
) -> None:
    """A job that names an environment gets a token whose subject is
    ``repo:ORG-NAME/REPO-NAME:environment:ENVIRONMENT-NAME`` ("The subject claim includes the
    environment name when the job references an environment", GitHub docs, OpenID Connect
    reference, github/docs content/actions/reference/security/oidc.md), and each bootstrap role
    trusts exactly one such subject: the environment a job names decides the role it can
    assume."""
    role_arns = bootstrap.outputs["role_arns"]
    assert set(role_arns) == set(environments_used())
    policies = {
        p.inputs["role"]: json.loads(p.inputs["policy"])
        for p in bootstrap.of_type("aws:iam/rolePolicy:RolePolicy")
    }
    for environment, job in environments_used().items():
        role = role_arns[environment].rsplit("/", 1)[1]
        writes = any(s["Sid"] == "WriteStackState" for s in policies[role]["Statement"])
        # Only the gated deploy job holds a role that writes state.
        assert writes == (job == "deploy-stack.yml:up"), environment


def test_no_long_lived_credentials_in_workflows() -> None:
    for path in [*WORKFLOWS, ACTION]:
        text = path.read_text()
        assert "secrets." not in text, path.name
        for name in ("AWS_ACCESS_KEY_ID", "DATABRICKS_CLIENT_SECRET", "DATABRICKS_TOKEN"):
            assert not re.search(rf"\b{name}\b", text), (path.name, name)


def test_every_variable_is_documented() -> None:
    names = set()
    for path in [*WORKFLOWS, ACTION]:
        names |= set(re.findall(r"\$\{\{\s*vars\.([A-Z0-9_]+)\s*\}\}", path.read_text()))
    assert names == {
        "AWS_ROLE_ARN",
        "AWS_REGION",
        "DATABRICKS_ACCOUNT_ID",
        "DATABRICKS_CLIENT_ID",
    }
    for name in names:
        assert f"`{name}`" in DEPLOYMENT_GUIDE, f"{name} is not in docs/deployment.md"
    for environment in environments_used():
        assert f"`{environment}`" in DEPLOYMENT_GUIDE


def test_pulumi_project_files_match_the_project_schema(tmp_path: Path) -> None:
    schema = str(Path(__file__).parent / "schemas" / "pulumi-project.schema.json")
    broken = tmp_path / "Pulumi.yaml"
    broken.write_text("name: x\nruntime: python\nbackend:\n  uri: s3://bucket\n")
    projects = [PROJECT_DIR / "Pulumi.yaml", PROJECT_DIR / "bootstrap" / "Pulumi.yaml"]
    done = check_schema(schema, projects)
    assert done.returncode == 0, done.stdout + done.stderr
    assert check_schema(schema, [broken]).returncode != 0


PULUMI_ACTIONS_INPUTS = frozenset(
    [
        "command",
        "stack-name",
        "pulumi-version",
        "pulumi-version-file",
        "work-dir",
        "comment-on-pr",
        "comment-on-pr-number",
        "comment-on-summary",
        "github-token",
        "cloud-url",
        "secrets-provider",
        "parallel",
        "message",
        "config-map",
        "expect-no-changes",
        "diff",
        "replace",
        "exclude",
        "exclude-dependents",
        "target",
        "target-dependents",
        "policyPacks",
        "policyPackConfigs",
        "refresh",
        "upsert",
        "remove",
        "edit-pr-comment",
        "color",
        "exclude-protected",
        "plan",
        "suppress-outputs",
        "suppress-progress",
        "always-include-summary",
        "continue-on-error",
        "log-verbosity",
        "log-flow",
        "debug",
    ]
)
"""The inputs pulumi/actions v7.0.0 documents (action.yml at 8e5e406f40): an input it does not
know is ignored with a warning, so a misspelt ``policyPacks`` would silently skip the pack."""


def test_every_engine_run_runs_the_policy_pack_with_known_inputs() -> None:
    steps = [
        (path.name, step)
        for path in WORKFLOWS
        for job in load(path.name)["jobs"].values()
        for step in job.get("steps", [])
        if str(step.get("uses", "")).startswith("pulumi/actions@")
    ]
    assert len(steps) == 5  # PR preview, deploy preview, up, convergence preview, drift
    for name, step in steps:
        assert set(step["with"]) <= PULUMI_ACTIONS_INPUTS, (name, set(step["with"]))
        assert step["with"]["policyPacks"] == "policy", name
    assert (PROJECT_DIR / step["with"]["policyPacks"] / "PulumiPolicy.yaml").is_file()


def test_pull_requests_check_every_stack_file_against_the_policies_offline() -> None:
    render = load("pull-request.yml")["jobs"]["render-diff"]
    assert "secrets." not in yaml.safe_dump(render)
    (check,) = [s for s in render["steps"] if "mlops_resources check" in s.get("run", "")]
    assert 'check --stack "$stack"' in check["run"] and "for stack in staging prod" in check["run"]
    assert "check --program bootstrap --stack shared" in check["run"]
    assert 'exit "$status"' in check["run"]
