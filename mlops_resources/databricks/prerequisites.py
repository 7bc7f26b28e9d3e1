"""What the stack needs before anything is declared, checked with the provider: the Unity
Catalog objects it reads and writes, and, for an update of a stack with a monitor, who deploys.

A grant on a missing table or a model in a missing schema fails ``pulumi up`` halfway, with
the API's message and after other resources changed. The provider's data sources
(``databricks.get_catalog``/``get_schema``/``get_table``) fail when the object is missing
(terraform-provider-databricks ``catalog/data_table.go``: the read error is returned, data
sources never ignore a missing object), so the program asks for each object first and turns
every failure into one error that names the object, the stack file key and what to create.
The answers also carry the ids the data-quality monitor is declared with (``table_id``,
``schema_id``).

The data sources read by name without ``include_browse`` (``catalog/data_*.go``), so the
caller needs the read privilege of each object (``READ_PRIVILEGES``), not BROWSE: the
read-only preview principal gets them through ``access.preview_group``.

Offline (render, check, the pull-request render diff) no provider is called: the mocks record
these requests and the offline tools report them as not performed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pulumi
import pulumi_databricks as databricks

from mlops_resources.config.unity_catalog import RequiredObject, Securable, SecurableKind

LOOKUPS: dict[SecurableKind, Callable[..., Any]] = {
    "catalog": databricks.get_catalog,
    "schema": databricks.get_schema,
    "table": databricks.get_table,
}
"""The data source that reads each kind of object, by its full name."""

HOW_TO_CREATE = {
    "catalog": "CREATE CATALOG {name} (a metastore admin)",
    "schema": "CREATE SCHEMA {name} (an owner of its catalog)",
    "table": "create the table {name} (docs/deployment.md, 'Unity Catalog objects')",
}


class MissingObjectsError(pulumi.RunError):
    """Unity Catalog objects the stack needs do not exist (or the caller cannot see them)."""

    def __init__(self, stack_file: str, missing: Sequence[tuple[RequiredObject, str]]) -> None:
        lines = "\n".join(
            f"  - {stack_file}: {required.key}: {kind} {name!r} is missing or not visible to "
            f"this principal ({reason}); {HOW_TO_CREATE[kind].format(name=name)}"
            for required, reason in missing
            for kind, name in [(required.securable.kind, required.securable.name)]
        )
        super().__init__(
            f"{len(missing)} Unity Catalog object(s) needed by {stack_file} not found; "
            f"nothing was declared:\n{lines}"
        )


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def require_objects(stack_file: str, objects: Sequence[RequiredObject]) -> dict[Securable, Any]:
    """Read every object with its data source; raise :class:`MissingObjectsError` listing
    each one that could not be read. Returns each object's data-source result."""
    found: dict[Securable, Any] = {}
    missing = []
    for required in objects:
        lookup = LOOKUPS[required.securable.kind]
        try:
            found[required.securable] = lookup(name=required.securable.name)
        except Exception as error:  # the invoke's provider error, whatever its class
            missing.append((required, _first_line(error)))
    if missing:
        raise MissingObjectsError(stack_file, missing)
    return found


class DeployerError(pulumi.RunError):
    """An update of a stack with a monitor by someone other than its run-as principal."""

    def __init__(self, stack_file: str, caller: str, run_as: str) -> None:
        super().__init__(
            f"{stack_file}: this stack's data-quality monitor is created and updated by the "
            f"stack's run-as principal ({run_as}, mlops:access.run_as_service_principal), the "
            f"identity it deploys as; this update runs as {caller!r}, which the monitor API "
            "refuses (an update needs MANAGE on the monitored table, which the run-as "
            "principal owns). Nothing was declared. Deploy through the deploy workflow, or "
            "authenticate as the run-as principal"
        )


def require_deployer(stack_file: str, run_as: str) -> None:
    """At an update, refuse a caller other than ``run_as`` before anything is declared.

    A preview never checks: it runs as the read-only preview principal, and changes nothing.
    ``databricks.get_current_user`` answers the caller's user name, which for a service
    principal is its application id (terraform-provider-databricks v1.118.0
    ``scim/data_current_user.go``: ``user_name`` is ``CurrentUser.Me``'s ``UserName``).
    """
    if pulumi.runtime.is_dry_run():
        return
    caller = str(databricks.get_current_user().user_name)
    if caller.lower() != run_as.lower():
        raise DeployerError(stack_file, caller, run_as)
