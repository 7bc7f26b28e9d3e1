"""The committed stack files, whatever values they hold: invariants only, never the example's
values. The same checks run on a copy into which ``init`` wrote another team's values, which
shows these tests survive a team's own values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from mlops_resources import PROJECT_DIR
from mlops_resources.config.bootstrap import validate_bootstrap
from mlops_resources.config.load import committed_stacks, validate
from mlops_resources.config.reading import RawConfig
from mlops_resources.config.stack_files import project_name, read_stack_file
from mlops_resources.offline.check import committed_stack_names, cross_stack, run_policies
from mlops_resources.offline.evaluation import evaluate
from mlops_resources.offline.templates import TeamAnswers, init_team
from tests.stacks import write_project

ANOTHER_TEAM = TeamAnswers(
    project_name="churn-model",
    staging_host="https://adb-1111111111111111.1.azuredatabricks.net",
    prod_host="https://adb-2222222222222222.2.azuredatabricks.net",
    cloud="azure",
    staging_catalog="ml_staging",
    prod_catalog="ml_prod",
    schema="churn",
    input_table="customers_to_score",
    output_table="churn_scores",
    readers_group="analysts",
    operators_group="churn-oncall",
    model_readers_group="churn-model-consumers",
    staging_jobs_group="churn-staging-runners",
    prod_jobs_group="churn-prod-runners",
    staging_run_as="3f2b8c1e-5a4d-4e6f-8b9a-1c2d3e4f5a6b",
    prod_run_as="9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
    on_failure_email="churn-alerts@acme.example",
    repository_url="https://gitlab.acme.example/ml/churn-model",
    git_provider="gitLabEnterpriseEdition",
    prod_tag="v2026.11.1",
    github_repository="acme/churn-model",
    aws_account_id="210987654321",
    region="eu-central-1",
    state_bucket="acme-ml-pulumi-state",
    kms_alias="churn-pulumi",
    key_admin_arn="arn:aws:iam::210987654321:role/security-keys",
    operator_arn="arn:aws:iam::210987654321:role/ml-ops",
)


@pytest.fixture(scope="module", params=["repository", "another team"])
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if request.param == "repository":
        return PROJECT_DIR
    root = write_project(tmp_path_factory.mktemp("another-team"), TeamAnswers())
    init_team(ANOTHER_TEAM, project_dir=root)
    return root


def stacks(project: Path) -> list[str]:
    return committed_stack_names(project)


def test_staging_and_prod_are_committed(project: Path) -> None:
    assert {"staging", "prod"} <= set(stacks(project))


def test_every_stack_file_validates(project: Path) -> None:
    for stack in stacks(project):
        source = read_stack_file(stack, project)
        cfg = validate(
            RawConfig(source.values, source.secret_keys), stack, committed_stacks(stack, project)
        )
        assert cfg.environment == stack
    source = read_stack_file("shared", project / "bootstrap")
    validate_bootstrap(RawConfig(source.values, source.secret_keys), "shared")


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_stacks_render_deterministically_and_break_no_policy(project: Path, stack: str) -> None:
    first = evaluate(stack, project)
    assert first.to_json() == evaluate(stack, project).to_json()
    assert run_policies(first, project_name(project)) == []
    # Databricks names carry the environment.
    jobs = first.of_type("databricks:index/job:Job")
    assert jobs and all(job.inputs["name"].startswith(f"{stack}-") for job in jobs)


def test_no_two_stack_files_claim_one_grant_or_table(project: Path) -> None:
    assert cross_stack(project, stacks(project)) == []


def test_the_bootstrap_breaks_no_policy(project: Path) -> None:
    bootstrap = evaluate("shared", project / "bootstrap")
    assert run_policies(bootstrap, project_name(project / "bootstrap")) == []


def test_prod_runs_a_tag_and_protects_its_assets(project: Path) -> None:
    """The prod-only policies hold too (run_policies above); these are the stack file's."""
    config = yaml.safe_load((project / "Pulumi.prod.yaml").read_text())["config"]
    assert config["mlops:code_source"].get("tag") and "branch" not in config["mlops:code_source"]
    assert config["mlops:protect_ml_assets"] is True


def test_the_backend_and_secrets_providers_are_the_bootstraps(project: Path) -> None:
    outputs = evaluate("shared", project / "bootstrap").outputs
    project_file = yaml.safe_load((project / "Pulumi.yaml").read_text())
    assert project_file["backend"]["url"] == outputs["backend_url"]
    for stack in ("staging", "prod"):
        text = (project / f"Pulumi.{stack}.yaml").read_text()
        (provider,) = re.findall(r"^secretsprovider: (\S+)$", text, re.M)
        assert provider == outputs["secrets_providers"][stack]
    bootstrap = read_stack_file("shared", project / "bootstrap").values
    assert bootstrap["mlops-bootstrap:project"] == project_name(project)
