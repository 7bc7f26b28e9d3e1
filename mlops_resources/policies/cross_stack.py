"""Rules no per-stack policy can check: they need every committed stack file at once.

The engine runs a policy pack over one stack; these run in the offline ``check`` instead, over
every ``Pulumi.<stack>.yaml`` of the program: each stack file against all the others, with the
checks that refuse a personal stack colliding with staging or prod at every run of the program
(:func:`~mlops_resources.config.unity_catalog.collision_problems`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mlops_resources.config.stack import StackConfig
from mlops_resources.config.unity_catalog import grant_collisions, table_collisions

SHARED_GRANTS = "no-grant-managed-by-two-stacks"
SHARED_TABLES = "no-table-of-one-stack-written-by-another"


@dataclass(frozen=True)
class CrossStackViolation:
    """A rule broken between stacks, reported for ``stack``."""

    policy: str
    stack: str
    message: str


def cross_stack_violations(
    stacks: Sequence[tuple[str, StackConfig]],
) -> list[CrossStackViolation]:
    """For each stack file (``(file, config)``): every (principal, securable) grant another
    also manages, and every table another reads or writes that this one would write."""
    violations = []
    for stack_file, cfg in stacks:
        others = [(name, other) for name, other in stacks if name != stack_file]
        for policy, check in ((SHARED_GRANTS, grant_collisions), (SHARED_TABLES, table_collisions)):
            violations += [
                CrossStackViolation(policy, stack_file, message) for message in check(cfg, others)
            ]
    return violations
