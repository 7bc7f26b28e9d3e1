"""``mlops:access``: who may see, operate and own what, who the jobs run as, and the rules on
who a stack runs as (:func:`identity_problems`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import Field, field_validator

from mlops_resources.config.checks import Email, PrincipalName
from mlops_resources.config.namespace import NAMESPACE
from mlops_resources.config.reading import Section

WORKSPACE_LOCAL_GROUPS = ("users", "admins")
"""Groups every workspace has but Unity Catalog does not know (SQL reference, "Principal")."""
SHARED_ROOTS = ("/Shared", "/Workspace/Shared")
"""Folders where every workspace user has CAN_MANAGE on every object (workspace ACL docs)."""

APPLICATION_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
"""A service principal's application id as the provider recognises one: it reads a job's
run-as back as a service principal only when it matches this (terraform-provider-databricks
``common/util.go``, ``uuidRegex``; ``jobs/resource_job.go``, Read), so any other spelling of
the UUID would read back as a user name and show a change on every preview."""


@dataclass(frozen=True)
class Principal:
    """Who a stack's jobs run as, who owns them and the model, and whose home holds the
    stack's folder: a service principal (staging, prod) or a user (a personal stack)."""

    name: str
    """Application id of a service principal, or a user's user name (e-mail)."""
    kind: Literal["service_principal", "user"]

    @property
    def home(self) -> str:
        """The principal's workspace home folder."""
        return f"/Users/{self.name}"


class AccessConfig(Section):
    """Who may see, operate and own what.

    Workspace ACLs (jobs, experiment, folders) take workspace groups such as ``users``; Unity
    Catalog grants take account-level principals only, so they go to their own keys.
    """

    run_as_service_principal: str | None = Field(
        None,
        examples=["6a1e2c4b-8f2d-4c1a-9e3b-0d5f7a9c1b2e"],
        description="application id (UUID) of the service principal the jobs run as; it owns "
        "the jobs and the model, and the environment deploys as it (staging and prod: "
        "required; a personal stack runs as its developer instead)",
    )
    run_as_user: Email | None = Field(
        None,
        examples=["alice@example.com"],
        description="personal stacks only: the Databricks user the jobs run as, who owns them "
        "and the model, is notified of failures and deploys the stack; default: the user the "
        "deploying credentials belong to (read at preview)",
    )
    readers_group: PrincipalName = Field(
        "users",
        examples=["data-scientists"],
        description="workspace group with read access: CAN_VIEW on jobs, CAN_READ on the "
        "experiment, its folder and a workspace-registry model",
    )
    operators_group: PrincipalName | None = Field(
        None,
        examples=["ml-engineers"],
        description="optional workspace group that may run and cancel the jobs",
    )
    jobs_group: PrincipalName | None = Field(
        None,
        examples=["wine-quality-staging-jobs"],
        description="account-level group holding the run-as principal; gets the Unity Catalog "
        "privileges the jobs need (none declared when unset)",
    )
    model_readers_group: PrincipalName | None = Field(
        None,
        examples=["wine-quality-model-readers"],
        description="account-level group that may load the Unity Catalog model (EXECUTE, and "
        "USE_CATALOG/USE_SCHEMA on its parents)",
    )
    preview_group: PrincipalName | None = Field(
        None,
        examples=["wine-quality-staging-preview"],
        description="account-level group holding the read-only preview principal; gets what a "
        "preview and a refresh read in Unity Catalog: USE_CATALOG/USE_SCHEMA on the catalogs "
        "and schemas the stack checks, SELECT on the tables it checks, EXECUTE on the model "
        "(none declared when unset)",
    )

    @field_validator("run_as_service_principal")
    @classmethod
    def _application_id(cls, value: str | None) -> str | None:
        if value is not None and not APPLICATION_ID.match(value):
            raise ValueError(
                f"expected a service principal application id, a UUID in lowercase such as "
                f"'6a1e2c4b-8f2d-4c1a-9e3b-0d5f7a9c1b2e', got {value!r}"
            )
        return value

    @field_validator("jobs_group", "model_readers_group", "preview_group")
    @classmethod
    def _account_level(cls, group: str | None) -> str | None:
        if group is not None and group.lower() in WORKSPACE_LOCAL_GROUPS:
            raise ValueError(
                f"{group!r} is a workspace-local group, which Unity Catalog refuses as a grant "
                "principal ('Could not find principal'); expected an account-level group "
                "(or 'account users')"
            )
        return group

    @property
    def run_as(self) -> Principal | None:
        """Who the jobs run as; None for a personal stack that takes its deployer's identity
        and has not been resolved yet (``with_run_as_user``)."""
        if self.run_as_user is not None:
            return Principal(self.run_as_user, "user")
        if self.run_as_service_principal is not None:
            return Principal(self.run_as_service_principal, "service_principal")
        return None


class StackIdentity(Protocol):
    """What the identity rules read of a stack's config (a ``StackConfig``)."""

    @property
    def environment(self) -> str: ...

    @property
    def personal(self) -> bool: ...

    @property
    def workspace_root(self) -> str | None: ...

    @property
    def access(self) -> AccessConfig: ...


_HOME = re.compile(r"^(?:/Workspace)?/Users/(?P<owner>[^/]+)(?:/|$)")


def identity_problems(cfg: StackIdentity) -> list[str]:
    """Who the stack runs as. Staging and prod run as their service principal, so what they
    deploy depends on no one person. A personal stack runs as its developer, a user: a job
    may run as a user only if that user set it (the Jobs API's ``run_as.user_name``: "Non-admin
    users can only set this field to their own email"), and its developer then owns the jobs
    and the model and can destroy them; a service principal would own them instead, and only
    it or an admin could change or delete them. The stack folder must be the run-as
    principal's own: a home folder grants nothing to anyone else (workspace ACL docs)."""
    access = f"{NAMESPACE}:access"
    problems = []
    if not cfg.personal:
        if cfg.access.run_as_service_principal is None:
            problems.append(
                f"{access}.run_as_service_principal: required key is missing; {cfg.environment} "
                "runs as a service principal: expected its application id (a UUID)"
            )
        if cfg.access.run_as_user is not None:
            problems.append(
                f"{access}.run_as_user: only a personal stack runs as a user; "
                f"{cfg.environment} runs as its service principal "
                "(access.run_as_service_principal), so that what it deploys belongs to no one "
                "person; remove the key"
            )
    elif cfg.access.run_as_service_principal is not None:
        problems.append(
            f"{access}.run_as_service_principal: a personal stack runs as its developer, not "
            f"as a service principal ({cfg.access.run_as_service_principal!r} would own its "
            "jobs and model, which then only it or an admin could change or delete, so "
            "`pulumi destroy` would fail); remove the key: the stack runs as the user who "
            "deploys it (or set access.run_as_user)"
        )
    home = _HOME.match(cfg.workspace_root or "")
    principal = cfg.access.run_as
    if home:
        owner = home["owner"]
        if APPLICATION_ID.match(owner) and cfg.personal:
            problems.append(
                f"{NAMESPACE}:workspace_root: {cfg.workspace_root!r} is in the home folder of "
                f"service principal {owner!r}; a personal stack lives in its developer's home: "
                "remove the key (the default is your home folder)"
            )
        elif principal is not None and owner.lower() != principal.name.lower():
            problems.append(
                f"{NAMESPACE}:workspace_root: {cfg.workspace_root!r} is in the home folder of "
                f"{owner!r}, not of the run-as principal {principal.name!r}: a home folder "
                "grants nothing to anyone else, so the stack could not create its folder "
                "there; remove the key (the default is the run-as principal's home)"
            )
    return problems


def group_problems(cfg: StackIdentity) -> list[str]:
    access = cfg.access
    jobs = (access.jobs_group or "").lower()
    problems = []
    for name, other, who in (
        ("readers_group", access.readers_group, "reader of the jobs and the experiment"),
        ("model_readers_group", access.model_readers_group, "reader of the model"),
    ):
        if jobs and jobs == (other or "").lower():
            problems.append(
                f"{NAMESPACE}:access.jobs_group: must differ from access.{name}: the jobs group "
                "gets SELECT, MODIFY and CREATE_TABLE on the stack's tables, so every "
                f"{who} could write them"
            )
    return problems
