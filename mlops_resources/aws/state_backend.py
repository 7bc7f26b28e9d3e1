"""The S3 bucket and KMS keys that hold every stack's Pulumi state and secrets, and the grants.

Each stack gets its own secrets key (the stack file's ``secretsprovider``); the state objects
are encrypted by S3 with one more key, usable only through S3 for this bucket. Like the AWS
CDK's ``bucket.grantRead(role)``, the backend grants access: it writes each CI role's policy
(that stack's paths, nothing else) and names the role in the key policies (its stack's secrets
key, and the state key through S3), so the layout of the bucket and who may reach it are
decided in one place. The key policies alone grant key use: they enable no IAM policies.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from mlops_resources.aws.iam import policy_json
from mlops_resources.aws.policies import (
    StatePaths,
    bucket_policy_statements,
    key_policy_statements,
    key_use,
    role_statements,
    through_s3,
)


@dataclass(frozen=True)
class Grantee:
    """An IAM role the backend grants access to."""

    name: pulumi.Input[str]
    """Role name: its inline policy is attached to it."""
    arn: pulumi.Input[str]
    """Role ARN: key policies name it."""


@dataclass(frozen=True)
class StackAccess:
    """One stack of the backend and the roles that reach it."""

    stack: str
    """Stack name: its state paths and key alias carry it."""
    deployer: Grantee | None = None
    """Reads and writes the stack's state (update, locks), decrypts its secrets."""
    reader: Grantee | None = None
    """Lists and gets the stack's state, decrypts its secrets; writes nothing."""


@dataclass(frozen=True)
class StateBackendArgs:
    """Inputs of :class:`StateBackend`."""

    bucket_name: str
    """Globally unique bucket name."""
    region: str
    """Region of the bucket: keys are limited to S3 of this region."""
    account_id: str
    """Account of the bucket: key policies name its root user (break-glass)."""
    state_prefix: str
    """Bucket folder of the backend URL."""
    bootstrap_prefix: str
    """Bucket folder of the bootstrap's own state: operators alone write it."""
    project: str
    """Pulumi project whose stacks live under the prefix."""
    stacks: tuple[StackAccess, ...]
    """Stacks with their own secrets key, and their CI roles."""
    key_aliases: dict[str, str]
    """Alias (without ``alias/``) per stack name, and for ``state`` (the state objects' key)."""
    key_admins: tuple[str, ...]
    """Principals that administer the keys and cannot use them."""
    operators: tuple[str, ...]
    """Principals that run Pulumi by hand: use every key."""
    kms_deletion_window_days: int
    """Waiting period before a scheduled key deletion happens."""
    noncurrent_version_days: int
    """Days an overwritten or deleted state file version is kept."""
    tags: dict[str, str]
    """Tags of the bucket and keys."""


class StateBackend(pulumi.ComponentResource):
    """A hardened state bucket, a key per stack, and each CI role's grants."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    state_key_arn: pulumi.Output[str]
    secrets_key_arns: pulumi.Output[dict[str, str]]

    def __init__(
        self, name: str, args: StateBackendArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:aws:StateBackend", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Losing a key makes its secrets unreadable; losing the bucket loses all state.
        protected = pulumi.ResourceOptions(parent=self, protect=True)

        bucket = aws.s3.Bucket(
            f"{name}-bucket", bucket=args.bucket_name, tags=args.tags, opts=protected
        )
        deployers = [s.deployer.arn for s in args.stacks if s.deployer]
        readers = [s.reader.arn for s in args.stacks if s.reader]
        key = aws.kms.Key(
            f"{name}-key",
            description="Encrypts the Pulumi state objects of the bucket (S3 only)",
            enable_key_rotation=True,
            deletion_window_in_days=args.kms_deletion_window_days,
            policy=self._key_policy(
                args,
                key_use(
                    "WriteStateThroughS3",
                    [*deployers, *args.operators],
                    ["kms:Decrypt", "kms:GenerateDataKey"],
                    through_s3(args.region, bucket.arn),
                )
                + key_use(
                    "ReadStateThroughS3",
                    readers,
                    ["kms:Decrypt"],
                    through_s3(args.region, bucket.arn),
                ),
            ),
            tags=args.tags,
            opts=protected,
        )
        aws.kms.Alias(
            f"{name}-key-alias",
            name=f"alias/{args.key_aliases['state']}",
            target_key_id=key.key_id,
            opts=child,
        )
        secrets_keys = {
            access.stack: self._secrets_key(name, args, access, protected) for access in args.stacks
        }
        self._harden_bucket(name, args, bucket, key, deployers)
        for access in args.stacks:
            paths = StatePaths(args.state_prefix, args.project, access.stack)
            for kind, grantee in (("deploy", access.deployer), ("read", access.reader)):
                if grantee is None:
                    continue
                aws.iam.RolePolicy(
                    f"{name}-access-{access.stack}-{kind}",
                    role=grantee.name,
                    policy=policy_json(
                        *role_statements(write=kind == "deploy", paths=paths, bucket_arn=bucket.arn)
                    ),
                    opts=child,
                )

        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.state_key_arn = key.arn
        self.secrets_key_arns = pulumi.Output.all(
            **{stack: k.arn for stack, k in secrets_keys.items()}
        )
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "state_key_arn": self.state_key_arn,
                "secrets_key_arns": self.secrets_key_arns,
            }
        )

    @staticmethod
    def _key_policy(args: StateBackendArgs, uses: list[dict[str, object]]) -> pulumi.Output[str]:
        return policy_json(
            *key_policy_statements(
                account_id=args.account_id, admins=list(args.key_admins), uses=uses
            )
        )

    def _secrets_key(
        self,
        name: str,
        args: StateBackendArgs,
        access: StackAccess,
        protected: pulumi.ResourceOptions,
    ) -> aws.kms.Key:
        """The stack's own secrets key: only its roles decrypt, only operators encrypt."""
        stack = access.stack
        roles = [g.arn for g in (access.deployer, access.reader) if g is not None]
        key = aws.kms.Key(
            f"{name}-secrets-key-{stack}",
            description=f"Encrypts the Pulumi secrets of stack {stack}",
            enable_key_rotation=True,
            deletion_window_in_days=args.kms_deletion_window_days,
            policy=self._key_policy(
                args,
                key_use("DecryptStackSecrets", roles, ["kms:Decrypt"])
                + key_use(
                    "OperatorsManageSecrets",
                    list(args.operators),
                    ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt"],
                ),
            ),
            tags={**args.tags, "stack": stack},
            opts=protected,
        )
        aws.kms.Alias(
            f"{name}-secrets-key-alias-{stack}",
            name=f"alias/{args.key_aliases[stack]}",
            target_key_id=key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return key

    def _harden_bucket(
        self,
        name: str,
        args: StateBackendArgs,
        bucket: aws.s3.Bucket,
        key: aws.kms.Key,
        writers: list[pulumi.Input[str]],
    ) -> None:
        """Versioning, SSE-KMS, no public access, TLS only, writes only under the state key and
        only by ``writers`` and operators, old versions and markers expire."""
        child = pulumi.ResourceOptions(parent=self)
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms", kms_master_key_id=key.arn
                    ),
                    # One data key per bucket instead of a KMS call per object.
                    bucket_key_enabled=True,
                )
            ],
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket.id,
            policy=policy_json(
                *bucket_policy_statements(
                    bucket_arn=bucket.arn,
                    state_key_arn=key.arn,
                    state_prefix=args.state_prefix,
                    bootstrap_prefix=args.bootstrap_prefix,
                    writers=writers,
                    operators=list(args.operators),
                )
            ),
            # S3 rejects a policy change while the public access block is being written.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access]),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-noncurrent-state-versions",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    # Every released lock leaves a delete marker; once its last noncurrent
                    # version expires the marker is "expired" and S3 removes it. (S3 refuses
                    # this flag together with days or date in the same expiration.)
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        expired_object_delete_marker=True
                    ),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=args.noncurrent_version_days
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7
                    ),
                )
            ],
            opts=child,
        )
