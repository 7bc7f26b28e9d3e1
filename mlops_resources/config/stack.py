"""Stack configuration: read once, validated completely, before any resource is declared.

Every value that differs between environments lives in the stack file
(``Pulumi.<stack>.yaml``) under the ``mlops:`` namespace, plus the provider's
``databricks:host``. :func:`load_config` turns the Pulumi runtime config into a frozen
:class:`StackConfig` or raises :class:`ConfigError` listing *every* problem, each naming the
stack file, the key and what is expected.

The offline renderer (``python -m mlops_resources render``) feeds the same runtime config from
the stack file, so this package is the only place config is read. The reading machinery is in
:mod:`~mlops_resources.config.reading`, the value checks in :mod:`~mlops_resources.config.checks`.
"""

from __future__ import annotations

import re
import uuid
from typing import Literal

import pulumi
from pydantic import Field, ValidationInfo, field_validator

from mlops_resources.config.checks import (
    Email,
    Identifier,
    NonEmpty,
    QuartzCron,
    TableName,
    TimeZone,
    WorkspacePath,
    check_table_name,
    raise_problems,
    threshold_problems,
)
from mlops_resources.config.reading import (
    ConfigError,
    Namespace,
    RawConfig,
    ReferenceEntry,
    Section,
    credential_problems,
)

NAMESPACE = "mlops"
"""Config namespace: the Pulumi project name in ``Pulumi.yaml``."""

SCHEDULED_STACKS = ("staging", "prod")
"""Stacks whose job schedules run unless the stack file pauses them; any other stack
(a personal ``dev-<name>`` stack) is paused unless its file says otherwise."""

DATABRICKS_HOST_KEY = "databricks:host"

_PROJECT = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
_SPARK_VERSION = re.compile(r"^\d+\.\d+\.x-[a-z0-9-]+-scala\d+\.\d+$")


class ScheduleConfig(Section):
    """When a job runs."""

    quartz_cron: QuartzCron = Field(description="Quartz cron expression, e.g. '0 0 9 * * ?'")
    timezone: TimeZone = Field("UTC", description="time zone id of the schedule")
    paused: bool | None = Field(
        None,
        description="pause the schedule; default: running on staging/prod, paused on other stacks",
    )


class ModelConfig(Section):
    """Where the model is registered."""

    registry: Literal["unity_catalog", "workspace"] = Field(
        description="'unity_catalog' (RegisteredModel) or 'workspace' (MlflowModel)"
    )
    catalog: Identifier | None = Field(
        None, description="Unity Catalog catalog (unity_catalog only)"
    )
    schema_name: Identifier | None = Field(
        None, alias="schema", description="Unity Catalog schema (unity_catalog only)"
    )
    name: Identifier | None = Field(
        None, description="model base name; the environment is prefixed. Default: <project>_model"
    )


class CodeSourceConfig(Section):
    """Where jobs find the notebooks of ``notebooks/``."""

    type: Literal["git", "workspace"] = Field(
        description="'git' (jobs check out the repo) or 'workspace' (the stack uploads notebooks)"
    )
    url: NonEmpty | None = Field(None, description="git repository URL (git only)")
    provider: Literal[
        "gitHub",
        "gitHubEnterprise",
        "bitbucketCloud",
        "bitbucketServer",
        "gitLab",
        "gitLabEnterpriseEdition",
        "azureDevOpsServices",
        "awsCodeCommit",
    ] = Field("gitHub", description="git provider, as the Jobs API spells it (git only)")
    branch: NonEmpty | None = Field(
        None, description="branch to run (git only; exactly one of branch/tag)"
    )
    tag: NonEmpty | None = Field(
        None, description="tag to run (git only; exactly one of branch/tag)"
    )

    @field_validator("url")
    @classmethod
    def _https_url(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"^https://[^\s/]+/\S+$", url):
            raise ValueError(f"expected an https:// repository URL, got {url!r}")
        return url


class ClusterConfig(Section):
    """The job cluster every task runs on."""

    spark_version: NonEmpty = Field(description="pinned runtime, e.g. '15.4.x-cpu-ml-scala2.12'")
    node_type_id: NonEmpty = Field(description="node type, e.g. 'i3.xlarge'")
    num_workers: int = Field(description="number of workers, at least 1")
    data_security_mode: Literal["SINGLE_USER", "USER_ISOLATION"] = Field(
        "SINGLE_USER", description="a Unity Catalog capable access mode"
    )
    custom_tags: dict[str, str] = Field(
        default_factory=dict, description="extra cluster tags (cost attribution)"
    )

    @field_validator("spark_version")
    @classmethod
    def _pinned(cls, version: str) -> str:
        if not _SPARK_VERSION.match(version):
            raise ValueError(
                f"expected a pinned runtime like '15.4.x-cpu-ml-scala2.12', got {version!r}"
            )
        return version

    @field_validator("num_workers")
    @classmethod
    def _positive(cls, workers: int) -> int:
        if workers < 1:
            raise ValueError(f"expected a positive number of workers, got {workers}")
        return workers


class MetricThreshold(Section):
    """What one metric must satisfy for a new model version to pass validation."""

    threshold: float | None = Field(
        None,
        description="minimum (maximum where lower is better, e.g. log_loss); unset: only "
        "compared with the champion",
    )
    tolerance: float = Field(
        0.0, description="how much worse than the champion the new version may be on it"
    )


class ValidationConfig(Section):
    """How ModelValidation judges a new model version."""

    holdout_percent: int = Field(
        20,
        description="percent of rows held out, chosen by a hash of each row's key (1-99); "
        "a row stays on its side in every run",
    )
    split_key_columns: list[Identifier] = Field(
        default_factory=list,
        description="columns that identify a row for the split; default: every column",
    )
    baseline_check: bool = Field(
        True, description="the primary metric must beat a trivial predictor's (class prior, mean)"
    )
    thresholds: dict[str, MetricThreshold] = Field(
        default_factory=dict,
        description="metric -> {threshold, tolerance}; metrics training logs for the problem "
        "type; each is also compared with the champion, as is roc_auc (classification) or "
        "root_mean_squared_error (regression)",
    )

    @field_validator("holdout_percent")
    @classmethod
    def _percent(cls, percent: int) -> int:
        if not 1 <= percent <= 99:
            raise ValueError(f"expected a percentage from 1 to 99, got {percent}")
        return percent


class TrainingConfig(Section):
    """The training job: Train -> ModelValidation -> ModelDeployment."""

    schedule: ScheduleConfig = Field(description="training schedule")
    training_data: NonEmpty = Field(
        "/databricks-datasets/wine-quality/winequality-red.csv",
        description="a /databricks-datasets CSV path, or a <catalog>.<schema>.<table> name",
    )
    label_column: Identifier = Field("quality", description="column the model learns from")
    problem_type: Literal["classification", "regression"] = Field(
        "classification",
        description="'classification' (label >= positive_threshold is class 1) or "
        "'regression' (the label itself)",
    )
    positive_threshold: float | None = Field(
        None,
        validate_default=True,
        description="classification only: labels at or above it are the positive class, "
        "e.g. 7 for quality >= 7",
    )
    run_mode: Literal["disabled", "dry_run", "enabled"] = Field(
        "dry_run", description="validation mode: 'enabled' fails a worse model, 'dry_run' reports"
    )
    validation: ValidationConfig = Field(
        ValidationConfig(),
        validate_default=True,
        description="how a new model version is validated",
    )

    @field_validator("training_data")
    @classmethod
    def _path_or_table(cls, value: str) -> str:
        if not value.startswith(("/", "dbfs:/")):
            check_table_name(value)
        return value

    @property
    def training_table_name(self) -> str | None:
        """The training table, when training data is a table rather than a file path."""
        return None if self.training_data.startswith(("/", "dbfs:/")) else self.training_data

    @field_validator("positive_threshold")
    @classmethod
    def _fits_problem_type(cls, threshold: float | None, info: ValidationInfo) -> float | None:
        problem_type = info.data.get("problem_type")
        if problem_type == "classification" and threshold is None:
            raise ValueError(
                "required when training.problem_type is 'classification': labels at or above "
                "it are the positive class, e.g. 7"
            )
        if problem_type == "regression" and threshold is not None:
            raise ValueError("only used when training.problem_type is 'classification'")
        return threshold

    @field_validator("validation")
    @classmethod
    def _metrics_of_problem_type(
        cls, validation: ValidationConfig, info: ValidationInfo
    ) -> ValidationConfig:
        problem_type = info.data.get("problem_type")
        if problem_type is not None:  # else problem_type itself is reported
            thresholds = {
                name: (entry.threshold, entry.tolerance)
                for name, entry in validation.thresholds.items()
            }
            raise_problems("ValidationConfig", threshold_problems(problem_type, thresholds))
        return validation


class BatchInferenceConfig(Section):
    """The batch inference job and the tables it reads and writes."""

    input_table_name: TableName = Field(description="table to score")
    output_table_name: TableName = Field(description="table the predictions are written to")
    schedule: ScheduleConfig = Field(description="batch inference schedule")
    grant_table_access: bool = Field(
        False, description="declare the run-as principal's Unity Catalog grants on the tables"
    )
    output_table_exists: bool = Field(
        False, description="the output table pre-dates the job (then MODIFY is granted on it)"
    )


class JobsConfig(Section):
    """Hardening applied to both jobs."""

    timeout_seconds: int = Field(14400, gt=0, description="a run is cancelled after this long")
    max_retries: int = Field(1, ge=0, le=10, description="retries of a failed task")
    min_retry_interval_millis: int = Field(60000, ge=0, description="wait before a retry")
    on_failure_emails: list[Email] = Field(
        default_factory=list, description="addresses emailed when a run fails"
    )


class AccessConfig(Section):
    """Who may see and operate what."""

    readers_group: NonEmpty = Field(
        "users", description="group with read access (CAN_VIEW/CAN_READ/EXECUTE)"
    )
    operators_group: NonEmpty | None = Field(
        None, description="optional group that may run and cancel the jobs (CAN_MANAGE_RUN)"
    )
    run_as_service_principal: str | None = Field(
        None, description="application id (UUID) of the service principal the jobs run as"
    )

    @field_validator("run_as_service_principal")
    @classmethod
    def _application_id(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                uuid.UUID(value)
            except ValueError:
                raise ValueError(
                    f"expected a service principal application id (a UUID), got {value!r}"
                ) from None
        return value


class StackConfig(Section):
    """Everything one stack declares. Built by :func:`load_config`."""

    environment: str = Field(description="the stack name; prefixes every Databricks name")
    host: str = Field(description="workspace URL (databricks:host)")
    project_name: str = Field(
        description="project name, lowercase with hyphens, e.g. 'wine-quality'"
    )
    protect_ml_assets: bool = Field(
        False, description="protect and retain experiment and model on delete (prod: true)"
    )
    workspace_root: WorkspacePath | None = Field(
        None, description="workspace folder of the project; default /Shared/<project_name>"
    )
    model: ModelConfig = Field(description="model registry section")
    code_source: CodeSourceConfig = Field(description="where jobs find notebooks")
    cluster: ClusterConfig = Field(description="job cluster")
    training: TrainingConfig = Field(description="training job")
    batch_inference: BatchInferenceConfig = Field(description="batch inference job")
    jobs: JobsConfig = Field(JobsConfig(), description="job hardening")
    access: AccessConfig = Field(AccessConfig(), description="groups and run-as")

    @field_validator("project_name")
    @classmethod
    def _project(cls, name: str) -> str:
        if not _PROJECT.match(name):
            raise ValueError(
                f"expected lowercase letters, digits and hyphens (3-40 chars), got {name!r}"
            )
        return name

    # Derived names. Kept here so every component and test agrees on them.

    @property
    def prefix(self) -> str:
        """Prefix of every Databricks-visible name: the environment (stack) name."""
        return self.environment

    @property
    def stack_dir(self) -> str:
        """Workspace folder owned by this stack: experiment and uploaded notebooks."""
        root = self.workspace_root or f"/Shared/{self.project_name}"
        return f"{root}/{self.environment}"

    @property
    def experiment_name(self) -> str:
        return f"{self.stack_dir}/{self.prefix}-{self.project_name}-experiment"

    @property
    def model_name(self) -> str:
        """Name the jobs use: three-part in Unity Catalog, plain in the workspace registry."""
        base = self.model.name or f"{self.project_name.replace('-', '_')}_model"
        if self.model.registry == "unity_catalog":
            env = self.environment.replace("-", "_")
            return f"{self.model.catalog}.{self.model.schema_name}.{env}_{base}"
        return f"{self.prefix}-{base.replace('_', '-')}"

    @property
    def training_job_name(self) -> str:
        return f"{self.prefix}-{self.project_name}-model-training-job"

    @property
    def batch_inference_job_name(self) -> str:
        return f"{self.prefix}-{self.project_name}-batch-inference-job"

    def schedule_paused(self, schedule: ScheduleConfig) -> bool:
        if schedule.paused is not None:
            return schedule.paused
        return self.environment not in SCHEDULED_STACKS


# --------------------------------------------------------------------------------------------


def _cross_field_problems(cfg: StackConfig) -> list[str]:
    """Checks that involve more than one key; each problem names the key to change."""
    problems = []
    model = cfg.model
    if model.registry == "unity_catalog":
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
    batch = cfg.batch_inference
    for name in ("input_table_name", "output_table_name"):
        value = getattr(batch, name)
        if model.registry == "unity_catalog" and value.count(".") != 2:
            problems.append(
                f"{NAMESPACE}:batch_inference.{name}: expected a three-part Unity Catalog name "
                f"<catalog>.<schema>.<table>, got {value!r}"
            )
    if batch.input_table_name == batch.output_table_name:
        problems.append(
            f"{NAMESPACE}:batch_inference.output_table_name: must differ from input_table_name "
            f"({batch.input_table_name!r})"
        )
    if batch.grant_table_access:
        if cfg.access.run_as_service_principal is None:
            problems.append(
                f"{NAMESPACE}:batch_inference.grant_table_access: needs "
                f"{NAMESPACE}:access.run_as_service_principal (the principal to grant to)"
            )
        if model.registry != "unity_catalog":
            problems.append(
                f"{NAMESPACE}:batch_inference.grant_table_access: table grants are Unity Catalog "
                "grants; expected model.registry 'unity_catalog'"
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
        for name in ("url", "branch", "tag"):
            if getattr(source, name) is not None:
                problems.append(
                    f"{NAMESPACE}:code_source.{name}: only used when code_source.type is 'git'"
                )
    access = cfg.access
    if access.operators_group is not None and access.operators_group == access.readers_group:
        problems.append(
            f"{NAMESPACE}:access.operators_group: must differ from access.readers_group; one "
            "principal gets exactly one permission level per object"
        )
    return problems


def _host_problem(host: str | None) -> str | None:
    expected = "expected a workspace URL like https://dbc-1234.cloud.databricks.com"
    if host is None:
        return f"{DATABRICKS_HOST_KEY}: required key is missing; {expected}"
    if not re.match(r"^https://[A-Za-z0-9.-]+(:\d+)?/?$", host):
        return f"{DATABRICKS_HOST_KEY}: {expected}, got {host!r}"
    return None


MLOPS = Namespace(
    NAMESPACE,
    StackConfig,
    {"environment": "", "host": DATABRICKS_HOST_KEY},
    (ReferenceEntry(DATABRICKS_HOST_KEY, "str", "required", "workspace URL (https://...)"),),
)


def validate(raw: RawConfig, stack: str) -> StackConfig:
    """Validate raw runtime config for ``stack``; raise ConfigError listing every problem."""
    problems = credential_problems(raw)
    host = raw.values.get(DATABRICKS_HOST_KEY)
    host_problem = _host_problem(host)
    if host_problem:
        problems.append(host_problem)
    injected = {"environment": stack, "host": (host or "https://invalid").rstrip("/")}
    cfg, model_problems = MLOPS.build(raw, injected)
    problems += model_problems
    if isinstance(cfg, StackConfig):
        problems += _cross_field_problems(cfg)
    if problems or not isinstance(cfg, StackConfig):
        raise ConfigError(f"Pulumi.{stack}.yaml", problems)
    return cfg


def load_config() -> StackConfig:
    """Read and validate the current stack's config from the Pulumi runtime."""
    return validate(RawConfig.from_runtime(), pulumi.get_stack())
