"""Shared fixtures: evaluate the real program for a stack file, with optional overrides.

``pulumi_databricks`` is imported once per test process (by the components); every
evaluation installs fresh mocks, so tests don't share resources or outputs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from mlops_resources.offline import Evaluation, StackFile, evaluate, read_stack_file

Evaluate = Callable[..., Evaluation]


def encode_overrides(overrides: dict[str, Any]) -> dict[str, str]:
    """Config overrides encoded the way the CLI passes them (structured values as JSON)."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in overrides.items()}


@pytest.fixture
def run_stack() -> Evaluate:
    """Evaluate ``__main__.py`` for a committed stack file, with config overrides.

    ``overrides`` maps ``namespace:key`` to a value; a section override replaces the whole
    section, as editing it in the stack file would. ``as_stack`` evaluates the same file as
    another stack name (e.g. a personal dev stack).
    """

    def run(
        stack: str, overrides: dict[str, Any] | None = None, as_stack: str | None = None
    ) -> Evaluation:
        source = read_stack_file(stack)
        values = {**source.values, **encode_overrides(overrides or {})}
        return evaluate(
            as_stack or stack, stack_file=StackFile(source.path, values, source.secret_keys)
        )

    return run


def section(stack: str, key: str, **changes: Any) -> dict[str, Any]:
    """A structured section of a committed stack file, decoded, with keys changed."""
    value: dict[str, Any] = json.loads(read_stack_file(stack).values[f"mlops:{key}"])
    value.update(changes)
    return value
