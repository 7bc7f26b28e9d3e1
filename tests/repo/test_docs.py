"""The README describes what the code does: its config table and commands are checked."""

from __future__ import annotations

import re

from mlops_resources import PROJECT_DIR
from mlops_resources.config.bootstrap import BOOTSTRAP
from mlops_resources.config.stack import MLOPS
from mlops_resources.offline.evaluation import project_name
from mlops_resources.offline.reference import reference_table

README = (PROJECT_DIR / "README.md").read_text()


def between(text: str, marker: str) -> str:
    """The text between ``<!-- marker:start -->`` and ``<!-- marker:end -->``."""
    start = text.index(f"<!-- {marker}:start -->") + len(f"<!-- {marker}:start -->")
    return text[start : text.index(f"<!-- {marker}:end -->")].strip()


def test_config_reference_in_readme_matches_the_code() -> None:
    assert between(README, "config-reference") == reference_table()
    for entry in MLOPS.reference():
        assert f"| `{entry.key}` |" in README


def test_bootstrap_reference_in_deployment_guide_matches_the_code() -> None:
    guide = (PROJECT_DIR / "docs" / "deployment.md").read_text()
    assert between(guide, "bootstrap-reference") == reference_table("bootstrap")
    for entry in BOOTSTRAP.reference():
        assert f"| `{entry.key}` |" in guide


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
