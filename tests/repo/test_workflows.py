"""GitHub Actions: every workflow is valid against GitHub's schema (offline, the copy
check-jsonschema ships), and each job runs the commands and stack order the docs promise.
The Pulumi project files are checked against Pulumi's project schema (a copy in
tests/repo/schemas/)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_resources import PROJECT_DIR

GITHUB = PROJECT_DIR / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
DEPLOYMENT_GUIDE = (PROJECT_DIR / "docs" / "deployment.md").read_text()


def load(name: str) -> dict[str, Any]:
    raw: Any = yaml.safe_load((GITHUB / "workflows" / name).read_text())
    # YAML 1.1 reads the key `on` as the boolean true.
    raw["on"] = raw.pop(True)
    document: dict[str, Any] = raw
    return document


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if str(s.get("uses", "")).startswith(action)]


def check_schema(schema: str, files: list[Path]) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with a schema it ships (``vendor.*``) or a schema file's path."""
    option = (
        ["--builtin-schema", schema] if schema.startswith("vendor.") else ["--schemafile", schema]
    )
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", *option, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_workflows_and_actions_match_github_schemas() -> None:
    assert {w.name for w in WORKFLOWS} == {
        "deploy-stack.yml",
        "deploy.yml",
        "drift.yml",
        "pull-request.yml",
    }
    workflows = check_schema("vendor.github-workflows", WORKFLOWS)
    assert workflows.returncode == 0, workflows.stdout + workflows.stderr
    actions = check_schema("vendor.github-actions", [GITHUB / "actions/setup/action.yml"])
    assert actions.returncode == 0, actions.stdout + actions.stderr


def test_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    assert check_schema("vendor.github-workflows", [broken]).returncode != 0


def test_pull_request_runs_ci_renders_diffs_and_previews_both_stacks() -> None:
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
    assert "secrets." not in yaml.safe_dump(jobs["render-diff"])

    preview = jobs["preview"]
    assert preview["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert preview["strategy"]["matrix"]["stack"] == ["staging", "prod"]
    assert preview["environment"] == "${{ matrix.stack }}-preview"
    (pulumi,) = steps_using(preview, "pulumi/actions@")
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["stack-name"] == "${{ matrix.stack }}"
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["with"]["edit-pr-comment"] is True
    assert preview["permissions"]["pull-requests"] == "write"


def test_merge_deploys_staging_then_prod() -> None:
    workflow = load("deploy.yml")
    assert workflow["on"]["push"] == {"branches": ["main"]}
    jobs = workflow["jobs"]
    assert list(jobs) == ["staging", "prod"]
    assert jobs["prod"]["needs"] == "staging"
    for stack, job in jobs.items():
        assert job["uses"] == "./.github/workflows/deploy-stack.yml"
        assert job["with"] == {"stack": stack}


def test_each_deploy_runs_up_then_proves_convergence() -> None:
    workflow = load("deploy-stack.yml")
    assert workflow["on"]["workflow_call"]["inputs"]["stack"]["required"] is True
    (job,) = workflow["jobs"].values()
    assert job["environment"] == "${{ inputs.stack }}"
    commands = [
        (s["with"]["command"], s["with"].get("expect-no-changes", False))
        for s in steps_using(job, "pulumi/actions@")
    ]
    assert commands == [("up", False), ("preview", True)]
    assert {s["with"]["stack-name"] for s in steps_using(job, "pulumi/actions@")} == {
        "${{ inputs.stack }}"
    }


def test_drift_check_refreshes_and_expects_no_changes_daily() -> None:
    workflow = load("drift.yml")
    assert [s["cron"] for s in workflow["on"]["schedule"]] == ["17 6 * * *"]
    job = workflow["jobs"]["drift"]
    assert job["strategy"]["matrix"]["stack"] == ["staging", "prod"]
    (pulumi,) = steps_using(job, "pulumi/actions@")
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["refresh"] is True
    assert pulumi["with"]["expect-no-changes"] is True
    report = job["steps"][-1]
    assert report["if"] == "failure()"
    assert "gh issue create" in report["run"]


def stack_jobs() -> list[tuple[str, dict[str, Any]]]:
    jobs = []
    for path in WORKFLOWS:
        for name, job in load(path.name)["jobs"].items():
            if any(steps_using(job, "pulumi/actions@")) if "steps" in job else False:
                jobs.append((f"{path.name}:{name}", job))
    return jobs


@pytest.mark.parametrize(("name", "job"), stack_jobs())
def test_jobs_touching_a_stack_share_its_lock_group_and_use_oidc(
    name: str, job: dict[str, Any]
) -> None:
    stack = "${{ inputs.stack }}" if "deploy-stack" in name else "${{ matrix.stack }}"
    assert job["concurrency"] == {"group": f"pulumi-{stack}", "cancel-in-progress": False}
    assert job["permissions"]["id-token"] == "write"
    (aws,) = steps_using(job, "aws-actions/configure-aws-credentials@")
    assert set(aws["with"]) == {"role-to-assume", "aws-region"}
    for step in steps_using(job, "pulumi/actions@"):
        assert step["with"]["cloud-url"] == "${{ steps.setup.outputs.backend-url }}"


def test_no_long_lived_cloud_keys_in_workflows() -> None:
    for path in WORKFLOWS:
        text = path.read_text()
        assert "AWS_ACCESS_KEY_ID" not in text and "AWS_SECRET_ACCESS_KEY" not in text
        assert "DATABRICKS_TOKEN" not in text


def test_every_secret_and_variable_is_documented() -> None:
    names = set()
    for path in [*WORKFLOWS, GITHUB / "actions/setup/action.yml"]:
        names |= set(
            re.findall(r"\$\{\{\s*(?:secrets|vars)\.([A-Z0-9_]+)\s*\}\}", path.read_text())
        )
    assert names == {
        "AWS_CI_ROLE_ARN",
        "AWS_REGION",
        "DATABRICKS_CLIENT_ID",
        "DATABRICKS_CLIENT_SECRET",
    }
    for name in names:
        assert f"`{name}`" in DEPLOYMENT_GUIDE, f"{name} is not in docs/deployment.md"
    for environment in ("staging", "prod", "staging-preview", "prod-preview"):
        assert f"`{environment}`" in DEPLOYMENT_GUIDE


def test_pulumi_project_files_match_the_project_schema(tmp_path: Path) -> None:
    schema = str(Path(__file__).parent / "schemas" / "pulumi-project.schema.json")
    projects = [PROJECT_DIR / "Pulumi.yaml", PROJECT_DIR / "bootstrap" / "Pulumi.yaml"]
    done = check_schema(schema, projects)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "Pulumi.yaml"
    broken.write_text("name: x\nruntime: python\nbackend:\n  uri: s3://bucket\n")
    assert check_schema(schema, [broken]).returncode != 0
