"""bootstrap/: the state bucket, secrets key and CI role, run under mocks with its stack file."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlops_resources.config import ConfigError, RawConfig, validate_bootstrap
from mlops_resources.offline import PROJECT_DIR, Evaluation, StackFile, evaluate, read_stack_file
from tests.conftest import encode_overrides

BOOTSTRAP_DIR = PROJECT_DIR / "bootstrap"
SOURCE = read_stack_file("shared", BOOTSTRAP_DIR)
BUCKET_ARN = "arn:aws:s3:::example-org-mlops-pulumi-state"


def edited(changes: dict[str, Any]) -> StackFile:
    """The bootstrap stack file with top-level keys replaced (None: removed)."""
    values = {k: v for k, v in SOURCE.values.items() if changes.get(k, "") is not None}
    values.update(encode_overrides({k: v for k, v in changes.items() if v is not None}))
    return StackFile(SOURCE.path, values, SOURCE.secret_keys)


def run(changes: dict[str, Any] | None = None) -> Evaluation:
    return evaluate("shared", BOOTSTRAP_DIR, edited(changes or {}))


@pytest.fixture(scope="module")
def result() -> Evaluation:
    return run()


def policy(resource_inputs: dict[str, Any], key: str = "policy") -> dict[str, Any]:
    document: dict[str, Any] = json.loads(resource_inputs[key])
    return document


def test_bucket_is_versioned_encrypted_private_and_protected(result: Evaluation) -> None:
    bucket = result.get("state-bucket")
    assert bucket.inputs["bucket"] == "example-org-mlops-pulumi-state"
    assert bucket.protect
    assert result.get("state-versioning").inputs["versioningConfiguration"] == {"status": "Enabled"}
    (rule,) = result.get("state-encryption").inputs["rules"]
    assert rule == {
        "applyServerSideEncryptionByDefault": {
            "sseAlgorithm": "aws:kms",
            "kmsMasterKeyId": result.outputs["kms_key_arn"],
        },
        "bucketKeyEnabled": True,
    }
    block = result.get("state-public-access-block").inputs
    assert {k: block[k] for k in block if k != "bucket"} == {
        "blockPublicAcls": True,
        "blockPublicPolicy": True,
        "ignorePublicAcls": True,
        "restrictPublicBuckets": True,
    }
    assert result.get("state-ownership").inputs["rule"] == {
        "objectOwnership": "BucketOwnerEnforced"
    }
    for name in (
        "state-versioning",
        "state-encryption",
        "state-public-access-block",
        "state-policy",
    ):
        assert result.get(name).inputs["bucket"] == "example-org-mlops-pulumi-state"


def test_bucket_policy_denies_insecure_transport(result: Evaluation) -> None:
    (statement,) = policy(result.get("state-policy").inputs)["Statement"]
    assert statement == {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [BUCKET_ARN, f"{BUCKET_ARN}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    assert "state-public-access-block" in result.get("state-policy").dependencies


def test_lifecycle_expires_noncurrent_versions_after_configured_days() -> None:
    lifecycle = run({"mlops-bootstrap:noncurrent_version_days": "30"}).get("state-lifecycle")
    (rule,) = lifecycle.inputs["rules"]
    assert rule["status"] == "Enabled"
    assert rule["filter"] == {"prefix": ""}
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 30}
    assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}


def test_kms_key_rotates_is_protected_and_aliased(result: Evaluation) -> None:
    key = result.get("state-key")
    assert key.protect
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    assert result.get("state-key-alias").inputs["name"] == "alias/mlops-pulumi-secrets"


def test_outputs_are_what_stack_files_and_pulumi_yaml_take(result: Evaluation) -> None:
    assert result.outputs["backend_url"] == (
        "s3://example-org-mlops-pulumi-state/wine-quality?region=us-east-1&awssdk=v2"
    )
    assert (
        result.outputs["secrets_provider"] == "awskms://alias/mlops-pulumi-secrets?region=us-east-1"
    )
    project = (PROJECT_DIR / "Pulumi.yaml").read_text()
    assert f"url: {result.outputs['backend_url']}" in project
    for stack in ("staging", "prod"):
        stack_file = (PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text()
        assert f"\nsecretsprovider: {result.outputs['secrets_provider']}\n" in stack_file


def test_ci_role_trusts_only_this_repository_through_oidc(result: Evaluation) -> None:
    provider = result.get("ci-oidc-provider").inputs
    assert provider["url"] == "https://token.actions.githubusercontent.com"
    assert provider["clientIdLists"] == ["sts.amazonaws.com"]
    role = result.get("ci-role").inputs
    assert role["name"] == "wine-quality-pulumi-ci"
    (trust,) = policy(role, "assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {
        "Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    }
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    repo = "repo:example-org/wine-quality-mlops"
    assert trust["Condition"] == {
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
        "StringLike": {
            "token.actions.githubusercontent.com:sub": [
                f"{repo}:environment:prod",
                f"{repo}:environment:prod-preview",
                f"{repo}:environment:staging",
                f"{repo}:environment:staging-preview",
            ]
        },
    }


def test_ci_role_may_use_only_the_state_prefix_and_the_key(result: Evaluation) -> None:
    statements = policy(result.get("ci-state-access").inputs)["Statement"]
    assert {s["Sid"]: (s["Action"], s["Resource"]) for s in statements} == {
        "ListStatePrefix": ("s3:ListBucket", BUCKET_ARN),
        "LocateBucket": ("s3:GetBucketLocation", BUCKET_ARN),
        "ReadWriteState": (
            ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
            f"{BUCKET_ARN}/wine-quality/*",
        ),
        "UseSecretsKey": (
            ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
            result.outputs["kms_key_arn"],
        ),
    }
    assert statements[0]["Condition"] == {
        "StringLike": {"s3:prefix": ["wine-quality", "wine-quality/*"]}
    }
    assert all(s["Effect"] == "Allow" and "*" not in s["Action"] for s in statements)


def test_existing_oidc_provider_is_reused() -> None:
    arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    github = {"repository": "acme/ml", "create_oidc_provider": False, "oidc_provider_arn": arn}
    result = run({"mlops-bootstrap:github": github})
    assert result.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    (trust,) = policy(result.get("ci-role").inputs, "assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Federated": arn}


def test_without_github_no_ci_role() -> None:
    result = run({"mlops-bootstrap:github": None})
    assert not [r for r in result.resources if r.name.startswith("ci")]
    assert "ci_role_arn" not in result.outputs


def raw(changes: dict[str, Any]) -> RawConfig:
    source = edited(changes)
    return RawConfig(source.values, source.secret_keys)


BAD = [
    (
        "bucket name with capitals",
        {"mlops-bootstrap:bucket_name": "My_State"},
        [
            "mlops-bootstrap:bucket_name: expected an S3 bucket name (3-63 lowercase letters, "
            "digits, dots, hyphens), got 'My_State'"
        ],
    ),
    (
        "missing region",
        {"aws:region": None},
        ["aws:region: required key is missing; expected an AWS region like us-east-1"],
    ),
    (
        "prefix with slashes",
        {"mlops-bootstrap:state_prefix": "/state/"},
        [
            "mlops-bootstrap:state_prefix: expected a folder like 'mlops' or 'teams/ml' (no "
            "leading or trailing '/'), got '/state/'"
        ],
    ),
    (
        "zero retention",
        {"mlops-bootstrap:noncurrent_version_days": "0"},
        [
            "mlops-bootstrap:noncurrent_version_days: expected greater than or equal to 1, got 0 "
            "(days an overwritten state file version is kept)"
        ],
    ),
    (
        "typo",
        {"mlops-bootstrap:bucket": "x"},
        [
            "mlops-bootstrap:bucket: unknown key (did you mean 'bucket_name'?); expected one "
            "of: bucket_name, github, kms_alias, kms_deletion_window_days, "
            "noncurrent_version_days, state_prefix"
        ],
    ),
    (
        "reused provider without its ARN",
        {"mlops-bootstrap:github": {"repository": "acme/ml", "create_oidc_provider": False}},
        [
            "mlops-bootstrap:github.oidc_provider_arn: required when create_oidc_provider is "
            "false (the ARN of the account's token.actions.githubusercontent.com provider)"
        ],
    ),
    (
        "repository without owner",
        {"mlops-bootstrap:github": {"repository": "ml"}},
        ["mlops-bootstrap:github.repository: expected 'owner/name', got 'ml'"],
    ),
    (
        "plaintext AWS secret key",
        {"aws:secretKey": "abc"},
        [
            "aws:secretKey: a credential in plaintext; store it with `pulumi config set "
            "--secret aws:secretKey` or an environment variable"
        ],
    ),
]


@pytest.mark.parametrize(("changes", "expected"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_bootstrap_config_gets_exact_message(
    changes: dict[str, Any], expected: list[str]
) -> None:
    with pytest.raises(ConfigError) as caught:
        validate_bootstrap(raw(changes), "shared")
    assert caught.value.problems == expected
    assert str(caught.value).startswith(f"{len(expected)} problem(s) in Pulumi.shared.yaml")
