"""The README describes what the code does: its config table and commands are checked."""

from __future__ import annotations

import re

from mlops_resources.cli import reference_table
from mlops_resources.config import config_reference
from mlops_resources.offline import PROJECT_DIR

README = (PROJECT_DIR / "README.md").read_text()


def test_config_reference_in_readme_matches_the_code() -> None:
    start = README.index("<!-- config-reference:start -->\n") + len(
        "<!-- config-reference:start -->\n"
    )
    end = README.index("<!-- config-reference:end -->")
    assert README[start:end].strip() == reference_table()
    for entry in config_reference():
        assert f"| `{entry.key}` |" in README


def test_ci_runs_the_readme_test_command() -> None:
    quick_start = re.search(r"## Quick start.*?```bash\n(.*?)```", README, re.S)
    assert quick_start is not None
    install_and_render, test_command = quick_start.group(1).strip().splitlines()
    assert "render --stack staging" in install_and_render
    ci = (PROJECT_DIR / ".ci/run").read_text().splitlines()
    assert test_command in ci
    assert "-r requirements-dev.txt" in install_and_render
    assert any("-r requirements-dev.txt" in line for line in ci)
