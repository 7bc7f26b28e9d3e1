"""``python -m mlops_resources init``: a team's values written, and changed again months later
without losing anything; ``init --dev NAME``: a personal stack that acts as its developer and
cannot touch staging or prod."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_resources import PROJECT_DIR
from mlops_resources.config.load import validate
from mlops_resources.config.reading import ConfigError, RawConfig
from mlops_resources.config.stack_files import encode_config, parse_config, read_stack_file
from mlops_resources.config.unity_catalog import stack_grant_plan
from mlops_resources.offline.cli import main
from mlops_resources.offline.evaluation import evaluate
from mlops_resources.offline.init import InitError, init_dev, suggest_name
from mlops_resources.offline.templates import (
    PULUMI_MANAGED,
    QUESTIONS,
    AnswerError,
    InitConflictError,
    TeamAnswers,
    current_answers,
    init_team,
    kept_examples,
    render,
)
from tests.stacks import write_project

COMMITTED_PRINCIPALS = (
    "00000000-0000-0000-0000-00000000a001",
    "00000000-0000-0000-0000-00000000b001",
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the example project (init's defaults)."""
    return write_project(tmp_path, TeamAnswers())


def git_checkout(directory: Path, branch: str) -> None:
    """Make ``directory`` a git repository on ``branch`` (no commit needed)."""
    subprocess.run(["git", "init", "-q", "-b", branch, str(directory)], check=True)


def config_of(project: Path, path: str) -> dict[str, Any]:
    namespace = "mlops-bootstrap" if path.startswith("bootstrap/") else "mlops"
    return parse_config((project / path).read_text(), path, namespace)


# --- init --dev -----------------------------------------------------------------------------


def test_the_dev_stack_is_paused_writes_its_own_table_and_grants_nothing(project: Path) -> None:
    dev = init_dev("alice", branch="alice/feature", project_dir=project)
    assert dev.path == project / "Pulumi.dev-alice.yaml"
    assert dev.output_table == "staging.wine_quality.dev_alice_predictions"
    result = evaluate("dev-alice", project, read_stack_file("dev-alice", project))
    jobs = result.of_type("databricks:index/job:Job")
    assert {job.inputs["schedule"]["pauseStatus"] for job in jobs} == {"PAUSED"}
    batch = result.get("mlops-batch-inference-job").inputs["parameters"]
    assert {p["name"]: p["default"] for p in batch}["output_table_name"] == dev.output_table
    assert result.of_type("databricks:index/grant:Grant") == []
    # Staging's budget policy is not the developer's to use (its User role is the run-as
    # principal's: docs, "Attribute usage with serverless budget policies").
    assert {"budgetPolicyId" in job.inputs for job in jobs} == {False}
    assert {job.inputs["name"] for job in jobs} == {
        "dev-alice-wine-quality-model-training-job",
        "dev-alice-wine-quality-batch-inference-job",
    }


def test_init_dev_writes_a_stack_that_acts_as_its_developer(project: Path) -> None:
    """Copied from staging, the old file ran as staging's service principal (which then owned
    its jobs and model: only it or an admin could delete them), in that principal's home (which
    grants nothing to the developer: workspace ACL docs, "Special folders and permissions"),
    emailed the team's on-call and ran ``main``. Now, without extra flags, it runs as the user
    who deploys it (offline: the mocks' stand-in), in their home, emails them and runs the
    branch checked out; its file holds no secrets provider (state in the developer's own
    backend, with a passphrase) and names no committed principal anywhere."""
    git_checkout(project, "alice/better-features")
    dev = init_dev("alice", project_dir=project)
    text = dev.path.read_text()
    assert not any(principal in text for principal in COMMITTED_PRINCIPALS)
    assert "secretsprovider" not in text and "ml-oncall@example.com" not in text
    result = evaluate("dev-alice", project, read_stack_file("dev-alice", project))
    rendered = result.to_json()
    assert not any(principal in rendered for principal in COMMITTED_PRINCIPALS)
    assert "/Users/00000000-" not in rendered
    user = result.deploying_user
    assert user is not None
    for job in result.of_type("databricks:index/job:Job"):
        assert job.inputs["runAs"] == {"userName": user}
        assert job.input("emailNotifications.onFailures") == [user]
        assert job.input("gitSource.branch") == "alice/better-features"
    assert result.get("mlops-model-model").inputs["owner"] == user
    assert result.get("mlops-experiment-directory").inputs["path"] == (
        f"/Users/{user}/wine-quality/dev-alice"
    )


def test_init_dev_can_pin_the_developer_and_takes_no_service_principal(project: Path) -> None:
    dev = init_dev("bob", user="bob@example.com", branch="bob/x", project_dir=project)
    assert dev.run_as_user == "bob@example.com"
    access = config_of(project, "Pulumi.dev-bob.yaml")["mlops:access"]
    assert access == {
        "readers_group": "users",
        "operators_group": "ml-engineers",
        "run_as_user": "bob@example.com",
    }


def test_a_dev_stack_copied_from_prod_is_unprotected_and_runs_a_branch(project: Path) -> None:
    """Destroyed by its developer: no protect (``pulumi destroy`` refuses protected
    resources), the folder in their home (not prod's ``workspace_root``), a branch not prod's
    tag."""
    prod = project / "Pulumi.prod.yaml"
    prod.write_text(
        prod.read_text().replace("config:\n", "config:\n  mlops:workspace_root: /Workspace/ml\n")
    )
    init_dev("alice", from_stack="prod", branch="alice/x", project_dir=project)
    config = config_of(project, "Pulumi.dev-alice.yaml")
    assert "mlops:protect_ml_assets" not in config and "mlops:workspace_root" not in config
    assert config["mlops:code_source"]["branch"] == "alice/x"
    assert "tag" not in config["mlops:code_source"]


def test_init_dev_needs_a_branch_to_follow(project: Path) -> None:
    with pytest.raises(InitError, match=r"is not on a git branch .* pass --branch NAME"):
        init_dev("alice", project_dir=project)
    assert not (project / "Pulumi.dev-alice.yaml").exists()


def test_an_edited_dev_file_is_refused_when_it_collides_again(project: Path) -> None:
    """The program checks personal stacks against the committed files at every run."""
    dev = init_dev("alice", branch="a", project_dir=project)
    dev.path.write_text(dev.path.read_text().replace(dev.output_table, "staging.wine_quality.x"))
    staging = project / "Pulumi.staging.yaml"
    staging.write_text(
        staging.read_text().replace(
            "output_table_name: staging.wine_quality.predictions",
            "output_table_name: staging.wine_quality.x",
        )
    )
    # Checked against the committed files of the program's own project (this copy).
    with pytest.raises(ConfigError, match=r"is a table of Pulumi\.staging\.yaml"):
        evaluate("dev-alice", project, read_stack_file("dev-alice", project))


def test_a_colliding_output_table_writes_nothing(project: Path) -> None:
    with pytest.raises(ConfigError, match=r"is a table of Pulumi\.prod\.yaml"):
        init_dev(
            "bob", output_table="prod.wine_quality.predictions", branch="b", project_dir=project
        )
    assert not (project / "Pulumi.dev-bob.yaml").exists()


def test_a_source_file_without_namespace_prefixes_is_read_as_the_cli_reads_it(
    project: Path,
) -> None:
    """A stack file may leave out the project's namespace: the CLI rewrites ``config:
    instanceSize: ...`` to ``<project>:instanceSize`` (pulumi/pulumi
    ``sdk/go/common/workspace/loaders.go``, ``LoadProjectStackBytes``), and so does
    ``read_stack_file``; ``init --dev`` edits the same namespaced keys."""
    staging = project / "Pulumi.staging.yaml"
    edit = staging.read_text().replace("\n  mlops:", "\n  ")
    assert "mlops:" not in edit.partition("config:")[2]
    staging.write_text(edit)
    dev = init_dev("alice", branch="a", project_dir=project)
    assert dev.output_table == "staging.wine_quality.dev_alice_predictions"
    result = evaluate("dev-alice", project, read_stack_file("dev-alice", project))
    jobs = result.of_type("databricks:index/job:Job")
    assert {job.inputs["schedule"]["pauseStatus"] for job in jobs} == {"PAUSED"}
    assert result.of_type("databricks:index/grant:Grant") == []


def test_an_existing_file_is_kept_unless_forced(project: Path) -> None:
    init_dev("alice", branch="a", project_dir=project)
    with pytest.raises(InitError, match=r"Pulumi\.dev-alice\.yaml exists; pass --force"):
        init_dev("alice", branch="a", project_dir=project)
    init_dev("alice", user="alice@example.com", branch="a", force=True, project_dir=project)
    assert "run_as_user: alice@example.com" in (project / "Pulumi.dev-alice.yaml").read_text()


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [("John.Doe", "john-doe"), ("Alice", "alice"), ("alice_smith", "alice-smith"), ("42", None)],
)
def test_a_refused_dev_name_comes_with_one_that_works(name: str, suggestion: str | None) -> None:
    assert suggest_name(name) == suggestion


def test_command_line(
    monkeypatch: pytest.MonkeyPatch, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("mlops_resources.offline.init.PROJECT_DIR", project)
    monkeypatch.setattr("mlops_resources.offline.templates.PROJECT_DIR", project)
    before = {p: (project / p).read_text() for p in render(TeamAnswers())}
    # An empty $USER (`--dev "$USER"` in a CI shell) is refused, never a team init.
    assert main(["init", "--dev", "", "--no-input"]) == 2
    err = capsys.readouterr().err
    assert "init --dev: the name is empty" in err and err.endswith("Nothing was written.\n")
    assert {p: (project / p).read_text() for p in before} == before
    assert main(["init", "--dev", "John.Doe"]) == 2
    assert "dev stack name 'John.Doe': expected lowercase letters" in (
        err := capsys.readouterr().err
    )
    assert "e.g. --dev john-doe" in err
    assert main(["init", "--dev", "carol", "--branch", "carol/x"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Wrote Pulumi.dev-carol.yaml: runs as the user whose credentials")
    assert "git push origin carol/x" in out
    assert "pulumi stack init dev-carol --secrets-provider passphrase" in out


# --- init (the team's files) ----------------------------------------------------------------


def test_the_committed_example_is_what_init_writes_with_its_defaults() -> None:
    """So the example stays in step as keys are added. A team's own values (after ``init``)
    are not the example: then only the invariants of tests/repo/test_committed_stacks apply."""
    example = render(TeamAnswers())
    committed = {path: (PROJECT_DIR / path).read_text() for path in example}
    if TeamAnswers().staging_host not in committed["Pulumi.staging.yaml"]:
        pytest.skip("the stack files hold a team's values, not the example's")
    assert {p: PULUMI_MANAGED.sub("", t) for p, t in committed.items()} == example


def test_init_writes_a_teams_values_into_the_example(project: Path) -> None:
    answers = dataclasses.replace(
        TeamAnswers(), project_name="churn-model", staging_catalog="ml_staging", region="eu-west-1"
    )
    staging = project / "Pulumi.staging.yaml"
    managed = "encryptedkey: AQICAHg-the-key-stack-init-wrote\nencryptionsalt: v1:c2FsdA==:x\n"
    staging.write_text(staging.read_text().replace("config:\n", managed + "config:\n", 1))
    result = init_team(answers, project_dir=project)
    assert {p.relative_to(project).as_posix() for p in result.changed} == set(render(answers))
    text = staging.read_text()
    assert f"{managed}config:\n" in text  # both lines Pulumi wrote, kept
    assert "input_table_name: ml_staging.wine_quality.scoring_input" in text
    assert (
        "url: s3://example-org-mlops-pulumi-state/churn-model?region=eu-west-1"
        in (project / "Pulumi.yaml").read_text()
    )
    # The stack was initialised with its key: the secrets provider stays, and init says so.
    assert "secretsprovider: awskms://alias/wine-quality-pulumi-staging?region=us-east-1" in text
    assert result.kept == (
        "Pulumi.staging.yaml: secretsprovider kept (the stack's data key is encrypted with it; "
        "change it with `pulumi stack change-secrets-provider`)",
    )
    # Rerunning with the same answers changes nothing; the files render the program.
    assert init_team(current_answers(project), project_dir=project).changed == []
    assert evaluate("staging", project).outputs["model_name"] == (
        "ml_staging.wine_quality.staging_churn_model_model"
    )


def test_a_second_init_changes_only_what_is_asked(project: Path) -> None:
    """After a team's init and months of hand edits (a bigger cluster, a comment, a key of its
    own), ``init --set`` of one answer edits exactly the keys that answer feeds: every other
    value, the hand edits and the comments stay. The old init refused, and --force reset every
    other value to the example's."""
    team = dataclasses.replace(
        TeamAnswers(),
        project_name="churn-model",
        readers_group="analysts",
        region="eu-west-1",
        # A team on job clusters: its files hold no budget policy, and stay classic.
        compute="classic",
        staging_budget_policy="",
        prod_budget_policy="",
    )
    init_team(team, project_dir=project)
    staging = project / "Pulumi.staging.yaml"
    staging.write_text(
        staging.read_text()
        .replace("    num_workers: 2\n", "    num_workers: 6  # the churn data is big\n")
        .replace("  mlops:jobs:\n", "  mlops:jobs:\n    min_retry_interval_millis: 120000\n")
    )
    before = {p: config_of(project, p) for p in ("Pulumi.staging.yaml", "Pulumi.prod.yaml")}
    assert current_answers(project) == team
    init_team(
        dataclasses.replace(
            current_answers(project), staging_host="https://dbc-new.cloud.databricks.com"
        ),
        project_dir=project,
    )
    after = {p: config_of(project, p) for p in before}
    assert after["Pulumi.prod.yaml"] == before["Pulumi.prod.yaml"]
    assert after["Pulumi.staging.yaml"] == {
        **before["Pulumi.staging.yaml"],
        "databricks:host": "https://dbc-new.cloud.databricks.com",
    }
    assert "    num_workers: 6  # the churn data is big\n" in staging.read_text()


def test_a_value_edited_by_hand_that_an_answer_changes_is_not_overwritten(project: Path) -> None:
    staging = project / "Pulumi.staging.yaml"
    staging.write_text(staging.read_text().replace("readers_group: users", "readers_group: all"))
    # The answer is read back from staging: prod still holds the example's value.
    prod = project / "Pulumi.prod.yaml"
    prod.write_text(prod.read_text().replace("readers_group: users", "readers_group: eng"))
    answers = dataclasses.replace(current_answers(project), readers_group="analysts")
    with pytest.raises(InitConflictError) as caught:
        init_team(answers, project_dir=project)
    assert str(caught.value).splitlines()[1] == (
        "  - Pulumi.prod.yaml: mlops:access.readers_group holds 'eng', not 'all' as the answers "
        "before this change render it; they now give 'analysts'"
    )
    assert str(caught.value).endswith("Nothing was written.")
    assert "readers_group: all" in staging.read_text()
    init_team(answers, force=True, project_dir=project)
    assert "readers_group: analysts" in prod.read_text()


def test_prompts_show_the_current_values(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for path in ("Pulumi.staging.yaml", "Pulumi.prod.yaml"):
        text = (project / path).read_text().replace("schema: wine_quality", "schema: churn")
        (project / path).write_text(text.replace(".wine_quality.", ".churn."))
    monkeypatch.setattr("mlops_resources.offline.templates.PROJECT_DIR", project)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    prompts: list[str] = []

    def answer(prompt: str) -> str:
        prompts.append(prompt)
        return ""  # Enter: keep the value shown

    monkeypatch.setattr("builtins.input", answer)
    assert main(["init"]) == 0
    assert "schema (in both catalogs) [churn]: " in prompts
    assert f"{QUESTIONS['node_type']} [i3.xlarge]: " in prompts


def test_without_a_terminal_init_asks_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("mlops_resources.offline.templates.PROJECT_DIR", project)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    monkeypatch.setattr("builtins.input", lambda prompt: pytest.fail(f"asked {prompt!r}"))
    assert main(["init", "--set", "schema=churn"]) == 0
    assert "schema: churn" in (project / "Pulumi.prod.yaml").read_text()


def test_init_asks_about_the_ml_problem_and_the_cloud(project: Path) -> None:
    """A node type is per cloud: an Azure workspace has no ``i3.xlarge``. The defaults per
    cloud are Databricks' MLOps Stacks' (``library/template_variables.tmpl``). A team whose
    workspace has no serverless jobs switches to classic: the compute section becomes a job
    cluster of the cloud's node type."""
    answers = dataclasses.replace(
        current_answers(project),
        staging_host="https://adb-1111111111111111.1.azuredatabricks.net",
        compute="classic",
        cloud="azure",
        training_data="staging.churn.customers",
        label_column="churned_in_90_days",
        problem_type="regression",
    )
    init_team(answers, project_dir=project)
    staging = (project / "Pulumi.staging.yaml").read_text()
    training = config_of(project, "Pulumi.staging.yaml")["mlops:training"]
    assert config_of(project, "Pulumi.prod.yaml")["mlops:cluster"]["node_type_id"] == (
        "Standard_D3_v2"
    )
    assert training["training_data"] == "staging.churn.customers"
    assert training["label_column"] == "churned_in_90_days"
    assert "positive_threshold" not in training
    assert training["validation"]["thresholds"] == {
        "r2_score": {"threshold": 0.0, "tolerance": 0.01}
    }
    assert "red-wine data" not in staging  # the example's comment on its thresholds
    assert "mlops:compute" not in config_of(project, "Pulumi.prod.yaml")
    # A classic file holds no budget policy: read back, those answers are empty.
    assert current_answers(project) == dataclasses.replace(
        answers, positive_threshold="", staging_budget_policy="", prod_budget_policy=""
    )


def test_dry_run_prints_the_diff_and_writes_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("mlops_resources.offline.templates.PROJECT_DIR", project)
    before = {p: (project / p).read_text() for p in render(TeamAnswers())}
    assert main(["init", "--no-input", "--dry-run", "--set", "prod_tag=v0.2.0"]) == 0
    out = capsys.readouterr().out
    assert "--- a/Pulumi.prod.yaml\n+++ b/Pulumi.prod.yaml\n" in out
    assert "-    tag: v0.1.0\n+    tag: v0.2.0\n" in out
    assert out.endswith("Dry run: nothing was written.\n")
    assert {p: (project / p).read_text() for p in before} == before


def test_init_writes_the_github_ids_of_immutable_subjects_and_checks_them(project: Path) -> None:
    """A repository created after 2026-07-15 gets OIDC subjects with its owner and repository
    ids (tests/aws/test_bootstrap.py cites GitHub): init writes both into the bootstrap file,
    which the bootstrap's own validation reads; an id that is no number is refused by key."""
    answers = dataclasses.replace(
        TeamAnswers(), github_owner_id="123456", github_repository_id="456789"
    )
    init_team(answers, project_dir=project)
    bootstrap = (project / "bootstrap/Pulumi.shared.yaml").read_text()
    assert "    repository: example-org/wine-quality-mlops\n    owner_id: 123456\n" in bootstrap
    assert "    repository_id: 456789\n" in bootstrap
    result = evaluate(
        "shared", project / "bootstrap", read_stack_file("shared", project / "bootstrap")
    )
    assert result.outputs["oidc_subjects"]["prod"] == (
        "repo:example-org@123456/wine-quality-mlops@456789:environment:prod"
    )
    assert kept_examples(answers).count("github_owner_id") == 0
    with pytest.raises(AnswerError) as caught:
        init_team(dataclasses.replace(answers, github_repository_id="wine"), project_dir=project)
    assert caught.value.problems == [
        "github_repository_id: expected a valid integer, got 'wine' (numeric id of the "
        "repository, with owner_id: gh api repos/<owner>/<name> --jq .id) "
        "(bootstrap/Pulumi.shared.yaml: mlops-bootstrap:github.repository_id)"
    ]


def test_bad_answers_are_refused_by_answer_key_before_anything_is_written(
    project: Path,
) -> None:
    before = {p: (project / p).read_text() for p in render(TeamAnswers())}
    answers = dataclasses.replace(
        TeamAnswers(), staging_host="http://dbc-1", prod_run_as="prod-deployer", region="mars"
    )
    with pytest.raises(AnswerError) as caught:
        init_team(answers, project_dir=project)
    assert caught.value.problems == [
        "staging_host: expected a workspace URL like https://dbc-1234.cloud.databricks.com, got "
        "'http://dbc-1' (Pulumi.staging.yaml: databricks:host)",
        "prod_run_as: expected a service principal application id, a UUID in lowercase such as "
        "'6a1e2c4b-8f2d-4c1a-9e3b-0d5f7a9c1b2e', got 'prod-deployer' (Pulumi.prod.yaml: "
        "mlops:access.run_as_service_principal)",
        "region: expected an AWS region like us-east-1, got 'mars' "
        "(bootstrap/Pulumi.shared.yaml: aws:region)",
    ]
    assert str(caught.value).endswith("\nNothing was written.")
    assert {p: (project / p).read_text() for p in before} == before


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"prod_tag": "2026.11.1"}, "prod_tag: expected a tag matching v* (e.g. v0.1.0), got"),
        ({"cloud": "ibm"}, "cloud: expected one of aws, azure, gcp, got 'ibm'"),
        # Quoted as text, the answer cannot break the file; the config refuses it by key.
        ({"schema": "a: b"}, "schema: expected letters, digits and underscores only, got 'a: b'"),
    ],
)
def test_an_answer_is_refused_by_its_key(
    project: Path, change: dict[str, str], expected: str
) -> None:
    with pytest.raises(AnswerError) as caught:
        init_team(dataclasses.replace(TeamAnswers(), **change), project_dir=project)
    assert caught.value.problems[0].startswith(expected)


def test_init_command_takes_answers_from_a_file_and_flags(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("mlops_resources.offline.templates.PROJECT_DIR", project)
    answers = project / "answers.yaml"
    answers.write_text("project_name: churn-model\nregion: eu-west-1\n")
    assert main(["init", "--no-input", "--answers", str(answers), "--set", "schema=churn"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Wrote Pulumi.yaml, Pulumi.staging.yaml, Pulumi.prod.yaml, ")
    assert "Kept the example's value for: staging_host, prod_host," in out
    assert "catalog: staging\n    schema: churn\n" in (project / "Pulumi.staging.yaml").read_text()
    assert main(["init", "--no-input", "--set", "project=x"]) == 2
    err = capsys.readouterr().err
    assert "unknown answer(s) project; expected some of:" in err
    assert err.endswith("Nothing was written.\n")


def test_team_init_then_one_answer_then_a_dev_stack_keep_every_other_value(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's story, through the command line: a team's init, an `init --set` of one key
    months later, then a developer's `init --dev` without extra flags. Each step changes only
    its own keys, the files render, and the personal stack names no committed principal."""
    monkeypatch.setattr("mlops_resources.offline.templates.PROJECT_DIR", project)
    monkeypatch.setattr("mlops_resources.offline.init.PROJECT_DIR", project)
    team = [
        f"{k}={v}"
        for k, v in {
            "project_name": "churn",
            "prod_run_as": "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
            "schema": "churn",
            "readers_group": "analysts",
        }.items()
    ]
    assert main(["init", "--no-input", *(a for item in team for a in ("--set", item))]) == 0
    files = (
        "Pulumi.yaml",
        "Pulumi.staging.yaml",
        "Pulumi.prod.yaml",
        "bootstrap/Pulumi.shared.yaml",
    )
    after_team = {p: (project / p).read_text() for p in files}
    assert main(["init", "--no-input", "--set", "prod_tag=v1.2.0"]) == 0
    changed = [p for p in files if (project / p).read_text() != after_team[p]]
    assert changed == ["Pulumi.prod.yaml"]
    assert config_of(project, "Pulumi.prod.yaml") == {
        **parse_config(after_team["Pulumi.prod.yaml"], "Pulumi.prod.yaml", "mlops"),
        "mlops:code_source": {
            **config_of(project, "Pulumi.prod.yaml")["mlops:code_source"],
            "tag": "v1.2.0",
        },
    }
    assert config_of(project, "Pulumi.prod.yaml")["mlops:code_source"]["tag"] == "v1.2.0"
    git_checkout(project, "churn/first-try")
    capsys.readouterr()
    assert main(["init", "--dev", "alice"]) == 0, capsys.readouterr().err
    assert all((project / p).read_text() == after_team[p] for p in files if p not in changed)
    # The dev stack's evaluation validates the committed staging and prod files too.
    dev = evaluate("dev-alice", project)
    rendered = dev.to_json()
    assert "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d" not in rendered
    assert COMMITTED_PRINCIPALS[0] not in rendered and "/Users/00000000-" not in rendered
    assert json.loads(rendered)["deployingUser"] == dev.deploying_user


@pytest.mark.parametrize("key", ["customer_id", ""], ids=["with a row id", "without one"])
def test_a_teams_own_training_table_sets_prods_row_key_or_keeps_prod_in_dry_run(
    project: Path, key: str
) -> None:
    """``run_mode: enabled`` needs ``split_key_columns`` (config refuses it otherwise, issue 17):
    a team's own table with an id column validates prod in ``enabled`` mode on that key, in
    both stacks (the key must be a column of the data each trains on); without one, prod
    validates in ``dry_run`` rather than failing init. Re-read, the answer is what was given."""
    answers = dataclasses.replace(
        current_answers(project), training_data="staging.churn.customers", split_key_column=key
    )
    init_team(answers, project_dir=project)
    for path in ("Pulumi.staging.yaml", "Pulumi.prod.yaml"):
        training = config_of(project, path)["mlops:training"]
        assert training["training_data"] == "staging.churn.customers"
        assert training["validation"].get("split_key_columns") == ([key] if key else None)
    prod = config_of(project, "Pulumi.prod.yaml")["mlops:training"]
    assert prod["run_mode"] == ("enabled" if key else "dry_run")
    assert current_answers(project).split_key_column == key


def test_a_serverless_team_without_a_budget_policy_is_asked_for_one(project: Path) -> None:
    """Staging and prod serverless jobs carry a budget policy (config refuses them without
    ``compute.budget_policy_id``: without it "a default budget policy may be applied"
    to the job, databricks-sdk ``JobSettings.budget_policy_id``), so an empty answer is
    refused by its key; a classic team is not asked to have one."""
    before = {p: (project / p).read_text() for p in render(TeamAnswers())}
    answers = dataclasses.replace(TeamAnswers(), prod_budget_policy="")
    with pytest.raises(AnswerError) as caught:
        init_team(answers, project_dir=project)
    (problem,) = caught.value.problems
    assert problem.startswith(
        "prod_budget_policy: required in staging and prod when compute.type is 'serverless'"
    )
    assert problem.endswith("(Pulumi.prod.yaml: mlops:compute.budget_policy_id)")
    assert {p: (project / p).read_text() for p in before} == before
    classic = dataclasses.replace(answers, compute="classic", staging_budget_policy="")
    init_team(classic, project_dir=project)
    assert "budget_policy_id" not in (project / "Pulumi.prod.yaml").read_text()


def test_init_dev_copies_every_model_of_a_stack_of_several(project: Path) -> None:
    """Each model's sections and overrides made the developer's: its own output table,
    schedules paused, no grants (a model's own readers group included)."""
    path = project / "Pulumi.staging.yaml"
    document = yaml.safe_load(path.read_text())
    config = document["config"]
    sections = {name: config.pop(f"mlops:{name}") for name in ("training", "batch_inference")}
    models = {}
    for key in ("churn", "fraud"):
        entry = json.loads(json.dumps(sections))
        entry["batch_inference"]["output_table_name"] += f"_{key}"
        models[key] = entry
    models["fraud"]["access"] = {"model_readers_group": "fraud-readers"}
    config["mlops:models"] = models
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    with pytest.raises(InitError, match="several models"):
        init_dev("alice", branch="b", output_table="x.y.z", project_dir=project)
    dev = init_dev("alice", branch="alice/feature", project_dir=project)
    assert dev.output_table == (
        "staging.wine_quality.dev_alice_predictions_churn, "
        "staging.wine_quality.dev_alice_predictions_fraud"
    )
    written = parse_config(dev.path.read_text(), dev.path.name, "mlops")
    assert "access" not in written["mlops:models"]["fraud"]
    cfg = validate(RawConfig(*encode_config(written)), "dev-alice")
    for view in cfg.model_views():
        assert cfg.schedule_paused(view.training.schedule)
        assert cfg.schedule_paused(view.batch_inference.schedule)
        assert stack_grant_plan(view) == {}


def test_init_asks_for_the_models_and_writes_several_under_mlops_models(project: Path) -> None:
    """One model by default (the one-model form, as committed); model keys move each stack
    file's training and batch inference sections under ``mlops:models``, read back as the
    answer, each model with an output table of its own."""
    assert current_answers(project).models == ""
    with pytest.raises(AnswerError, match="models: expected a model key"):
        init_team(
            dataclasses.replace(current_answers(project), models="churn,Fraud"), project_dir=project
        )
    init_team(
        dataclasses.replace(current_answers(project), models="churn,fraud"), project_dir=project
    )
    assert current_answers(project).models == "churn,fraud"
    for stack in ("staging", "prod"):
        written = config_of(project, f"Pulumi.{stack}.yaml")
        assert "mlops:training" not in written
        cfg = validate(RawConfig(*encode_config(written)), stack)
        assert [v.batch_inference.output_table_name for v in cfg.model_views()] == [
            f"{stack}.wine_quality.churn_predictions",
            f"{stack}.wine_quality.fraud_predictions",
        ]
    init_team(dataclasses.replace(current_answers(project), models=""), project_dir=project)
    assert "mlops:models" not in config_of(project, "Pulumi.staging.yaml")
    assert current_answers(project) == TeamAnswers()
