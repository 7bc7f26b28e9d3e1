"""What the jobs' tasks run on: ``mlops:compute``, classic job clusters or serverless compute.

Without the key a stack runs classic job clusters (``mlops:cluster``), as every stack file did
before the key existed: such a file renders exactly as it did. ``init`` writes serverless.

Serverless, per the evidence below:

- A task that names no cluster (no ``job_cluster_key``, ``new_cluster`` or
  ``existing_cluster_id``) runs on serverless compute (provider ``docs/resources/job.md``,
  v1.118.0, "task Configuration Block"). There is no cluster to size, tag or give an access
  mode, so ``mlops:cluster`` does not apply and is refused with serverless.
- Its Python environment is a job-level ``environments`` entry: an ``environment_version``
  (each "comes with a specific Python version and a set of Python packages", same file,
  "environment Configuration Block"; ``client`` is its deprecated spelling, databricks-sdk
  ``compute.Environment.client``: "Use ``environment_version`` instead") and pip
  ``dependencies``. For notebook tasks the ``environment_key`` is optional: without it "the
  notebook environment will be used if present. If a jobs environment is specified, it will
  override the notebook environment"; Python script, wheel and dbt tasks must name one
  (databricks-sdk ``jobs.JobSettings.environments``, ``jobs.Task.environment_key``, the Jobs
  API reference's text). The notebooks here are plain ``.py`` files (from git or uploaded)
  that carry no environment of their own, so every notebook task names the job's environment:
  the version is pinned by the stack, not left to whatever the workspace defaults to.
- The dependencies are the lines of ``notebooks/requirements.txt``, which ships with the
  notebooks: what the standard environment lacks (scikit-learn), each pinned with ``==``.
  They are declared in the job, so a change to the file shows in the render diff and the
  deployed job runs exactly what was reviewed, whichever ref the code comes from.
- Cost: cluster ``custom_tags`` attribute classic compute; serverless usage carries the tags
  of its budget policy ("custom_tags ... include any tags inherited from serverless budget
  policies", Databricks docs, "Monitor the cost of serverless compute"). A budget policy is an
  account-level object that only a workspace admin (or a holder of its Manager role) creates
  (docs, "Attribute usage with serverless budget policies"; provider
  ``docs/resources/budget_policy.md``: "can only be used with an account-level provider"),
  so the stack, which holds a workspace-level provider and acts as the run-as principal, does
  not declare one: ``compute.budget_policy_id`` references it, and the job's
  ``budget_policy_id`` (provider ``docs/resources/job.md``) carries it. The run-as principal
  needs the policy's User role to use it (same docs page, "Manage serverless budget policy
  permissions").
- Staging and prod must name one. Without ``budget_policy_id`` "a default budget policy may be
  applied when creating or modifying the job. See ``effective_budget_policy_id`` for the budget
  policy used by this workload" (databricks-sdk ``jobs.JobSettings.budget_policy_id``): the
  creator's only policy, or with several the alphabetically first (docs, "Attribute usage with
  serverless budget policies"), so the attribution would follow whoever ran the deploy and
  their grants that day, unreviewed and without a diff. Creating a policy is a one-time admin
  step, like the staging and prod run-as service principal the stack already requires, and
  ``init`` asks for each stack's. A personal stack may leave it out (its developer may hold no
  policy's User role; the default applies).
- Serverless compute requires a Unity Catalog workspace and reaches data through Unity Catalog
  (docs, "Serverless compute limitations": "You must use Unity Catalog to connect to external
  data sources"; "Connect to serverless compute", requirements). The workspace model registry is
  legacy, disabled in new accounts whose default catalog is in Unity Catalog (docs, "Manage model
  lifecycle using the Workspace Model Registry (legacy)"), so serverless with
  ``model.registry: workspace`` is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from packaging.requirements import InvalidRequirement, Requirement
from pydantic import Field, field_validator

from mlops_resources import PROJECT_DIR
from mlops_resources.config.checks import is_uuid
from mlops_resources.config.reading import Section

SERVERLESS_ENVIRONMENT_VERSIONS = ("5",)
"""The serverless environment versions a stack may pin: those whose library set `.ci/run`
tests the notebooks' logic on (``requirements-ml-serverless-<version>.txt``). Version 5:
Python 3.12.3, Databricks Connect 18, MLflow 3.8.1 (Databricks release notes, "Serverless
environment version 5", released 2026-02-25)."""
DEFAULT_ENVIRONMENT_VERSION = SERVERLESS_ENVIRONMENT_VERSIONS[-1]
ENVIRONMENT_KEY = "default"
"""The key of the jobs' one environment, which every notebook task names."""
NOTEBOOK_REQUIREMENTS = "notebooks/requirements.txt"
"""The notebooks' pip dependencies on serverless, relative to the repository root."""


class ComputeConfig(Section):
    """What the jobs' tasks run on."""

    type: Literal["classic", "serverless"] = Field(
        "classic",
        examples=["serverless"],
        description="'serverless' (Databricks-managed compute, a pinned environment) or "
        "'classic' (the job cluster of mlops:cluster); default when the key is absent: classic",
    )
    environment_version: str | None = Field(
        None,
        examples=["5"],
        description="serverless environment version the jobs pin (Python and library set); "
        f"serverless only; default {DEFAULT_ENVIRONMENT_VERSION!r}",
    )
    budget_policy_id: str | None = Field(
        None,
        examples=["3c5e1a2b-7d4f-4e6a-9b8c-1d2e3f4a5b6c"],
        description="id of the serverless budget policy the jobs carry (cost attribution); "
        "an admin creates it and gives the run-as principal its User role; serverless only, "
        "required in staging and prod",
    )

    @field_validator("environment_version", mode="before")
    @classmethod
    def _version(cls, version: object) -> object:
        # YAML reads `environment_version: 5` as a number; the Jobs API takes a string.
        if isinstance(version, int) and not isinstance(version, bool):
            version = str(version)
        if isinstance(version, str) and version not in SERVERLESS_ENVIRONMENT_VERSIONS:
            raise ValueError(
                f"expected one of {', '.join(map(repr, SERVERLESS_ENVIRONMENT_VERSIONS))}, got "
                f"{version!r}: the notebooks' logic is tested on the library set of those "
                "versions only (requirements-ml-serverless-<version>.txt, run by .ci/run)"
            )
        return version

    @field_validator("budget_policy_id")
    @classmethod
    def _policy_id(cls, value: str | None) -> str | None:
        if value is not None and not is_uuid(value):
            raise ValueError(
                "expected a budget policy id (a UUID, from the policy's page in the workspace "
                f"settings or the account console), got {value!r}"
            )
        return value

    @property
    def serverless(self) -> bool:
        return self.type == "serverless"

    @property
    def pinned_environment_version(self) -> str:
        """The environment version serverless jobs declare: configured, or the default."""
        return self.environment_version or DEFAULT_ENVIRONMENT_VERSION


def compute_problems(
    namespace: str,
    compute: ComputeConfig,
    cluster_configured: bool,
    model_registry: str,
    scheduled: bool = False,
) -> list[str]:
    """Keys that contradict ``compute.type``; each problem names the key to change.
    ``scheduled``: the stack is staging or prod, whose serverless jobs need a budget policy."""
    problems = []
    if compute.serverless:
        if scheduled and compute.budget_policy_id is None:
            problems.append(
                f"{namespace}:compute.budget_policy_id: required in staging and prod when "
                "compute.type is 'serverless': the jobs' cost is attributed by their budget "
                "policy (cluster tags do not apply), and without one Databricks applies "
                "whichever default policy the deploying principal has (databricks-sdk "
                "JobSettings.budget_policy_id); expected the id (a UUID) of a policy a "
                "workspace admin created, whose User role the run-as principal holds (docs, "
                "'Attribute usage with serverless budget policies'), or set compute.type to "
                "'classic'"
            )
        if cluster_configured:
            problems.append(
                f"{namespace}:cluster: not used when compute.type is 'serverless': serverless "
                "tasks run on compute Databricks sizes and manages (no runtime, node type, "
                "workers, access mode or cluster tags to set; serverless cost is attributed by "
                "compute.budget_policy_id); remove it, or set compute.type to 'classic'"
            )
        if model_registry != "unity_catalog":
            problems.append(
                f"{namespace}:compute.type: 'serverless' needs model.registry "
                "'unity_catalog': serverless compute requires a Unity Catalog workspace and "
                "reaches data only through Unity Catalog (Databricks docs, 'Serverless compute "
                "limitations'), and the workspace model registry is legacy, disabled in new "
                "accounts (docs, 'Workspace Model Registry (legacy)'); set model.registry to "
                "'unity_catalog', or compute.type to 'classic'"
            )
        return problems
    if not cluster_configured:
        problems.append(
            f"{namespace}:cluster: required when compute.type is 'classic' (the default when "
            "mlops:compute is absent): the job cluster every task runs on; or set "
            "compute.type to 'serverless'"
        )
    for name in ("environment_version", "budget_policy_id"):
        if getattr(compute, name) is not None:
            problems.append(
                f"{namespace}:compute.{name}: only used when compute.type is 'serverless' "
                "(classic clusters pin mlops:cluster.spark_version and are attributed by "
                "cluster.custom_tags); remove it, or set compute.type to 'serverless'"
            )
    return problems


class RequirementsError(Exception):
    """``notebooks/requirements.txt`` is missing, or holds a line a job environment should
    not (an unpinned requirement, a pip option, a nested file)."""


def notebook_requirements(project_dir: Path | None = None) -> tuple[str, ...]:
    """The requirement lines of ``notebooks/requirements.txt``, comments and blanks dropped.

    Each is a ``name==version`` pin (extras and markers allowed): the serverless environment
    is then the same at every run and the one `.ci/run` tests. Raises RequirementsError
    naming the file and line otherwise.
    """
    path = (project_dir or PROJECT_DIR) / NOTEBOOK_REQUIREMENTS
    try:
        text = path.read_text()
    except OSError as error:
        raise RequirementsError(
            f"{NOTEBOOK_REQUIREMENTS}: cannot be read ({error.strerror}); serverless jobs "
            "install the notebooks' dependencies from it"
        ) from None
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{NOTEBOOK_REQUIREMENTS}:{number}: {line!r}"
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            raise RequirementsError(
                f"{where}: expected a requirement such as 'scikit-learn==1.6.1' (no pip "
                "options, URLs or nested files: each line becomes one dependency of the job "
                "environment)"
            ) from None
        pins = [s for s in requirement.specifier if s.operator == "=="]
        if len(pins) != 1 or len(requirement.specifier) != 1 or "*" in pins[0].version:
            raise RequirementsError(
                f"{where}: expected one exact pin, '{requirement.name}==<version>': the "
                "serverless environment must be the one the notebooks are tested on"
            )
        lines.append(line)
    if not lines:
        raise RequirementsError(f"{NOTEBOOK_REQUIREMENTS}: holds no requirement")
    return tuple(lines)
