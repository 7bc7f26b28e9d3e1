"""What a stack's config implies in Unity Catalog: the objects that must exist before it
deploys, and the privileges its groups get. Pure functions of the config, no provider.

The Databricks components declare exactly :func:`grant_plan`; before declaring anything, the
program reads each of :func:`required_objects` with the provider's data sources (at preview
and update). :func:`tables` lists every table a stack's jobs and monitor read or write, with
the key that sets it; :func:`collision_problems` uses it and :func:`grant_plan` to refuse a
personal stack that would write another stack's tables or manage its grants (config
validation), and the offline ``check`` applies the same to every pair of committed stack
files (``mlops_resources.policies.cross_stack``).

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

import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from mlops_resources.config.checks import is_uc_table
from mlops_resources.config.namespace import NAMESPACE
from mlops_resources.config.serving import inference_table_prefix, inference_table_schema
from mlops_resources.config.stack import StackConfig

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
    how: str = ""
    """How the object comes to exist, when the stack's own job creates it ("": the object
    pre-dates the stack, and its kind says who creates it)."""


def _parents(full_name: str) -> tuple[Securable, Securable]:
    """The catalog and schema of ``<catalog>.<schema>[.<table>]``."""
    catalog, schema = full_name.lower().split(".")[:2]
    return Securable("catalog", catalog), Securable("schema", f"{catalog}.{schema}")


INPUT_KEY = f"{NAMESPACE}:batch_inference.input_table_name"
OUTPUT_KEY = f"{NAMESPACE}:batch_inference.output_table_name"
TRAINING_KEY = f"{NAMESPACE}:training.training_data"
LOG_KEY = f"{NAMESPACE}:monitoring.inference_log_table"
BASELINE_KEY = f"{NAMESPACE}:monitoring.baseline_table"
OUTPUT_SCHEMA_KEY = f"{NAMESPACE}:monitoring.output_schema"
SERVING_SCHEMA_KEY = f"{NAMESPACE}:serving.inference_table.schema"
PAYLOAD_KEY = f"{NAMESPACE}:serving.inference_table.table_name_prefix"
"""The endpoint's AI Gateway inference table (``<prefix>_payload``), with ``monitoring.source:
serving`` read by the serving inference log job like the batch input table: it must exist (the
endpoint creates it) and the jobs group gets SELECT on it."""
_WRITES = {OUTPUT_KEY: "overwrite it", LOG_KEY: "append its rows to it"}
"""The tables a stack writes, by key, and how."""


def tables(cfg: StackConfig) -> list[tuple[str, str]]:
    """(key, lowercase name) of every table the stack's jobs and monitor read or write: the
    batch input and output tables, the training table (when training data is a table), the
    inference log (when batch inference logs to it) and the monitor's baseline table (when
    the monitor is enabled). The key is the one a user changes to move the table (the
    inference log's default follows the output table, but ``inference_log_table`` moves it).
    """
    batch, monitoring = cfg.batch_inference, cfg.monitoring
    found = [(INPUT_KEY, batch.input_table_name), (OUTPUT_KEY, batch.output_table_name)]
    if cfg.training.training_table_name:
        found.append((TRAINING_KEY, cfg.training.training_table_name))
    if cfg.logs_inferences:
        found.append((LOG_KEY, cfg.inference_log_table))
    payload = cfg.serving_payload_table
    if cfg.serving_logs_inferences and payload:
        found.append((PAYLOAD_KEY, payload))
    if monitoring.enabled and monitoring.baseline_table:
        found.append((BASELINE_KEY, monitoring.baseline_table))
    return [(key, table.lower()) for key, table in found]


def written_tables(cfg: StackConfig) -> list[tuple[str, str]]:
    """(key, lowercase name) of the tables the stack's jobs write: the output table, which
    batch inference overwrites, and the inference log, which it appends to."""
    return [(key, table) for key, table in tables(cfg) if key in _WRITES]


def touched_tables(cfg: StackConfig) -> set[str]:
    """Every table the stack's jobs and monitor read or write (lowercase)."""
    return {table for _, table in tables(cfg)}


def _created_by_the_stack(cfg: StackConfig, key: str) -> bool:
    """Whether the stack's own runs create the table of ``key`` (so it need not exist yet):
    the output table unless it pre-dates the job, the inference log until the monitor
    watches it (batch inference creates it on its first logged run)."""
    if key == OUTPUT_KEY:
        return not cfg.batch_inference.output_table_exists
    return key == LOG_KEY and not cfg.monitoring.enabled


def required_objects(cfg: StackConfig) -> list[RequiredObject]:
    """Catalogs, schemas and tables that must exist before the stack deploys, each with the
    first key that names it: the model's catalog and schema, every table of :func:`tables`
    (in Unity Catalog) with its parents, and the monitor's output schema's parents. The output
    table is created by the batch job unless ``output_table_exists`` says it pre-dates it; the
    inference log is created by its first logged run, and must exist once a monitor watches
    it."""
    found: dict[Securable, RequiredObject] = {}

    def need(securable: Securable, key: str, how: str = "") -> None:
        found.setdefault(securable, RequiredObject(securable, key, how))

    schema = cfg.model_schema
    if schema:
        catalog_name = schema.split(".")[0]
        need(Securable("catalog", catalog_name), f"{NAMESPACE}:model.catalog")
        need(Securable("schema", schema), f"{NAMESPACE}:model.schema")
    for key, table in tables(cfg):
        if not is_uc_table(table):
            continue
        for parent in _parents(table):
            need(parent, key)
        if not _created_by_the_stack(cfg, key):
            need(Securable("table", table), key, _first_run_creates(cfg, key))
        if key == LOG_KEY and cfg.monitoring.enabled:
            # The monitor writes its metric tables there.
            for parent in _parents(cfg.monitor_output_schema):
                need(parent, OUTPUT_SCHEMA_KEY)
    serving_schema = inference_table_schema(cfg.serving, schema)
    if serving_schema:
        # The endpoint creates its AI Gateway inference table there.
        for parent in _parents(serving_schema):
            need(parent, SERVING_SCHEMA_KEY)
    return list(found.values())


def _first_run_creates(cfg: StackConfig, key: str) -> str:
    """For the monitored table, which a job of the stack creates on its first logged run:
    which job, and the order that gets a monitor onto it (a monitor needs its table)."""
    if key != LOG_KEY:
        return ""
    job = cfg.serving_log_job_name if cfg.serving_logs_inferences else cfg.batch_inference_job_name
    return (
        f"the first run of job '{job}' creates it: deploy with monitoring.log_inferences true "
        "and monitoring.enabled false (which deletes a monitor already on), run that job once, "
        "then enable the monitor (docs/deployment.md, section 10)"
    )


READ_PRIVILEGES: dict[SecurableKind, str] = {
    "catalog": "USE_CATALOG",
    "schema": "USE_SCHEMA",
    "table": "SELECT",
    "model": "EXECUTE",
}
"""The privilege that lets a principal read an object of each kind by name, the way the
provider reads it: ``CatalogsAPI.get`` takes USE_CATALOG, ``SchemasAPI.get`` USE_SCHEMA,
``TablesAPI.get`` SELECT (or ownership) with USE_CATALOG/USE_SCHEMA on the parents, and
``RegisteredModelsAPI.get`` EXECUTE with the same (databricks-sdk ``service/catalog.py``).
BROWSE would do only with ``include_browse``, which the provider's data sources never send
(terraform-provider-databricks v1.118.0 ``catalog/data_catalog.go``, ``data_schema.go``,
``data_table.go``: ``GetByName``/``GetByFullName`` without it)."""


def preview_reads(cfg: StackConfig) -> list[Securable]:
    """The Unity Catalog objects a preview or a refresh reads: every object of
    :func:`required_objects` (the existence checks, at every preview), the Unity Catalog model
    (a refresh reads the ``RegisteredModel``) and, with monitoring, the monitored table (a
    refresh reads the monitor: ``DataQualityAPI.get_monitor`` takes SELECT on it with
    USE_CATALOG/USE_SCHEMA; it is also a required object). Each needs its
    :data:`READ_PRIVILEGES` privilege and USE_CATALOG/USE_SCHEMA on its parents."""
    reads = {required.securable for required in required_objects(cfg)}
    schema = cfg.model_schema
    if schema:
        reads.add(Securable("model", cfg.model_name.lower()))
    if cfg.monitoring.enabled:
        reads.add(Securable("table", cfg.inference_log_table.lower()))
    return sorted(reads)


def grant_plan(cfg: StackConfig) -> dict[GrantKey, tuple[str, ...]]:
    """Every Unity Catalog grant the stack declares: (principal, securable) -> privileges.

    ``access.jobs_group`` (holding the run-as principal) gets what the jobs and the monitor
    need: SELECT on the tables they read (input, training table, monitoring baseline),
    CREATE_TABLE on the output table's schema (or SELECT and MODIFY on an output table that
    pre-dates the job: batch inference overwrites it and reads it back), CREATE_TABLE on the
    inference log's schema (batch inference creates the log, then appends to it) and on the
    monitor's output schema (its metric tables), and USE_CATALOG/USE_SCHEMA on every parent,
    the model's included (the run-as principal owns the model, which lets it add versions and
    move aliases). ``access.model_readers_group`` gets EXECUTE on the model and
    USE_CATALOG/USE_SCHEMA on its parents. ``access.preview_group`` (holding the read-only
    preview principal) gets what a preview and a refresh read (:func:`preview_reads`): the
    read privilege of each object and USE_CATALOG/USE_SCHEMA on its parents. Only tables with
    three-part names are granted on.
    """
    needs: dict[GrantKey, set[str]] = defaultdict(set)

    def grant(principal: str, securable: Securable, *privileges: str) -> None:
        needs[GrantKey(principal, securable)].update(privileges)

    def use(principal: str, full_name: str) -> None:
        catalog, schema = _parents(full_name)
        grant(principal, catalog, "USE_CATALOG")
        grant(principal, schema, "USE_SCHEMA")

    access, batch = cfg.access, cfg.batch_inference
    schema = cfg.model_schema
    if access.jobs_group:
        jobs = access.jobs_group
        for key, table in tables(cfg):
            if not is_uc_table(table):
                continue
            use(jobs, table)
            if key == LOG_KEY or (key == OUTPUT_KEY and not batch.output_table_exists):
                # Batch inference creates it (the log on its first logged run, then appends).
                grant(jobs, _parents(table)[1], "CREATE_TABLE")
            elif key == OUTPUT_KEY:
                # It pre-dates the job: batch inference overwrites it and reads it back.
                grant(jobs, Securable("table", table), "MODIFY", "SELECT")
            else:
                grant(jobs, Securable("table", table), "SELECT")
        if schema:
            use(jobs, schema)
        if cfg.monitoring.enabled:
            # The monitor, owned by the run-as principal, writes its metric tables there.
            use(jobs, cfg.monitor_output_schema)
            grant(jobs, _parents(cfg.monitor_output_schema)[1], "CREATE_TABLE")
        serving_schema = inference_table_schema(cfg.serving, schema)
        if serving_schema:
            # The endpoint's creator (the run-as principal) creates and owns its AI Gateway
            # inference table: it needs USE CATALOG, USE SCHEMA and CREATE TABLE there
            # (Databricks docs, "AI Gateway-enabled inference tables", requirements).
            use(jobs, serving_schema)
            grant(jobs, _parents(serving_schema)[1], "CREATE_TABLE")
    if access.model_readers_group and schema:
        readers = access.model_readers_group
        use(readers, schema)
        grant(readers, Securable("model", cfg.model_name.lower()), "EXECUTE")
    if access.preview_group:
        for securable in preview_reads(cfg):
            if securable.kind != "catalog":
                use(access.preview_group, securable.name)
            grant(access.preview_group, securable, READ_PRIVILEGES[securable.kind])
    return {key: tuple(sorted(privileges)) for key, privileges in sorted(needs.items())}


def model_key_of(cfg: StackConfig, key: str) -> str:
    """A stack file key of one model's section as the stack file has it: under
    ``mlops:models.<key>`` in a stack of several models, at the top in the one-model form."""
    if cfg.model_key is None or not key.startswith(f"{NAMESPACE}:"):
        return key
    return f"{NAMESPACE}:models.{cfg.model_key}.{key[len(NAMESPACE) + 1 :]}"


def stack_grant_plan(cfg: StackConfig) -> dict[GrantKey, tuple[str, ...]]:
    """Every Unity Catalog grant of the stack, every model's :func:`grant_plan` merged per
    (principal, securable): ``databricks.Grant`` is authoritative for its principal on its
    securable (see :mod:`~mlops_resources.databricks.grants`), so two models sharing a schema
    must declare one Grant with the union of their privileges, not one each that revoke each
    other's. Equal to :func:`grant_plan` for a one-model stack."""
    merged: dict[GrantKey, set[str]] = defaultdict(set)
    for view in cfg.model_views():
        for key, privileges in grant_plan(view).items():
            merged[key].update(privileges)
    return {key: tuple(sorted(privileges)) for key, privileges in sorted(merged.items())}


def stack_required_objects(cfg: StackConfig) -> list[RequiredObject]:
    """Every model's :func:`required_objects`, each object once, with the first model key
    that names it."""
    found: dict[Securable, RequiredObject] = {}
    for view in cfg.model_views():
        for required in required_objects(view):
            key = model_key_of(view, required.key)
            found.setdefault(required.securable, dataclasses.replace(required, key=key))
    return list(found.values())


def model_collisions(views: Iterable[StackConfig]) -> list[str]:
    """Problems between the models of one stack: a table one model writes that another reads
    or writes, one registered model (``model.name``) shared by two models, and one serving
    inference table prefix in one schema. Grants are merged (:func:`stack_grant_plan`)."""
    views = list(views)
    problems = []
    for view in views:
        for other in views:
            if other is view:
                continue
            theirs = touched_tables(other)
            for key, table in written_tables(view):
                if table in theirs:
                    problems.append(
                        f"{model_key_of(view, key)}: {table!r} is a table of model "
                        f"{other.model_key!r} too; model {view.model_key!r} would "
                        f"{_WRITES[key]}. Write to a table of its own"
                    )
    seen: dict[str, StackConfig] = {}
    for view in views:
        name = view.model_name.lower()
        if name in seen:
            problems.append(
                f"{model_key_of(view, f'{NAMESPACE}:model.name')}: {view.model_name!r} is the "
                f"registered model of model {seen[name].model_key!r} too; each model needs a "
                "name of its own (leave model.name unset for <project>_<key>_model)"
            )
        seen.setdefault(name, view)
    prefixes: dict[tuple[str, str], StackConfig] = {}
    for view in views:
        schema = inference_table_schema(view.serving, view.model_schema)
        if not view.serving.enabled or schema is None:
            continue
        prefix = inference_table_prefix(view.serving, view.environment, view.model_project)
        where = (schema, prefix.lower())
        if where in prefixes:
            problems.append(
                f"{model_key_of(view, f'{NAMESPACE}:serving.inference_table.table_name_prefix')}"
                f": {prefix!r} in {schema!r} is the inference table prefix of model "
                f"{prefixes[where].model_key!r} too; two endpoints would write one table"
            )
        prefixes.setdefault(where, view)
    return problems


def table_collisions(cfg: StackConfig, others: Iterable[tuple[str, StackConfig]]) -> list[str]:
    """A table ``cfg``'s jobs write that another stack (``(file, config)``) reads or writes,
    each naming the key of ``cfg`` that sets it; every model of either stack counts."""
    problems = []
    for stack_file, other in others:
        theirs = set().union(*(touched_tables(view) for view in other.model_views()))
        for view in cfg.model_views():
            for key, table in written_tables(view):
                if table in theirs:
                    problems.append(
                        f"{model_key_of(view, key)}: {table!r} is a table of {stack_file}; "
                        f"this stack would {_WRITES[key]}. Write to a table of its own"
                    )
    return problems


def grant_collisions(cfg: StackConfig, others: Iterable[tuple[str, StackConfig]]) -> list[str]:
    """A (principal, securable) grant ``cfg`` declares that another stack (``(file, config)``)
    declares too: two ``databricks.Grant`` on one pair revoke each other's privileges. Every
    model of either stack counts (:func:`stack_grant_plan`)."""
    problems = []
    plan = stack_grant_plan(cfg)
    for stack_file, other in others:
        for key in sorted(plan.keys() & stack_grant_plan(other).keys()):
            role = next(
                role
                for view in cfg.model_views()
                for role in ("jobs_group", "model_readers_group", "preview_group")
                if getattr(view.access, role) == key.principal
            )
            problems.append(
                f"{NAMESPACE}:access.{role}: {stack_file} already manages the grants of "
                f"{key.principal!r} on {key.securable.kind} {key.securable.name!r}; two stacks "
                "managing one grant revoke each other's privileges. Use a group of this "
                "stack's own, or leave the key unset"
            )
    return problems


def collision_problems(cfg: StackConfig, others: Iterable[tuple[str, StackConfig]]) -> list[str]:
    """Problems of a stack that would hurt other stacks (``(file, config)``): writing a table
    another reads or writes (:func:`table_collisions`), or managing one of its grants
    (:func:`grant_collisions`)."""
    others = list(others)
    return table_collisions(cfg, others) + grant_collisions(cfg, others)
