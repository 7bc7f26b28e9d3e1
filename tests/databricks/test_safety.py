"""Properties that keep deploys safe: nothing declared on bad input, notebooks exist,
identical inputs for identical config, typed nested inputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pulumi_databricks as databricks
import pytest

from mlops_resources.config.load import validate
from mlops_resources.config.reading import ConfigError, RawConfig
from mlops_resources.config.stack_files import read_stack_file
from mlops_resources.databricks import code_source
from mlops_resources.databricks.code_source import MissingNotebookError, notebook_file
from mlops_resources.databricks.model_resources import job_settings
from mlops_resources.databricks.monitoring import CHECK_TASK
from mlops_resources.databricks.notebook_job import job_cluster, job_environment
from mlops_resources.databricks.prerequisites import MissingObjectsError
from mlops_resources.databricks.stack import notebooks
from tests.stacks import (
    MONITORING,
    VARIANTS,
    classic_overrides,
    encode_overrides,
    example_dir,
    example_stack_file,
    existing_tables_overrides,
    refused,
    run_stack,
)


def test_bad_config_declares_nothing() -> None:
    error, declared = refused("staging", {"mlops:compute": {"type": "serverles"}})
    assert isinstance(error, ConfigError)
    assert "mlops:compute.type" in str(error)
    assert declared == []


def test_every_notebook_a_job_runs_exists() -> None:
    """Every notebook of :func:`notebooks`, with monitoring on so the retraining job's check
    is one of them."""
    source = read_stack_file("staging", example_dir())
    values = {**source.values, **encode_overrides({"mlops:monitoring": MONITORING})}
    run = notebooks(validate(RawConfig(values, source.secret_keys), "staging"))
    assert CHECK_TASK in run
    for notebook in run:
        assert notebook_file(notebook).read_text().startswith("# Databricks notebook source")


def test_missing_notebook_error_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(MissingNotebookError, match=r"notebooks/Nope\.py does not exist"):
        notebook_file("Nope", tmp_path)


def test_missing_notebook_fails_the_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "notebooks").mkdir()
    for name in ("Train", "ModelValidation", "BatchInference"):
        (tmp_path / "notebooks" / f"{name}.py").write_text("# Databricks notebook source\n")
    monkeypatch.setattr(code_source, "PROJECT_DIR", tmp_path)
    with pytest.raises(MissingNotebookError) as caught:
        run_stack("staging")
    assert str(caught.value) == (
        "job task references notebook 'notebooks/ModelDeployment', but "
        f"notebooks/ModelDeployment.py does not exist in {tmp_path}"
    )


MAP_INPUTS = frozenset({"tags", "custom_tags"})
"""Inputs whose type is a map of strings: the only places a plain dict belongs."""


def _plain_dicts(value: Any, path: str) -> list[str]:
    """Paths below ``value`` that hold a plain dict where a typed ``*Args`` object belongs."""
    if isinstance(value, dict):
        if path.rsplit(".", 1)[-1] in MAP_INPUTS and all(
            isinstance(v, str) for v in value.values()
        ):
            return []
        return [path]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in _plain_dicts(v, f"{path}[{i}]")]
    if type(value).__module__.startswith("pulumi_databricks"):
        return [p for k, v in vars(value).items() for p in _plain_dicts(v, f"{path}.{k}")]
    return []


@pytest.mark.parametrize("variant", VARIANTS)
def test_same_config_gives_identical_inputs_all_typed(
    variant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two evaluations of one config declare identical inputs.

    The SDK passes a plain dict's misspelt key to the provider unchecked; the typed ``*Args``
    classes refuse it at construction. Every resource the program declares is inspected as
    constructed: no plain dict anywhere but in a map-of-strings input."""
    declared: list[tuple[str, Any]] = []
    original = pulumi.CustomResource.__init__

    def record(self: Any, t: str, name: str, props: Any = None, *args: Any, **kwargs: Any) -> None:
        declared.append((name, props))
        original(self, t, name, props, *args, **kwargs)

    monkeypatch.setattr(pulumi.CustomResource, "__init__", record)
    stack, overrides, as_stack = VARIANTS[variant]
    first = run_stack(stack, overrides, as_stack)
    assert first.resources
    assert first.to_json() == run_stack(stack, overrides, as_stack).to_json()
    assert len(declared) > 10
    found = [
        path
        for name, props in declared
        for key, value in vars(props).items()
        for path in _plain_dicts(value, f"{name}.{key}")
    ]
    assert found == []
    # The check itself finds a plain dict where a typed object belongs.
    assert _plain_dicts({"num_worker": 3}, "job.new_cluster") == ["job.new_cluster"]


def test_nested_job_inputs_are_typed_args() -> None:
    """Both computes: the serverless environment of the example, the job cluster of its
    classic variant."""
    source = example_stack_file("prod", classic_overrides("prod"))
    settings = job_settings(validate(RawConfig(source.values, source.secret_keys), "prod"))
    assert settings.cluster is not None and settings.serverless is None
    cluster = job_cluster("model_training_job_cluster", settings.cluster, settings)
    assert isinstance(cluster, databricks.JobJobClusterArgs)
    assert isinstance(cluster.new_cluster, databricks.JobJobClusterNewClusterArgs)
    with pytest.raises(TypeError):
        databricks.JobJobClusterNewClusterArgs(num_worker=3)
    source = read_stack_file("prod", example_dir())
    settings = job_settings(validate(RawConfig(source.values, source.secret_keys), "prod"))
    assert settings.cluster is None and settings.serverless is not None
    environment = job_environment(settings.serverless)
    assert isinstance(environment, databricks.JobEnvironmentArgs)
    assert isinstance(environment.spec, databricks.JobEnvironmentSpecArgs)
    with pytest.raises(TypeError):
        databricks.JobEnvironmentSpecArgs(client="5", environment_versions="5")


def test_missing_unity_catalog_objects_fail_before_anything_is_declared() -> None:
    """The provider's data sources fail on a missing object (terraform-provider-databricks
    ``catalog/data_table.go`` returns the read error; ``common/resource.go`` ignores a missing
    object for resources only, never for data sources): the program reads every catalog,
    schema and table the stack needs first, and reports each missing one with its key."""
    missing = frozenset({"staging.wine_quality", "staging.wine_quality.scoring_input"})
    error, declared = refused("staging", missing=missing)
    assert isinstance(error, MissingObjectsError)
    assert declared == []
    lines = str(error).splitlines()
    assert lines[0] == (
        "2 Unity Catalog object(s) needed by Pulumi.staging.yaml not found; nothing was declared:"
    )
    assert lines[1] == (
        "  - Pulumi.staging.yaml: mlops:model.schema: schema 'staging.wine_quality' is missing "
        "or not visible to this principal (invoke of databricks:index/getSchema:getSchema "
        "failed: SCHEMA_DOES_NOT_EXIST: staging.wine_quality (name)); CREATE SCHEMA "
        "staging.wine_quality (an owner of its catalog)"
    )
    assert lines[2].startswith(
        "  - Pulumi.staging.yaml: mlops:batch_inference.input_table_name: table "
        "'staging.wine_quality.scoring_input' is missing or not visible to this principal"
    )


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {},
            [
                ("catalog", "staging"),
                ("schema", "staging.wine_quality"),
                ("table", "staging.wine_quality.scoring_input"),
            ],
        ),
        (
            # An output table that pre-dates the job must exist; a training table too.
            existing_tables_overrides("scores.wine.predictions"),
            [
                ("catalog", "raw"),
                ("catalog", "scores"),
                ("catalog", "staging"),
                ("schema", "raw.wine"),
                ("schema", "scores.wine"),
                ("schema", "staging.wine_quality"),
                ("table", "raw.wine.samples"),
                ("table", "scores.wine.predictions"),
                ("table", "staging.wine_quality.scoring_input"),
            ],
        ),
    ],
)
def test_offline_existence_checks_are_reported_as_not_performed(
    overrides: dict[str, object], expected: list[tuple[str, str]]
) -> None:
    result = run_stack("staging", overrides)
    assert sorted((c.kind, c.name) for c in result.not_checked) == expected
    document = json.loads(result.to_json())
    assert [c["args"]["name"] for c in document["notChecked"]] == [
        c.name for c in result.not_checked
    ]
