"""The workspace host: allow-listed to Databricks' domains, and compared with the GitHub
environment's ``DATABRICKS_HOST`` before a job takes any credential.

The SDK sends the job's GitHub OIDC token to the configured host's token endpoint (installed
databricks-sdk 0.162.0, ``credentials_provider.py`` ``_oidc_credentials_provider``:
``token_url=cfg.databricks_oidc_endpoints.token_endpoint``, which ``config.py``
``databricks_oidc_endpoints`` derives from ``cfg.host``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlops_resources.config.load import validate
from mlops_resources.config.reading import ConfigError, RawConfig
from mlops_resources.delivery.guards import host_problems, main
from tests.stacks import example_dir, example_stack_file, refused

HOST = "https://dbc-staging-0000.cloud.databricks.com"


def problems(host: str, extra: list[str] | None = None) -> list[str]:
    overrides: dict[str, object] = {"databricks:host": host}
    if extra is not None:
        overrides["mlops:extra_host_domains"] = extra
    try:
        validate(RawConfig.from_stack_file(example_stack_file("staging", overrides)), "staging")
    except ConfigError as error:
        return error.problems
    return []


@pytest.mark.parametrize(
    "host",
    [
        "https://dbc-1234abcd-5678.cloud.databricks.com",
        "https://adb-1111111111111111.1.azuredatabricks.net",
        "https://1234567890123456.7.gcp.databricks.com/",
    ],
)
def test_workspaces_of_the_three_clouds_are_accepted(host: str) -> None:
    assert problems(host) == []


@pytest.mark.parametrize(
    "host",
    [
        "https://dbc-1234.cloud-databricks.com",
        "https://dbc-1234.cloud.databricks.com.example.net",
        "https://cloud.databricks.com.attacker.io",
        "https://dbc-1234.azuredatabricks.net.attacker.io",
    ],
)
def test_a_look_alike_host_is_refused_naming_the_key_and_the_domains(host: str) -> None:
    assert problems(host) == [
        f"databricks:host: {host!r} is not in a Databricks domain (cloud.databricks.com, "
        "azuredatabricks.net, gcp.databricks.com); a workspace on another Databricks domain "
        "goes in mlops:extra_host_domains"
    ]


def test_another_databricks_domain_is_accepted_once_configured() -> None:
    govcloud = "https://dbc-1234.cloud.databricks.us"
    assert problems(govcloud) != []
    assert problems(govcloud, ["cloud.databricks.us"]) == []


def test_extra_domains_must_be_domain_names() -> None:
    (problem,) = problems(HOST, ["cloud.databricks.us", ".us", "https://x.io", "com"])
    assert problem.startswith("mlops:extra_host_domains: expected domain names like")
    assert "['.us', 'https://x.io', 'com']" in problem


def test_a_look_alike_host_stops_the_program_before_it_declares_anything() -> None:
    error, declared = refused("staging", {"databricks:host": "https://dbc-1.cloud-databricks.com"})
    assert isinstance(error, ConfigError) and "Pulumi.staging.yaml" in str(error)
    assert declared == []


def project_with_host(tmp_path: Path, host: str) -> Path:
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml"):
        shutil.copy(example_dir() / name, tmp_path / name)
    stack_file = tmp_path / "Pulumi.staging.yaml"
    stack_file.write_text(stack_file.read_text().replace(HOST, host))
    return tmp_path


@pytest.mark.parametrize("expected", [HOST, f"{HOST}/", HOST.upper().replace("HTTPS", "https")])
def test_the_guard_passes_the_environments_own_workspace(expected: str) -> None:
    assert host_problems("staging", expected, example_dir()) == []


def test_the_guard_refuses_a_stack_file_host_other_than_the_environments(tmp_path: Path) -> None:
    """A reviewed pull request moved staging to a look-alike that is even in a Databricks
    domain: the environment's variable, which no pull request can change, stops it."""
    other = "https://dbc-attacker-0000.cloud.databricks.com"
    root = project_with_host(tmp_path, other)
    assert host_problems("staging", HOST, root) == [
        f"Pulumi.staging.yaml: databricks:host is {other!r}, but this GitHub environment's "
        f"DATABRICKS_HOST is {HOST!r}: refusing to send the environment's token to another "
        "workspace (if the workspace really moved, an admin changes the variable first)"
    ]


def test_the_guard_refuses_without_the_variable_and_on_an_invalid_stack_file(
    tmp_path: Path,
) -> None:
    (unset,) = host_problems("staging", "", example_dir())
    assert unset.startswith("the job's GitHub environment has no DATABRICKS_HOST variable")
    look_alike = "https://dbc-1.cloud-databricks.com"
    (invalid,) = host_problems("staging", look_alike, project_with_host(tmp_path, look_alike))
    assert "Pulumi.staging.yaml" in invalid and "is not in a Databricks domain" in invalid


def test_the_guard_command_exits_1_and_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["host", "--stack", "prod", "--expected", HOST]) == 1
    assert "refusing to send the environment's token" in capsys.readouterr().err
