"""Config of the state-backend bootstrap program (``bootstrap/``): its own namespace and file.

``bootstrap/Pulumi.<stack>.yaml`` holds, under ``mlops-bootstrap:``, what the S3 backend of
the mlops stacks needs: bucket, KMS key, and the CI role GitHub Actions assumes.
"""

from __future__ import annotations

import re

import pulumi
from pydantic import Field, field_validator

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


class GitHubCiConfig(Section):
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


class BootstrapConfig(Section):
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


BOOTSTRAP = Namespace(
    "mlops-bootstrap",
    BootstrapConfig,
    {"region": "aws:region"},
    (ReferenceEntry("aws:region", "str", "required", "AWS region of the bucket and key"),),
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
