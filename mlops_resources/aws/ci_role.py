"""The IAM role GitHub Actions assumes (OIDC, no long-lived keys) to reach the state backend."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from mlops_resources.aws.iam import policy_json

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"


@dataclass(frozen=True)
class GitHubCiRoleArgs:
    """Inputs of :class:`GitHubCiRole`."""

    repository: str
    """``owner/name`` whose workflows may assume the role."""
    subjects: tuple[str, ...]
    """Token subjects after ``repo:<owner>/<name>:`` (branch, pull_request, environment)."""
    role_name: str
    """IAM role name."""
    create_oidc_provider: bool
    """Create the account's GitHub OIDC provider, or use ``oidc_provider_arn``."""
    oidc_provider_arn: str | None
    """Existing provider ARN when not creating one."""
    bucket_arn: pulumi.Input[str]
    """State bucket ARN."""
    state_prefix: str
    """Folder of the bucket the role may read and write."""
    key_arn: pulumi.Input[str]
    """KMS key the role may use."""
    tags: dict[str, str]
    """Tags of the role and provider."""


class GitHubCiRole(pulumi.ComponentResource):
    """An OIDC-trusted role allowed only this bucket's prefix and this key."""

    role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: GitHubCiRoleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:aws:GitHubCiRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        provider_arn: pulumi.Input[str]
        if args.create_oidc_provider:
            provider = aws.iam.OpenIdConnectProvider(
                f"{name}-oidc-provider",
                url=GITHUB_OIDC_URL,
                client_id_lists=[AUDIENCE],
                tags=args.tags,
                opts=child,
            )
            provider_arn = provider.arn
        else:
            provider_arn = args.oidc_provider_arn or ""

        subjects = [f"repo:{args.repository}:{subject}" for subject in sorted(args.subjects)]
        role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            description=f"Pulumi state access for GitHub Actions of {args.repository}",
            assume_role_policy=policy_json(
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {f"{GITHUB_OIDC_HOST}:aud": AUDIENCE},
                        "StringLike": {f"{GITHUB_OIDC_HOST}:sub": subjects},
                    },
                }
            ),
            max_session_duration=3600,
            tags=args.tags,
            opts=child,
        )
        prefix = args.state_prefix
        aws.iam.RolePolicy(
            f"{name}-state-access",
            role=role.name,
            policy=policy_json(
                {
                    "Sid": "ListStatePrefix",
                    "Effect": "Allow",
                    "Action": "s3:ListBucket",
                    "Resource": args.bucket_arn,
                    "Condition": {"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}},
                },
                {
                    "Sid": "LocateBucket",
                    "Effect": "Allow",
                    "Action": "s3:GetBucketLocation",
                    "Resource": args.bucket_arn,
                },
                {
                    "Sid": "ReadWriteState",
                    "Effect": "Allow",
                    "Action": ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
                    "Resource": pulumi.Output.concat(args.bucket_arn, f"/{prefix}/*"),
                },
                {
                    "Sid": "UseSecretsKey",
                    "Effect": "Allow",
                    "Action": [
                        "kms:Decrypt",
                        "kms:DescribeKey",
                        "kms:Encrypt",
                        "kms:GenerateDataKey",
                    ],
                    "Resource": args.key_arn,
                },
            ),
            opts=child,
        )
        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn})
