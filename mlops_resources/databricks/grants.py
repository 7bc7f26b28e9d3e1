"""Unity Catalog grants to the stack's groups: one ``databricks.Grant`` per (principal,
securable) pair of :func:`~mlops_resources.config.unity_catalog.grant_plan`.

``databricks.Grant`` is authoritative for its one principal on its one securable
(terraform-provider-databricks ``catalog/resource_grant.go``: undeclared privileges of the
principal are revoked on create and update, and delete revokes all of them). That is safe only
for a principal the stack alone manages on that securable, so the plan grants to configured
account groups, never to the run-as principal, and merges every privilege of a pair into one
resource (two resources on one pair revoke each other's privileges).

A logical name is a function of the pair only: a name change with the same pair would create
the new grant, then delete the old one, revoking everything. Rename with ``aliases``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_databricks as databricks

from mlops_resources.config.unity_catalog import GrantKey
from mlops_resources.databricks.common import child_opts


@dataclass(frozen=True)
class UnityCatalogGrantsArgs:
    """Inputs of :class:`UnityCatalogGrants`."""

    plan: Mapping[GrantKey, tuple[str, ...]]
    """(principal, securable) -> privileges; every pair becomes one Grant."""


def grant_name(component: str, key: GrantKey) -> str:
    """The logical name of a pair's Grant: ``<component>-<kind>-<securable>@<principal>``."""
    return f"{component}-{key.securable.kind}-{key.securable.name}@{key.principal}"


class UnityCatalogGrants(pulumi.ComponentResource):
    """The stack's Unity Catalog grants, one Grant per principal and securable."""

    def __init__(
        self, name: str, args: UnityCatalogGrantsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:databricks:UnityCatalogGrants", name, None, opts)
        for key, privileges in sorted(args.plan.items()):
            databricks.Grant(
                grant_name(name, key),
                principal=key.principal,
                privileges=list(privileges),
                opts=child_opts(self),
                **{key.securable.kind: key.securable.name},
            )
        self.register_outputs({})
