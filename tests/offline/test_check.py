"""``python -m mlops_resources check``: the policy pack offline, its exit code, its config, and
the rules that need every committed stack file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_resources.offline import reference
from mlops_resources.offline.cli import main
from mlops_resources.offline.templates import TeamAnswers
from tests.stacks import write_project


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example project (init's defaults), as the CLI's project."""
    monkeypatch.setattr(reference, "PROJECT_DIR", tmp_path)
    return write_project(tmp_path, TeamAnswers())


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.mark.parametrize(
    ("stack", "program"), [("staging", "mlops"), ("prod", "mlops"), ("shared", "bootstrap")]
)
def test_committed_stacks_pass(
    stack: str, program: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--stack", stack, "--program", program]) == 0
    assert capsys.readouterr().out.startswith(f"Stack {stack}: no violation of the ")


def test_a_mandatory_breach_fails_and_names_the_policy(
    project: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    edit(
        project / "Pulumi.prod.yaml",
        "mlops:protect_ml_assets: true",
        "mlops:protect_ml_assets: false",
    )
    assert main(["check", "--stack", "prod"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Stack prod: 3 violation(s)"
    assert out[1].split()[:3] == [
        "mandatory",
        "prod-ml-assets-protected",
        "mlops-experiment-directory",
    ]
    assert out[4] == "3 mandatory, 0 advisory"
    # A level is configured like the engine's --policy-pack-config.
    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps({"prod-ml-assets-protected": "advisory"}))
    assert main(["check", "--stack", "prod", "--config", str(config)]) == 0
    assert "0 mandatory, 3 advisory" in capsys.readouterr().out


def test_two_stacks_managing_one_grant_fail_both(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Staging and prod pointed at one catalog with one jobs group: each stack's Grant would
    revoke the other's privileges (catalog/resource_grant.go). No single-stack policy sees it."""
    for stack in ("staging", "prod"):
        path = project / f"Pulumi.{stack}.yaml"
        edit(path, f"jobs_group: wine-quality-{stack}-jobs", "jobs_group: wine-quality-jobs")
    edit(project / "Pulumi.prod.yaml", "catalog: prod", "catalog: staging")
    edit(project / "Pulumi.prod.yaml", "input_table_name: prod.", "input_table_name: staging.")
    assert main(["check", "--stack", "prod"]) == 1
    out = capsys.readouterr().out
    assert "no-grant-managed-by-two-stacks" in out
    assert (
        "mlops:access.jobs_group: Pulumi.staging.yaml already manages the grants of "
        "'wine-quality-jobs' on catalog 'staging'; two stacks managing one grant revoke each "
        "other's privileges" in out
    )


def test_a_bad_policy_config_is_refused(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.json"
    config.write_text("[]")
    assert main(["check", "--stack", "staging", "--config", str(config)]) == 2
    assert "expected a JSON object" in capsys.readouterr().err
