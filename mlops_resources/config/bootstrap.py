"""Config of the state-backend bootstrap program (``bootstrap/``): its own namespace and file.

``bootstrap/Pulumi.<stack>.yaml`` holds, under ``mlops-bootstrap:``, what the S3 backend of
the mlops stacks needs: bucket, KMS keys and who may administer and use them, and the CI roles
GitHub Actions assumes (one per trust domain: deploy or read one stack).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

import pulumi
from pydantic import AfterValidator, Field, field_validator

from mlops_resources.config.checks import NonEmpty
from mlops_resources.config.reading import (
    ConfigError,
    Namespace,
    RawConfig,
    ReferenceEntry,
    Section,
    credential_problems,
)

_BUCKET = re.compile(r"^(?!xn--)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_ACCOUNT = re.compile(r"^\d{12}$")
_PRINCIPAL_ARN = re.compile(r"^arn:aws[a-z-]*:(iam|sts)::(\d{12}):[A-Za-z0-9_+=,.@/-]+$")
_STACK = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_ENVIRONMENT = re.compile(r"^[A-Za-z0-9_.-]+$")
FOLDER = "bootstrap"
"""The bootstrap program's folder in the repository: its stack files are there."""
BOOTSTRAP_PREFIX = "bootstrap"
"""The bucket folder of the bootstrap's own state (``bootstrap_backend_url``)."""
STATE_KEY_SUFFIX = "state"
"""Alias suffix of the state objects' key; no stack may take it as a name."""


def _principal_arn(value: str) -> str:
    if not _PRINCIPAL_ARN.match(value):
        raise ValueError(
            "expected an IAM principal ARN like 'arn:aws:iam::123456789012:role/platform-admin', "
            f"got {value!r}"
        )
    return value


PrincipalArn = Annotated[str, AfterValidator(_principal_arn)]


@dataclass(frozen=True)
class TrustDomain:
    """One CI role: the GitHub environment it trusts, the stack it reaches and how."""

    stack: str
    """Stack whose state and secrets key the role reaches."""
    access: Literal["deploy", "read"]
    """'deploy': read and write the stack's state paths; 'read': list and get them only."""
    environment: str
    """The only GitHub environment whose jobs may assume the role."""
    role_name: str
    """IAM role name."""


class GitHubCiConfig(Section):
    """The IAM roles GitHub Actions assumes through OIDC, one per trust domain."""

    repository: str = Field(
        examples=["example-org/wine-quality-mlops"],
        description="repository whose workflows may assume the roles, 'owner/name'",
    )
    create_oidc_provider: bool = Field(
        True,
        examples=[False],
        description="create the account's GitHub OIDC provider (an account has at most one)",
    )
    oidc_provider_arn: str | None = Field(
        None,
        examples=["arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"],
        description="ARN of an existing GitHub OIDC provider (when not creating one)",
    )
    role_prefix: NonEmpty = Field(
        "mlops",
        examples=["wine-quality"],
        description="IAM role names are '<role_prefix>-deploy-<stack>' and "
        "'<role_prefix>-read-<stack>'",
    )
    read_environments: dict[str, str] = Field(
        {"staging": "staging-preview", "prod": "prod-drift"},
        examples=[{"staging": "staging-preview", "prod": "prod-drift"}],
        description="stack -> the GitHub environment whose jobs may only read it (previews, "
        "drift); the environment named like the stack deploys it",
    )
    owner_id: int | None = Field(
        None,
        examples=[123456],
        description="numeric id of the repository's owner, for a repository whose OIDC "
        "subjects carry ids (created or renamed on or after 2026-07-15, or opted in): "
        "gh api repos/<owner>/<name> --jq .owner.id; set with repository_id",
    )
    repository_id: int | None = Field(
        None,
        examples=[456789],
        description="numeric id of the repository, with owner_id: gh api "
        "repos/<owner>/<name> --jq .id",
    )
    trust_name_subjects: bool = Field(
        True,
        examples=[False],
        description="with owner_id and repository_id: the roles also trust the name-only "
        "subject, so the repository's move to id subjects is no outage; false once it moved "
        "(a recreated owner/name then matches nothing)",
    )

    @field_validator("repository")
    @classmethod
    def _owner_name(cls, value: str) -> str:
        if not _REPOSITORY.match(value):
            raise ValueError(f"expected 'owner/name', got {value!r}")
        return value

    @field_validator("owner_id", "repository_id")
    @classmethod
    def _positive(cls, value: int | None) -> int | None:
        if value is not None and value <= 0:
            raise ValueError(f"expected a positive GitHub id, got {value}")
        return value

    def subject(self, environment: str) -> str:
        """The ``sub`` of GitHub's OIDC token for a job in ``environment`` of this repository.

        Repositories created or renamed on or after 2026-07-15 (and those opted in) append the
        immutable owner and repository ids to the names, ``repo:owner@1/name@2:...`` (GitHub
        changelog 2026-04-23, "Immutable subject claims for GitHub Actions OIDC tokens");
        older ones name only ``repo:owner/name:...``.
        """
        owner, name = self.repository.split("/")
        if self.owner_id is not None and self.repository_id is not None:
            owner, name = f"{owner}@{self.owner_id}", f"{name}@{self.repository_id}"
        return f"repo:{owner}/{name}:environment:{environment}"

    def name_subject(self, environment: str) -> str | None:
        """The name-only subject, when the roles trust it beside the id form (ids configured
        and ``trust_name_subjects``): the repository's tokens switch form when it moves to
        immutable subjects, and until then they carry this one."""
        if self.owner_id is None or not self.trust_name_subjects:
            return None
        return f"repo:{self.repository}:environment:{environment}"

    def subjects(self, environment: str) -> tuple[str, ...]:
        """Every subject a role of ``environment`` trusts: :meth:`subject`, then the name-only
        form while the roles still trust it."""
        name = self.name_subject(environment)
        return (self.subject(environment),) + ((name,) if name else ())


class BootstrapConfig(Section):
    """What the state backend needs: bucket, KMS keys, who may use them, optional CI roles."""

    region: str = Field(description="AWS region (aws:region)")
    account_id: str = Field(
        examples=["123456789012"],
        description="AWS account the bootstrap runs in (12 digits); key policies name its root "
        "user for break-glass",
    )
    bucket_name: str = Field(
        examples=["example-org-mlops-pulumi-state"],
        description="globally unique S3 bucket name for Pulumi state",
    )
    state_prefix: NonEmpty = Field(
        "mlops",
        examples=["wine-quality"],
        description="folder in the bucket that holds this project's stacks",
    )
    project: NonEmpty = Field(
        "mlops",
        examples=["mlops"],
        description="name of the Pulumi project whose stacks live under the prefix "
        "(its Pulumi.yaml name); state paths carry it",
    )
    stacks: list[str] = Field(
        ["staging", "prod"],
        examples=[["staging", "prod"]],
        description="stacks that get their own secrets key, state paths and CI roles",
    )
    noncurrent_version_days: int = Field(
        90, ge=1, examples=[30], description="days an overwritten state file version is kept"
    )
    kms_alias: NonEmpty = Field(
        "mlops-pulumi",
        examples=["wine-quality-pulumi"],
        description="KMS alias prefix (without 'alias/'): '<kms_alias>-<stack>' for each "
        "stack's secrets key, '<kms_alias>-state' for the state objects' key",
    )
    kms_deletion_window_days: int = Field(
        30,
        ge=7,
        le=30,
        examples=[7],
        description="waiting period before a deleted key is destroyed",
    )
    key_admins: list[PrincipalArn] = Field(
        min_length=1,
        examples=[["arn:aws:iam::123456789012:role/platform-key-admin"]],
        description="IAM principal ARNs that administer the keys but cannot use them; the "
        "principal running the bootstrap must be one",
    )
    operators: list[PrincipalArn] = Field(
        min_length=1,
        examples=[["arn:aws:iam::123456789012:role/ml-platform-operator"]],
        description="IAM principal ARNs that run Pulumi by hand (stack init, secrets, "
        "bootstrap state): may use every key",
    )
    github: GitHubCiConfig | None = Field(None, description="CI roles for GitHub Actions")

    @field_validator("account_id")
    @classmethod
    def _account(cls, value: str) -> str:
        if not _ACCOUNT.match(value):
            raise ValueError(f"expected a 12-digit AWS account id, got {value!r}")
        return value

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

    @field_validator("stacks")
    @classmethod
    def _stacks(cls, value: list[str]) -> list[str]:
        bad = [s for s in value if not _STACK.match(s) or s == STATE_KEY_SUFFIX]
        if bad or not value or len(set(value)) != len(value):
            raise ValueError(
                "expected distinct stack names of lowercase letters, digits and hyphens, not "
                f"'{STATE_KEY_SUFFIX}' (the state key's alias suffix), got {value!r}"
            )
        return value

    @property
    def backend_url(self) -> str:
        """What ``pulumi login`` and Pulumi.yaml's ``backend.url`` take."""
        return f"s3://{self.bucket_name}/{self.state_prefix}?region={self.region}&awssdk=v2"

    @property
    def bootstrap_backend_url(self) -> str:
        """Where the bootstrap's own state moves once the bucket exists: a prefix of its own,
        which no CI role can reach."""
        return f"s3://{self.bucket_name}/{BOOTSTRAP_PREFIX}?region={self.region}&awssdk=v2"

    def key_alias(self, suffix: str) -> str:
        """A key's alias without ``alias/``: a stack name, or ``state``."""
        return f"{self.kms_alias}-{suffix}"

    def secrets_provider(self, stack: str) -> str:
        """What the stack file's ``secretsprovider`` takes: the stack's own key."""
        return f"awskms://alias/{self.key_alias(stack)}?region={self.region}"

    @property
    def trust_domains(self) -> tuple[TrustDomain, ...]:
        """One deploy and one read role per stack; none without ``github``."""
        if self.github is None:
            return ()
        prefix = self.github.role_prefix
        domains = []
        for stack in self.stacks:
            domains.append(TrustDomain(stack, "deploy", stack, f"{prefix}-deploy-{stack}"))
            read_environment = self.github.read_environments.get(stack, "")
            domains.append(TrustDomain(stack, "read", read_environment, f"{prefix}-read-{stack}"))
        return tuple(domains)


BOOTSTRAP = Namespace(
    "mlops-bootstrap",
    BootstrapConfig,
    {"region": "aws:region"},
    (
        ReferenceEntry(
            "aws:region", "str", "required", "AWS region of the bucket and keys", "eu-west-1"
        ),
    ),
    providers=("aws",),
)


def validate_bootstrap(raw: RawConfig, stack: str) -> BootstrapConfig:
    """Validate the bootstrap program's config; raise ConfigError listing every problem."""
    problems = credential_problems(raw) + BOOTSTRAP.namespace_problems(raw)
    region = raw.values.get("aws:region")
    if region is None:
        problems.append(
            "aws:region: required key is missing; expected an AWS region like us-east-1"
        )
    elif not _REGION.match(region):
        problems.append(f"aws:region: expected an AWS region like us-east-1, got {region!r}")
    cfg, model_problems = BOOTSTRAP.build(raw, {"region": region or "us-east-1"})
    problems += model_problems
    if isinstance(cfg, BootstrapConfig):
        problems += _cross_key_problems(cfg)
    if problems or not isinstance(cfg, BootstrapConfig):
        # Named as in the repository, where users run the offline tools and read the docs.
        raise ConfigError(f"{FOLDER}/Pulumi.{stack}.yaml", problems)
    return cfg


def _cross_key_problems(cfg: BootstrapConfig) -> list[str]:
    ns = BOOTSTRAP.name
    problems = []
    for key in ("key_admins", "operators"):
        for arn in getattr(cfg, key):
            match = _PRINCIPAL_ARN.match(arn)
            if match and match.group(2) != cfg.account_id:
                problems.append(
                    f"{ns}:{key}: {arn} is not in account {cfg.account_id} ({ns}:account_id)"
                )
    github = cfg.github
    if github is None:
        return problems
    key = f"{ns}:github"
    if (github.owner_id is None) != (github.repository_id is None):
        missing = "repository_id" if github.repository_id is None else "owner_id"
        problems.append(
            f"{key}.{missing}: owner_id and repository_id go together (a token's subject "
            "carries both ids or neither); set both, or neither for a repository whose "
            "subjects name only owner/name"
        )
    if github.create_oidc_provider and github.oidc_provider_arn:
        problems.append(f"{key}.oidc_provider_arn: only used when create_oidc_provider is false")
    if not github.create_oidc_provider and not github.oidc_provider_arn:
        problems.append(
            f"{key}.oidc_provider_arn: required when create_oidc_provider is false "
            "(the ARN of the account's token.actions.githubusercontent.com provider)"
        )
    readers = github.read_environments
    if set(readers) != set(cfg.stacks):
        problems.append(
            f"{key}.read_environments: expected one entry per stack of {ns}:stacks "
            f"({', '.join(sorted(cfg.stacks))}), got {', '.join(sorted(readers)) or 'none'}"
        )
    environments = [*cfg.stacks, *readers.values()]
    bad = sorted({e for e in readers.values() if not _ENVIRONMENT.match(e)})
    if bad:
        problems.append(f"{key}.read_environments: not GitHub environment names: {bad}")
    elif len(set(environments)) != len(environments):
        problems.append(
            f"{key}.read_environments: each role needs its own GitHub environment; the read "
            "environments must differ from each other and from the stack names (the deploy "
            f"environments), got {readers}"
        )
    too_long = [d.role_name for d in cfg.trust_domains if len(d.role_name) > 64]
    if too_long:
        problems.append(f"{key}.role_prefix: role names longer than 64 characters: {too_long}")
    return problems


def load_bootstrap_config() -> BootstrapConfig:
    """Read and validate the bootstrap stack's config from the Pulumi runtime."""
    return validate_bootstrap(RawConfig.from_runtime(), pulumi.get_stack())
