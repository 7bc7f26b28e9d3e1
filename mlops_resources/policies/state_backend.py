"""The bootstrap program's state backend: every stack's state and secrets live in this bucket
and key, so the bucket is versioned, KMS-encrypted with a bucket key, closed to the public and
to plain HTTP, takes objects under its own key only and state writes from named principals
only, and both are protected."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from mlops_resources.policies.support import dependents, get, of_type

BUCKET = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
KMS_KEY = "aws:kms/key:Key"
KMS_KEY_ID = "s3:x-amz-server-side-encryption-aws-kms-key-id"
PUBLIC_ACCESS_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)

BucketCheck = Callable[[StackValidationArgs, PolicyResource], Iterable[str]]
"""Problems of one bucket of the stack."""


def _bucket_policy(name: str, description: str, check: BucketCheck) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        for bucket in of_type(args.resources, BUCKET):
            for message in check(args, bucket):
                report(f"bucket '{bucket.name}': {message}", bucket.urn)

    return StackValidationPolicy(
        name=name,
        description=description,
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=validate,
    )


def _versioned(args: StackValidationArgs, bucket: PolicyResource) -> Iterable[str]:
    statuses = [
        get(v.props, "versioningConfiguration.status")
        for v in dependents(args.resources, bucket, VERSIONING)
    ]
    if "Enabled" not in statuses:
        yield "versioning is not enabled: an overwritten or deleted state file is lost."


def _encrypted(args: StackValidationArgs, bucket: PolicyResource) -> Iterable[str]:
    rules = [
        rule
        for config in dependents(args.resources, bucket, ENCRYPTION)
        for rule in config.props.get("rules") or []
    ]
    if not any(
        get(rule, "applyServerSideEncryptionByDefault.sseAlgorithm") == "aws:kms"
        and rule.get("bucketKeyEnabled") is True
        for rule in rules
    ):
        yield "default encryption is not SSE-KMS with a bucket key."


def _private(args: StackValidationArgs, bucket: PolicyResource) -> Iterable[str]:
    blocks = dependents(args.resources, bucket, PUBLIC_ACCESS_BLOCK)
    if not any(
        all(block.props.get(flag) is True for flag in PUBLIC_ACCESS_FLAGS) for block in blocks
    ):
        yield f"not all four public access blocks are on ({', '.join(PUBLIC_ACCESS_FLAGS)})."


def _denies_plain_http(statement: Any) -> bool:
    return (
        isinstance(statement, dict)
        and statement.get("Effect") == "Deny"
        and get(statement, "Condition.Bool", {}).get("aws:SecureTransport") == "false"
    )


def _statements(args: StackValidationArgs, bucket: PolicyResource) -> list[Any]:
    """Every statement of the bucket's policies."""
    found: list[Any] = []
    for policy in dependents(args.resources, bucket, BUCKET_POLICY):
        document = policy.props.get("policy")
        parsed = json.loads(document) if isinstance(document, str) else document or {}
        found += parsed.get("Statement") or []
    return found


def _tls_only(args: StackValidationArgs, bucket: PolicyResource) -> Iterable[str]:
    if not any(_denies_plain_http(s) for s in _statements(args, bucket)):
        yield "no bucket policy denies requests without TLS (aws:SecureTransport false)."


def _denies(statement: Any, *actions: str) -> bool:
    listed = statement.get("Action") if isinstance(statement, dict) else None
    listed = [listed] if isinstance(listed, str) else listed or []
    return statement.get("Effect") == "Deny" and all(a in listed for a in actions)


def _state_key_only(args: StackValidationArgs, bucket: PolicyResource) -> Iterable[str]:
    keys = {
        get(rule, "applyServerSideEncryptionByDefault.kmsMasterKeyId")
        for config in dependents(args.resources, bucket, ENCRYPTION)
        for rule in config.props.get("rules") or []
    }
    named = {
        get(s, "Condition.StringNotEquals", {}).get(KMS_KEY_ID)
        for s in _statements(args, bucket)
        if _denies(s, "s3:PutObject")
    }
    if not (keys - {None}) & named:
        yield (
            f"no bucket policy statement denies s3:PutObject naming another {KMS_KEY_ID} than "
            "the default encryption's key: a writer could put state under another key."
        )


def _writers_limited(args: StackValidationArgs, bucket: PolicyResource) -> Iterable[str]:
    if not any(
        _denies(s, "s3:PutObject", "s3:DeleteObject")
        and "aws:PrincipalArn" in get(s, "Condition.ArnNotEquals", {})
        for s in _statements(args, bucket)
    ):
        yield (
            "no bucket policy statement denies s3:PutObject and s3:DeleteObject to principals "
            "other than named ones (ArnNotEquals on aws:PrincipalArn): any principal of the "
            "account with broad S3 rights could rewrite a stack's state."
        )


def _protected(args: StackValidationArgs, report: ReportViolation) -> None:
    for resource in of_type(args.resources, BUCKET, KMS_KEY):
        if not resource.opts.protect:
            report(
                f"'{resource.name}' is not protected: losing the bucket loses every stack's "
                "state, losing the key makes every stack secret unreadable.",
                resource.urn,
            )


POLICIES = [
    _bucket_policy("state-bucket-versioned", "The state bucket is versioned.", _versioned),
    _bucket_policy(
        "state-bucket-kms-encrypted",
        "The state bucket encrypts with KMS and a bucket key.",
        _encrypted,
    ),
    _bucket_policy(
        "state-bucket-public-access-blocked",
        "All four public access blocks of the state bucket are on.",
        _private,
    ),
    _bucket_policy(
        "state-bucket-tls-only",
        "The state bucket's policy denies requests without TLS.",
        _tls_only,
    ),
    _bucket_policy(
        "state-bucket-state-key-only",
        "The state bucket's policy denies writes that name another KMS key than its own.",
        _state_key_only,
    ),
    _bucket_policy(
        "state-bucket-writers-limited",
        "The state bucket's policy denies writes and deletes to all but named principals.",
        _writers_limited,
    ),
    StackValidationPolicy(
        name="state-backend-protected",
        description="The state bucket and the secrets key are protected.",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=_protected,
    ),
]
