"""Helpers of the infrastructure tests: evaluate the real program for a stack file, with edits.

``pulumi_databricks`` is imported once per test process (by the components); every
evaluation installs fresh mocks, so tests don't share resources or outputs. The ML tests
(``tests/ml``) must not import this module: they run without pulumi.
"""

from __future__ import annotations

import json
from typing import Any

from mlops_resources import PROJECT_DIR
from mlops_resources.config.stack_files import StackFile, read_stack_file
from mlops_resources.offline.evaluation import Evaluation, evaluate

BOOTSTRAP_DIR = PROJECT_DIR / "bootstrap"


def encode_overrides(overrides: dict[str, Any]) -> dict[str, str]:
    """Config overrides encoded the way the CLI passes them (structured values as JSON)."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in overrides.items()}


def run_stack(
    stack: str, overrides: dict[str, Any] | None = None, as_stack: str | None = None
) -> Evaluation:
    """Evaluate ``__main__.py`` for a committed stack file, with config overrides.

    ``overrides`` maps ``namespace:key`` to a value; a section override replaces the whole
    section, as editing it in the stack file would. ``as_stack`` evaluates the same file as
    another stack name (e.g. a personal dev stack).
    """
    source = read_stack_file(stack)
    values = {**source.values, **encode_overrides(overrides or {})}
    return evaluate(
        as_stack or stack, stack_file=StackFile(source.path, values, source.secret_keys)
    )


def section(stack: str, key: str, **changes: Any) -> dict[str, Any]:
    """A structured section of a committed stack file, decoded, with keys changed."""
    value: dict[str, Any] = json.loads(read_stack_file(stack).values[f"mlops:{key}"])
    value.update(changes)
    return value


def bootstrap_stack_file(changes: dict[str, Any] | None = None) -> StackFile:
    """The bootstrap stack file with top-level keys replaced (None: removed)."""
    source = read_stack_file("shared", BOOTSTRAP_DIR)
    changes = changes or {}
    values = {k: v for k, v in source.values.items() if changes.get(k, "") is not None}
    values.update(encode_overrides({k: v for k, v in changes.items() if v is not None}))
    return StackFile(source.path, values, source.secret_keys)
