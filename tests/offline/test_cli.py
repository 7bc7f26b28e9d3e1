"""``python -m mlops_resources render``: the offline view of a stack."""

from __future__ import annotations

import json
import re
import runpy
import sys
from pathlib import Path

import pytest

from mlops_resources.offline import reference
from mlops_resources.offline.cli import main
from mlops_resources.offline.templates import QUESTIONS, TeamAnswers
from tests.stacks import example_dir, write_project


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads the example project (init's defaults), not the committed stack files."""
    monkeypatch.setattr(reference, "PROJECT_DIR", example_dir())


@pytest.mark.usefixtures("example")
def test_render_prints_the_tree_and_outputs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "--stack", "prod"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Stack prod (offline render under mocks; no provider was called)"
    assert out[3].split() == ["pulumi:pulumi:Stack", "mlops-prod"]
    assert out[4].split() == ["└─", "mlops:databricks:MlopsStack", "mlops"]
    training = out.index(next(line for line in out if line.endswith(" mlops-training-job")))
    assert "databricks:index:Job" in out[training]
    details = [line.strip(" │") for line in out[training + 1 : training + 6]]
    assert "name: prod-wine-quality-model-training-job" in details
    assert "schedule.quartzCronExpression: 0 0 9 ? * MON" in details
    assert "gitSource.tag: v0.1.0" in details
    model = next(line for line in out if " mlops-model-model" in line)
    assert model.endswith("mlops-model-model  [protected, retained on delete]")
    assert '    model_name             : "prod.wine_quality.prod_wine_quality_model"' in out
    assert out[-1] == "Resources: 16 resources in 7 components"


@pytest.mark.usefixtures("example")
def test_render_json_is_complete_and_sorted(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "--stack", "staging", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["stack"] == "staging"
    keys = [(r["type"], r["name"]) for r in document["resources"]]
    assert keys == sorted(keys)
    job = next(r for r in document["resources"] if r["name"] == "mlops-batch-inference-job")
    assert job["inputs"]["maxConcurrentRuns"] == 1
    assert job["parent"] == "mlops-batch-inference"
    assert set(document["outputs"]) == {
        "experiment_id",
        "experiment_name",
        "model_name",
        "training_job_id",
        "training_job_url",
        "batch_inference_job_id",
        "batch_inference_job_url",
    }


def test_render_reports_config_problems_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_project(tmp_path, TeamAnswers())
    stack_file = (tmp_path / "Pulumi.staging.yaml").read_text()
    (tmp_path / "Pulumi.broken.yaml").write_text(
        stack_file.replace('environment_version: "5"', 'environment_version: "4"').replace(
            "quartz_cron: 0 0 11 * * ?", "quartz_cron: 0 11 * * *"
        )
    )
    monkeypatch.setattr(reference, "PROJECT_DIR", tmp_path)
    assert main(["render", "--stack", "broken"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "2 problem(s) in Pulumi.broken.yaml; nothing was declared:"
    assert err[1].startswith(
        "  - Pulumi.broken.yaml: mlops:compute.environment_version: expected one of '5', got '4'"
    )
    assert err[2].startswith(
        "  - Pulumi.broken.yaml: mlops:batch_inference.schedule.quartz_cron: invalid Quartz"
    )


def test_render_unknown_stack(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "--stack", "nope"]) == 2
    assert capsys.readouterr().err.startswith("Pulumi.nope.yaml: no such stack file in ")


def test_module_entry_point_runs_offline(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``python -m mlops_resources`` (its ``__main__``, run in this process), on the committed
    stack file."""
    monkeypatch.setattr(sys, "argv", ["mlops_resources", "render", "--stack", "staging"])
    with pytest.raises(SystemExit) as done:
        runpy.run_module("mlops_resources", run_name="__main__")
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("Stack staging (offline render")
    assert re.search(r"\nResources: \d+ resources in \d+ components\n$", out)


def help_of(capsys: pytest.CaptureFixture[str], *command: str) -> tuple[str, dict[str, str]]:
    """A command's help, its words joined by single spaces (argparse wraps to the terminal),
    and each option it lists with its description (empty: none)."""
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    lines = out.partition("options:")[2].partition("answer keys (")[0].splitlines()
    options: dict[str, str] = {}
    for index, line in enumerate(lines):
        entry = re.match(r"^  (?:-\w, )?(--[a-z-]+)(?: [A-Z_=]+| \{[^}]+\})?(.*)$", line)
        if entry:
            below = lines[index + 1] if index + 1 < len(lines) else ""
            continued = below.strip() if re.match(r"^ {6,}\S", below) else ""
            options[entry[1]] = (entry[2].strip() + " " + continued).strip()
    return " ".join(out.split()), options


def test_help_describes_every_command_and_option(capsys: pytest.CaptureFixture[str]) -> None:
    """A newcomer reads `--help`: each subcommand is described, and every option of each says
    what it does."""
    overview, _ = help_of(capsys)
    commands = ("render", "check", "diff", "config-reference", "policy-reference", "init", "smoke")
    for command in commands:
        assert re.search(rf"\b{command} [A-Za-z]", overview), command
        _, options = help_of(capsys, command)
        assert options, command
        assert {o: d for o, d in options.items() if not d} == {}, command
    render, _ = help_of(capsys, "render")
    assert "json: every input, sorted and stable" in render
    assert "bootstrap (their state backend" in render


def test_init_help_says_how_it_runs_without_a_terminal_and_lists_the_answers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text, _ = help_of(capsys, "init")
    assert "Without a terminal (CI, a pipe), or with --no-input, it asks nothing" in text
    for key in QUESTIONS:
        assert f" {key} " in text, key
