"""Pulumi program: what the mlops stacks' S3 backend needs. Run once per AWS account.

Only wiring, like the main program: validated config in, components built, outputs exported.
"""

import sys
from pathlib import Path

# The components live in the repository's mlops_resources package, one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi

from mlops_resources.aws.ci_role import GitHubCiRoles, GitHubCiRolesArgs
from mlops_resources.aws.state_backend import Grantee, StackAccess, StateBackend, StateBackendArgs
from mlops_resources.config.bootstrap import (
    BOOTSTRAP_PREFIX,
    STATE_KEY_SUFFIX,
    load_bootstrap_config,
)

config = load_bootstrap_config()
tags = {"managed-by": "pulumi", "purpose": "pulumi-state"}

# One role per trust domain: deploy or read one stack, assumed from one GitHub environment.
grantees: dict[tuple[str, str], Grantee] = {}
if config.github is not None:
    ci = GitHubCiRoles(
        "ci",
        GitHubCiRolesArgs(
            github=config.github,
            roles=config.trust_domains,
            tags=tags,
        ),
    )
    for d in config.trust_domains:
        role = ci.roles[d.environment]
        grantees[d.stack, d.access] = Grantee(name=role.name, arn=role.arn)
    pulumi.export("role_arns", ci.role_arns)
    # What the Databricks federation policies of the principals must accept, per environment.
    pulumi.export(
        "oidc_subjects",
        {d.environment: config.github.subject(d.environment) for d in config.trust_domains},
    )
    # The name-only subjects the roles also trust while the repository moves to id subjects
    # (none without ids): a second federation policy per principal (docs/deployment.md, 3).
    pulumi.export(
        "name_oidc_subjects",
        {
            d.environment: subject
            for d in config.trust_domains
            if (subject := config.github.name_subject(d.environment))
        },
    )

backend = StateBackend(
    "state",
    StateBackendArgs(
        bucket_name=config.bucket_name,
        region=config.region,
        account_id=config.account_id,
        state_prefix=config.state_prefix,
        bootstrap_prefix=BOOTSTRAP_PREFIX,
        project=config.project,
        stacks=tuple(
            StackAccess(
                stack,
                deployer=grantees.get((stack, "deploy")),
                reader=grantees.get((stack, "read")),
            )
            for stack in config.stacks
        ),
        key_aliases={
            suffix: config.key_alias(suffix) for suffix in (*config.stacks, STATE_KEY_SUFFIX)
        },
        key_admins=tuple(config.key_admins),
        operators=tuple(config.operators),
        kms_deletion_window_days=config.kms_deletion_window_days,
        noncurrent_version_days=config.noncurrent_version_days,
        tags=tags,
    ),
)
pulumi.export("backend_url", config.backend_url)
pulumi.export("bootstrap_backend_url", config.bootstrap_backend_url)
pulumi.export("secrets_providers", {s: config.secrets_provider(s) for s in config.stacks})
pulumi.export("bucket_name", backend.bucket_name)
pulumi.export("state_key_arn", backend.state_key_arn)
pulumi.export("secrets_key_arns", backend.secrets_key_arns)
