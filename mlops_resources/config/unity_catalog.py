"""What a stack's config implies in Unity Catalog: the objects that must exist before it
deploys, and the privileges its groups get. Pure functions of the config, no provider.

The Databricks components declare exactly :func:`grant_plan`; the program checks
:func:`required_objects` with the provider's data sources at preview; config validation uses
both to refuse a personal stack that would manage another stack's grants or write its tables.

Why the plan looks like this (evidence in README.md, "What a real workspace enforces"):

- Unity Catalog only knows account-level principals: grants go to configured account groups,
  never to the workspace-local ``users``/``admins``.
- ``databricks.Grant`` is authoritative for its principal on its securable: it revokes that
  principal's undeclared privileges there, and deleting it revokes all of them. So the stack
  only grants to groups it is configured to manage, never to the run-as principal itself, and
  every (principal, securable) pair gets exactly one resource holding all its privileges.
- Unity Catalog names are case-insensitive: pairs and tables are compared in lowercase.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from mlops_resources.config.checks import is_uc_table
from mlops_resources.config.stack import NAMESPACE, StackConfig

SecurableKind = Literal["catalog", "schema", "table", "model"]


@dataclass(frozen=True, order=True)
class Securable:
    """A Unity Catalog object, by kind and lowercase full name."""

    kind: SecurableKind
    name: str


@dataclass(frozen=True, order=True)
class GrantKey:
    """One principal on one securable: what a single ``databricks.Grant`` manages."""

    principal: str
    securable: Securable


@dataclass(frozen=True)
class RequiredObject:
    """A Unity Catalog object the stack needs before it deploys, and the key that names it."""

    securable: Securable
    key: str
    """The stack file key a user changes, e.g. ``mlops:batch_inference.input_table_name``."""


def _parents(full_name: str) -> tuple[Securable, Securable]:
    """The catalog and schema of ``<catalog>.<schema>[.<table>]``."""
    catalog, schema = full_name.lower().split(".")[:2]
    return Securable("catalog", catalog), Securable("schema", f"{catalog}.{schema}")


def _tables(cfg: StackConfig) -> list[tuple[str, str]]:
    """(key, table) of every three-part table the stack's jobs touch."""
    batch = cfg.batch_inference
    tables = [
        (f"{NAMESPACE}:batch_inference.input_table_name", batch.input_table_name),
        (f"{NAMESPACE}:batch_inference.output_table_name", batch.output_table_name),
    ]
    training = cfg.training.training_table_name
    if training:
        tables.append((f"{NAMESPACE}:training.training_data", training))
    return [(key, table.lower()) for key, table in tables if is_uc_table(table)]


def model_schema(cfg: StackConfig) -> str | None:
    """``catalog.schema`` of a Unity Catalog model (None in the workspace registry)."""
    if cfg.model.registry != "unity_catalog":
        return None
    return f"{cfg.model.catalog}.{cfg.model.schema_name}".lower()


def required_objects(cfg: StackConfig) -> list[RequiredObject]:
    """Catalogs, schemas and tables that must exist before the stack deploys, each with the
    first key that names it. The output table is created by the batch job unless
    ``output_table_exists`` says it pre-dates it."""
    found: dict[Securable, str] = {}

    def need(securable: Securable, key: str) -> None:
        found.setdefault(securable, key)

    schema = model_schema(cfg)
    if schema:
        catalog_name = schema.split(".")[0]
        need(Securable("catalog", catalog_name), f"{NAMESPACE}:model.catalog")
        need(Securable("schema", schema), f"{NAMESPACE}:model.schema")
    output = cfg.batch_inference.output_table_name.lower()
    for key, table in _tables(cfg):
        for parent in _parents(table):
            need(parent, key)
        if table != output or cfg.batch_inference.output_table_exists:
            need(Securable("table", table), key)
    monitoring = cfg.monitoring
    if cfg.logs_inferences:
        for parent in _parents(cfg.inference_log_table):
            need(parent, f"{NAMESPACE}:monitoring.inference_log_table")
    if monitoring.enabled:
        # The monitor watches a table the batch job creates on its first logged run.
        log_key = f"{NAMESPACE}:monitoring.inference_log_table"
        need(Securable("table", cfg.inference_log_table.lower()), log_key)
        for parent in _parents(cfg.monitor_output_schema):
            need(parent, f"{NAMESPACE}:monitoring.output_schema")
        if monitoring.baseline_table:
            baseline, baseline_key = (
                monitoring.baseline_table,
                f"{NAMESPACE}:monitoring.baseline_table",
            )
            for parent in _parents(baseline):
                need(parent, baseline_key)
            need(Securable("table", baseline.lower()), baseline_key)
    return [RequiredObject(securable, key) for securable, key in found.items()]


def grant_plan(cfg: StackConfig) -> dict[GrantKey, tuple[str, ...]]:
    """Every Unity Catalog grant the stack declares: (principal, securable) -> privileges.

    ``access.jobs_group`` (holding the run-as principal) gets what the jobs need: SELECT on
    the tables they read, CREATE_TABLE on the output schema (or SELECT and MODIFY on an output
    table that pre-dates the job: batch inference overwrites it and reads it back), and
    USE_CATALOG/USE_SCHEMA on every parent, the model's included (the run-as principal owns
    the model, which lets it add versions and move aliases). ``access.model_readers_group``
    gets EXECUTE on the model and USE_CATALOG/USE_SCHEMA on its parents.
    """
    needs: dict[GrantKey, set[str]] = defaultdict(set)

    def grant(principal: str, securable: Securable, *privileges: str) -> None:
        needs[GrantKey(principal, securable)].update(privileges)

    def use(principal: str, full_name: str) -> None:
        catalog, schema = _parents(full_name)
        grant(principal, catalog, "USE_CATALOG")
        grant(principal, schema, "USE_SCHEMA")

    access, batch = cfg.access, cfg.batch_inference
    schema = model_schema(cfg)
    if access.jobs_group:
        jobs = access.jobs_group
        output = batch.output_table_name.lower()
        for _, table in _tables(cfg):
            use(jobs, table)
            if table != output:
                grant(jobs, Securable("table", table), "SELECT")
            elif batch.output_table_exists:
                grant(jobs, Securable("table", table), "MODIFY", "SELECT")
            else:
                grant(jobs, _parents(table)[1], "CREATE_TABLE")
        if schema:
            use(jobs, schema)
        if cfg.logs_inferences:
            # Batch inference creates the log on its first logged run, then appends to it.
            use(jobs, cfg.inference_log_table)
            grant(jobs, _parents(cfg.inference_log_table)[1], "CREATE_TABLE")
        if cfg.monitoring.enabled:
            # The monitor, owned by the run-as principal, writes its metric tables there.
            use(jobs, cfg.monitor_output_schema)
            grant(jobs, _parents(cfg.monitor_output_schema)[1], "CREATE_TABLE")
            if cfg.monitoring.baseline_table:
                use(jobs, cfg.monitoring.baseline_table)
                grant(jobs, Securable("table", cfg.monitoring.baseline_table.lower()), "SELECT")
    if access.model_readers_group and schema:
        readers = access.model_readers_group
        use(readers, schema)
        grant(readers, Securable("model", cfg.model_name.lower()), "EXECUTE")
    return {key: tuple(sorted(privileges)) for key, privileges in sorted(needs.items())}


def written_tables(cfg: StackConfig) -> set[str]:
    """Tables the stack's jobs write (lowercase): the output table, and the inference log."""
    written = {cfg.batch_inference.output_table_name.lower()}
    if cfg.logs_inferences:
        written.add(cfg.inference_log_table.lower())
    return written


def touched_tables(cfg: StackConfig) -> set[str]:
    """Tables the stack's jobs read or write (lowercase)."""
    tables = {cfg.batch_inference.input_table_name, cfg.batch_inference.output_table_name}
    if cfg.training.training_table_name:
        tables.add(cfg.training.training_table_name)
    return {table.lower() for table in tables}


def collision_problems(cfg: StackConfig, others: Iterable[tuple[str, StackConfig]]) -> list[str]:
    """Problems of a personal stack that would hurt a committed stack (``(file, config)``):
    writing a table the other reads or writes, or managing one of its grants (two
    ``databricks.Grant`` on one pair revoke each other's privileges)."""
    problems = []
    plan = grant_plan(cfg)
    for stack_file, other in others:
        for table in sorted(written_tables(cfg) & touched_tables(other)):
            problems.append(
                f"{NAMESPACE}:batch_inference.output_table_name: {table!r} is a table of "
                f"{stack_file}; this stack would overwrite it. Write to a table of its own"
            )
        for key in sorted(plan.keys() & grant_plan(other).keys()):
            role = (
                "jobs_group" if key.principal == cfg.access.jobs_group else ("model_readers_group")
            )
            problems.append(
                f"{NAMESPACE}:access.{role}: {stack_file} already manages the grants of "
                f"{key.principal!r} on {key.securable.kind} {key.securable.name!r}; two stacks "
                "managing one grant revoke each other's privileges. Use a group of this "
                "stack's own, or leave the key unset"
            )
    return problems
