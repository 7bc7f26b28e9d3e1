"""The README describes what the code does: its config table and commands are checked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlops_resources import PROJECT_DIR
from mlops_resources.config.bootstrap import BOOTSTRAP
from mlops_resources.config.reading import Namespace
from mlops_resources.config.stack import MLOPS
from mlops_resources.config.stack_files import project_name
from mlops_resources.offline import reference
from mlops_resources.offline.cli import main
from mlops_resources.offline.reference import (
    PROGRAMS,
    documented_policies,
    documented_table,
    policy_table,
    reference_table,
    write_reference,
)
from mlops_resources.offline.render import STACK_TYPE, render_tree
from mlops_resources.policies import POLICIES
from tests.stacks import run_stack

README = (PROJECT_DIR / "README.md").read_text()


@pytest.mark.parametrize(("program", "namespace"), [("mlops", MLOPS), ("bootstrap", BOOTSTRAP)])
def test_config_references_in_the_docs_match_the_code(program: str, namespace: Namespace) -> None:
    document = PROGRAMS[program].document
    command = f"venv/bin/python -m mlops_resources config-reference --program {program} --write"
    assert documented_table(program) == reference_table(program), f"{document} is stale: {command}"
    text = (PROJECT_DIR / document).read_text()
    for entry in namespace.reference():
        assert f"| `{entry.key}` |" in text


def test_policy_table_in_readme_matches_the_pack() -> None:
    command = "venv/bin/python -m mlops_resources policy-reference --write"
    assert documented_policies() == policy_table(), f"README.md is stale: {command}"
    for policy in POLICIES:
        assert f"| `{policy.name}` |" in README


def test_config_reference_write_updates_a_stale_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "README.md").write_text(
        "# x\n<!-- config-reference:start -->\n| stale |\n<!-- config-reference:end -->\nend\n"
    )
    monkeypatch.setattr(reference, "PROJECT_DIR", tmp_path)
    assert main(["config-reference", "--write"]) == 0
    assert documented_table("mlops") == reference_table("mlops")
    assert (tmp_path / "README.md").read_text().endswith("<!-- config-reference:end -->\nend\n")
    assert write_reference("mlops") is False


def test_ci_runs_the_readme_test_command() -> None:
    quick_start = re.search(r"## Quick start.*?```bash\n(.*?)```", README, re.S)
    assert quick_start is not None
    install_and_render, test_command = quick_start.group(1).strip().splitlines()
    assert "render --stack staging" in install_and_render
    ci = (PROJECT_DIR / ".ci/run").read_text().splitlines()
    assert test_command in ci
    assert "-r requirements-dev.txt" in install_and_render
    assert any("-r requirements-dev.txt" in line for line in ci)


def test_config_namespaces_are_the_pulumi_project_names() -> None:
    # The CLI namespaces config by project name: a renamed project would read no config at all.
    assert project_name() == MLOPS.name
    assert project_name(PROJECT_DIR / "bootstrap") == BOOTSTRAP.name


@pytest.mark.parametrize(("program", "namespace"), [("mlops", MLOPS), ("bootstrap", BOOTSTRAP)])
def test_the_reference_documents_every_key_from_the_models_alone(
    program: str, namespace: Namespace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example column comes from the models' documented examples, so a team's own values
    in its stack files never make the docs stale; every key a stack file must set has one."""
    table = reference_table(program)
    monkeypatch.setattr(reference, "PROJECT_DIR", tmp_path)  # no stack file to read
    assert reference_table(program) == table
    missing = [e.key for e in namespace.reference() if e.default == "required" and not e.example]
    assert missing == []


def test_the_readme_tree_is_what_render_prints() -> None:
    """The tree under "What a stack declares" is the render of the example's staging stack,
    its key-input lines left out."""
    block = re.search(r"prints this tree .*?```\n(.*?)```", README, re.S)
    assert block is not None
    rendered = render_tree(run_stack("staging"), "mlops").splitlines()
    tree = [line for line in rendered if line.startswith(STACK_TYPE) or re.search("[├└]─ ", line)]
    assert block.group(1).splitlines() == tree
