"""The bootstrap program's config: every bad value gets a message naming the key."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_resources.config.bootstrap import validate_bootstrap
from mlops_resources.config.reading import ConfigError, RawConfig
from tests.stacks import bootstrap_stack_file


def raw(changes: dict[str, Any]) -> RawConfig:
    return RawConfig.from_stack_file(bootstrap_stack_file(changes))


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
            "of: account_id, bucket_name, github, key_admins, kms_alias, "
            "kms_deletion_window_days, noncurrent_version_days, operators, project, stacks, "
            "state_prefix"
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
        "account id of the wrong shape",
        {"mlops-bootstrap:account_id": "1234"},
        ["mlops-bootstrap:account_id: expected a 12-digit AWS account id, got '1234'"],
    ),
    (
        "no key administrator",
        {"mlops-bootstrap:key_admins": []},
        [
            "mlops-bootstrap:key_admins: List should have at least 1 item after validation, "
            "not 0, got [] (IAM principal ARNs that administer the keys but cannot use them; "
            "the principal running the bootstrap must be one)"
        ],
    ),
    (
        "operator that is not an ARN, and one of another account",
        {"mlops-bootstrap:operators": ["alice", "arn:aws:iam::999999999999:role/ops"]},
        [
            "mlops-bootstrap:operators[0]: expected an IAM principal ARN like "
            "'arn:aws:iam::123456789012:role/platform-admin', got 'alice'"
        ],
    ),
    (
        "principal of another account",
        {"mlops-bootstrap:key_admins": ["arn:aws:iam::999999999999:role/admin"]},
        [
            "mlops-bootstrap:key_admins: arn:aws:iam::999999999999:role/admin is not in "
            "account 123456789012 (mlops-bootstrap:account_id)"
        ],
    ),
    (
        "stack named like the state key",
        {"mlops-bootstrap:stacks": ["staging", "state"]},
        [
            "mlops-bootstrap:stacks: expected distinct stack names of lowercase letters, "
            "digits and hyphens, not 'state' (the state key's alias suffix), got "
            "['staging', 'state']"
        ],
    ),
    (
        "an immutable subject with only one of its ids",
        {"mlops-bootstrap:github": {"repository": "acme/ml", "owner_id": 123}},
        [
            "mlops-bootstrap:github.repository_id: owner_id and repository_id go together (a "
            "token's subject carries both ids or neither); set both, or neither for a "
            "repository whose subjects name only owner/name"
        ],
    ),
    (
        "a repository id that is no GitHub id",
        {"mlops-bootstrap:github": {"repository": "acme/ml", "owner_id": 1, "repository_id": 0}},
        ["mlops-bootstrap:github.repository_id: expected a positive GitHub id, got 0"],
    ),
    (
        "a stack without a read environment",
        {
            "mlops-bootstrap:github": {
                "repository": "acme/ml",
                "read_environments": {"staging": "staging-preview"},
            }
        },
        [
            "mlops-bootstrap:github.read_environments: expected one entry per stack of "
            "mlops-bootstrap:stacks (prod, staging), got staging"
        ],
    ),
    (
        "a read environment that is a deploy environment",
        {
            "mlops-bootstrap:github": {
                "repository": "acme/ml",
                "read_environments": {"staging": "staging-preview", "prod": "staging"},
            }
        },
        [
            "mlops-bootstrap:github.read_environments: each role needs its own GitHub "
            "environment; the read environments must differ from each other and from the "
            "stack names (the deploy environments), got {'staging': 'staging-preview', "
            "'prod': 'staging'}"
        ],
    ),
    (
        "plaintext AWS secret key",
        {"aws:secretKey": "abc"},
        [
            "aws:secretKey: a credential in plaintext; store it with `pulumi config set "
            "--secret aws:secretKey` or an environment variable"
        ],
    ),
    (
        "the main program's keys in the bootstrap file",
        {"mlops:project_name": "wine-quality"},
        [
            "mlops:project_name: unknown namespace 'mlops'; "
            "this program reads only mlops-bootstrap:, aws:, pulumi: keys, so it would ignore "
            "this one"
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
    assert str(caught.value).startswith(
        f"{len(expected)} problem(s) in bootstrap/Pulumi.shared.yaml; nothing was declared:"
    )
