"""Rules no per-stack policy can check: they need every committed stack file at once.

The engine runs a policy pack over one stack; these run in the offline ``check`` instead, over
every ``Pulumi.<stack>.yaml`` of the program. (A personal stack that collides with staging or
prod is also refused by the program itself, at every run.)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from mlops_resources.config.stack import StackConfig
from mlops_resources.config.unity_catalog import GrantKey, grant_plan, written_tables

SHARED_GRANTS = "no-grant-managed-by-two-stacks"
SHARED_OUTPUT = "no-output-table-written-by-two-stacks"


@dataclass(frozen=True)
class CrossStackViolation:
    """A rule broken between stacks, reported for ``stack``."""

    policy: str
    stack: str
    message: str


def cross_stack_violations(
    stacks: Sequence[tuple[str, StackConfig]],
) -> list[CrossStackViolation]:
    """Every (principal, securable) grant and every output table claimed by two stack files."""
    grants: dict[GrantKey, list[str]] = defaultdict(list)
    outputs: dict[str, list[str]] = defaultdict(list)
    for stack_file, cfg in stacks:
        for key in grant_plan(cfg):
            grants[key].append(stack_file)
        for table in written_tables(cfg):
            outputs[table].append(stack_file)
    violations = []
    for key, files in sorted(grants.items()):
        for stack_file in files if len(files) > 1 else ():
            others = ", ".join(f for f in files if f != stack_file)
            violations.append(
                CrossStackViolation(
                    SHARED_GRANTS,
                    stack_file,
                    f"{others} also manages the grants of {key.principal!r} on "
                    f"{key.securable.kind} {key.securable.name!r}: two databricks.Grant on one "
                    "pair revoke each other's privileges (catalog/resource_grant.go)",
                )
            )
    for table, files in sorted(outputs.items()):
        for stack_file in files if len(files) > 1 else ():
            others = ", ".join(f for f in files if f != stack_file)
            violations.append(
                CrossStackViolation(
                    SHARED_OUTPUT,
                    stack_file,
                    f"{others} also overwrites {table!r}: each stack's batch inference would "
                    "replace the other's predictions",
                )
            )
    return violations
