"""Stack configuration: read once, validated completely, before any resource is declared.

Every value that differs between environments lives in the stack file
(``Pulumi.<stack>.yaml``) under the ``mlops:`` namespace, plus the provider's
``databricks:host``. :func:`load_config` turns the Pulumi runtime config into a frozen
:class:`StackConfig` or raises :class:`ConfigError` listing *every* problem, each naming the
stack file, the key and what is expected.

Stack files on disk are read only through :mod:`~mlops_resources.config.stack_files`, which
encodes them as the Pulumi CLI passes them to the program: the offline tools (``render``,
``check``, ``init``) and the program's own check of a personal stack against the committed
files read them so, and validate them with these same models; the smoke run reads only
``databricks:host`` from it. The reading machinery is in :mod:`~mlops_resources.config.reading`,
the value checks in :mod:`~mlops_resources.config.checks`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal
from urllib.parse import urlparse

import pulumi
from pydantic import Field, ValidationInfo, field_validator

from mlops_resources.config.checks import (
    Email,
    Identifier,
    MetricRange,
    NonEmpty,
    PrincipalName,
    QuartzCron,
    TableName,
    TimeZone,
    UcIdentifier,
    WorkspacePath,
    check_table_name,
    is_uc_table,
    name_length_problem,
    raise_problems,
    threshold_problems,
)
from mlops_resources.config.compute import (
    ComputeConfig,
    RequirementsError,
    compute_problems,
    notebook_requirements,
)
from mlops_resources.config.models import at_model, model_entries, split_models
from mlops_resources.config.reading import (
    ConfigError,
    Namespace,
    RawConfig,
    ReferenceEntry,
    Section,
    credential_problems,
)
from mlops_resources.config.serving import (
    ServingConfig,
    endpoint_name,
    scales_to_zero,
    serving_problems,
)
from mlops_resources.config.stack_files import read_stack_file, stack_file_path

NAMESPACE = "mlops"
"""Config namespace: the Pulumi project name in ``Pulumi.yaml``."""

SCHEDULED_STACKS = ("staging", "prod")
"""Stacks whose job schedules run unless the stack file pauses them; any other stack
(a personal ``dev-<name>`` stack) is paused unless its file says otherwise."""

DATABRICKS_HOST_KEY = "databricks:host"
DATABRICKS_HOST_DOMAINS = ("cloud.databricks.com", "azuredatabricks.net", "gcp.databricks.com")
"""Domains of Databricks workspaces on AWS, Azure and GCP: ``databricks:host`` must be a host
in one of them (or in ``mlops:extra_host_domains``). The SDK posts the job's OIDC token to the
host's token endpoint, so a look-alike host would receive it."""
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")

_PROJECT = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
_STACK = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
MAX_WORKERS = 64
MAX_TIMEOUT = 172800
WORKSPACE_LOCAL_GROUPS = ("users", "admins")
"""Groups every workspace has but Unity Catalog does not know (SQL reference, "Principal")."""
SHARED_ROOTS = ("/Shared", "/Workspace/Shared")
"""Folders where every workspace user has CAN_MANAGE on every object (workspace ACL docs)."""
_SPARK_VERSION = re.compile(r"^\d+\.\d+\.x-([a-z0-9-]+-)?scala\d+\.\d+$")


class ScheduleConfig(Section):
    """When a job runs."""

    quartz_cron: QuartzCron = Field(
        examples=["0 0 9 * * ?"], description="Quartz cron expression, e.g. '0 0 9 * * ?'"
    )
    timezone: TimeZone = Field(
        "UTC", examples=["Europe/Paris"], description="time zone id of the schedule"
    )
    paused: bool | None = Field(
        None,
        examples=[True],
        description="pause the schedule; default: running on staging/prod, paused on other stacks",
    )


class ModelConfig(Section):
    """Where the model is registered."""

    registry: Literal["unity_catalog", "workspace"] = Field(
        examples=["unity_catalog"],
        description="'unity_catalog' (RegisteredModel) or 'workspace' (MlflowModel)",
    )
    catalog: UcIdentifier | None = Field(
        None, examples=["staging"], description="Unity Catalog catalog (unity_catalog only)"
    )
    schema_name: UcIdentifier | None = Field(
        None,
        alias="schema",
        examples=["wine_quality"],
        description="Unity Catalog schema (unity_catalog only)",
    )
    name: UcIdentifier | None = Field(
        None,
        examples=["wine_classifier"],
        description="model base name; the environment is prefixed. Default: <project>_model",
    )


class CodeSourceConfig(Section):
    """Where jobs find the notebooks of ``notebooks/``."""

    type: Literal["git", "workspace"] = Field(
        examples=["git"],
        description="'git' (jobs check out the repo) or 'workspace' (the stack uploads notebooks)",
    )
    url: NonEmpty | None = Field(
        None,
        examples=["https://github.com/example-org/wine-quality-mlops"],
        description="git repository URL (git only)",
    )
    provider: (
        Literal[
            "gitHub",
            "gitHubEnterprise",
            "bitbucketCloud",
            "bitbucketServer",
            "gitLab",
            "gitLabEnterpriseEdition",
            "azureDevOpsServices",
            "awsCodeCommit",
        ]
        | None
    ) = Field(
        None,
        examples=["gitHubEnterprise"],
        description="git provider, as the Jobs API spells it (git only; default gitHub)",
    )
    branch: NonEmpty | None = Field(
        None, examples=["main"], description="branch to run (git only; exactly one of branch/tag)"
    )
    tag: NonEmpty | None = Field(
        None, examples=["v1.4.0"], description="tag to run (git only; exactly one of branch/tag)"
    )

    @field_validator("url")
    @classmethod
    def _https_url(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"^https://[^\s/]+/\S+$", url):
            raise ValueError(f"expected an https:// repository URL, got {url!r}")
        return url

    @property
    def git_provider(self) -> str:
        """The provider the jobs' ``git_source`` names."""
        return self.provider or "gitHub"


class ClusterConfig(Section):
    """The job cluster every task runs on."""

    spark_version: NonEmpty = Field(
        examples=["15.4.x-cpu-ml-scala2.12"],
        description="pinned ML runtime, e.g. '15.4.x-cpu-ml-scala2.12'",
    )
    node_type_id: NonEmpty = Field(
        examples=["i3.xlarge"], description="node type, e.g. 'i3.xlarge'"
    )
    num_workers: int = Field(examples=[2], description="number of workers, at least 1")
    max_num_workers: int = Field(
        MAX_WORKERS,
        ge=1,
        examples=[128],
        description="upper bound num_workers is checked against; raise it to allow a bigger "
        "cluster on purpose",
    )
    data_security_mode: Literal["SINGLE_USER", "USER_ISOLATION"] = Field(
        "SINGLE_USER",
        examples=["SINGLE_USER"],
        description="access mode; ML runtimes need SINGLE_USER (dedicated), which runs as the "
        "run-as principal",
    )
    custom_tags: dict[str, str] = Field(
        default_factory=dict,
        examples=[{"cost-center": "ml-platform"}],
        description="extra cluster tags (cost attribution)",
    )

    @field_validator("spark_version")
    @classmethod
    def _pinned_ml(cls, version: str) -> str:
        if not _SPARK_VERSION.match(version):
            raise ValueError(
                f"expected a pinned runtime like '15.4.x-cpu-ml-scala2.12', got {version!r}"
            )
        if "-ml-" not in version:
            raise ValueError(
                f"expected a Databricks Runtime for Machine Learning (its name has '-ml-', e.g. "
                f"'15.4.x-cpu-ml-scala2.12'), got {version!r}: the notebooks need the MLflow, "
                "scikit-learn and pandas an ML runtime ships"
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
        examples=[0.75],
        description="minimum (maximum where lower is better, e.g. log_loss); unset: only "
        "compared with the champion",
    )
    tolerance: float = Field(
        0.0,
        examples=[0.01],
        description="how much worse than the champion the new version may be on it",
    )


class ValidationConfig(Section):
    """How ModelValidation judges a new model version."""

    holdout_percent: int = Field(
        20,
        examples=[25],
        description="percent of rows held out, chosen by a hash of each row's key (1-99); "
        "a row stays on its side in every run",
    )
    split_key_columns: list[Identifier] = Field(
        default_factory=list,
        examples=[["wine_id"]],
        description="columns that identify a row (an id) for the split; not features; required "
        "with run_mode 'enabled'; default: every column",
    )
    baseline_check: bool = Field(
        True,
        examples=[False],
        description="the primary metric must beat a trivial predictor's (class prior, mean)",
    )
    thresholds: dict[str, MetricThreshold] = Field(
        default_factory=dict,
        examples=[{"roc_auc": {"threshold": 0.75, "tolerance": 0.01}}],
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

    removed_keys: ClassVar[Mapping[str, str]] = {
        "validation_thresholds": "replaced by validation.thresholds, one entry per metric with "
        "a threshold and a tolerance, e.g. {roc_auc: {threshold: 0.75, tolerance: 0.01}}; "
        "the metrics follow problem_type (README, 'Config reference')",
    }

    schedule: ScheduleConfig = Field(description="training schedule")
    training_data: NonEmpty = Field(
        "/databricks-datasets/wine-quality/winequality-red.csv",
        examples=["staging.wine_quality.training"],
        description="a /databricks-datasets CSV path, or a <catalog>.<schema>.<table> name",
    )
    label_column: Identifier = Field(
        "quality", examples=["quality"], description="column the model learns from"
    )
    problem_type: Literal["classification", "regression"] = Field(
        "classification",
        examples=["regression"],
        description="'classification' (label >= positive_threshold is class 1) or "
        "'regression' (the label itself)",
    )
    positive_threshold: float | None = Field(
        None,
        validate_default=True,
        examples=[7],
        description="classification only: labels at or above it are the positive class, "
        "e.g. 7 for quality >= 7",
    )
    run_mode: Literal["disabled", "dry_run", "enabled"] = Field(
        "dry_run",
        examples=["enabled"],
        description="validation mode: 'enabled' fails a worse model (needs "
        "validation.split_key_columns), 'dry_run' reports; a run cannot lower it",
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
    def _fits_training(cls, validation: ValidationConfig, info: ValidationInfo) -> ValidationConfig:
        """Thresholds of the problem type's metrics; a row key when validation is enforced."""
        problems: list[tuple[tuple[str, ...], str]] = []
        problem_type = info.data.get("problem_type")
        if problem_type is not None:  # else problem_type itself is reported
            thresholds = {
                name: (entry.threshold, entry.tolerance)
                for name, entry in validation.thresholds.items()
            }
            problems += threshold_problems(problem_type, thresholds)
        key = validation.split_key_columns
        if info.data.get("run_mode") == "enabled" and not key:
            problems.append(
                (
                    ("split_key_columns",),
                    "required when training.run_mode is 'enabled': the column(s) that identify "
                    "a row, e.g. [wine_id]. Without them a row's key is all its values, and "
                    "once the table gains a column or old rows are re-exported with other "
                    "values the champion's hold-out rows cannot be recomputed, so validation "
                    "cannot tell which rows it trained on and better retrains fail. Key "
                    "columns are not features",
                )
            )
        label = info.data.get("label_column")
        if label is not None and label in key:
            problems.append(
                (
                    ("split_key_columns",),
                    f"holds the label column {label!r}: a row's key identifies the row, not its "
                    "outcome (a corrected label would move the row to the other side)",
                )
            )
        raise_problems("ValidationConfig", problems)
        return validation


class BatchInferenceConfig(Section):
    """The batch inference job and the tables it reads and writes."""

    removed_keys: ClassVar[Mapping[str, str]] = {
        "grant_table_access": "replaced by access.jobs_group, the account-level group holding "
        "the run-as principal: it gets the tables' Unity Catalog privileges, and no table "
        "grant is declared without it",
    }

    input_table_name: TableName = Field(
        examples=["staging.wine_quality.scoring_input"], description="table to score"
    )
    output_table_name: TableName = Field(
        examples=["staging.wine_quality.predictions"],
        description="table the predictions are written to",
    )
    schedule: ScheduleConfig = Field(description="batch inference schedule")
    output_table_exists: bool = Field(
        False,
        examples=[True],
        description="the output table pre-dates the job: it must exist, and access.jobs_group "
        "gets SELECT and MODIFY on it (else CREATE_TABLE on its schema)",
    )


class JobsConfig(Section):
    """Hardening applied to both jobs."""

    timeout_seconds: int = Field(
        14400,
        gt=0,
        examples=[7200],
        description=f"a run is cancelled after this long (at most {MAX_TIMEOUT} s)",
    )
    max_retries: int = Field(1, ge=0, le=10, examples=[2], description="retries of a failed task")
    min_retry_interval_millis: int = Field(
        60000, ge=0, examples=[300000], description="wait before a retry"
    )
    on_failure_emails: list[Email] = Field(
        default_factory=list,
        examples=[["ml-oncall@example.com"]],
        description="addresses emailed when a run fails",
    )

    @field_validator("timeout_seconds")
    @classmethod
    def _seconds(cls, seconds: int) -> int:
        if seconds > MAX_TIMEOUT:
            raise ValueError(
                f"expected at most {MAX_TIMEOUT} seconds (48 h), got {seconds}; "
                f"if that is milliseconds, write {max(1, seconds // 1000)}"
            )
        return seconds


APPLICATION_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
"""A service principal's application id as the provider recognises one: it reads a job's
run-as back as a service principal only when it matches this (terraform-provider-databricks
``common/util.go``, ``uuidRegex``; ``jobs/resource_job.go``, Read), so any other spelling of
the UUID would read back as a user name and show a change on every preview."""


@dataclass(frozen=True)
class Principal:
    """Who a stack's jobs run as, who owns them and the model, and whose home holds the
    stack's folder: a service principal (staging, prod) or a user (a personal stack)."""

    name: str
    """Application id of a service principal, or a user's user name (e-mail)."""
    kind: Literal["service_principal", "user"]

    @property
    def home(self) -> str:
        """The principal's workspace home folder."""
        return f"/Users/{self.name}"


class AccessConfig(Section):
    """Who may see, operate and own what.

    Workspace ACLs (jobs, experiment, folders) take workspace groups such as ``users``; Unity
    Catalog grants take account-level principals only, so they go to their own keys.
    """

    run_as_service_principal: str | None = Field(
        None,
        examples=["6a1e2c4b-8f2d-4c1a-9e3b-0d5f7a9c1b2e"],
        description="application id (UUID) of the service principal the jobs run as; it owns "
        "the jobs and the model, and the environment deploys as it (staging and prod: "
        "required; a personal stack runs as its developer instead)",
    )
    run_as_user: Email | None = Field(
        None,
        examples=["alice@example.com"],
        description="personal stacks only: the Databricks user the jobs run as, who owns them "
        "and the model, is notified of failures and deploys the stack; default: the user the "
        "deploying credentials belong to (read at preview)",
    )
    readers_group: PrincipalName = Field(
        "users",
        examples=["data-scientists"],
        description="workspace group with read access: CAN_VIEW on jobs, CAN_READ on the "
        "experiment, its folder and a workspace-registry model",
    )
    operators_group: PrincipalName | None = Field(
        None,
        examples=["ml-engineers"],
        description="optional workspace group that may run and cancel the jobs",
    )
    jobs_group: PrincipalName | None = Field(
        None,
        examples=["wine-quality-staging-jobs"],
        description="account-level group holding the run-as principal; gets the Unity Catalog "
        "privileges the jobs need (none declared when unset)",
    )
    model_readers_group: PrincipalName | None = Field(
        None,
        examples=["wine-quality-model-readers"],
        description="account-level group that may load the Unity Catalog model (EXECUTE, and "
        "USE_CATALOG/USE_SCHEMA on its parents)",
    )
    preview_group: PrincipalName | None = Field(
        None,
        examples=["wine-quality-staging-preview"],
        description="account-level group holding the read-only preview principal; gets what a "
        "preview and a refresh read in Unity Catalog: USE_CATALOG/USE_SCHEMA on the catalogs "
        "and schemas the stack checks, SELECT on the tables it checks, EXECUTE on the model "
        "(none declared when unset)",
    )

    @field_validator("run_as_service_principal")
    @classmethod
    def _application_id(cls, value: str | None) -> str | None:
        if value is not None and not APPLICATION_ID.match(value):
            raise ValueError(
                f"expected a service principal application id, a UUID in lowercase such as "
                f"'6a1e2c4b-8f2d-4c1a-9e3b-0d5f7a9c1b2e', got {value!r}"
            )
        return value

    @field_validator("jobs_group", "model_readers_group", "preview_group")
    @classmethod
    def _account_level(cls, group: str | None) -> str | None:
        if group is not None and group.lower() in WORKSPACE_LOCAL_GROUPS:
            raise ValueError(
                f"{group!r} is a workspace-local group, which Unity Catalog refuses as a grant "
                "principal ('Could not find principal'); expected an account-level group "
                "(or 'account users')"
            )
        return group

    @property
    def run_as(self) -> Principal | None:
        """Who the jobs run as; None for a personal stack that takes its deployer's identity
        and has not been resolved yet (``with_run_as_user``)."""
        if self.run_as_user is not None:
            return Principal(self.run_as_user, "user")
        if self.run_as_service_principal is not None:
            return Principal(self.run_as_service_principal, "service_principal")
        return None


GRANULARITIES = (
    "5 minutes",
    "30 minutes",
    "1 hour",
    "1 day",
    "1 week",
    "2 weeks",
    "3 weeks",
    "4 weeks",
    "1 month",
    "1 year",
)
"""The time windows a data-quality monitor aggregates over, as the stack file spells them."""

QUALITY_METRICS: dict[str, dict[str, str]] = {
    "classification": {
        "accuracy_score": "below",
        "precision.macro": "below",
        "precision.weighted": "below",
        "recall.macro": "below",
        "recall.weighted": "below",
        "f1_score.macro": "below",
        "f1_score.weighted": "below",
    },
    "regression": {
        "root_mean_squared_error": "above",
        "mean_squared_error": "above",
        "mean_absolute_error": "above",
        "r2_score": "below",
    },
}
"""Model-quality metrics a monitor computes into its profile table when it has a label column,
per problem type, with the side of the threshold that is a violation. The retraining check
(``notebooks/mlops_ml/monitoring.py``) knows the same metric names (it gets the side as its
``direction`` parameter, from here); a test keeps the names equal."""

DRIFT_METRICS: dict[str, str] = {
    "js_distance": "above",
    "population_stability_index": "above",
    "wasserstein_distance": "above",
    "ks_test.statistic": "above",
    "chi_squared_test.statistic": "above",
    "tv_distance": "above",
    "l_infinity_distance": "above",
}
"""Drift metrics a monitor computes into its drift table (here: of the prediction column),
with or without labels."""

MONITORED_METRIC_RANGES: dict[str, MetricRange] = {
    **{
        name: MetricRange(True, 0.0, 1.0)
        for name in QUALITY_METRICS["classification"]  # fractions, never percentages
    },
    "root_mean_squared_error": MetricRange(False, 0.0, None),
    "mean_squared_error": MetricRange(False, 0.0, None),
    "mean_absolute_error": MetricRange(False, 0.0, None),
    "r2_score": MetricRange(True, None, 1.0),
    "js_distance": MetricRange(False, 0.0, 1.0),
    "population_stability_index": MetricRange(False, 0.0, None),
    "wasserstein_distance": MetricRange(False, 0.0, None),
    "ks_test.statistic": MetricRange(False, 0.0, 1.0),
    "chi_squared_test.statistic": MetricRange(False, 0.0, None),
    "tv_distance": MetricRange(False, 0.0, 1.0),
    "l_infinity_distance": MetricRange(False, 0.0, 1.0),
}
"""The values each monitored metric can take, by its definition: scores that are fractions
(accuracy, precision, recall, F1), errors and divergences that are never negative, and the
distances between two probability distributions that are at most 1 (Jensen-Shannon with base
2 logarithms, Kolmogorov-Smirnov, total variation, L-infinity). A threshold outside its
metric's range is never crossed, or always: retraining would never run, or run every time."""


class RetrainingConfig(Section):
    """When the monitor's metrics trigger a training run."""

    metric: NonEmpty = Field(
        examples=["accuracy_score"],
        description="a drift metric of the prediction column (js_distance, ...), or with a "
        "label column a quality metric of the problem type (accuracy_score, f1_score.macro, "
        "root_mean_squared_error, ...)",
    )
    threshold: float = Field(
        examples=[0.8],
        description="crossing it is a violation: below for quality metrics such as accuracy, "
        "above for error and drift metrics",
    )
    num_evaluation_windows: int = Field(
        5, ge=1, le=100, examples=[7], description="how many of the latest windows are read"
    )
    num_violation_windows: int = Field(
        2,
        ge=1,
        le=100,
        examples=[3],
        description="how many of them must cross the threshold, the latest included",
    )
    schedule: ScheduleConfig = Field(description="when the retraining check runs")


class MonitoringConfig(Section):
    """An optional data-quality monitor on the inference log, and retraining when it degrades."""

    enabled: bool = Field(
        False,
        examples=[True],
        description="declare the monitor and the retraining job (the inference log must exist: "
        "enable log_inferences and run batch inference once first)",
    )
    log_inferences: bool | None = Field(
        None,
        examples=[True],
        description="batch inference appends each run's rows to the inference log; default: "
        "as enabled",
    )
    inference_log_table: TableName | None = Field(
        None,
        examples=["staging.wine_quality.predictions_log"],
        description="table batch inference appends each run's rows to, which the monitor "
        "watches; default: <output_table_name>_log",
    )
    output_schema: NonEmpty | None = Field(
        None,
        examples=["staging.wine_quality_monitoring"],
        description="<catalog>.<schema> of the monitor's metric tables; default: the "
        "inference log's schema",
    )
    label_column: Identifier | None = Field(
        None,
        examples=["quality"],
        description="ground-truth column, joined into the log later; without it the monitor "
        "computes drift only, no model quality",
    )
    granularities: list[Literal[GRANULARITIES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["1 day"],
        examples=[["1 hour", "1 day"]],
        description="time windows the monitor aggregates over",
    )
    baseline_table: TableName | None = Field(
        None,
        examples=["staging.wine_quality.training_baseline"],
        description="table drift is also measured against (optional)",
    )
    schedule: ScheduleConfig | None = Field(
        None,
        description="when the monitor refreshes its metrics (it runs compute); a paused "
        "schedule is left out: a monitor's schedule cannot be paused",
    )
    retraining: RetrainingConfig | None = Field(None, description="the retraining job's check")


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
    def inference_log_table(self) -> str:
        """The table the monitor watches: configured, or the output table's name + ``_log``."""
        configured = self.monitoring.inference_log_table
        return configured or f"{self.batch_inference.output_table_name}_log"

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


def _cross_field_problems(cfg: StackConfig) -> list[str]:
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
        NAMESPACE, cfg.compute, cfg.cluster is not None, cfg.model.registry
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
    problems += _monitoring_problems(cfg)
    problems += serving_problems(
        NAMESPACE,
        cfg.serving,
        endpoint=cfg.serving_endpoint_name,
        registry=cfg.model.registry,
        model_schema=f"{model.catalog}.{model.schema_name}" if unity_catalog else None,
        readers_group=cfg.access.readers_group,
    )
    problems += _group_problems(cfg)
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


_HOME = re.compile(r"^(?:/Workspace)?/Users/(?P<owner>[^/]+)(?:/|$)")


def identity_problems(cfg: StackConfig) -> list[str]:
    """Who the stack runs as. Staging and prod run as their service principal, so what they
    deploy depends on no one person. A personal stack runs as its developer, a user: a job
    may run as a user only if that user set it (the Jobs API's ``run_as.user_name``: "Non-admin
    users can only set this field to their own email"), and its developer then owns the jobs
    and the model and can destroy them; a service principal would own them instead, and only
    it or an admin could change or delete them. The stack folder must be the run-as
    principal's own: a home folder grants nothing to anyone else (workspace ACL docs)."""
    access = f"{NAMESPACE}:access"
    problems = []
    if not cfg.personal:
        if cfg.access.run_as_service_principal is None:
            problems.append(
                f"{access}.run_as_service_principal: required key is missing; {cfg.environment} "
                "runs as a service principal: expected its application id (a UUID)"
            )
        if cfg.access.run_as_user is not None:
            problems.append(
                f"{access}.run_as_user: only a personal stack runs as a user; "
                f"{cfg.environment} runs as its service principal "
                "(access.run_as_service_principal), so that what it deploys belongs to no one "
                "person; remove the key"
            )
    elif cfg.access.run_as_service_principal is not None:
        problems.append(
            f"{access}.run_as_service_principal: a personal stack runs as its developer, not "
            f"as a service principal ({cfg.access.run_as_service_principal!r} would own its "
            "jobs and model, which then only it or an admin could change or delete, so "
            "`pulumi destroy` would fail); remove the key: the stack runs as the user who "
            "deploys it (or set access.run_as_user)"
        )
    home = _HOME.match(cfg.workspace_root or "")
    principal = cfg.access.run_as
    if home:
        owner = home["owner"]
        if APPLICATION_ID.match(owner) and cfg.personal:
            problems.append(
                f"{NAMESPACE}:workspace_root: {cfg.workspace_root!r} is in the home folder of "
                f"service principal {owner!r}; a personal stack lives in its developer's home: "
                "remove the key (the default is your home folder)"
            )
        elif principal is not None and owner.lower() != principal.name.lower():
            problems.append(
                f"{NAMESPACE}:workspace_root: {cfg.workspace_root!r} is in the home folder of "
                f"{owner!r}, not of the run-as principal {principal.name!r}: a home folder "
                "grants nothing to anyone else, so the stack could not create its folder "
                "there; remove the key (the default is the run-as principal's home)"
            )
    return problems


def _group_problems(cfg: StackConfig) -> list[str]:
    access = cfg.access
    jobs = (access.jobs_group or "").lower()
    problems = []
    for name, other, who in (
        ("readers_group", access.readers_group, "reader of the jobs and the experiment"),
        ("model_readers_group", access.model_readers_group, "reader of the model"),
    ):
        if jobs and jobs == (other or "").lower():
            problems.append(
                f"{NAMESPACE}:access.jobs_group: must differ from access.{name}: the jobs group "
                "gets SELECT, MODIFY and CREATE_TABLE on the stack's tables, so every "
                f"{who} could write them"
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


def _monitoring_problems(cfg: StackConfig) -> list[str]:
    monitoring = cfg.monitoring
    key = f"{NAMESPACE}:monitoring"
    if not (monitoring.enabled or cfg.logs_inferences):
        return []
    problems = []
    if monitoring.enabled and not cfg.logs_inferences:
        problems.append(
            f"{key}.log_inferences: the monitor watches the inference log; expected true (or "
            "unset) when monitoring.enabled is true"
        )
    for name in ("schedule", "retraining"):
        if monitoring.enabled and getattr(monitoring, name) is None:
            problems.append(f"{key}.{name}: required when monitoring.enabled is true")
    if cfg.model.registry != "unity_catalog":
        problems.append(
            f"{key}.enabled: quality monitors watch Unity Catalog tables; expected "
            "model.registry 'unity_catalog'"
        )
    for name, value in (
        ("inference_log_table", cfg.inference_log_table),
        ("baseline_table", monitoring.baseline_table),
    ):
        if value is not None and not is_uc_table(value):
            problems.append(
                f"{key}.{name}: expected a three-part Unity Catalog name, got {value!r}"
            )
    schema = monitoring.output_schema
    if schema is not None and not re.match(r"^[a-z0-9_]+\.[a-z0-9_]+$", schema):
        problems.append(f"{key}.output_schema: expected <catalog>.<schema>, got {schema!r}")
    baseline = monitoring.baseline_table
    if baseline is not None and baseline.lower() == cfg.inference_log_table.lower():
        problems.append(
            f"{key}.baseline_table: must differ from the table it is a baseline for, the "
            f"inference log {cfg.inference_log_table!r}: drift measured against itself is "
            "always zero"
        )
    if cfg.inference_log_table.lower() in {
        cfg.batch_inference.input_table_name.lower(),
        cfg.batch_inference.output_table_name.lower(),
    }:
        problems.append(
            f"{key}.inference_log_table: must differ from the batch job's input and output "
            "tables: batch inference appends to it"
        )
    retraining = monitoring.retraining
    if retraining is not None:
        problems += _retraining_problems(cfg, retraining, key)
    if monitoring.enabled:
        problems += _monitor_schedule_problems(cfg, key)
    return problems


MAX_MONITOR_EMAILS = 5
"""Addresses a data-quality monitor's failure notification takes (terraform-provider-databricks
v1.118.0 ``docs/resources/data_quality_monitor.md``, NotificationDestination)."""


def _monitor_schedule_problems(cfg: StackConfig, key: str) -> list[str]:
    problems = []
    schedule = cfg.monitoring.schedule
    if schedule is not None and schedule.paused is False and cfg.jobs_paused:
        problems.append(
            f"{key}.schedule.paused: false on a stack whose jobs are all paused; a monitor's "
            "schedule cannot be paused, so it would refresh (billed compute) while no job "
            "reads its metrics. Leave it unset (the monitor then has no schedule; refresh it "
            "by hand) or unpause a job"
        )
    emails = cfg.jobs.on_failure_emails
    if len(emails) > MAX_MONITOR_EMAILS:
        problems.append(
            f"{NAMESPACE}:jobs.on_failure_emails: {len(emails)} addresses; the monitor's "
            f"failure notification takes at most {MAX_MONITOR_EMAILS} when monitoring.enabled "
            "is true"
        )
    return problems


def _retraining_problems(cfg: StackConfig, retraining: RetrainingConfig, key: str) -> list[str]:
    problems = []
    quality = QUALITY_METRICS[cfg.training.problem_type]
    metric = retraining.metric
    if metric in quality and cfg.monitoring.label_column is None:
        problems.append(
            f"{key}.retraining.metric: {metric!r} is a model-quality metric, which the monitor "
            "computes only with a label column; set monitoring.label_column, or pick a drift "
            f"metric ({', '.join(DRIFT_METRICS)})"
        )
    elif metric not in quality and metric not in DRIFT_METRICS:
        problems.append(
            f"{key}.retraining.metric: {metric!r} is not a metric the monitor computes for a "
            f"{cfg.training.problem_type} model; expected one of: "
            f"{', '.join([*quality, *DRIFT_METRICS])}"
        )
    bounds = MONITORED_METRIC_RANGES.get(metric)
    if bounds is not None and not (
        (bounds.lower is None or retraining.threshold >= bounds.lower)
        and (bounds.upper is None or retraining.threshold <= bounds.upper)
    ):
        fraction = bounds.upper == 1.0 and retraining.threshold > 1.0
        hint = f" (a fraction: {retraining.threshold / 100:g} for {retraining.threshold:g}%)"
        problems.append(
            f"{key}.retraining.threshold: {retraining.threshold:g} is outside the range of "
            f"{metric}, {bounds.describe()}{hint if fraction else ''}; it would never be "
            "crossed, or always"
        )
    if retraining.num_violation_windows > retraining.num_evaluation_windows:
        problems.append(
            f"{key}.retraining.num_violation_windows: {retraining.num_violation_windows} is more "
            f"than num_evaluation_windows ({retraining.num_evaluation_windows})"
        )
    return problems


def monitored_metric_direction(cfg: StackConfig) -> str:
    """``above`` or ``below``: the side of the threshold that is a violation."""
    retraining = cfg.monitoring.retraining
    assert retraining is not None
    metric = retraining.metric
    return QUALITY_METRICS[cfg.training.problem_type].get(metric) or DRIFT_METRICS[metric]


def _host_problem(host: str | None) -> str | None:
    expected = "expected a workspace URL like https://dbc-1234.cloud.databricks.com"
    if host is None:
        return f"{DATABRICKS_HOST_KEY}: required key is missing; {expected}"
    if not re.match(r"^https://[A-Za-z0-9.-]+(:\d+)?/?$", host):
        return f"{DATABRICKS_HOST_KEY}: {expected}, got {host!r}"
    return None


def host_domain_problem(host: str, extra_domains: Iterable[str] = ()) -> str | None:
    """A problem when ``host``'s name is not in a Databricks domain (or an extra one)."""
    name = (urlparse(host).hostname or "").lower()
    allowed = (*DATABRICKS_HOST_DOMAINS, *extra_domains)
    if any(name.endswith(f".{domain}") for domain in allowed):
        return None
    return (
        f"{DATABRICKS_HOST_KEY}: {host!r} is not in a Databricks domain ({', '.join(allowed)}); "
        f"a workspace on another Databricks domain goes in {NAMESPACE}:extra_host_domains"
    )


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


def _stack_name_problem(stack: str) -> str | None:
    if _STACK.match(stack):
        return None
    return (
        f"stack name {stack!r}: expected lowercase letters, digits, '-' and '_' (it prefixes "
        "job, folder and Unity Catalog model names), e.g. 'dev-alice'"
    )


def validate(
    raw: RawConfig, stack: str, others: Iterable[tuple[str, StackConfig]] = ()
) -> StackConfig:
    """Validate raw runtime config for ``stack``; raise ConfigError listing every problem.

    ``others`` are the committed stacks (file name, config) a personal stack must not collide
    with (:func:`~mlops_resources.config.unity_catalog.collision_problems`). A stack of several
    models (``mlops:models``, :mod:`~mlops_resources.config.models`) is validated model by
    model, each in the one-model form with its key; the result is the first model's config
    with every model's in ``model_configs``.
    """
    others = list(others)
    split = split_models(raw, NAMESPACE)
    if split is None:
        cfg, problems = _validated(raw, stack, others)
    else:
        per_model, problems = split
        entries = model_entries(raw, NAMESPACE)
        views: list[StackConfig] = []
        for key, model_raw in per_model.items():
            view, found = _validated(model_raw, stack, others, key)
            problems += [at_model(p, NAMESPACE, key, entries[key]) for p in found]
            if view is not None:
                views.append(view)
        problems = list(dict.fromkeys(problems))  # a shared key's problem, once
        if not problems:
            # Imported here: unity_catalog derives from StackConfig, defined above.
            from mlops_resources.config.unity_catalog import model_collisions

            problems += model_collisions(views)
        cfg = views[0].model_copy(update={"model_configs": tuple(views)}) if views else None
    if problems or cfg is None:
        raise ConfigError(f"Pulumi.{stack}.yaml", problems)
    return cfg


def _validated(
    raw: RawConfig, stack: str, others: list[tuple[str, StackConfig]], model_key: str | None = None
) -> tuple[StackConfig | None, list[str]]:
    """One model's config (None if invalid) and every problem found."""
    problems = credential_problems(raw) + MLOPS.namespace_problems(raw)
    stack_problem = _stack_name_problem(stack)
    if stack_problem:
        problems.append(stack_problem)
    host = raw.values.get(DATABRICKS_HOST_KEY)
    host_problem = _host_problem(host)
    if host_problem:
        problems.append(host_problem)
    injected = {
        "environment": stack,
        "host": (host or "https://invalid").rstrip("/"),
        "model_key": model_key,
    }
    cfg, model_problems = MLOPS.build(raw, injected)
    problems += model_problems
    if isinstance(cfg, StackConfig):
        if not host_problem:
            domain_problem = host_domain_problem(cfg.host, cfg.extra_host_domains)
            problems += [domain_problem] if domain_problem else []
        problems += _cross_field_problems(cfg)
        if cfg.compute.serverless:
            try:
                notebook_requirements()
            except RequirementsError as error:
                problems.append(str(error))
        if not problems:  # the Unity Catalog plan needs well-formed names
            # Imported here: unity_catalog derives from StackConfig, defined above.
            from mlops_resources.config.unity_catalog import collision_problems

            problems += collision_problems(cfg, others)
        problems += identity_problems(cfg)
    return (cfg if isinstance(cfg, StackConfig) else None), problems


def validated_stacks(
    stacks: Iterable[str], project_dir: Path | None = None
) -> list[tuple[str, StackConfig]]:
    """(file name, config) of each stack's ``Pulumi.<stack>.yaml``, each validated on its own.

    Raises StackFileError for a missing or unreadable file, ConfigError for an invalid one.
    """
    validated = []
    for stack in stacks:
        source = read_stack_file(stack, project_dir)
        validated.append((source.path.name, validate(RawConfig.from_stack_file(source), stack)))
    return validated


def committed_stacks(stack: str, project_dir: Path | None = None) -> list[tuple[str, StackConfig]]:
    """The committed staging and prod stacks a personal stack is checked against (none for
    staging and prod themselves; a missing file is skipped, an invalid one is an error)."""
    if stack in SCHEDULED_STACKS:
        return []
    present = [name for name in SCHEDULED_STACKS if stack_file_path(name, project_dir).is_file()]
    return validated_stacks(present, project_dir)


def load_config() -> StackConfig:
    """Read and validate the current stack's config from the Pulumi runtime; a personal stack
    is checked against the committed stack files next to the project's ``Pulumi.yaml``."""
    stack = pulumi.get_stack()
    root = pulumi.get_root_directory()
    others = committed_stacks(stack, Path(root) if root else None)
    return validate(RawConfig.from_runtime(), stack, others)
