"""Pulumi program: what the mlops stacks' S3 backend needs. Run once per AWS account.

Only wiring, like the main program: validated config in, components built, outputs exported.
"""

import sys
from pathlib import Path

# The components live in the repository's mlops_resources package, one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi

from mlops_resources.aws.ci_role import GitHubCiRole, GitHubCiRoleArgs
from mlops_resources.aws.state_backend import StateBackend, StateBackendArgs
from mlops_resources.config.bootstrap import load_bootstrap_config

config = load_bootstrap_config()
tags = {"managed-by": "pulumi", "purpose": "pulumi-state"}
backend = StateBackend(
    "state",
    StateBackendArgs(
        bucket_name=config.bucket_name,
        kms_alias=config.kms_alias,
        kms_deletion_window_days=config.kms_deletion_window_days,
        noncurrent_version_days=config.noncurrent_version_days,
        tags=tags,
    ),
)
pulumi.export("backend_url", config.backend_url)
pulumi.export("secrets_provider", config.secrets_provider)
pulumi.export("bucket_name", backend.bucket_name)
pulumi.export("kms_key_arn", backend.key_arn)

if config.github is not None:
    ci = GitHubCiRole(
        "ci",
        GitHubCiRoleArgs(
            repository=config.github.repository,
            subjects=tuple(config.github.subjects),
            role_name=config.github.role_name,
            create_oidc_provider=config.github.create_oidc_provider,
            oidc_provider_arn=config.github.oidc_provider_arn,
            bucket_arn=backend.bucket_arn,
            state_prefix=config.state_prefix,
            key_arn=backend.key_arn,
            tags=tags,
        ),
    )
    pulumi.export("ci_role_arn", ci.role_arn)
