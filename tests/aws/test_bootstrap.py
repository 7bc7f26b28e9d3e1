"""bootstrap/: the state bucket, secrets key and CI role, run under mocks with its stack file."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlops_resources import PROJECT_DIR
from mlops_resources.offline.evaluation import Evaluation, evaluate
from tests.stacks import BOOTSTRAP_DIR, bootstrap_stack_file

BUCKET_ARN = "arn:aws:s3:::example-org-mlops-pulumi-state"


def run(changes: dict[str, Any] | None = None) -> Evaluation:
    return evaluate("shared", BOOTSTRAP_DIR, bootstrap_stack_file(changes))


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
