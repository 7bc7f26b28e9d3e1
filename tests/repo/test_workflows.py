"""GitHub Actions: every workflow, the composite action and dependabot.yml are valid against
GitHub's schemas (offline, the copies check-jsonschema ships); zizmor finds nothing offline;
and each job holds only the credentials of its trust domain, with the concurrency, timeouts,
pins and order the docs promise. The Pulumi project files are checked against Pulumi's project
schema (a copy in tests/repo/schemas/)."""

from __future__ import annotations

import hashlib
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
ENGINE = GITHUB / "actions/engine/action.yml"
ACTIONS = [ACTION, ENGINE]
DEPLOYMENT_GUIDE = (PROJECT_DIR / "docs" / "deployment.md").read_text()
SETUP = "$/.github/actions/setup"
CHECK_HOST_AND_INSTALL = "$/.github/actions/engine"
DATABRICKS_OIDC = {
    "DATABRICKS_AUTH_TYPE": "github-oidc",
    "DATABRICKS_CLIENT_ID": "${{ vars.DATABRICKS_CLIENT_ID }}",
    "DATABRICKS_TOKEN_AUDIENCE": "${{ vars.DATABRICKS_ACCOUNT_ID }}",
}
NO_PLUGIN_DOWNLOADS = {"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true"}
"""The CLI installs no plugin of its own ("Disables the automatic installation of missing
plugins", pulumi/pulumi ``sdk/go/common/env/env.go``): only the ones installed from the
committed sums (:mod:`mlops_resources.delivery.engine`)."""
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
        ("vendor.github-actions", ACTIONS),
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
    for path in [*WORKFLOWS, *ACTIONS]:
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
    assert len({r.split("@")[0] for r in seen}) == 6


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
    assert pulumi["with"]["comment-on-summary"] is True
    # Superseded previews are cancelled, per pull request; they take no lock.
    assert preview["concurrency"] == {
        "group": "preview-staging-pr-${{ github.event.pull_request.number }}",
        "cancel-in-progress": True,
    }
    # No pull-request job names a prod environment: prod shows through the render diff.
    assert not [j for j in jobs.values() if "prod" in str(j.get("environment", ""))]


def test_no_pull_request_job_may_write_to_pull_requests() -> None:
    """pulumi/actions' ``comment-on-pr`` needs ``pull-requests: write`` and, with
    ``edit-pr-comment`` (default true), edits the first comment whose body starts with its
    heading, whoever wrote it (pulumi/actions v7.0.0 ``src/libs/pr.ts``). The preview goes to
    the job summary instead (``comment-on-summary``, ``src/libs/summary.ts``), and no job of
    any workflow holds that scope."""
    for name, job in all_jobs():
        assert "pull-requests" not in job.get("permissions", {}), name
        for step in steps_using(job, "pulumi/actions@"):
            assert "comment-on-pr" not in step["with"], name


def test_setup_python_takes_an_exact_version() -> None:
    """``python-version: "3.11"`` takes the newest 3.11.x of the runner's tool cache, so the
    interpreter under the lock moves without a commit; 3.11.16 has an ubuntu 24.04 and 26.04
    x64 build in actions/python-versions ``versions-manifest.json`` (7ecd564, 2026-08-12), and
    3.12.12 a ``linux-24.04-x64`` release archive."""
    steps = [
        step
        for path in [*WORKFLOWS, *ACTIONS]
        for step in (
            [s for j in load(path.name)["jobs"].values() for s in j.get("steps", [])]
            if path in WORKFLOWS
            else yaml.safe_load(path.read_text())["runs"]["steps"]
        )
        if str(step.get("uses", "")).startswith("actions/setup-python@")
    ]
    assert len(steps) == 2
    for step in steps:
        # Several versions, one a line; the last is the default python3, 3.11.
        versions = str(step["with"]["python-version"]).split()
        assert versions[-1].startswith("3.11."), versions
        for version in versions:
            assert re.fullmatch(r"3\.1[12]\.\d+", version), version


def test_merge_deploys_staging_smoke_runs_prod_tag_then_deploys_prod() -> None:
    workflow = load("deploy.yml")
    assert workflow["on"]["push"] == {"branches": ["main"]}
    jobs = workflow["jobs"]
    assert list(jobs) == ["staging", "smoke", "prod"]
    assert jobs["smoke"]["needs"] == "staging"
    assert jobs["prod"]["needs"] == "smoke"
    previews = {"staging": "staging-preview", "prod": "prod-drift"}
    for stack in ("staging", "prod"):
        assert jobs[stack]["uses"] == "$/.github/workflows/deploy-stack.yml"
        assert jobs[stack]["with"] == {"stack": stack, "preview-environment": previews[stack]}
        assert jobs[stack]["permissions"] == {"contents": "read", "id-token": "write"}
        assert "secrets" not in jobs[stack]


def test_smoke_job_runs_the_prod_tag_in_staging_with_the_staging_principal_only() -> None:
    smoke = load("deploy.yml")["jobs"]["smoke"]
    assert smoke["environment"] == "staging"
    assert smoke["env"] == DATABRICKS_OIDC
    # Its own job: no AWS role, and no deploy job's session to outlive.
    assert steps_using(smoke, "aws-actions/") == []
    assert steps_using(smoke, "pulumi/actions@") == []
    (run,) = [s for s in smoke["steps"] if "mlops_resources smoke" in s.get("run", "")]
    # Prod's repository, provider and tag: not the staging job's URL.
    assert "mlops_resources smoke --stack staging --code-from prod" in run["run"]
    assert "--ref" not in run["run"]
    assert run["env"] == {
        "TRAINING_JOB_ID": "${{ needs.staging.outputs.training_job_id }}",
        "BATCH_INFERENCE_JOB_ID": "${{ needs.staging.outputs.batch_inference_job_id }}",
    }
    minutes = int(re.search(r"--timeout-minutes (\d+)", run["run"]).group(1))  # type: ignore[union-attr]
    assert smoke["timeout-minutes"] > 2 * minutes


PLAN = "${{ runner.temp }}/plan/plan.json"


def test_a_read_only_job_previews_and_saves_the_plan_that_up_applies_exactly() -> None:
    """Update plans (pulumi/pulumi 1b5949891b, ``pkg/cmd/pulumi/operations``): ``preview
    --save-plan`` is marked "[PREVIEW] Save the operations proposed by the preview to a plan
    file" (``preview.go``); ``up --plan`` is "[EXPERIMENTAL] ... The update will not perform
    operations that exceed its plan (e.g. replacements instead of updates, or updates instead
    of sames)", hidden from help unless ``PULUMI_EXPERIMENTAL`` but read either way
    (``up.go``: ``if planFilePath != "" { ... opts.Engine.Plan = p }``). pulumi/actions v7.0.0
    passes its ``plan`` input to the automation API, which adds ``--save-plan`` to a preview
    and ``--plan`` to an update (pulumi/pulumi ``sdk/nodejs/automation/stack.ts``), and
    ``comment-on-summary`` writes the preview to the job summary (``src/libs/summary.ts``)."""
    workflow = load("deploy-stack.yml")
    call = workflow["on"]["workflow_call"]
    assert {k for k, v in call["inputs"].items() if v["required"]} == {
        "stack",
        "preview-environment",
    }
    preview, up = workflow["jobs"]["preview"], workflow["jobs"]["up"]
    assert preview["environment"] == "${{ inputs.preview-environment }}"
    assert up["environment"] == "${{ inputs.stack }}" and up["needs"] == "preview"
    (saved,) = steps_using(preview, "pulumi/actions@")
    assert saved["with"]["command"] == "preview" and saved["with"]["plan"] == PLAN
    assert saved["with"]["comment-on-summary"] is True
    (upload,) = steps_using(preview, "actions/upload-artifact@")
    assert upload["with"]["path"] == PLAN and upload["with"]["name"] == "plan-${{ inputs.stack }}"
    assert preview["outputs"] == {"plan-sha256": "${{ steps.plan.outputs.sha256 }}"}
    commands = [
        (s["with"]["command"], s["with"].get("plan"), s["with"].get("expect-no-changes", False))
        for s in steps_using(up, "pulumi/actions@")
    ]
    assert commands == [("up", PLAN, False), ("preview", None, True)]
    (download,) = steps_using(up, "actions/download-artifact@")
    assert download["with"]["name"] == upload["with"]["name"]
    names = [s.get("name", s.get("uses", "")) for s in up["steps"]]
    verify = names.index("Refuse a plan other than the one the preview saved")
    assert (
        names.index(download["uses"])
        < verify
        < names.index(steps_using(up, "aws-actions/")[0]["uses"])
    )
    assert up["steps"][verify]["env"]["EXPECTED"] == "${{ needs.preview.outputs.plan-sha256 }}"
    for step in [*steps_using(preview, "pulumi/actions@"), *steps_using(up, "pulumi/actions@")]:
        assert step["with"]["stack-name"] == "${{ inputs.stack }}"
    # pulumi/actions sets a step output per stack output; the smoke job reads these.
    for output in ("training_job_id", "batch_inference_job_id"):
        assert up["outputs"][output] == f"${{{{ steps.up.outputs.{output} }}}}"
        assert call["outputs"][output]["value"] == f"${{{{ jobs.up.outputs.{output} }}}}"


def test_the_plan_check_refuses_a_plan_the_preview_did_not_save(tmp_path: Path) -> None:
    up = load("deploy-stack.yml")["jobs"]["up"]
    (step,) = [s for s in up["steps"] if s.get("name", "").startswith("Refuse a plan")]
    (tmp_path / "plan.json").write_text('{"resourcePlans": {}}')
    saved = hashlib.sha256(b'{"resourcePlans": {}}').hexdigest()
    for expected, code in ((saved, 0), ("0" * 64, 1), ("", 1)):
        done = subprocess.run(
            ["bash", "-e", "-c", step["run"]],
            env={"PLAN_DIR": str(tmp_path), "EXPECTED": expected, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == code, (expected, done.stdout)


HEAD_GUARD = "Refuse a commit other than the default branch's head"


def deploy_jobs() -> list[tuple[str, dict[str, Any]]]:
    """Jobs that run on a merge with credentials: both jobs of each stack's deploy, smoke."""
    stack = load("deploy-stack.yml")["jobs"]
    return [
        ("deploy-stack.yml:preview", stack["preview"]),
        ("deploy-stack.yml:up", stack["up"]),
        ("deploy.yml:smoke", load("deploy.yml")["jobs"]["smoke"]),
    ]


@pytest.mark.parametrize(("name", "job"), deploy_jobs(), ids=[n for n, _ in deploy_jobs()])
def test_deploy_jobs_first_refuse_a_commit_that_is_not_the_default_branchs_head(
    name: str, job: dict[str, Any]
) -> None:
    """A re-run "uses the same GITHUB_SHA (commit SHA) and GITHUB_REF (Git ref) of the original
    event" and is possible "up to 30 days after the initial run" (GitHub docs, "Re-running
    workflows and jobs"), and queued runs wait in an order that "is not guaranteed" (GitHub
    docs, "Control the concurrency of workflows and jobs"): checking ``github.ref`` alone lets
    either deploy an older commit over a newer one. The first step compares ``github.sha``
    with the branch's head (REST "Get a reference", ``GET /repos/{owner}/{repo}/git/ref/
    {ref}``, ``object.sha``), with the job's read-only token, before any credential."""
    step = job["steps"][0]
    assert step["name"] == HEAD_GUARD
    assert step["env"] == {
        "GH_TOKEN": "${{ github.token }}",
        "REPOSITORY": "${{ github.repository }}",
        "REF": "${{ github.ref }}",
        "SHA": "${{ github.sha }}",
        "DEFAULT_BRANCH": "${{ github.event.repository.default_branch }}",
    }
    assert job["permissions"] == {"contents": "read", "id-token": "write"}


def run_head_guard(
    tmp_path: Path, ref: str, head: str, sha: str
) -> subprocess.CompletedProcess[str]:
    """The guard's script with a fake ``gh`` that answers the branch's head (or fails)."""
    script = load("deploy-stack.yml")["jobs"]["up"]["steps"][0]["run"]
    gh = tmp_path / "gh"
    answer = f'echo "{head}"' if head else "echo 'HTTP 404' >&2; exit 1"
    gh.write_text(f'#!/bin/sh\necho "$@" > "{tmp_path}/gh-args"\n{answer}\n')
    gh.chmod(0o755)
    env = {"REF": ref, "SHA": sha, "DEFAULT_BRANCH": "main", "REPOSITORY": "acme/ml"}
    return subprocess.run(
        ["bash", "-e", "-c", script],  # GitHub runs `run` steps with bash -e
        env={**env, "PATH": f"{tmp_path}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_head_guard_passes_only_the_heads_commit_and_says_why_it_refuses(tmp_path: Path) -> None:
    head, older = "a" * 40, "b" * 40
    assert run_head_guard(tmp_path, "refs/heads/main", head, head).returncode == 0
    assert (tmp_path / "gh-args").read_text().split() == [
        "api",
        "repos/acme/ml/git/ref/heads/main",
        "--jq",
        ".object.sha",
    ]
    rerun = run_head_guard(tmp_path, "refs/heads/main", head, older)
    assert rerun.returncode == 1
    assert f"{older} is not the head of main ({head})" in rerun.stdout
    assert "would deploy an older commit over a newer one" in rerun.stdout
    assert run_head_guard(tmp_path, "refs/heads/feature", head, head).returncode == 1
    assert run_head_guard(tmp_path, "refs/tags/v1", head, head).returncode == 1
    # No answer from the API: refused, never assumed to be the head.
    assert run_head_guard(tmp_path, "refs/heads/main", "", head).returncode != 0


def credential_steps(job: dict[str, Any]) -> list[int]:
    """Indexes of the steps that take or use a credential."""
    return [
        i
        for i, s in enumerate(job["steps"])
        if str(s.get("uses", "")).startswith(("aws-actions/", "pulumi/actions@"))
        or "mlops_resources smoke" in s.get("run", "")
    ]


@pytest.mark.parametrize(("name", "job"), step_jobs())
def test_every_credentialed_job_checks_the_workspace_host_before_any_credential(
    name: str, job: dict[str, Any]
) -> None:
    """The stack file's ``databricks:host`` must equal the environment's ``DATABRICKS_HOST``
    variable, which no pull request can change, before the first step that takes or uses a
    credential (:mod:`mlops_resources.delivery.guards`); engine jobs also install the engine
    there, from the committed sums."""
    if job.get("permissions", {}).get("id-token") != "write":
        return
    checks = [
        i
        for i, s in enumerate(job["steps"])
        if s.get("uses") == CHECK_HOST_AND_INSTALL
        or "mlops_resources.delivery.guards host" in s.get("run", "")
    ]
    assert checks and checks[0] < min(credential_steps(job)), name
    (check,) = checks
    step = job["steps"][check]
    if step.get("uses"):
        assert step["with"]["expected-host"] == "${{ vars.DATABRICKS_HOST }}"
    else:
        assert step["env"] == {"EXPECTED_HOST": "${{ vars.DATABRICKS_HOST }}"}


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
    assert job["env"] == {**DATABRICKS_OIDC, **NO_PLUGIN_DOWNLOADS}
    assert [s.get("uses") for s in job["steps"]].count(CHECK_HOST_AND_INSTALL) == 1
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
        "deploy-stack.yml:preview": "pulumi-${{ inputs.stack }}",
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
    for path in [*WORKFLOWS, *ACTIONS]:
        text = path.read_text()
        assert "secrets." not in text, path.name
        for name in ("AWS_ACCESS_KEY_ID", "DATABRICKS_CLIENT_SECRET", "DATABRICKS_TOKEN"):
            assert not re.search(rf"\b{name}\b", text), (path.name, name)


def test_every_variable_is_documented() -> None:
    names = set()
    for path in [*WORKFLOWS, *ACTIONS]:
        names |= set(re.findall(r"\$\{\{\s*vars\.([A-Z0-9_]+)\s*\}\}", path.read_text()))
    assert names == {
        "AWS_ROLE_ARN",
        "AWS_REGION",
        "DATABRICKS_ACCOUNT_ID",
        "DATABRICKS_CLIENT_ID",
        "DATABRICKS_HOST",
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


def test_the_preview_creates_the_folder_its_plan_is_saved_into() -> None:
    """``pulumi preview --save-plan`` creates the plan file with a bare ``os.Create``
    (pulumi/pulumi ``pkg/cmd/pulumi/plan/plan.go``, ``Write``), and neither pulumi/actions nor
    the automation API creates its folder: without this step every preview job fails."""
    steps = load("deploy-stack.yml")["jobs"]["preview"]["steps"]
    names = [str(step.get("name", "")) for step in steps]
    preview = next(i for i, name in enumerate(names) if "--save-plan" in name)
    folder = names.index("The plan's folder")
    assert folder < preview
    assert steps[folder]["run"] == 'mkdir -p "$PLAN_DIR"'
    assert steps[preview]["with"]["plan"] == "${{ runner.temp }}/plan/plan.json"
    assert steps[folder]["env"]["PLAN_DIR"] == "${{ runner.temp }}/plan"
