"""The IAM roles GitHub Actions assumes (OIDC, no long-lived keys): one per trust domain.

A trust domain is one GitHub environment: each role trusts exactly one environment's token
subject (``StringEquals``, no wildcard), so what a job may do is decided by the environment it
names, whose protection rules (deployment branches, reviewers) GitHub enforces before the job
gets a token. The roles carry no permissions here: the state backend grants each one its
stack's paths and key (:mod:`mlops_resources.aws.state_backend`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from mlops_resources.aws.iam import policy_json
from mlops_resources.config.bootstrap import GitHubCiConfig, TrustDomain

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
SESSION_SECONDS = 3600
"""Longest session a role allows; jobs that hold a stack lock must end before it does."""


@dataclass(frozen=True)
class GitHubCiRolesArgs:
    """Inputs of :class:`GitHubCiRoles`."""

    github: GitHubCiConfig
    """The repository whose workflows may assume the roles (the token subject it gets), and
    whether to create the account's GitHub OIDC provider or use an existing one."""
    roles: tuple[TrustDomain, ...]
    """One role per trust domain: the environment it trusts (token ``sub`` ends with it)."""
    tags: dict[str, str]
    """Tags of the roles and provider."""


class GitHubCiRoles(pulumi.ComponentResource):
    """The GitHub OIDC provider and one role per GitHub environment."""

    role_arns: pulumi.Output[dict[str, str]]
    """Role ARN per GitHub environment: the environment's ``AWS_ROLE_ARN`` variable."""

    def __init__(
        self, name: str, args: GitHubCiRolesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:aws:GitHubCiRoles", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        provider_arn: pulumi.Input[str]
        if args.github.create_oidc_provider:
            provider = aws.iam.OpenIdConnectProvider(
                f"{name}-oidc-provider",
                url=GITHUB_OIDC_URL,
                client_id_lists=[AUDIENCE],
                tags=args.tags,
                opts=child,
            )
            provider_arn = provider.arn
        else:
            provider_arn = args.github.oidc_provider_arn or ""

        self.roles: dict[str, aws.iam.Role] = {}
        """The role per GitHub environment, for the grants of the state backend."""
        for domain in args.roles:
            # Several values of one key match when any does ("If a single condition operator
            # includes multiple values for a context key, those values are evaluated using a
            # logical OR", IAM User Guide, reference_policies_condition-logic-multiple-context-
            # keys-or-values.html): the id and the name subject while a repository moves.
            subjects = args.github.subjects(domain.environment)
            subject: str | list[str] = subjects[0] if len(subjects) == 1 else list(subjects)
            self.roles[domain.environment] = aws.iam.Role(
                f"{name}-role-{domain.environment}",
                name=domain.role_name,
                description=(
                    f"Pulumi: {domain.access} stack {domain.stack} "
                    f"from GitHub environment {domain.environment}"
                ),
                assume_role_policy=policy_json(
                    {
                        "Effect": "Allow",
                        "Principal": {"Federated": provider_arn},
                        "Action": "sts:AssumeRoleWithWebIdentity",
                        "Condition": {
                            "StringEquals": {
                                f"{GITHUB_OIDC_HOST}:aud": AUDIENCE,
                                f"{GITHUB_OIDC_HOST}:sub": subject,
                            }
                        },
                    }
                ),
                max_session_duration=SESSION_SECONDS,
                tags={**args.tags, "github-environment": domain.environment},
                opts=child,
            )
        self.role_arns = pulumi.Output.all(
            **{environment: role.arn for environment, role in self.roles.items()}
        )
        self.register_outputs({"role_arns": self.role_arns})
