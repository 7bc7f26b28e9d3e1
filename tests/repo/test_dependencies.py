"""What the credential-holding jobs install and run is pinned: the hash-locked requirements
agree with the ranges of requirements.txt, the Pulumi CLI version is committed and matches the
SDK, and Dependabot proposes updates of both (and of the action pins)."""

from __future__ import annotations

import re
from importlib.metadata import version

import tomllib
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from mlops_resources import PROJECT_DIR

LOCK = (PROJECT_DIR / "requirements.lock.txt").read_text()


def pins() -> dict[str, Version]:
    found = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", LOCK, re.MULTILINE)
    return {canonicalize_name(name): Version(version) for name, version in found}


def ranges() -> list[Requirement]:
    lines = (PROJECT_DIR / "requirements.txt").read_text().splitlines()
    return [Requirement(line.split("#")[0]) for line in lines if line.split("#")[0].strip()]


def test_lock_pins_every_range_of_requirements_txt_within_it() -> None:
    pinned = pins()
    for requirement in ranges():
        version = pinned.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name} is not in requirements.lock.txt"
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements.lock.txt pins {requirement.name}=={version}, outside "
            f"'{requirement.specifier}' of requirements.txt: regenerate the lock"
        )


def test_every_locked_package_is_pinned_with_hashes() -> None:
    entries = re.split(r"\n(?=[A-Za-z0-9])", LOCK.split("\n", 2)[2])
    assert len(entries) == len(pins())
    for entry in entries:
        assert re.match(r"^[A-Za-z0-9_.-]+==\S+", entry), entry.splitlines()[0]
        assert "--hash=sha256:" in entry, entry.splitlines()[0]


def test_lock_header_names_the_command_that_regenerates_it() -> None:
    assert (
        "uv pip compile --universal --generate-hashes --python-version 3.11 requirements.txt "
        "-o requirements.lock.txt"
    ) in LOCK.splitlines()[1]


def test_setup_action_installs_only_the_lock_with_hashes_checked() -> None:
    action = yaml.safe_load((PROJECT_DIR / ".github/actions/setup/action.yml").read_text())
    runs = "\n".join(s.get("run", "") for s in action["runs"]["steps"])
    assert "pip install --disable-pip-version-check --quiet --require-hashes -r " in runs
    assert re.findall(r"-r (\S+)", runs) == ["requirements.lock.txt"]
    assert "cache" not in str(action["runs"]["steps"][0].get("with", {}))


def test_committed_pulumi_cli_version_is_the_locked_sdk_version() -> None:
    cli = (PROJECT_DIR / ".pulumi-version").read_text().strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+", cli)
    assert pins()["pulumi"] == Version(cli)


def test_dependabot_updates_actions_and_pip_after_a_cooldown() -> None:
    config = yaml.safe_load((PROJECT_DIR / ".github/dependabot.yml").read_text())
    updates = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(updates) == {"github-actions", "pip"}
    assert "/.github/actions/setup" in updates["github-actions"]["directories"]
    for update in updates.values():
        assert update["cooldown"]["default-days"] >= 7


def test_the_test_run_can_group_the_ml_tests_on_one_worker() -> None:
    """pytest-xdist 3.8 groups tests (``--dist loadgroup``, which keeps tests/ml and its one
    Spark session on one worker) by rewriting node ids, which pytest 9.2 ignores: the tests
    then spread silently and each worker starts a JVM (pytest-dev/pytest-xdist#1386)."""
    pytest_version = tuple(int(p) for p in version("pytest").split(".")[:2])
    xdist_version = tuple(int(p) for p in version("pytest-xdist").split(".")[:2])
    assert pytest_version < (9, 2) or xdist_version > (3, 8)
    addopts = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["tool"]["pytest"][
        "ini_options"
    ]["addopts"]
    assert "--dist loadgroup" in addopts
