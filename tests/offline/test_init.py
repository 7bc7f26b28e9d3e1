"""``python -m mlops_resources init --dev NAME``: a personal stack that cannot touch staging."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlops_resources import PROJECT_DIR
from mlops_resources.config.reading import ConfigError
from mlops_resources.config.stack_files import read_stack_file
from mlops_resources.offline.cli import main
from mlops_resources.offline.evaluation import evaluate
from mlops_resources.offline.init import InitError, init_dev


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's program and committed stack files."""
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    return tmp_path


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
