"""bootstrap/: the state bucket, KMS keys and CI roles, run under mocks with its stack file.

The policies are asserted as rendered: one role per trust domain, each trusting one GitHub
environment and reaching one stack's paths and key; explicit key policies.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest

from mlops_resources.config.stack_files import project_name, read_stack_file
from mlops_resources.offline.evaluation import Evaluation, evaluate
from tests.stacks import bootstrap_dir, bootstrap_stack_file, example_dir

BUCKET_ARN = "arn:aws:s3:::example-org-mlops-pulumi-state"
PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"


def run(changes: dict[str, Any] | None = None) -> Evaluation:
    return evaluate("shared", bootstrap_dir(), bootstrap_stack_file(changes))


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
            "kmsMasterKeyId": result.outputs["state_key_arn"],
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


def bucket_policy(result: Evaluation) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = policy(result.get("state-policy").inputs)["Statement"]
    return statements


def test_bucket_policy_denies_insecure_transport(result: Evaluation) -> None:
    (statement,) = [s for s in bucket_policy(result) if s["Sid"] == "DenyInsecureTransport"]
    assert statement == {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [BUCKET_ARN, f"{BUCKET_ARN}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    assert "state-public-access-block" in result.get("state-policy").dependencies


def _matches(operator: str, expected: Any, context: dict[str, str], key: str) -> bool:
    """One condition key, as the IAM User Guide's "Condition operators" defines it: a negated
    operator on a missing key is true, ``...IfExists`` on a missing key is true, ``Null``
    tests presence; several values of one key are ORed ("evaluated using a logical OR",
    reference_policies_condition-logic-multiple-context-keys-or-values); all the operators
    of a statement must match."""
    values = expected if isinstance(expected, list) else [expected]
    present = key in context
    if operator == "Null":
        return bool((not present) == (expected == "true"))
    if operator.endswith("IfExists") and not present:
        return True
    base = operator.removesuffix("IfExists")
    equal = present and context[key] in values
    outcomes = {"Bool": equal, "StringNotEquals": not equal, "ArnNotEquals": not equal}
    return outcomes[base]


def denied(statements: list[dict[str, Any]], action: str, key: str, **context: str) -> list[str]:
    """The Sids of the Deny statements that match a request (action, object key, context)."""
    hits = []
    for statement in statements:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        resources = (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
        if action not in actions and statement["Action"] != "s3:*":
            continue
        target = f"{BUCKET_ARN}/{key}"
        if not any(fnmatch.fnmatchcase(target, r) for r in resources):
            continue
        conditions = statement.get("Condition", {})
        if all(
            _matches(op, value, context, k)
            for op, keys in conditions.items()
            for k, value in keys.items()
        ):
            hits.append(statement["Sid"])
    return hits


def test_state_is_written_only_under_the_state_key_and_only_by_deploy_roles_and_operators(
    result: Evaluation,
) -> None:
    """The scenario the bucket policy exists for: a principal of the account with broad
    ``s3:PutObject`` overwrites ``prod.json`` with SSE-S3, bypassing the state key, and the
    next prod ``up`` acts on the forged state. Explicit denies hold for every principal of the
    account ("An explicit deny in any of the policies overrides the allow", IAM User Guide,
    reference_policies_evaluation-logic_policy-eval-basics.html). Condition keys: S3's
    ``s3:x-amz-server-side-encryption``, ``...-aws-kms-key-id`` and ``...-customer-algorithm``
    (Service Authorization Reference, Amazon S3, condition keys); ``aws:PrincipalArn`` is the
    role's ARN for a role's session (IAM User Guide, global condition context keys). A write
    with no encryption header gets the default key, the state key (S3 API reference,
    ServerSideEncryptionRule); ``aws:kms`` without a key id gets ``aws/s3`` (PutObject)."""
    statements = bucket_policy(result)
    key = result.outputs["state_key_arn"]
    deploy, operator = role_arn("prod"), OPERATOR
    intruder = "arn:aws:iam::123456789012:role/data-platform-admin"
    prod_json = "wine-quality/.pulumi/stacks/mlops/prod.json"
    secure = {"aws:SecureTransport": "true"}
    # Pulumi's own writes send no encryption header; multipart parts never do.
    assert (
        denied(statements, "s3:PutObject", prod_json, **secure, **{"aws:PrincipalArn": deploy})
        == []
    )
    assert (
        denied(statements, "s3:PutObject", prod_json, **secure, **{"aws:PrincipalArn": operator})
        == []
    )
    sse = "s3:x-amz-server-side-encryption"
    for headers, sid in (
        ({sse: "AES256"}, "DenyEncryptionOtherThanKms"),
        ({sse: "aws:kms:dsse"}, "DenyEncryptionOtherThanKms"),
        ({sse: "aws:kms"}, "DenyKmsWithoutTheStateKey"),
        (
            {sse: "aws:kms", f"{sse}-aws-kms-key-id": key.replace("key-", "key-other-")},
            "DenyKeysOtherThanTheStateKey",
        ),
        ({f"{sse}-customer-algorithm": "AES256"}, "DenyCustomerProvidedKeys"),
    ):
        request = {**secure, **headers, "aws:PrincipalArn": deploy}
        assert sid in denied(statements, "s3:PutObject", prod_json, **request), headers
    named = {**secure, sse: "aws:kms", f"{sse}-aws-kms-key-id": key, "aws:PrincipalArn": deploy}
    assert denied(statements, "s3:PutObject", prod_json, **named) == []
    # Anyone else: no write, no delete, not even of an old version, under the state prefix.
    for action in ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"):
        hits = denied(statements, action, prod_json, **secure, **{"aws:PrincipalArn": intruder})
        assert hits == ["DenyStateWritesByOthers"], action
        assert (
            denied(
                statements, "s3:GetObject", prod_json, **secure, **{"aws:PrincipalArn": intruder}
            )
            == []
        )
    # The bootstrap's own state: operators only.
    bootstrap_state = "bootstrap/.pulumi/stacks/mlops-bootstrap/shared.json"
    assert (
        denied(
            statements, "s3:PutObject", bootstrap_state, **secure, **{"aws:PrincipalArn": operator}
        )
        == []
    )
    assert denied(
        statements, "s3:PutObject", bootstrap_state, **secure, **{"aws:PrincipalArn": deploy}
    ) == ["DenyBootstrapStateWritesByOthers"]


def test_lifecycle_expires_noncurrent_versions_and_expired_delete_markers() -> None:
    """``ExpiredObjectDeleteMarker`` "cannot be specified with Days or Date in a Lifecycle
    Expiration Policy" (S3 API reference, LifecycleExpiration,
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_LifecycleExpiration.html; the same text
    in botocore 1.43.11's s3 service model), so the expiration holds the flag alone."""
    lifecycle = run({"mlops-bootstrap:noncurrent_version_days": "30"}).get("state-lifecycle")
    (rule,) = lifecycle.inputs["rules"]
    assert rule["status"] == "Enabled"
    assert rule["filter"] == {"prefix": ""}
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 30}
    assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
    # Every released lock leaves a delete marker; S3 removes it once it is alone. S3 refuses
    # the flag next to days or date.
    assert rule["expiration"] == {"expiredObjectDeleteMarker": True}


def test_one_rotating_protected_key_per_stack_and_one_for_state_objects(
    result: Evaluation,
) -> None:
    keys = {k.name: k for k in result.of_type("aws:kms/key:Key")}
    assert set(keys) == {"state-key", "state-secrets-key-staging", "state-secrets-key-prod"}
    for key in keys.values():
        assert key.protect
        assert key.inputs["enableKeyRotation"] is True
        assert key.inputs["deletionWindowInDays"] == 30
    aliases = {a.name: a.inputs["name"] for a in result.of_type("aws:kms/alias:Alias")}
    assert aliases == {
        "state-key-alias": "alias/wine-quality-pulumi-state",
        "state-secrets-key-alias-staging": "alias/wine-quality-pulumi-staging",
        "state-secrets-key-alias-prod": "alias/wine-quality-pulumi-prod",
    }
    # Each stack's output ARN is the key its alias names (a key ARN ends in the key id).
    arns = result.outputs["secrets_key_arns"]
    assert set(arns) == {"staging", "prod"} and arns["staging"] != arns["prod"]
    targets = {a.name: a.inputs["targetKeyId"] for a in result.of_type("aws:kms/alias:Alias")}
    for stack, arn in arns.items():
        assert arn.startswith("arn:aws:kms:us-east-1:123456789012:key/")
        assert arn.rsplit("/", 1)[1] == targets[f"state-secrets-key-alias-{stack}"]
    assert result.outputs["state_key_arn"].rsplit("/", 1)[1] == targets["state-key-alias"]


def test_outputs_are_what_stack_files_and_pulumi_yaml_take(result: Evaluation) -> None:
    assert result.outputs["backend_url"] == (
        "s3://example-org-mlops-pulumi-state/wine-quality?region=us-east-1&awssdk=v2"
    )
    # The bootstrap's own state moves to a prefix of its own, which no CI role's paths reach.
    assert result.outputs["bootstrap_backend_url"] == (
        "s3://example-org-mlops-pulumi-state/bootstrap?region=us-east-1&awssdk=v2"
    )
    project = (example_dir() / "Pulumi.yaml").read_text()
    assert f"url: {result.outputs['backend_url']}" in project
    providers = result.outputs["secrets_providers"]
    assert set(providers) == {"staging", "prod"}
    for stack, provider in providers.items():
        assert provider == f"awskms://alias/wine-quality-pulumi-{stack}?region=us-east-1"
        stack_file = (example_dir() / f"Pulumi.{stack}.yaml").read_text()
        assert f"\nsecretsprovider: {provider}\n" in stack_file


def test_state_paths_are_those_of_the_mlops_project() -> None:
    stack_file = read_stack_file("shared", bootstrap_dir()).values
    assert stack_file["mlops-bootstrap:project"] == project_name(example_dir())


ENVIRONMENTS = {
    "staging": ("wine-quality-deploy-staging", "staging", "deploy"),
    "prod": ("wine-quality-deploy-prod", "prod", "deploy"),
    "staging-preview": ("wine-quality-read-staging", "staging", "read"),
    "prod-drift": ("wine-quality-read-prod", "prod", "read"),
}
"""GitHub environment -> (role, stack it reaches, access): one role per trust domain."""


def role_policy(result: Evaluation, environment: str) -> list[dict[str, Any]]:
    role_name = ENVIRONMENTS[environment][0]
    (attached,) = [
        p for p in result.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role_name
    ]
    statements: list[dict[str, Any]] = policy(attached.inputs)["Statement"]
    return statements


def by_sid(statements: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in statements}


def listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_one_role_per_trust_domain_each_trusting_exactly_one_environment(
    result: Evaluation,
) -> None:
    """GitHub's token for a job that names an environment has the subject
    ``repo:ORG-NAME/REPO-NAME:environment:ENVIRONMENT-NAME`` ("The subject claim includes the
    environment name when the job references an environment", GitHub docs, OpenID Connect
    reference, "Filtering for a specific environment", github/docs
    content/actions/reference/security/oidc.md); its audience is ``sts.amazonaws.com`` with
    aws-actions/configure-aws-credentials ("For the 'Audience': Use sts.amazonaws.com if you
    are using the official action", github/docs content/actions/how-tos/secure-your-work/
    security-harden-deployments/oidc-in-aws.md). The reference also says repositories created
    after 2026-07-15 (or opted in) get immutable subjects, ``repo:OWNER@OWNER-ID/REPO@REPO-ID:
    ...``, which this name-only subject would not match."""
    provider = result.get("ci-oidc-provider").inputs
    assert provider["url"] == "https://token.actions.githubusercontent.com"
    assert provider["clientIdLists"] == ["sts.amazonaws.com"]
    roles = result.of_type("aws:iam/role:Role")
    assert {r.name: r.inputs["name"] for r in roles} == {
        f"ci-role-{env}": role for env, (role, _, _) in ENVIRONMENTS.items()
    }
    for role in roles:
        environment = role.name.removeprefix("ci-role-")
        assert role.inputs["maxSessionDuration"] == 3600
        (trust,) = policy(role.inputs, "assumeRolePolicy")["Statement"]
        assert trust["Principal"] == {"Federated": PROVIDER_ARN}
        assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
        # StringEquals: no wildcard, so no branch, tag or pull request matches by accident.
        assert trust["Condition"] == {
            "StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": (
                    f"repo:example-org/wine-quality-mlops:environment:{environment}"
                ),
            }
        }
    assert result.outputs["role_arns"] == {
        env: f"arn:aws:iam::123456789012:role/{role}" for env, (role, _, _) in ENVIRONMENTS.items()
    }
    # The Databricks federation policies take the same subjects (docs/deployment.md).
    assert result.outputs["oidc_subjects"] == {
        env: f"repo:example-org/wine-quality-mlops:environment:{env}" for env in ENVIRONMENTS
    }


def trusted_subjects(result: Evaluation) -> dict[str, Any]:
    subjects = {}
    for role in result.of_type("aws:iam/role:Role"):
        (trust,) = policy(role.inputs, "assumeRolePolicy")["Statement"]
        environment = role.name.removeprefix("ci-role-")
        subjects[environment] = trust["Condition"]["StringEquals"][
            "token.actions.githubusercontent.com:sub"
        ]
    return subjects


def test_a_repository_moving_to_immutable_subjects_is_trusted_in_both_forms() -> None:
    """Repositories created or renamed on or after 2026-07-15 (or opted in) get the subject
    ``repo:OWNER@OWNER-ID/REPO@REPO-ID:environment:ENV`` (GitHub changelog 2026-04-23,
    "Immutable subject claims for GitHub Actions OIDC tokens"; github/docs pull 45221, "The
    immutable ID is appended to each name with an ``@`` delimiter"; Microsoft Entra
    "Migrate GitHub Actions federated credentials to immutable subjects"). A role trusting one
    form fails every job the moment the tokens switch: with the ids configured, each role
    trusts both ("If a single condition operator includes multiple values for a context key,
    those values are evaluated using a logical OR", IAM User Guide,
    reference_policies_condition-logic-multiple-context-keys-or-values.html), and
    ``trust_name_subjects: false`` drops the name form once the move is done, closing the
    name-recycling hole the ids exist for."""
    github = {"repository": "acme/ml", "owner_id": 123456, "repository_id": 456789}
    moving = run({"mlops-bootstrap:github": github})
    assert trusted_subjects(moving) == {
        env: [f"repo:acme@123456/ml@456789:environment:{env}", f"repo:acme/ml:environment:{env}"]
        for env in ENVIRONMENTS
    }
    assert moving.outputs["oidc_subjects"] == {
        env: f"repo:acme@123456/ml@456789:environment:{env}" for env in ENVIRONMENTS
    }
    assert moving.outputs["name_oidc_subjects"] == {
        env: f"repo:acme/ml:environment:{env}" for env in ENVIRONMENTS
    }
    moved = run({"mlops-bootstrap:github": {**github, "trust_name_subjects": False}})
    assert trusted_subjects(moved) == moving.outputs["oidc_subjects"]
    assert moved.outputs["name_oidc_subjects"] == {}


ROOT = "wine-quality/.pulumi"
META = f"{BUCKET_ARN}/{ROOT}/meta.yaml"


def stack_paths(stack: str) -> list[str]:
    """What an update writes: stack file, locks, history, backups."""
    return [
        f"{ROOT}/stacks/mlops/{stack}.json*",
        f"{ROOT}/locks/organization/mlops/{stack}/*",
        f"{ROOT}/history/mlops/{stack}/*",
        f"{ROOT}/backups/mlops/{stack}/*",
    ]


def tags_path(stack: str) -> str:
    return f"{ROOT}/stacks/mlops/{stack}.pulumi-tags"


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_deploy_role_reads_and_writes_only_its_stack_state(result: Evaluation, stack: str) -> None:
    """The DIY backend's project layout under ``.pulumi/`` (pulumi/pulumi 1b5949891b,
    ``pkg/backend/diy``): ``store.go`` StackBasePath ``stacks/<project>/<stack>`` (``stackPath``
    in ``state.go`` lists the prefix ``<base>.json`` for ``.json``, ``.gz``, ``.zst``;
    ``backupTarget`` copies it to ``.json.bak``), HistoryDir ``history/<project>/<stack>``
    (``addToHistory`` writes ``<stack>-<ns>.history.json`` and copies the checkpoint there),
    BackupDir ``backups/<project>/<stack>``; ``lock.go`` lockPath
    ``locks/<FullyQualifiedName>/<lock id>.json`` with FullyQualifiedName
    ``organization/<project>/<stack>`` (``backend.go``), and checkForLock lists that folder.
    ``meta.go`` reads ``.pulumi/meta.yaml`` on login."""
    statements = by_sid(role_policy(result, stack))
    stack_file, *bookkeeping = paths = stack_paths(stack)
    listed = [stack_file, tags_path(stack), *bookkeeping]
    assert statements["ListStackState"]["Resource"] == BUCKET_ARN
    assert statements["ListStackState"]["Condition"] == {"StringLike": {"s3:prefix": listed}}
    assert statements["ReadStackState"]["Resource"] == [
        META,
        *(f"{BUCKET_ARN}/{p}" for p in listed),
    ]
    assert statements["WriteStackState"]["Action"] == ["s3:DeleteObject", "s3:PutObject"]
    assert statements["WriteStackState"]["Resource"] == [f"{BUCKET_ARN}/{p}" for p in paths]
    assert set(statements) == {
        "ListStackState",
        "LocateBucket",
        "ReadStackState",
        "WriteStackState",
    }


THROUGH_S3 = {
    "StringEquals": {
        "kms:ViaService": "s3.us-east-1.amazonaws.com",
        "kms:EncryptionContext:aws:s3:arn": BUCKET_ARN,
    }
}


@pytest.mark.parametrize(
    ("environment", "stack"), [("staging-preview", "staging"), ("prod-drift", "prod")]
)
def test_read_roles_only_list_and_get_their_stack_file_and_tags(
    result: Evaluation, environment: str, stack: str
) -> None:
    statements = by_sid(role_policy(result, environment))
    read = [stack_paths(stack)[0], tags_path(stack)]
    assert set(statements) == {"ListStackState", "LocateBucket", "ReadStackState"}
    actions = {a for s in statements.values() for a in listed(s["Action"])}
    assert actions == {"s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject"}
    assert statements["ListStackState"]["Condition"] == {"StringLike": {"s3:prefix": read}}
    assert statements["ReadStackState"]["Resource"] == [META, *(f"{BUCKET_ARN}/{p}" for p in read)]


@pytest.mark.parametrize("environment", list(ENVIRONMENTS))
def test_every_role_lists_and_gets_its_stack_tags_file_and_none_writes_it(
    result: Evaluation, environment: str
) -> None:
    """Since Pulumi 3.211.0 (its CHANGELOG: "Add stack tags support for DIY backends") every
    preview and update reads ``.pulumi/stacks/<project>/<stack>.pulumi-tags`` (pulumi/pulumi
    ``pkg/backend/diy/stack_tags.go`` stackTagsPath and loadStackTags, called by ``state.go``
    getTarget, which ``newUpdate`` calls from ``backend.go`` apply for previews and updates
    alike). loadStackTags takes only ``gcerrors.NotFound`` for "no tags" and fails the run on
    anything else. S3 answers a missing key with 404 to a caller that has ``s3:ListBucket``,
    with 403 to one that has not (S3 API reference, GetObject, "Permissions",
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html), and judges that
    ``s3:ListBucket`` with the key as ``s3:prefix`` (ceph/s3-tests
    ``s3tests/functional/test_s3.py`` test_head_object_404_with_policy_prefix: a listing
    granted for ``public/*`` makes a HEAD of a missing ``public/object`` 404, of
    ``private/object`` 403). So every role lists and gets the tags file. Only
    ``UpdateStackTags`` writes it (``backend.go``; its callers are ``pkg/cmd/pulumi/stack/
    stack_tag.go``, ``pulumi stack tag set/rm``), which no CI job runs: no role writes it.
    Read at pulumi/pulumi 1b5949891b (3.259.0, 2026-08-21); the repository pins 3.272.0."""
    _, stack, _ = ENVIRONMENTS[environment]
    statements = by_sid(role_policy(result, environment))
    tags = tags_path(stack)
    assert tags in statements["ListStackState"]["Condition"]["StringLike"]["s3:prefix"]
    assert f"{BUCKET_ARN}/{tags}" in statements["ReadStackState"]["Resource"]
    written = statements.get("WriteStackState", {"Resource": []})["Resource"]
    assert not [p for p in written if p.endswith(".pulumi-tags")]
    # The stack file's pattern does not cover it: `<stack>.json*`.
    assert not tags.startswith(stack_paths(stack)[0].rstrip("*"))


def test_no_ci_role_policy_names_a_key_uses_wildcards_or_reaches_another_stack(
    result: Evaluation,
) -> None:
    """The role policies carry no KMS statement: the key policies enable no IAM policies, so
    one would have no effect ("Unless the key policy explicitly allows it, you cannot use IAM
    policies to allow access to a KMS key. Without permission from the key policy, IAM
    policies that allow permissions have no effect.", AWS KMS Developer Guide, "Key policies in
    AWS KMS", https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html). The
    roles' key use is granted by the key policies, which the tests below assert exactly."""
    keys = [result.outputs["state_key_arn"], *result.outputs["secrets_key_arns"].values()]
    for environment, (_, stack, _) in ENVIRONMENTS.items():
        statements = role_policy(result, environment)
        other = "prod" if stack == "staging" else "staging"
        text = json.dumps(statements)
        actions = {a for s in statements for a in listed(s["Action"])}
        assert not [a for a in actions if a.startswith("kms:")]
        assert not [key for key in keys if key in text]
        assert f"/{other}" not in text and f"{other}.json" not in text
        for statement in statements:
            assert statement["Effect"] == "Allow"
            assert not any("*" in action for action in listed(statement["Action"]))
            assert statement["Resource"] != "*"


def key_policy(result: Evaluation, key: str) -> dict[str, dict[str, Any]]:
    return by_sid(policy(result.get(key).inputs)["Statement"])


def role_arn(environment: str) -> str:
    return f"arn:aws:iam::123456789012:role/{ENVIRONMENTS[environment][0]}"


ADMIN = "arn:aws:iam::123456789012:role/platform-key-admin"
OPERATOR = "arn:aws:iam::123456789012:role/ml-platform-operator"
CRYPTO = {
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
}


@pytest.mark.parametrize(
    "key", ["state-key", "state-secrets-key-staging", "state-secrets-key-prod"]
)
def test_key_policies_are_explicit_admin_apart_from_use_with_a_break_glass_path(
    result: Evaluation, key: str
) -> None:
    """No "Enable IAM User Permissions" statement (the account root, unconditioned): without
    it "IAM policies that allow permissions have no effect" (AWS KMS Developer Guide, "Key
    policies in AWS KMS", https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html;
    the statement is the one the default key policy opens with, "Allows access to the AWS
    account and enables IAM policies", same guide, key-policy-default.html), so an account
    administrator's ``kms:*`` grants nothing. The one root statement holds only for
    ``aws:PrincipalType`` ``Account``: the key "is included in the request context for all
    requests" and "indicates whether the principal is an account, user, federated, or assumed
    role" (IAM User Guide, reference_policies_condition-keys.html#condition-keys-principaltype
    and reference_policies_variables.html, "Principal key values"), so a role's session, an
    assumed role, never matches it: only the root user does."""
    statements = key_policy(result, key)
    root = [s for s in statements.values() if "root" in json.dumps(s["Principal"])]
    assert root == [statements["BreakGlassRootUser"]]
    assert statements["BreakGlassRootUser"]["Principal"] == {
        "AWS": "arn:aws:iam::123456789012:root"
    }
    assert statements["BreakGlassRootUser"]["Condition"] == {
        "StringEquals": {"aws:PrincipalType": "Account"}
    }
    admin = statements["KeyAdministration"]
    assert admin["Principal"] == {"AWS": [ADMIN]}
    assert "kms:PutKeyPolicy" in admin["Action"] and "kms:ScheduleKeyDeletion" in admin["Action"]
    assert not CRYPTO & set(admin["Action"]) and "kms:CreateGrant" not in admin["Action"]
    for sid, statement in statements.items():
        if sid in ("BreakGlassRootUser", "KeyAdministration"):
            continue
        assert ADMIN not in statement["Principal"]["AWS"]
        assert set(listed(statement["Action"])) <= CRYPTO | {"kms:DescribeKey"}


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_secrets_key_decrypts_for_its_stack_roles_and_encrypts_only_for_operators(
    result: Evaluation, stack: str
) -> None:
    statements = key_policy(result, f"state-secrets-key-{stack}")
    read_environment = {"staging": "staging-preview", "prod": "prod-drift"}[stack]
    # The roles' only grant on the key (their policies carry none): decrypt, unconditioned,
    # as Pulumi's awskms:// provider calls kms:Decrypt itself.
    assert statements["DecryptStackSecrets"] == {
        "Sid": "DecryptStackSecrets",
        "Effect": "Allow",
        "Principal": {"AWS": [role_arn(stack), role_arn(read_environment)]},
        "Action": ["kms:Decrypt"],
        "Resource": "*",
    }
    assert statements["OperatorsManageSecrets"] == {
        "Sid": "OperatorsManageSecrets",
        "Effect": "Allow",
        "Principal": {"AWS": [OPERATOR]},
        "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt"],
        "Resource": "*",
    }
    assert set(statements) == {
        "BreakGlassRootUser",
        "KeyAdministration",
        "DecryptStackSecrets",
        "OperatorsManageSecrets",
    }


def test_state_key_works_only_through_s3_for_this_bucket(result: Evaluation) -> None:
    """With a bucket key, S3's encryption context is the bucket's ARN, not the object's: "S3
    Bucket Keys use the bucket ARN as encryption context" (S3 User Guide, "Reducing the cost of
    SSE-KMS with Amazon S3 Bucket Keys", IAM or KMS key policies,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html), hence
    ``kms:EncryptionContext:aws:s3:arn`` equal to the bucket ARN."""
    statements = key_policy(result, "state-key")
    # The roles' only grants on the key (their policies carry none).
    assert statements["WriteStateThroughS3"] == {
        "Sid": "WriteStateThroughS3",
        "Effect": "Allow",
        "Principal": {"AWS": [role_arn("staging"), role_arn("prod"), OPERATOR]},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": "*",
        "Condition": THROUGH_S3,
    }
    assert statements["ReadStateThroughS3"] == {
        "Sid": "ReadStateThroughS3",
        "Effect": "Allow",
        "Principal": {"AWS": [role_arn("staging-preview"), role_arn("prod-drift")]},
        "Action": ["kms:Decrypt"],
        "Resource": "*",
        "Condition": THROUGH_S3,
    }
    assert set(statements) == {
        "BreakGlassRootUser",
        "KeyAdministration",
        "WriteStateThroughS3",
        "ReadStateThroughS3",
    }
    (rule,) = result.get("state-encryption").inputs["rules"]
    assert (
        rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
        == (result.outputs["state_key_arn"])
    )


def test_existing_oidc_provider_is_reused() -> None:
    provider_arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    github = {
        "repository": "acme/ml",
        "create_oidc_provider": False,
        "oidc_provider_arn": provider_arn,
    }
    result = run({"mlops-bootstrap:github": github})
    assert result.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    roles = result.of_type("aws:iam/role:Role")
    assert {r.inputs["name"] for r in roles} == {
        "mlops-deploy-staging",
        "mlops-deploy-prod",
        "mlops-read-staging",
        "mlops-read-prod",
    }
    for role in roles:
        (trust,) = policy(role.inputs, "assumeRolePolicy")["Statement"]
        assert trust["Principal"] == {"Federated": provider_arn}


def test_without_github_no_roles_and_keys_only_for_admins_and_operators() -> None:
    result = run({"mlops-bootstrap:github": None})
    assert not [r for r in result.resources if r.name.startswith("ci")]
    assert result.of_type("aws:iam/rolePolicy:RolePolicy") == []
    assert "role_arns" not in result.outputs
    assert set(key_policy(result, "state-secrets-key-prod")) == {
        "BreakGlassRootUser",
        "KeyAdministration",
        "OperatorsManageSecrets",
    }
    assert set(key_policy(result, "state-key")) == {
        "BreakGlassRootUser",
        "KeyAdministration",
        "WriteStateThroughS3",
    }
