"""Stack configuration: :class:`StackConfig`, everything one stack declares, with the names
derived from it, and the checks that span its sections.

Every value that differs between environments lives in the stack file
(``Pulumi.<stack>.yaml``) under the ``mlops:`` namespace, plus the provider's
``databricks:host``. :func:`~mlops_resources.config.load.load_config` turns the Pulumi runtime
config into a frozen :class:`StackConfig` or raises ``ConfigError`` listing *every* problem,
each naming the stack file, the key and what is expected.

One module per part of the stack file, each with its section's model, validators and the
problems only it can have; this module imports them, none imports it back:

- ``mlops:model`` :mod:`~mlops_resources.config.model`, ``code_source``
  :mod:`~mlops_resources.config.code_source`, ``compute``
  :mod:`~mlops_resources.config.compute`, ``cluster`` :mod:`~mlops_resources.config.cluster`,
  ``training`` :mod:`~mlops_resources.config.training`, ``batch_inference``
  :mod:`~mlops_resources.config.batch_inference`, ``jobs`` :mod:`~mlops_resources.config.jobs`,
  ``access`` (and who a stack runs as) :mod:`~mlops_resources.config.access`, ``monitoring``
  :mod:`~mlops_resources.config.monitoring`, ``serving`` :mod:`~mlops_resources.config.serving`;
  every job's ``schedule`` :mod:`~mlops_resources.config.schedule`; ``databricks:host``
  :mod:`~mlops_resources.config.host`; the namespace and the scheduled stacks
  :mod:`~mlops_resources.config.namespace`.
- Above this module: :mod:`~mlops_resources.config.unity_catalog` (what a config implies in
  Unity Catalog), then :mod:`~mlops_resources.config.load` (validation, with the collision
  checks against the committed stacks). ``lint-imports`` keeps the layers.

Stack files on disk are read only through :mod:`~mlops_resources.config.stack_files`, which
encodes them as the Pulumi CLI passes them to the program: the offline tools (``render``,
``check``, ``init``) and the program's own check of a personal stack against the committed
files read them so, and validate them with these same models; the smoke run reads only
``databricks:host`` from it. The reading machinery is in :mod:`~mlops_resources.config.reading`,
the value checks in :mod:`~mlops_resources.config.checks`.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from mlops_resources.config.access import (
    SHARED_ROOTS,
    AccessConfig,
    Principal,
    group_problems,
)
from mlops_resources.config.batch_inference import BatchInferenceConfig
from mlops_resources.config.checks import WorkspacePath, is_uc_table, name_length_problem
from mlops_resources.config.cluster import ClusterConfig
from mlops_resources.config.code_source import CodeSourceConfig
from mlops_resources.config.compute import ComputeConfig, compute_problems
from mlops_resources.config.host import DATABRICKS_HOST_DOMAINS, DATABRICKS_HOST_KEY
from mlops_resources.config.jobs import JobsConfig
from mlops_resources.config.model import ModelConfig
from mlops_resources.config.monitoring import MonitoringConfig, monitoring_problems
from mlops_resources.config.namespace import NAMESPACE, SCHEDULED_STACKS
from mlops_resources.config.reading import Namespace, ReferenceEntry, Section
from mlops_resources.config.schedule import ScheduleConfig
from mlops_resources.config.serving import (
    PAYLOAD_SUFFIX,
    PROCESSED_SUFFIX,
    ServingConfig,
    endpoint_name,
    monitoring_source_problems,
    payload_table,
    scales_to_zero,
    serving_problems,
)
from mlops_resources.config.training import TrainingConfig

_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")

_PROJECT = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")


class StackConfig(Section):
    """Everything one stack declares. Built by :func:`load_config`."""

    environment: str = Field(description="the stack name; prefixes every Databricks name")
    host: str = Field(description="workspace URL (databricks:host)")
    extra_host_domains: list[str] = Field(
        default_factory=list,
        examples=[["cloud.databricks.us"]],
        description="domains databricks:host may be in besides "
        f"{', '.join(DATABRICKS_HOST_DOMAINS)} (e.g. a government cloud's)",
    )
    project_name: str = Field(
        examples=["wine-quality"],
        description="project name, lowercase with hyphens, e.g. 'wine-quality'",
    )
    protect_ml_assets: bool = Field(
        False,
        examples=[True],
        description="protect and retain experiment and model on delete (prod: true)",
    )
    workspace_root: WorkspacePath | None = Field(
        None,
        examples=["/Workspace/ml-projects/wine-quality"],
        description="workspace folder of the project; default: the run-as principal's home, "
        "/Users/<run_as_service_principal or run_as_user>/<project_name>",
    )
    model: ModelConfig = Field(description="model registry section")
    code_source: CodeSourceConfig = Field(description="where jobs find notebooks")
    compute: ComputeConfig = Field(
        ComputeConfig(), description="classic job cluster or serverless compute"
    )
    cluster: ClusterConfig | None = Field(
        None, description="job cluster (compute.type 'classic' only, and required there)"
    )
    training: TrainingConfig = Field(description="training job")
    batch_inference: BatchInferenceConfig = Field(description="batch inference job")
    jobs: JobsConfig = Field(JobsConfig(), description="job hardening")
    access: AccessConfig = Field(description="groups and run-as")
    monitoring: MonitoringConfig = Field(MonitoringConfig(), description="model monitoring")
    serving: ServingConfig = Field(
        ServingConfig(), description="real-time serving of the champion (optional)"
    )
    model_key: str | None = Field(
        None,
        description="derived: this model's key under mlops:models (several models per stack); "
        "None in the one-model form, whose names stay as they were",
    )
    model_configs: tuple[StackConfig, ...] = Field(
        (),
        description="derived: every model's config, one per key of mlops:models (empty in the "
        "one-model form); the stack-level config is the first model's",
    )

    @field_validator("project_name")
    @classmethod
    def _project(cls, name: str) -> str:
        if not _PROJECT.match(name):
            raise ValueError(
                f"expected lowercase letters, digits and hyphens (3-40 chars), got {name!r}"
            )
        return name

    @field_validator("extra_host_domains")
    @classmethod
    def _domains(cls, domains: list[str]) -> list[str]:
        bad = [d for d in domains if not _DOMAIN.match(d)]
        if bad:
            raise ValueError(
                f"expected domain names like 'cloud.databricks.us' (lowercase, no scheme, no "
                f"leading dot, at least two labels), got {bad}"
            )
        return domains

    # Derived names. Kept here so every component and test agrees on them.

    @property
    def prefix(self) -> str:
        """Prefix of every Databricks-visible name: the environment (stack) name."""
        return self.environment

    @property
    def personal(self) -> bool:
        """A personal stack (any stack but staging and prod): it runs as its developer."""
        return self.environment not in SCHEDULED_STACKS

    @property
    def run_as(self) -> Principal:
        """Who the jobs run as (:attr:`AccessConfig.run_as`); a personal stack's deployer must
        have been filled in first (``with_run_as_user``)."""
        principal = self.access.run_as
        if principal is None:
            raise ValueError(
                f"{self.environment}: the deploying user is not known yet (with_run_as_user)"
            )
        return principal

    def with_run_as_user(self, user_name: str) -> StackConfig:
        """This personal stack's config run as ``user_name``, the user whose credentials
        deploy it (a stack file that names no ``access.run_as_user``)."""
        access = self.access.model_copy(update={"run_as_user": user_name})
        views = tuple(view.with_run_as_user(user_name) for view in self.model_configs)
        return self.model_copy(update={"access": access, "model_configs": views})

    def model_views(self) -> tuple[StackConfig, ...]:
        """Each model's config: the models of ``mlops:models``, or this config alone."""
        return self.model_configs or (self,)

    @property
    def model_project(self) -> str:
        """The per-model naming hook: the project name, followed by the model key when the
        stack declares several models, in every name a model has of its own (jobs,
        experiment, endpoint, Unity Catalog model)."""
        if self.model_key is None:
            return self.project_name
        return f"{self.project_name}-{self.model_key}"

    @property
    def failure_emails(self) -> tuple[str, ...]:
        """Who is emailed when a run fails: the configured addresses, and on a personal stack
        its developer (a user name is an e-mail address), not the team's on-call."""
        emails = list(self.jobs.on_failure_emails)
        principal = self.access.run_as
        if self.personal and principal and principal.kind == "user" and "@" in principal.name:
            emails.append(principal.name)
        return tuple(dict.fromkeys(emails))

    @property
    def root_dir(self) -> str:
        """The project's workspace folder (configured, or in the run-as principal's home)."""
        return self.workspace_root or f"{self.run_as.home}/{self.project_name}"

    @property
    def stack_dir(self) -> str:
        """Workspace folder owned by this stack: experiment and uploaded notebooks."""
        return f"{self.root_dir}/{self.environment}"

    @property
    def experiment_name(self) -> str:
        return f"{self.stack_dir}/{self.prefix}-{self.model_project}-experiment"

    @property
    def model_name(self) -> str:
        """Name the jobs use: three-part in Unity Catalog, plain in the workspace registry."""
        base = self.model.name or f"{self.model_project.replace('-', '_')}_model"
        if self.model.registry == "unity_catalog":
            env = self.environment.replace("-", "_")
            return f"{self.model.catalog}.{self.model.schema_name}.{env}_{base}"
        return f"{self.prefix}-{base.replace('_', '-')}"

    @property
    def retraining_job_name(self) -> str:
        return f"{self.prefix}-{self.model_project}-retraining-job"

    @property
    def logs_inferences(self) -> bool:
        """Whether batch inference appends its rows to the inference log."""
        configured = self.monitoring.log_inferences
        return self.monitoring.enabled if configured is None else configured

    @property
    def batch_logs_inferences(self) -> bool:
        """Whether batch inference appends its rows to the inference log (source
        ``batch_inference``)."""
        return self.logs_inferences and self.monitoring.source == "batch_inference"

    @property
    def model_schema(self) -> str | None:
        """``catalog.schema`` of a Unity Catalog model, lowercase (None in the workspace
        registry)."""
        if self.model.registry != "unity_catalog":
            return None
        return f"{self.model.catalog}.{self.model.schema_name}".lower()

    @property
    def serving_payload_table(self) -> str | None:
        """The serving endpoint's AI Gateway inference table, None when it is off."""
        return payload_table(self.serving, self.model_schema, self.environment, self.model_project)

    @property
    def serving_logs_inferences(self) -> bool:
        """Whether the serving inference log job unpacks the endpoint's inference table into
        the inference log (source ``serving``, its table on)."""
        serving = self.logs_inferences and self.monitoring.source == "serving"
        return serving and self.serving_payload_table is not None

    @property
    def inference_log_table(self) -> str:
        """The table the monitor watches: configured, or the output table's name + ``_log``
        (source ``serving``: the payload table's prefix + ``_processed``)."""
        configured = self.monitoring.inference_log_table
        payload = self.serving_payload_table
        if configured:
            return configured
        if self.monitoring.source == "serving" and payload:
            return payload.removesuffix(PAYLOAD_SUFFIX) + PROCESSED_SUFFIX
        return f"{self.batch_inference.output_table_name}_log"

    @property
    def monitor_output_schema(self) -> str:
        """``<catalog>.<schema>`` of the monitor's metric tables."""
        return self.monitoring.output_schema or self.inference_log_table.rsplit(".", 1)[0]

    def metrics_table(self, kind: str) -> str:
        """``<output schema>.<log table>_profile_metrics`` or ``..._drift_metrics``, where the
        monitor writes them (docs, "Monitor metric tables")."""
        table = self.inference_log_table.rsplit(".", 1)[-1]
        return f"{self.monitor_output_schema}.{table}_{kind}_metrics"

    @property
    def training_job_name(self) -> str:
        return f"{self.prefix}-{self.model_project}-model-training-job"

    @property
    def serving_endpoint_name(self) -> str:
        """The serving endpoint's name (``mlops:serving``), derived, never configured."""
        return endpoint_name(self.prefix, self.model_project)

    @property
    def serving_scales_to_zero(self) -> bool:
        """Whether the endpoint scales to zero: configured, else not on prod."""
        return scales_to_zero(self.serving, self.environment)

    @property
    def serving_log_job_name(self) -> str:
        """The serving inference log job's name (``monitoring.source: serving``)."""
        return f"{self.prefix}-{self.model_project}-serving-log-job"

    @property
    def batch_inference_job_name(self) -> str:
        return f"{self.prefix}-{self.model_project}-batch-inference-job"

    def schedule_paused(self, schedule: ScheduleConfig) -> bool:
        if schedule.paused is not None:
            return schedule.paused
        return self.environment not in SCHEDULED_STACKS

    @property
    def jobs_paused(self) -> bool:
        """Whether every job schedule of the stack is paused (a personal stack's default):
        training, batch inference and, with monitoring, retraining."""
        schedules = [self.training.schedule, self.batch_inference.schedule]
        retraining = self.monitoring.retraining
        if self.monitoring.enabled and retraining is not None:
            schedules.append(retraining.schedule)
        return all(self.schedule_paused(schedule) for schedule in schedules)

    @property
    def monitor_scheduled(self) -> bool:
        """Whether the monitor refreshes on its schedule. A monitor's schedule cannot be paused
        (the provider computes ``pause_status``; the Databricks CLI drops the schedule of a
        monitor it would pause), so it has one only when its own schedule runs and a job of
        the stack runs too: a stack whose jobs are all paused refreshes nothing."""
        schedule = self.monitoring.schedule
        return schedule is not None and not self.schedule_paused(schedule) and not self.jobs_paused


# --------------------------------------------------------------------------------------------


def cross_field_problems(cfg: StackConfig) -> list[str]:
    """Checks that involve more than one key; each problem names the key to change."""
    problems = []
    model = cfg.model
    unity_catalog = model.registry == "unity_catalog"
    if unity_catalog:
        for name, value in (("catalog", model.catalog), ("schema", model.schema_name)):
            if value is None:
                problems.append(
                    f"{NAMESPACE}:model.{name}: required when model.registry is 'unity_catalog'"
                )
    else:
        for name, value in (("catalog", model.catalog), ("schema", model.schema_name)):
            if value is not None:
                problems.append(
                    f"{NAMESPACE}:model.{name}: only used with model.registry 'unity_catalog'; "
                    "remove it or switch the registry"
                )
    access, batch = cfg.access, cfg.batch_inference
    for name in ("input_table_name", "output_table_name"):
        value = getattr(batch, name)
        if not is_uc_table(value) and (unity_catalog or access.jobs_group):
            why = "model.registry is 'unity_catalog'" if unity_catalog else "access.jobs_group"
            problems.append(
                f"{NAMESPACE}:batch_inference.{name}: expected a three-part Unity Catalog name "
                f"<catalog>.<schema>.<table> ({why}), got {value!r}"
            )
    tables = {"input_table_name": batch.input_table_name}
    if cfg.training.training_table_name:
        tables["training.training_data"] = cfg.training.training_table_name
    for name, table in tables.items():
        if table.lower() == batch.output_table_name.lower():
            problems.append(
                f"{NAMESPACE}:batch_inference.output_table_name: must differ from {name} "
                f"({table!r}): batch inference overwrites its output table"
            )
    if access.model_readers_group and not unity_catalog:
        problems.append(
            f"{NAMESPACE}:access.model_readers_group: a Unity Catalog grant; workspace-registry "
            "models are shared with access.readers_group"
        )
    preview = (access.preview_group or "").lower()
    for role in ("jobs_group", "model_readers_group"):
        if preview and preview == (getattr(access, role) or "").lower():
            problems.append(
                f"{NAMESPACE}:access.preview_group: must differ from access.{role}; the "
                "preview principal only reads, and a group's privileges on a securable are one "
                "grant"
            )
    if access.operators_group is not None and access.operators_group == access.readers_group:
        problems.append(
            f"{NAMESPACE}:access.operators_group: must differ from access.readers_group; one "
            "principal gets exactly one permission level per object"
        )
    source = cfg.code_source
    if source.type == "git":
        if source.url is None:
            problems.append(f"{NAMESPACE}:code_source.url: required when code_source.type is 'git'")
        if (source.branch is None) == (source.tag is None):
            problems.append(
                f"{NAMESPACE}:code_source.branch: set exactly one of code_source.branch and "
                "code_source.tag when code_source.type is 'git'"
            )
    else:
        for name in ("url", "provider", "branch", "tag"):
            if getattr(source, name) is not None:
                problems.append(
                    f"{NAMESPACE}:code_source.{name}: only used when code_source.type is 'git'; "
                    "remove it or set code_source.type to 'git'"
                )
    problems += compute_problems(
        NAMESPACE, cfg.compute, cfg.cluster is not None, cfg.model.registry, not cfg.personal
    )
    cluster = cfg.cluster
    if cluster is not None and cluster.num_workers > cluster.max_num_workers:
        problems.append(
            f"{NAMESPACE}:cluster.num_workers: {cluster.num_workers} workers is more than "
            f"cluster.max_num_workers ({cluster.max_num_workers}); if you mean it, raise "
            "cluster.max_num_workers too"
        )
    if cluster is not None and cluster.data_security_mode == "USER_ISOLATION":
        problems.append(
            f"{NAMESPACE}:cluster.data_security_mode: 'USER_ISOLATION' (standard access mode) "
            "does not run Databricks Runtime for Machine Learning; expected 'SINGLE_USER' "
            "(dedicated), which runs as the run-as principal"
        )
    problems += monitoring_problems(cfg)
    problems += serving_problems(
        NAMESPACE,
        cfg.serving,
        endpoint=cfg.serving_endpoint_name,
        registry=cfg.model.registry,
        model_schema=cfg.model_schema,
        readers_group=cfg.access.readers_group,
    )
    problems += monitoring_source_problems(
        NAMESPACE,
        cfg.monitoring.source,
        cfg.serving,
        filled=cfg.logs_inferences,
        monitored_table=cfg.inference_log_table,
        payload=cfg.serving_payload_table,
    )
    problems += group_problems(cfg)
    problems += _name_length_problems(cfg)
    root = cfg.workspace_root  # the default, a home folder, is never shared
    shared = root is not None and any(
        root == shared_root or root.startswith(f"{shared_root}/") for shared_root in SHARED_ROOTS
    )
    if shared and (cfg.environment == "prod" or cfg.protect_ml_assets):
        problems.append(
            f"{NAMESPACE}:workspace_root: {root!r} is under /Shared, where every "
            "workspace user can manage every object (and edit code that runs as the run-as "
            "principal); a protected or prod stack needs a folder of its own, e.g. the default "
            "(the run-as principal's home)"
        )
    return problems


def _name_length_problems(cfg: StackConfig) -> list[str]:
    """Names the stack derives from config (environment prefix, suffixes) that Unity Catalog
    would refuse as too long, each reported at the key it comes from."""
    derived: list[tuple[str, str]] = []
    if cfg.model.registry == "unity_catalog" and cfg.model.catalog and cfg.model.schema_name:
        key = "model.name" if cfg.model.name else "project_name"
        derived.append((key, cfg.model_name))
    if cfg.logs_inferences:
        key = (
            "monitoring.inference_log_table"
            if cfg.monitoring.inference_log_table
            else "serving.inference_table.table_name_prefix"
            if cfg.serving_logs_inferences
            else "batch_inference.output_table_name"
        )
        derived.append((key, cfg.inference_log_table))
        if cfg.monitoring.enabled:
            derived.append((key, cfg.metrics_table("profile")))
        if cfg.monitoring.output_schema:
            derived.append(("monitoring.output_schema", cfg.monitoring.output_schema))
    problems = []
    for key, name in derived:
        problem = name_length_problem(name)
        if problem:
            problems.append(f"{NAMESPACE}:{key}: the name it gives, {problem}")
    return problems


MLOPS = Namespace(
    NAMESPACE,
    StackConfig,
    {"environment": "", "host": DATABRICKS_HOST_KEY, "model_key": "", "model_configs": ""},
    (
        ReferenceEntry(
            DATABRICKS_HOST_KEY,
            "str",
            "required",
            "workspace URL (https://...) in a Databricks domain; CI compares it with the "
            "environment's DATABRICKS_HOST variable before any credential is used",
            "https://dbc-1234abcd-5678.cloud.databricks.com",
        ),
    ),
    providers=("databricks",),
)
