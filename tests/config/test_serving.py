"""``mlops:serving``: off by default, refused with the file, key and expected form when a
workspace would refuse it (evidence in ``mlops_resources/config/serving.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_resources.config.load import validate
from mlops_resources.config.reading import ConfigError, RawConfig
from mlops_resources.config.stack import StackConfig
from tests.stacks import (
    example_stack_file,
    personal_stack_overrides,
    workspace_registry_overrides,
)

ON: dict[str, Any] = {"enabled": True, "query_group": "wine-quality-clients"}


def config(stack: str, overrides: dict[str, Any]) -> StackConfig:
    return validate(RawConfig.from_stack_file(example_stack_file(stack, overrides)), stack)


def problems(stack: str, overrides: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as error:
        config(stack, overrides)
    assert error.value.stack_file == f"Pulumi.{stack}.yaml"
    return error.value.problems


def test_serving_is_off_unless_the_stack_file_turns_it_on() -> None:
    assert config("staging", {}).serving.enabled is False


@pytest.mark.parametrize(("stack", "expected"), [("staging", True), ("prod", False)])
def test_prod_keeps_capacity_unless_its_file_says_to_scale_to_zero(
    stack: str, expected: bool
) -> None:
    assert config(stack, {"mlops:serving": ON}).serving_scales_to_zero is expected
    opted = config(stack, {"mlops:serving": {**ON, "scale_to_zero": not expected}})
    assert opted.serving_scales_to_zero is (not expected)


@pytest.mark.parametrize(
    ("serving", "key", "message"),
    [
        ({"enabled": True}, "mlops:serving.query_group", "required when serving.enabled"),
        ({**ON, "query_group": "admins"}, "mlops:serving.query_group", "already manage"),
        ({**ON, "query_group": "users"}, "mlops:serving.query_group", "access.readers_group"),
        ({**ON, "workload_size": "XL"}, "mlops:serving.workload_size", "'Small'"),
        ({**ON, "rate_limits": [{"calls": 0}]}, "mlops:serving.rate_limits", "1"),
        (
            {**ON, "rate_limits": [{"calls": 5, "principal": "app"}]},
            "mlops:serving.rate_limits[0].principal",
            "counts every call",
        ),
        (
            {**ON, "inference_table": {"table_name_prefix": "x"}},
            "mlops:serving.inference_table.table_name_prefix",
            "only used when serving.inference_table.enabled",
        ),
        ({**ON, "replicas": 2}, "mlops:serving", "replicas"),
    ],
)
def test_bad_serving_values_are_refused_naming_the_key(
    serving: dict[str, Any], key: str, message: str
) -> None:
    found = problems("staging", {"mlops:serving": serving})
    assert any(p.startswith(key) and message in p for p in found), found


def test_serving_needs_the_unity_catalog_registry() -> None:
    found = problems("staging", {**workspace_registry_overrides(), "mlops:serving": ON})
    assert any(
        p.startswith("mlops:serving.enabled: serving needs model.registry 'unity_catalog'")
        for p in found
    ), found


def test_a_stack_name_that_makes_the_endpoint_name_too_long_is_refused() -> None:
    """No length limit is documented; ours is 63 (stated in the message). A personal stack's
    name (up to 63 characters) prefixes it."""
    stack = "dev-" + "a" * 41
    source = example_stack_file("staging", {**personal_stack_overrides("a"), "mlops:serving": ON})
    with pytest.raises(ConfigError) as error:
        validate(RawConfig.from_stack_file(source), stack)
    found = error.value.problems
    assert any(
        p.startswith("mlops:project_name: the serving endpoint name it gives")
        and "more than 63" in p
        for p in found
    ), found
