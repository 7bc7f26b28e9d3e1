"""What a stack needs from the workspace before anything is declared, checked with the
provider: the Unity Catalog objects it reads and writes; for a personal stack that names no
user, who deploys it; and, for an update of a committed stack with a monitor, that the deployer
is the run-as principal.

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

A personal stack runs as its developer. Unless its file names one (``access.run_as_user``),
that is the user whose credentials deploy it, read with ``databricks.get_current_user``
(terraform-provider-databricks ``scim/data_current_user.go``: the caller's ``user_name``, and
``acl_principal_id`` ``servicePrincipals/<application id>`` for a service principal; its docs
suggest it for "applying the same Terraform by different users in the shared workspace").
The jobs then run as, and are owned by, the caller, the one identity the Jobs API lets a
non-admin set as a job's run-as user.

Offline (render, check, the pull-request render diff) no provider is called: the mocks record
these requests and the offline tools report them as not performed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pulumi
import pulumi_databricks as databricks

from mlops_resources.config.access import APPLICATION_ID, identity_problems
from mlops_resources.config.namespace import NAMESPACE
from mlops_resources.config.reading import ConfigError
from mlops_resources.config.stack import StackConfig
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
            f"this principal ({reason}); {required.how or HOW_TO_CREATE[kind].format(name=name)}"
            for required, reason in missing
            for kind, name in [(required.securable.kind, required.securable.name)]
        )
        super().__init__(
            f"{len(missing)} Unity Catalog object(s) needed by {stack_file} not found; "
            f"nothing was declared:\n{lines}"
        )


def first_line(error: Exception) -> str:
    """An API error's first line (its message), or its type when it says nothing."""
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
            missing.append((required, first_line(error)))
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


def run_as_deployer(cfg: StackConfig) -> StackConfig:
    """``cfg``, a personal stack whose file names no ``access.run_as_user``, run as the user
    the deploying credentials belong to; any other config as is. Raises ConfigError when those
    credentials are a service principal's, or the user's home does not hold the stack."""
    if cfg.access.run_as is not None:
        return cfg
    stack_file = f"Pulumi.{cfg.environment}.yaml"
    key = f"{NAMESPACE}:access.run_as_user"
    me = databricks.get_current_user()
    name = me.user_name or ""
    if (me.acl_principal_id or "").startswith("servicePrincipals/") or APPLICATION_ID.match(name):
        raise ConfigError(
            stack_file,
            [
                f"{key}: unset, so the stack runs as whoever deploys it, but the deploying "
                f"credentials are service principal {name!r}; a personal stack runs as its "
                "developer: deploy with your own credentials (e.g. `databricks auth login`), "
                "or set the key to your user name"
            ],
        )
    resolved = cfg.with_run_as_user(name)
    problems = identity_problems(resolved)
    if problems:
        raise ConfigError(stack_file, problems)
    return resolved
