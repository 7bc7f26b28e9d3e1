"""A personal stack acts as its developer: it runs as, is owned by, notifies and lives in the
home of the user who deploys it, never a committed stack's service principal, so that
developer can deploy it without an admin and destroy it afterwards."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mlops_resources.config.reading import ConfigError
from mlops_resources.offline.evaluation import Evaluation, install_mocks, run_program
from tests.stacks import (
    classic_overrides,
    example_dir,
    example_stack_file,
    personal_stack_overrides,
    run_stack,
)

DEVELOPER = "alice@example.com"
STAGING_SP = "00000000-0000-0000-0000-00000000a001"
PROD_SP = "00000000-0000-0000-0000-00000000b001"
SP_HOME = re.compile(r"/Users/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
"""A service principal's home folder: its application id under /Users."""


def pinned(user: str = DEVELOPER) -> dict[str, Any]:
    """The personal stack's overrides with its developer named in the file."""
    overrides = personal_stack_overrides("alice")
    overrides["mlops:access"]["run_as_user"] = user
    return overrides


@pytest.fixture(scope="module")
def personal() -> Evaluation:
    """On classic compute, where the identity also names the dedicated cluster's user."""
    return run_stack("staging", {**pinned(), **classic_overrides("staging")}, as_stack="dev-alice")


def committed_principal_mentions(evaluation: Evaluation) -> list[str]:
    """Every committed principal, and every service principal's home, the render names."""
    text = evaluation.to_json()
    return [p for p in (STAGING_SP, PROD_SP) if p in text] + SP_HOME.findall(text)


def test_the_jobs_run_as_the_developer_who_owns_them(personal: Evaluation) -> None:
    """A job runs as exactly one of a service principal or a user (terraform-provider-databricks
    ``jobs/resource_job.go``: ``run_as`` ``SetExactlyOneOf``); a non-admin may set only their
    own user name (databricks-sdk ``service/jobs.py``, ``JobRunAs.user_name``: "Non-admin users
    can only set this field to their own email"; a service principal needs the caller to hold
    its ``servicePrincipal/user`` role). IS_OWNER is pinned to that user, a management level,
    which the provider requires the caller keep (``permissions/permission_definitions.go``:
    jobs allow IS_OWNER and CAN_MANAGE as management levels); the dedicated cluster is
    theirs."""
    for job in personal.of_type("databricks:index/job:Job"):
        assert job.inputs["runAs"] == {"userName": DEVELOPER}
        assert job.input("jobClusters.0.newCluster.singleUserName") == DEVELOPER
        # Failures reach the developer, not the team's on-call.
        assert DEVELOPER in job.input("emailNotifications.onFailures")
    for name in ("mlops-training-permissions", "mlops-batch-inference-permissions"):
        owners = [
            entry
            for entry in personal.get(name).inputs["accessControls"]
            if entry["permissionLevel"] == "IS_OWNER"
        ]
        assert owners == [{"permissionLevel": "IS_OWNER", "userName": DEVELOPER}]


def test_the_developer_owns_the_model_and_manages_the_folder_in_their_home(
    personal: Evaluation,
) -> None:
    """Only a registered model's owner (or a metastore admin) may delete it (databricks-sdk
    ``service/catalog.py``, ``RegisteredModelsAPI.delete``: "The caller must be a metastore
    admin or an owner of the registered model"), so the developer owns it and `pulumi destroy`
    can remove it. Users have CAN MANAGE on
    their own home folder and every other user has none (workspace ACL docs, "Special folders
    and permissions"): the stack lives in the developer's home, unprotected, deleted
    recursively on destroy (``workspace/resource_directory.go``, ``delete_recursive``)."""
    assert personal.get("mlops-model-model").inputs["owner"] == DEVELOPER
    folder = personal.get("mlops-experiment-directory")
    assert folder.inputs["path"] == f"/Users/{DEVELOPER}/wine-quality/dev-alice"
    assert folder.inputs["deleteRecursive"] is True and not folder.protect
    for name in ("mlops-experiment-directory-permissions", "mlops-experiment-permissions"):
        managers = [e for e in personal.get(name).inputs["accessControls"] if "groupName" not in e]
        assert managers == [{"permissionLevel": "CAN_MANAGE", "userName": DEVELOPER}]
    # A user named in the file: the program asks the workspace for no one else.
    assert personal.deploying_user is None


def test_a_personal_stack_names_no_committed_principal_and_no_service_principal_home(
    personal: Evaluation,
) -> None:
    assert committed_principal_mentions(personal) == []
    # The check finds them in a stack that does act as staging's principal.
    assert committed_principal_mentions(run_stack("staging")) != []


def test_a_personal_stack_deployed_with_service_principal_credentials_is_refused() -> None:
    """A stack file that names no user runs as whoever deploys it; credentials of a service
    principal (``scim/data_current_user.go``: ``acl_principal_id`` is
    ``servicePrincipals/<application id>`` for one) would make it own the jobs and the model.
    Refused before anything is declared."""
    source = example_stack_file("staging", personal_stack_overrides("alice"))
    monitor = install_mocks("dev-alice", source, example_dir(), caller=STAGING_SP)
    with pytest.raises(ConfigError) as caught:
        run_program("dev-alice", monitor, example_dir())
    assert caught.value.problems == [
        "mlops:access.run_as_user: unset, so the stack runs as whoever deploys it, but the "
        f"deploying credentials are service principal {STAGING_SP!r}; a personal stack runs "
        "as its developer: deploy with your own credentials (e.g. `databricks auth login`), "
        "or set the key to your user name"
    ]
    assert monitor.declared == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param(
            {"mlops:access": {**pinned()["mlops:access"], "run_as_service_principal": STAGING_SP}},
            "mlops:access.run_as_service_principal: a personal stack runs as its developer",
            id="staging's service principal",
        ),
        pytest.param(
            {"mlops:workspace_root": f"/Users/{STAGING_SP}/wine-quality"},
            f"mlops:workspace_root: '/Users/{STAGING_SP}/wine-quality' is in the home folder "
            f"of service principal '{STAGING_SP}'; a personal stack lives in its developer's "
            "home",
            id="a service principal's home",
        ),
        pytest.param(
            {"mlops:workspace_root": "/Users/bob@example.com/wine-quality"},
            "mlops:workspace_root: '/Users/bob@example.com/wine-quality' is in the home folder "
            f"of 'bob@example.com', not of the run-as principal '{DEVELOPER}': a home folder "
            "grants nothing to anyone else",
            id="another user's home",
        ),
    ],
)
def test_a_personal_stack_that_would_act_as_a_service_principal_is_refused(
    changes: dict[str, Any], expected: str
) -> None:
    source = example_stack_file("staging", {**pinned(), **changes})
    monitor = install_mocks("dev-alice", source, example_dir())
    with pytest.raises(ConfigError) as caught:
        run_program("dev-alice", monitor, example_dir())
    assert any(problem.startswith(expected) for problem in caught.value.problems)
    assert monitor.declared == []
