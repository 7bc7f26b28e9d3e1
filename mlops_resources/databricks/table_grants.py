"""Unity Catalog grants the jobs' run-as principal needs on the tables and the model schema.

The Terraform README told users to grant these by hand. Each grant is a ``databricks.Grant``:
it manages this one principal's privileges on a securable and leaves everyone else's alone
(``databricks.Grants`` is authoritative and would revoke the other principals on a shared
catalog). Privileges are merged per securable so no securable gets two Grant resources for the
same principal, which would fight each other.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pulumi
import pulumi_databricks as databricks

from mlops_resources.databricks.common import child_opts


@dataclass(frozen=True)
class TableGrantsArgs:
    """Inputs of :class:`TableGrants`."""

    principal: str
    """Application id of the run-as service principal."""
    input_table_name: str
    """Three-part name of the table the batch job reads: SELECT."""
    output_table_name: str
    """Three-part name of the table the batch job writes: CREATE_TABLE on its schema."""
    output_table_exists: bool
    """The output table pre-dates the job: MODIFY on it too (a new one is owned by the job)."""
    model_schema: str | None = None
    """``<catalog>.<schema>`` of the Unity Catalog model: USE_CATALOG / USE_SCHEMA."""
    training_table_name: str | None = None
    """Three-part name of a training table: SELECT."""


def required_privileges(args: TableGrantsArgs) -> dict[tuple[str, str], list[str]]:
    """(securable kind, name) -> sorted privileges the principal needs."""
    needs: dict[tuple[str, str], set[str]] = defaultdict(set)

    def use(schema: str) -> None:
        catalog = schema.split(".")[0]
        needs[("catalog", catalog)].add("USE_CATALOG")
        needs[("schema", schema)].add("USE_SCHEMA")

    tables = [args.input_table_name, args.output_table_name]
    if args.training_table_name:
        tables.append(args.training_table_name)
    for table in tables:
        use(table.rsplit(".", 1)[0])
    if args.model_schema:
        use(args.model_schema)
    needs[("table", args.input_table_name)].add("SELECT")
    if args.training_table_name:
        needs[("table", args.training_table_name)].add("SELECT")
    needs[("schema", args.output_table_name.rsplit(".", 1)[0])].add("CREATE_TABLE")
    if args.output_table_exists:
        needs[("table", args.output_table_name)].add("MODIFY")
    return {key: sorted(privileges) for key, privileges in sorted(needs.items())}


class TableGrants(pulumi.ComponentResource):
    """One additive ``databricks.Grant`` per securable the run-as principal uses."""

    def __init__(
        self, name: str, args: TableGrantsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:databricks:TableGrants", name, None, opts)
        for (kind, securable), privileges in required_privileges(args).items():
            databricks.Grant(
                f"{name}-{kind}-{securable}",
                principal=args.principal,
                privileges=privileges,
                opts=child_opts(self),
                **{kind: securable},
            )
        self.register_outputs({})
