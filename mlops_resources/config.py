"""Stack configuration: read once, validated completely, before any resource is declared.

Every value that differs between environments lives in the stack file
(``Pulumi.<stack>.yaml``) under the ``mlops:`` namespace, plus the provider's
``databricks:host``. :func:`load_config` turns the Pulumi runtime config into a frozen
:class:`StackConfig` or raises :class:`ConfigError` listing *every* problem, each naming the
stack file, the key and what is expected.

The offline renderer (``python -m mlops_resources render``) feeds the same runtime config from
the stack file, so this module is the only place config is read.
"""

from __future__ import annotations

import difflib
import json
import re
import uuid
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pulumi
from pulumi.runtime import config as runtime_config
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from pydantic.fields import FieldInfo

from mlops_resources.quartz import quartz_problem

NAMESPACE = "mlops"
"""Config namespace: the Pulumi project name in ``Pulumi.yaml``."""

SCHEDULED_STACKS = ("staging", "prod")
"""Stacks whose job schedules run unless the stack file pauses them; any other stack
(a personal ``dev-<name>`` stack) is paused unless its file says otherwise."""

DATABRICKS_HOST_KEY = "databricks:host"

_PAT = re.compile(r"\bdapi[0-9a-f]{32}(-\d+)?\b")
_CREDENTIAL_KEY = re.compile(r"(token|password|secret|private_?key|access_?key)", re.IGNORECASE)
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_]+$")
_PROJECT = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
_SPARK_VERSION = re.compile(r"^\d+\.\d+\.x-[a-z0-9-]+-scala\d+\.\d+$")


class ConfigError(pulumi.RunError):
    """Raised when the stack config is invalid; lists every problem found.

    A ``pulumi.RunError`` makes the Pulumi CLI print the message without a Python traceback.
    """

    def __init__(self, stack_file: str, problems: list[str]) -> None:
        self.stack_file = stack_file
        self.problems = problems
        lines = "\n".join(f"  - {stack_file}: {problem}" for problem in problems)
        super().__init__(
            f"{len(problems)} problem(s) in {stack_file}; nothing was declared:\n{lines}"
        )


# --------------------------------------------------------------------------------------------
# Value checks shared by several fields. Each raises ValueError with what is expected.


def _check_quartz(expression: str) -> str:
    problem = quartz_problem(expression)
    if problem:
        raise ValueError(f"invalid Quartz cron expression {expression!r}: {problem}")
    return expression


def _check_timezone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; expected an IANA/Java id such as 'UTC' or 'Europe/Paris'"
        ) from None
    return name


def _check_email(address: str) -> str:
    if not _EMAIL.match(address):
        raise ValueError(f"malformed email address {address!r}; expected name@example.com")
    return address


def _check_workspace_path(path: str) -> str:
    if not path.startswith("/") or path.endswith("/") or "//" in path:
        raise ValueError(
            f"expected an absolute workspace path like '/Shared/my-project', got {path!r}"
        )
    return path


def _check_table_name(name: str) -> str:
    parts = name.split(".")
    if not 1 <= len(parts) <= 3 or not all(_IDENTIFIER.match(part) for part in parts):
        raise ValueError(
            f"malformed table name {name!r}; expected <catalog>.<schema>.<table> "
            "of letters, digits and underscores"
        )
    return name


def _check_identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"expected letters, digits and underscores only, got {name!r}")
    return name


QuartzCron = Annotated[str, AfterValidator(_check_quartz)]
TimeZone = Annotated[str, AfterValidator(_check_timezone)]
Email = Annotated[str, AfterValidator(_check_email)]
WorkspacePath = Annotated[str, AfterValidator(_check_workspace_path)]
TableName = Annotated[str, AfterValidator(_check_table_name)]
Identifier = Annotated[str, AfterValidator(_check_identifier)]
NonEmpty = Annotated[str, Field(min_length=1)]


class _Section(BaseModel):
    """Base of every config section: immutable, strict types, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ScheduleConfig(_Section):
    """When a job runs."""

    quartz_cron: QuartzCron = Field(description="Quartz cron expression, e.g. '0 0 9 * * ?'")
    timezone: TimeZone = Field("UTC", description="time zone id of the schedule")
    paused: bool | None = Field(
        None,
        description="pause the schedule; default: running on staging/prod, paused on other stacks",
    )


class ModelConfig(_Section):
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


class CodeSourceConfig(_Section):
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


class ClusterConfig(_Section):
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


class TrainingConfig(_Section):
    """The training job: Train -> ModelValidation -> ModelDeployment."""

    schedule: ScheduleConfig = Field(description="training schedule")
    training_data: NonEmpty = Field(
        "/databricks-datasets/wine-quality/winequality-red.csv",
        description="a /databricks-datasets CSV path, or a <catalog>.<schema>.<table> name",
    )
    label_column: Identifier = Field("quality", description="column the classifier predicts")
    run_mode: Literal["disabled", "dry_run", "enabled"] = Field(
        "dry_run", description="validation mode: 'enabled' fails a worse model, 'dry_run' reports"
    )
    validation_thresholds: dict[str, float] = Field(
        default_factory=dict, description="minimum metric values, e.g. {accuracy_score: 0.5}"
    )

    @field_validator("training_data")
    @classmethod
    def _path_or_table(cls, value: str) -> str:
        if not value.startswith(("/", "dbfs:/")):
            _check_table_name(value)
        return value

    @property
    def training_table_name(self) -> str | None:
        """The training table, when training data is a table rather than a file path."""
        return None if self.training_data.startswith(("/", "dbfs:/")) else self.training_data

    @field_validator("validation_thresholds")
    @classmethod
    def _metric_names(cls, thresholds: dict[str, float]) -> dict[str, float]:
        for metric in thresholds:
            if not re.match(r"^[a-z][a-z0-9_]*$", metric):
                raise ValueError(f"metric name {metric!r} should be lower_snake_case")
        return thresholds


class BatchInferenceConfig(_Section):
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


class JobsConfig(_Section):
    """Hardening applied to both jobs."""

    timeout_seconds: int = Field(14400, gt=0, description="a run is cancelled after this long")
    max_retries: int = Field(1, ge=0, le=10, description="retries of a failed task")
    min_retry_interval_millis: int = Field(60000, ge=0, description="wait before a retry")
    on_failure_emails: list[Email] = Field(
        default_factory=list, description="addresses emailed when a run fails"
    )


class AccessConfig(_Section):
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


class StackConfig(_Section):
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
# Loading


@dataclass(frozen=True)
class RawConfig:
    """Config as the Pulumi runtime holds it: ``namespace:key`` -> string, plus secret keys."""

    values: Mapping[str, str]
    secret_keys: frozenset[str]

    @classmethod
    def from_runtime(cls) -> RawConfig:
        values: dict[str, Any] = dict(runtime_config.get_config_env())
        values.update(runtime_config.CONFIG.get())
        secret = set(runtime_config.get_config_secret_keys_env())
        secret.update(k for k in values if runtime_config.is_config_secret(k))
        return cls({k: str(v) for k, v in values.items()}, frozenset(secret))


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    candidates = (annotation, *getattr(annotation, "__args__", ()))
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _is_text(annotation: Any) -> bool:
    """Whether a top-level key holds plain text (the CLI passes anything else as JSON)."""
    args = [a for a in (get_args(annotation) or (annotation,)) if a is not type(None)]
    if get_origin(annotation) is Annotated:
        return _is_text(args[0])
    return all(a is str or (get_origin(a) is Annotated and get_args(a)[0] is str) for a in args)


def _json_kind(annotation: Any) -> str:
    if _nested_model(annotation):
        return "a mapping"
    if bool in (annotation, *get_args(annotation)):
        return "true or false"
    return _type_name(annotation)


@dataclass(frozen=True)
class Namespace:
    """A config namespace whose keys are the fields of a root section model.

    Turns CLI-encoded values into the model and pydantic errors into problems that name the
    key as a user writes it in the stack file (``mlops:cluster.num_workers``).
    """

    name: str
    root: type[BaseModel]
    injected: Mapping[str, str] = field(default_factory=dict)
    """Root fields the program fills in, mapped to the key reported for them."""

    def key(self, loc: tuple[Any, ...]) -> str:
        head, *rest = loc
        key = self.injected.get(head) or f"{self.name}:{head}"
        for part in rest:
            key += f"[{part}]" if isinstance(part, int) else f".{part}"
        return key

    def locate(self, loc: tuple[Any, ...]) -> tuple[type[BaseModel] | None, FieldInfo | None]:
        """The section model that holds the last part of an error location, and its field."""
        model: type[BaseModel] | None = self.root
        found: FieldInfo | None = None
        for index, part in enumerate(loc):
            if model is None or not isinstance(part, str):
                return None, None
            by_alias = {f.alias or n: f for n, f in model.model_fields.items()}
            found = by_alias.get(part)
            if index == len(loc) - 1 or found is None:
                break
            model = _nested_model(found.annotation)
        return model, found

    def known_keys(self, loc: tuple[Any, ...]) -> list[str]:
        model, _ = self.locate(loc)
        if model is None:
            return []
        names = [f.alias or n for n, f in model.model_fields.items()]
        return [n for n in names if not (model is self.root and n in self.injected)]

    def describe(self, error: Mapping[str, Any]) -> str:
        loc = tuple(error["loc"])
        kind = error["type"]
        _, found = self.locate(loc)
        expected = (found.description or "") if found else ""
        key = self.key(loc)
        if kind == "missing":
            return f"{key}: required key is missing; expected {expected}"
        if kind == "extra_forbidden":
            known = self.known_keys(loc)
            close = difflib.get_close_matches(str(loc[-1]), known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            return f"{key}: unknown key{hint}; expected one of: {', '.join(sorted(known))}"
        if kind == "value_error":
            return f"{key}: {error['ctx']['error']}"
        message = str(error["msg"]).replace("Input should be", "expected")
        suffix = f" ({expected})" if expected else ""
        return f"{key}: {message}, got {error['input']!r}{suffix}"

    def decode(self, raw: RawConfig) -> tuple[dict[str, Any], list[str]]:
        """This namespace's keys, decoded the way the CLI encoded them."""
        data: dict[str, Any] = {}
        problems = []
        prefix = f"{self.name}:"
        fields = self.root.model_fields
        for key, text in sorted(raw.values.items()):
            if not key.startswith(prefix):
                continue
            name = key[len(prefix) :]
            if name in self.injected:
                problems.append(f"{key}: unknown key; it is derived, not configured")
            elif name in fields and not _is_text(fields[name].annotation):
                try:
                    data[name] = json.loads(text)
                except json.JSONDecodeError:
                    problems.append(
                        f"{key}: expected {_json_kind(fields[name].annotation)}, got {text!r}"
                    )
            else:
                data[name] = text
        return data, problems

    def build(
        self, raw: RawConfig, injected: Mapping[str, Any]
    ) -> tuple[BaseModel | None, list[str]]:
        """The validated root model (None if invalid) and every problem found."""
        data, problems = self.decode(raw)
        data.update(injected)
        try:
            return self.root.model_validate(data), problems
        except ValidationError as error:
            return None, problems + [self.describe(e) for e in error.errors(include_url=False)]


def _credential_problems(raw: RawConfig) -> list[str]:
    problems = []
    for key, value in sorted(raw.values.items()):
        if key in raw.secret_keys:
            continue
        if _CREDENTIAL_KEY.search(key.partition(":")[2]):
            problems.append(
                f"{key}: a credential in plaintext; store it with "
                f"`pulumi config set --secret {key}` or an environment variable"
            )
        elif _PAT.search(value):
            problems.append(
                f"{key}: contains what looks like a Databricks personal access token in "
                "plaintext; remove it and use a Pulumi secret or DATABRICKS_TOKEN"
            )
    return problems


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


MLOPS = Namespace(NAMESPACE, StackConfig, {"environment": "", "host": DATABRICKS_HOST_KEY})


def validate(raw: RawConfig, stack: str) -> StackConfig:
    """Validate raw runtime config for ``stack``; raise ConfigError listing every problem."""
    problems = _credential_problems(raw)
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


# --------------------------------------------------------------------------------------------
# The state-backend bootstrap program (bootstrap/): its own namespace and stack file.

_BUCKET = re.compile(r"^(?!xn--)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class GitHubCiConfig(_Section):
    """The IAM role GitHub Actions assumes through OIDC."""

    repository: str = Field(
        description="repository whose workflows may assume the role, 'owner/name'"
    )
    create_oidc_provider: bool = Field(
        True, description="create the account's GitHub OIDC provider (an account has at most one)"
    )
    oidc_provider_arn: str | None = Field(
        None, description="ARN of an existing GitHub OIDC provider (when not creating one)"
    )
    subjects: list[NonEmpty] = Field(
        [
            "environment:prod",
            "environment:prod-preview",
            "environment:staging",
            "environment:staging-preview",
        ],
        description="token subjects allowed after 'repo:<owner>/<name>:' (the workflows' "
        "GitHub environments)",
    )
    role_name: NonEmpty = Field("mlops-pulumi-ci", description="name of the IAM role")

    @field_validator("repository")
    @classmethod
    def _owner_name(cls, value: str) -> str:
        if not _REPOSITORY.match(value):
            raise ValueError(f"expected 'owner/name', got {value!r}")
        return value


class BootstrapConfig(_Section):
    """What the state backend needs: bucket, KMS key, optional CI role."""

    region: str = Field(description="AWS region (aws:region)")
    bucket_name: str = Field(description="globally unique S3 bucket name for Pulumi state")
    state_prefix: NonEmpty = Field(
        "mlops", description="folder in the bucket that holds this project's stacks"
    )
    noncurrent_version_days: int = Field(
        90, ge=1, description="days an overwritten state file version is kept"
    )
    kms_alias: NonEmpty = Field(
        "mlops-pulumi-secrets", description="KMS alias (without 'alias/') of the secrets key"
    )
    kms_deletion_window_days: int = Field(
        30, ge=7, le=30, description="waiting period before a deleted key is destroyed"
    )
    github: GitHubCiConfig | None = Field(None, description="CI role for GitHub Actions")

    @field_validator("bucket_name")
    @classmethod
    def _bucket(cls, value: str) -> str:
        if not _BUCKET.match(value) or ".." in value:
            raise ValueError(
                f"expected an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens), "
                f"got {value!r}"
            )
        return value

    @field_validator("state_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", value):
            raise ValueError(
                f"expected a folder like 'mlops' or 'teams/ml' (no leading or trailing '/'), "
                f"got {value!r}"
            )
        return value

    @property
    def backend_url(self) -> str:
        """What ``pulumi login`` and Pulumi.yaml's ``backend.url`` take."""
        return f"s3://{self.bucket_name}/{self.state_prefix}?region={self.region}&awssdk=v2"

    @property
    def secrets_provider(self) -> str:
        """What a stack file's ``secretsprovider`` takes."""
        return f"awskms://alias/{self.kms_alias}?region={self.region}"


BOOTSTRAP = Namespace("mlops-bootstrap", BootstrapConfig, {"region": "aws:region"})


def validate_bootstrap(raw: RawConfig, stack: str) -> BootstrapConfig:
    """Validate the bootstrap program's config; raise ConfigError listing every problem."""
    problems = _credential_problems(raw)
    region = raw.values.get("aws:region")
    if region is None:
        problems.append(
            "aws:region: required key is missing; expected an AWS region like us-east-1"
        )
    elif not _REGION.match(region):
        problems.append(f"aws:region: expected an AWS region like us-east-1, got {region!r}")
    cfg, model_problems = BOOTSTRAP.build(raw, {"region": region or "us-east-1"})
    problems += model_problems
    github = cfg.github if isinstance(cfg, BootstrapConfig) else None
    if github is not None:
        key = f"{BOOTSTRAP.name}:github"
        if github.create_oidc_provider and github.oidc_provider_arn:
            problems.append(
                f"{key}.oidc_provider_arn: only used when create_oidc_provider is false"
            )
        if not github.create_oidc_provider and not github.oidc_provider_arn:
            problems.append(
                f"{key}.oidc_provider_arn: required when create_oidc_provider is false "
                "(the ARN of the account's token.actions.githubusercontent.com provider)"
            )
    if problems or not isinstance(cfg, BootstrapConfig):
        raise ConfigError(f"Pulumi.{stack}.yaml", problems)
    return cfg


def load_bootstrap_config() -> BootstrapConfig:
    """Read and validate the bootstrap stack's config from the Pulumi runtime."""
    return validate_bootstrap(RawConfig.from_runtime(), pulumi.get_stack())


def _type_name(annotation: Any) -> str:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _type_name(args[0])
    if origin is Literal:
        return " or ".join(repr(a) for a in args)
    if origin in (UnionType, Union):
        return " or ".join(_type_name(a) for a in args if a is not type(None))
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"map of {_type_name(args[0])} to {_type_name(args[1])}"
    return getattr(annotation, "__name__", str(annotation))


@dataclass(frozen=True)
class ReferenceEntry:
    """One configurable key, for the README's config reference."""

    key: str
    type: str
    default: str
    description: str


def config_reference(namespace: Namespace | None = None) -> Iterable[ReferenceEntry]:
    """Every configurable key of a namespace (default: the program's), in declaration order."""
    namespace = namespace or MLOPS

    def walk(model: type[BaseModel], prefix: str) -> Iterable[ReferenceEntry]:
        for name, info in model.model_fields.items():
            key = info.alias or name
            if model is namespace.root and key in namespace.injected:
                continue
            path = f"{prefix}{key}"
            nested = _nested_model(info.annotation)
            if nested is not None:
                yield from walk(nested, f"{path}.")
                continue
            default = (
                "required"
                if info.is_required()
                else json.dumps(info.get_default(call_default_factory=True))
            )
            yield ReferenceEntry(path, _type_name(info.annotation), default, info.description or "")

    if namespace is MLOPS:
        yield ReferenceEntry(DATABRICKS_HOST_KEY, "str", "required", "workspace URL (https://...)")
    if namespace is BOOTSTRAP:
        yield ReferenceEntry("aws:region", "str", "required", "AWS region of the bucket and key")
    yield from walk(namespace.root, f"{namespace.name}:")
