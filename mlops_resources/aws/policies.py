"""Who may do what with the state backend: IAM statements for the CI roles, KMS key policies.

Paths follow the Pulumi DIY backend's project-scoped layout (pulumi/pulumi
``pkg/backend/diy``: ``store.go`` StackBasePath/HistoryDir/BackupDir, ``lock.go`` lockPath,
``stack_tags.go`` stackTagsPath, ``meta.go`` pulumiMetaPath), under ``<state_prefix>/.pulumi/``:

- ``meta.yaml``: the layout version, read on every login;
- ``stacks/<project>/<stack>.json`` (also ``.json.gz``, ``.json.zst`` and a ``.bak`` copy):
  the stack file; ``stackPath`` lists the prefix ``stacks/<project>/<stack>.json``;
- ``stacks/<project>/<stack>.pulumi-tags``: the stack's tags (Pulumi 3.211.0 and later), read
  by every preview and update (``getTarget``) and absent until ``pulumi stack tag set``, the
  only command that writes it. S3 answers a missing key with 404 only to a caller that may list
  it (403 otherwise), and anything but "not found" fails the run: every role lists and gets it;
  none writes it;
- ``locks/organization/<project>/<stack>/<uuid>.json``: update locks (the ``organization``
  segment is the stack's fully qualified name);
- ``history/<project>/<stack>/`` and ``backups/<project>/<stack>/``: written by updates.

A preview (with or without ``--refresh``) takes no lock and writes nothing, so a read role
lists and gets the stack file and its tags only. Pulumi's ``awskms://`` secrets provider
decrypts the stack's data key (the stack file's ``encryptedkey``) with a direct
``kms:Decrypt``; only ``pulumi stack init`` encrypts, so no CI role gets ``kms:Encrypt``. State
objects are encrypted by S3 (SSE-KMS with a bucket key) with a separate key that only works
through S3 for this bucket. Both grants are key policy statements (:func:`key_use`): the key
policies enable no IAM policies, so a role policy's KMS statement would have no effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

# What a key administrator may do: everything but using the key. No kms:CreateGrant, which
# would let an administrator hand out use without touching the key policy.
KEY_ADMIN_ACTIONS = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
]


@dataclass(frozen=True)
class StatePaths:
    """One stack's objects in the bucket, as S3 key patterns (``*`` as IAM reads it)."""

    prefix: str
    """The bucket folder of the backend URL."""
    project: str
    """Pulumi project name."""
    stack: str
    """Stack name."""

    @property
    def root(self) -> str:
        return f"{self.prefix}/.pulumi"

    @property
    def meta(self) -> str:
        return f"{self.root}/meta.yaml"

    @property
    def stack_file(self) -> str:
        return f"{self.root}/stacks/{self.project}/{self.stack}.json*"

    @property
    def tags(self) -> str:
        return f"{self.root}/stacks/{self.project}/{self.stack}.pulumi-tags"

    @property
    def locks(self) -> str:
        return f"{self.root}/locks/organization/{self.project}/{self.stack}/*"

    @property
    def history(self) -> str:
        return f"{self.root}/history/{self.project}/{self.stack}/*"

    @property
    def backups(self) -> str:
        return f"{self.root}/backups/{self.project}/{self.stack}/*"

    @property
    def read(self) -> list[str]:
        """What every preview and update reads (besides ``meta``): stack file and tags."""
        return [self.stack_file, self.tags]

    @property
    def bookkeeping(self) -> list[str]:
        """What an update writes besides the stack file: locks, history, backups."""
        return [self.locks, self.history, self.backups]

    @property
    def written(self) -> list[str]:
        """What an update writes and deletes: stack file, locks, history, backups."""
        return [self.stack_file, *self.bookkeeping]


def _objects(bucket_arn: pulumi.Input[str], patterns: list[str]) -> list[pulumi.Output[str]]:
    return [pulumi.Output.concat(bucket_arn, "/", pattern) for pattern in patterns]


def through_s3(region: str, bucket_arn: pulumi.Input[str]) -> dict[str, Any]:
    """Conditions that limit a key to S3 encrypting this bucket's objects.

    With a bucket key, S3's encryption context is the bucket ARN, not the object's.
    """
    return {
        "StringEquals": {
            "kms:ViaService": f"s3.{region}.amazonaws.com",
            "kms:EncryptionContext:aws:s3:arn": bucket_arn,
        }
    }


def role_statements(
    *, write: bool, paths: StatePaths, bucket_arn: pulumi.Input[str]
) -> list[dict[str, Any]]:
    """A CI role's policy: one stack's state paths, read-only unless ``write``.

    No KMS statement: the key policies enable no IAM policies (no statement for the account
    root without condition), so an IAM grant on a key has no effect; the key policies name
    the role instead (:func:`key_use`).
    """
    listed = [*paths.read, *paths.bookkeeping] if write else paths.read
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ListStackState",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": listed}},
        },
        {
            "Sid": "LocateBucket",
            "Effect": "Allow",
            "Action": "s3:GetBucketLocation",
            "Resource": bucket_arn,
        },
        {
            "Sid": "ReadStackState",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": _objects(bucket_arn, [paths.meta, *listed]),
        },
    ]
    if write:
        statements.append(
            {
                "Sid": "WriteStackState",
                "Effect": "Allow",
                "Action": ["s3:DeleteObject", "s3:PutObject"],
                "Resource": _objects(bucket_arn, paths.written),
            }
        )
    return statements


def _principals(arns: list[pulumi.Input[str]]) -> dict[str, Any]:
    return {"AWS": arns}


def key_policy_statements(
    *,
    account_id: str,
    admins: list[str],
    uses: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """An explicit key policy: the root user (break-glass), administrators, then ``uses``.

    There is no "Enable IAM User Permissions" statement: an IAM policy alone (an account
    administrator's ``kms:*``) grants nothing on these keys. Administrators cannot encrypt or
    decrypt. The break-glass path is the account's root user (``aws:PrincipalType`` is
    ``Account`` only for it): it can always repair the policy, and CloudTrail records it.
    """
    return [
        {
            "Sid": "BreakGlassRootUser",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalType": "Account"}},
        },
        {
            "Sid": "KeyAdministration",
            "Effect": "Allow",
            "Principal": _principals(list(admins)),
            "Action": KEY_ADMIN_ACTIONS,
            "Resource": "*",
        },
        *uses,
    ]


def key_use(
    sid: str,
    principals: list[pulumi.Input[str]],
    actions: list[str],
    condition: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """A key policy statement granting ``actions``; none when there is no principal."""
    if not principals:
        return []
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": _principals(principals),
        "Action": actions,
        "Resource": "*",
    }
    if condition:
        statement["Condition"] = condition
    return [statement]


def bucket_policy_statements(
    *,
    bucket_arn: pulumi.Input[str],
    state_key_arn: pulumi.Input[str],
    state_prefix: str,
    bootstrap_prefix: str,
    writers: list[pulumi.Input[str]],
    operators: list[str],
) -> list[dict[str, Any]]:
    """The state bucket's policy: TLS only; objects only under the state key; state written
    and deleted only by ``writers`` (the deploy roles and operators), the bootstrap's own state
    only by operators.

    Explicit denies, which hold for every principal of the account, whatever its IAM policy
    allows ("An explicit deny in any of the policies overrides the allow", IAM User Guide,
    "Policy evaluation for requests within a single account").

    Encryption: a write that sends no encryption header gets the bucket's default, the state
    key ("If a PUT Object request doesn't specify any server-side encryption, this default
    encryption will be applied", S3 API reference, ServerSideEncryptionRule); Pulumi's S3
    writes send none. Every header that would pick another key is refused: another algorithm
    (SSE-S3 ``AES256``, ``aws:kms:dsse``), another key id, ``aws:kms`` without a key id
    ("Amazon S3 uses the AWS managed key (aws/s3)", S3 API reference, PutObject,
    ``x-amz-server-side-encryption-aws-kms-key-id``), or a customer-provided key (SSE-C). Each
    value test is paired with a ``Null`` test that the header is present (the operators of one
    statement must all match): a negated operator alone matches a request without the header
    ("If the policy condition requires that the key is not matched ... and the right key is not
    present, the condition is true", IAM User Guide, "Condition operators"), and so does
    ``...IfExists`` ("If the key is not present, evaluate the condition element as true"), which
    would refuse Pulumi's own writes and every multipart part (``UploadPart`` sends no
    encryption header).

    Writers: ``aws:PrincipalArn`` is the role's ARN for an assumed role's session ("For IAM
    roles, the request context returns the ARN of the role, not the ARN of the user that
    assumed the role", IAM User Guide, "AWS global condition context keys"), so a deploy
    role's sessions match it. The account's root user is refused too; it can still replace
    this policy (break-glass).
    """
    objects = pulumi.Output.concat(bucket_arn, "/*")
    put = {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": objects}
    writes = ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObject"]
    return [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, objects],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyEncryptionOtherThanKms",
            **put,
            "Condition": {
                "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
                "Null": {"s3:x-amz-server-side-encryption": "false"},
            },
        },
        {
            "Sid": "DenyKeysOtherThanTheStateKey",
            **put,
            "Condition": {
                "StringNotEquals": {
                    "s3:x-amz-server-side-encryption-aws-kms-key-id": state_key_arn
                },
                "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"},
            },
        },
        {
            "Sid": "DenyKmsWithoutTheStateKey",
            **put,
            "Condition": {
                "Null": {
                    "s3:x-amz-server-side-encryption": "false",
                    "s3:x-amz-server-side-encryption-aws-kms-key-id": "true",
                }
            },
        },
        {
            "Sid": "DenyCustomerProvidedKeys",
            **put,
            "Condition": {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}},
        },
        {
            "Sid": "DenyStateWritesByOthers",
            "Effect": "Deny",
            "Principal": "*",
            "Action": writes,
            "Resource": pulumi.Output.concat(bucket_arn, "/", state_prefix, "/*"),
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": [*writers, *operators]}},
        },
        {
            "Sid": "DenyBootstrapStateWritesByOthers",
            "Effect": "Deny",
            "Principal": "*",
            "Action": writes,
            "Resource": pulumi.Output.concat(bucket_arn, "/", bootstrap_prefix, "/*"),
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": list(operators)}},
        },
    ]
