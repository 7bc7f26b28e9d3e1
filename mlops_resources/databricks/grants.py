"""Unity Catalog grants to the stack's groups: one ``databricks.Grant`` per (principal,
securable) pair of :func:`~mlops_resources.config.unity_catalog.grant_plan`.

``databricks.Grant`` is authoritative for its one principal on its one securable
(terraform-provider-databricks ``catalog/resource_grant.go``: undeclared privileges of the
principal are revoked on create and update, and delete revokes all of them). That is safe only
for a principal the stack alone manages on that securable, so the plan grants to configured
account groups, never to the run-as principal, and merges every privilege of a pair into one
resource (two resources on one pair revoke each other's privileges).

A Grant on a registered model depends on the model's resource: its name is a string from
config, so nothing else orders the two, and Pulumi creates resources with no dependency
between them in parallel; granting on a model that does not exist yet fails the first deploy
(the provider's own acceptance test grants on ``databricks_registered_model.model.id``, an
implicit dependency: terraform-provider-databricks#2771,
``internal/acceptance/registered_model_test.go``; the same failure on a catalog, fixed with a
dependency: AbhiDatabricks/databricks-uc-quickstart#13).

A logical name is a function of the pair only: a name change with the same pair would create
the new grant, then delete the old one, revoking everything. Rename with ``aliases``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_databricks as databricks

from mlops_resources.config.unity_catalog import GrantKey
from mlops_resources.databricks.common import child_opts


@dataclass(frozen=True)
class UnityCatalogGrantsArgs:
    """Inputs of :class:`UnityCatalogGrants`."""

    plan: Mapping[GrantKey, tuple[str, ...]]
    """(principal, securable) -> privileges; every pair becomes one Grant."""
    models: Mapping[str, pulumi.Resource] = field(default_factory=dict)
    """Registered model name (lowercase, as the plan names it) -> its resource, which the
    Grants on it wait for."""


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
            model = args.models.get(key.securable.name) if key.securable.kind == "model" else None
            databricks.Grant(
                grant_name(name, key),
                principal=key.principal,
                privileges=list(privileges),
                opts=child_opts(self, depends_on=[model] if model is not None else None),
                **{key.securable.kind: key.securable.name},
            )
        self.register_outputs({})
