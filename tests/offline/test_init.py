"""``python -m mlops_resources init --dev NAME``: a personal stack that cannot touch staging."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mlops_resources import PROJECT_DIR
from mlops_resources.config.reading import ConfigError
from mlops_resources.config.stack_files import read_stack_file
from mlops_resources.offline.cli import main
from mlops_resources.offline.evaluation import evaluate
from mlops_resources.offline.init import InitError, init_dev
from mlops_resources.offline.templates import (
    ENCRYPTED_KEY,
    InitConflictError,
    TeamAnswers,
    init_team,
    kept_examples,
    render,
)
from tests.stacks import write_project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the example project (init's defaults)."""
    return write_project(tmp_path, TeamAnswers())


def test_the_dev_stack_is_paused_writes_its_own_table_and_grants_nothing(project: Path) -> None:
    dev = init_dev("alice", project_dir=project)
    assert dev.path == project / "Pulumi.dev-alice.yaml"
    assert dev.output_table == "staging.wine_quality.dev_alice_predictions"
    result = evaluate("dev-alice", project, read_stack_file("dev-alice", project))
    jobs = result.of_type("databricks:index/job:Job")
    assert {job.inputs["schedule"]["pauseStatus"] for job in jobs} == {"PAUSED"}
    batch = result.get("mlops-batch-inference-job").inputs["parameters"]
    assert {p["name"]: p["default"] for p in batch}["output_table_name"] == dev.output_table
    assert result.of_type("databricks:index/grant:Grant") == []
    assert {job.inputs["name"] for job in jobs} == {
        "dev-alice-wine-quality-model-training-job",
        "dev-alice-wine-quality-batch-inference-job",
    }


def test_an_edited_dev_file_is_refused_when_it_collides_again(project: Path) -> None:
    """The program checks personal stacks against the committed files at every run."""
    dev = init_dev("alice", project_dir=project)
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
        init_dev("bob", output_table="prod.wine_quality.predictions", project_dir=project)
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
    dev = init_dev("alice", project_dir=project)
    assert dev.output_table == "staging.wine_quality.dev_alice_predictions"
    result = evaluate("dev-alice", project, read_stack_file("dev-alice", project))
    jobs = result.of_type("databricks:index/job:Job")
    assert {job.inputs["schedule"]["pauseStatus"] for job in jobs} == {"PAUSED"}
    assert result.of_type("databricks:index/grant:Grant") == []


def test_an_existing_file_is_kept_unless_forced(project: Path) -> None:
    init_dev("alice", project_dir=project)
    with pytest.raises(InitError, match=r"Pulumi\.dev-alice\.yaml exists; pass --force"):
        init_dev("alice", project_dir=project)
    run_as = "00000000-0000-0000-0000-00000000d001"
    init_dev("alice", run_as=run_as, force=True, project_dir=project)
    assert f"run_as_service_principal: {run_as}" in (project / "Pulumi.dev-alice.yaml").read_text()


def test_command_line(
    monkeypatch: pytest.MonkeyPatch, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("mlops_resources.offline.init.PROJECT_DIR", project)
    assert main(["init", "--dev", "Alice"]) == 2
    assert "dev stack name 'Alice': expected lowercase letters" in capsys.readouterr().err
    assert main(["init", "--dev", "carol"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Wrote Pulumi.dev-carol.yaml: schedules paused")
    assert "pulumi stack init dev-carol" in out


def test_the_committed_example_is_what_init_writes_with_its_defaults() -> None:
    """So the example stays in step as keys are added. A team's own values (after ``init``)
    are not the example: then only the invariants of tests/repo/test_committed_stacks apply."""
    example = render(TeamAnswers())
    committed = {path: (PROJECT_DIR / path).read_text() for path in example}
    if TeamAnswers().staging_host not in committed["Pulumi.staging.yaml"]:
        pytest.skip("the stack files hold a team's values, not the example's")
    assert {p: ENCRYPTED_KEY.sub("", t) for p, t in committed.items()} == example


def test_init_writes_a_teams_values_into_the_example(project: Path) -> None:
    answers = dataclasses.replace(
        TeamAnswers(), project_name="churn-model", staging_catalog="ml_staging", region="eu-west-1"
    )
    (project / "Pulumi.staging.yaml").write_text(
        (project / "Pulumi.staging.yaml")
        .read_text()
        .replace("config:\n", "encryptedkey: AQICAHg-the-key-stack-init-wrote\nconfig:\n", 1)
    )
    changed = init_team(answers, project_dir=project)
    assert {p.relative_to(project).as_posix() for p in changed} == set(render(answers))
    staging = (project / "Pulumi.staging.yaml").read_text()
    assert "encryptedkey: AQICAHg-the-key-stack-init-wrote\nconfig:\n" in staging
    assert "input_table_name: ml_staging.wine_quality.scoring_input" in staging
    assert (
        "url: s3://example-org-mlops-pulumi-state/churn-model?region=eu-west-1"
        in (project / "Pulumi.yaml").read_text()
    )
    # Rerunning with the same answers changes nothing; the files render the program.
    assert init_team(answers, project_dir=project) == []
    assert evaluate("staging", project).outputs["model_name"] == (
        "ml_staging.wine_quality.staging_churn_model_model"
    )


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
    with pytest.raises(ConfigError) as caught:
        init_team(dataclasses.replace(answers, github_repository_id="wine"), project_dir=project)
    assert caught.value.problems == [
        "bootstrap/Pulumi.shared.yaml: mlops-bootstrap:github.repository_id: expected a valid "
        "integer, got 'wine' (numeric id of the repository, with owner_id: gh api "
        "repos/<owner>/<name> --jq .id)"
    ]


def test_init_refuses_to_overwrite_a_teams_edits_unless_forced(project: Path) -> None:
    staging = project / "Pulumi.staging.yaml"
    edited = "budget_policy_id: 3c5e1a2b-7d4f-4e6a-9b8c-1d2e3f4a5b6c"
    staging.write_text(
        staging.read_text().replace(
            "budget_policy_id: 00000000-0000-0000-0000-00000000c001", edited
        )
    )
    answers = dataclasses.replace(TeamAnswers(), project_name="churn-model")
    with pytest.raises(InitConflictError, match=r"Pulumi\.staging\.yaml no longer hold"):
        init_team(answers, project_dir=project)
    assert edited in staging.read_text()
    init_team(answers, force=True, project_dir=project)
    assert "budget_policy_id: 00000000-0000-0000-0000-00000000c001" in staging.read_text()


def test_bad_answers_are_refused_by_file_and_key_before_anything_is_written(
    project: Path,
) -> None:
    before = {p: (project / p).read_text() for p in render(TeamAnswers())}
    answers = dataclasses.replace(
        TeamAnswers(), staging_host="http://dbc-1", prod_run_as="prod-deployer", region="mars"
    )
    with pytest.raises(ConfigError) as caught:
        init_team(answers, project_dir=project)
    assert caught.value.problems == [
        "Pulumi.staging.yaml: databricks:host: expected a workspace URL like "
        "https://dbc-1234.cloud.databricks.com, got 'http://dbc-1'",
        "Pulumi.prod.yaml: mlops:access.run_as_service_principal: expected a service principal "
        "application id (a UUID), got 'prod-deployer'",
        "bootstrap/Pulumi.shared.yaml: aws:region: expected an AWS region like us-east-1, got "
        "'mars'",
    ]
    assert {p: (project / p).read_text() for p in before} == before


def test_an_answer_that_breaks_the_yaml_is_refused_by_file(project: Path) -> None:
    """Rendered files are read like stack files on disk: not a traceback, a problem each."""
    with pytest.raises(ConfigError) as caught:
        init_team(dataclasses.replace(TeamAnswers(), schema="a: b"), project_dir=project)
    assert [p.partition(": not valid YAML: ")[0] for p in caught.value.problems] == [
        "Pulumi.staging.yaml",
        "Pulumi.prod.yaml",
    ]


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
    assert "unknown answer(s) project; expected some of:" in capsys.readouterr().err
