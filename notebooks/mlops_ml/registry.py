"""Model registry conventions shared by the job notebooks: aliases, tags and registry URIs.

The training job hands the exact version it registered from task to task by task values
(:mod:`mlops_ml.handoff`); aliases say what a version *is*, not which one to act on:
``challenger`` marks a version that passed validation (or was validated in ``dry_run``) and
awaits deployment, ``champion`` the version batch inference scores with. ModelValidation
records its verdict in version tags, which ModelDeployment checks.
"""

from __future__ import annotations

import re
from enum import Enum

from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

CHAMPION_ALIAS = "champion"
"""Alias of the version batch inference scores with."""
CHALLENGER_ALIAS = "challenger"
"""Alias ModelValidation sets on a version that passed (or was dry-run) and removes from one
that failed in enabled mode; ModelDeployment removes it from the version it deploys."""

VALIDATION_STATUS_TAG = "validation_status"
"""Model version tag: PENDING (set by Train), then PASSED, FAILED or SKIPPED."""
VALIDATION_MODE_TAG = "validation_mode"
"""Model version tag: the run_mode (a :class:`RunMode` value) ModelValidation ran in."""
VALIDATION_DETAILS_TAG = "validation_details"
"""Model version tag: a short summary of the failed checks (full report is a run artifact)."""
MAX_TAG_LENGTH = 250
"""Longest value the gate writes to a version tag (``validation_details``, ``break_glass``): a
summary to read in the UI (the full report is a run artifact), well within the limits: Unity
Catalog takes tag values of up to 1000 characters on model versions (Databricks docs, "Apply
tags to Unity Catalog securable objects",
https://learn.microsoft.com/azure/databricks/database-objects/tags, "Constraints"),
MLflow's client checks model version tag values against ``MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH``
(``mlflow/utils/validation.py``: 5000 in MLflow 2.13.1, 100000 in 3.17.2)."""


class RunMode(str, Enum):
    """How ModelValidation treats its verdict (and ModelDeployment the version's status)."""

    DISABLED = "disabled"
    DRY_RUN = "dry_run"
    ENABLED = "enabled"

    @classmethod
    def parse(cls, value: str | RunMode) -> RunMode:
        """The mode for a ``run_mode`` job parameter; a clear error for anything else."""
        if isinstance(value, RunMode):
            return value
        try:
            return cls(value.strip())
        except ValueError:
            allowed = [m.value for m in cls]
            raise ValueError(f"run_mode must be one of {allowed}, got {value!r}") from None

    @property
    def strictness(self) -> int:
        """Order of the modes: ``disabled`` < ``dry_run`` < ``enabled``."""
        return list(RunMode).index(self)


REGISTRY_URIS = {"unity_catalog": "databricks-uc", "workspace": "databricks"}
"""MLflow registry URI for each ``model_registry`` job parameter value."""

_UC_NAME = re.compile(r"^[^.\s]+\.[^.\s]+\.[^.\s]+$")


def is_unity_catalog_name(model_name: str) -> bool:
    """Whether ``model_name`` is a three-part ``catalog.schema.name`` Unity Catalog name."""
    return bool(_UC_NAME.match(model_name))


def registry_uri(model_registry: str, model_name: str | None = None) -> str:
    """The MLflow registry URI for the ``model_registry`` job parameter.

    When ``model_name`` is given it must fit the registry: Unity Catalog needs a three-part
    name, the workspace registry a plain name.
    """
    if model_registry not in REGISTRY_URIS:
        raise ValueError(
            f"model_registry must be one of {sorted(REGISTRY_URIS)}, got {model_registry!r}"
        )
    if model_name is not None:
        if model_registry == "unity_catalog" and not is_unity_catalog_name(model_name):
            raise ValueError(
                f"model {model_name!r}: the unity_catalog registry needs a three-part name "
                "'catalog.schema.model'"
            )
        if model_registry == "workspace" and "." in model_name:
            raise ValueError(
                f"model {model_name!r}: the workspace registry needs a plain name without dots"
            )
    return REGISTRY_URIS[model_registry]


def version_uri(model_name: str, version: str | int) -> str:
    """``models:/<name>/<version>``: the URI MLflow loads one registered version by."""
    return f"models:/{model_name}/{version}"


def registry_uri_for_model(model_name: str) -> str:
    """Registry URI implied by a model name: three-part names live in Unity Catalog.

    The batch inference job has no ``model_registry`` parameter, so it goes by the name.
    """
    return "databricks-uc" if is_unity_catalog_name(model_name) else "databricks"


ALIAS_NOT_FOUND_CODES = ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND", "INVALID_PARAMETER_VALUE")
"""Error codes a registry answers an alias look-up with when it finds nothing. MLflow's own
(SQL) registry raises ``INVALID_PARAMETER_VALUE`` "Registered model alias <alias> not found."
(``mlflow/store/model_registry/sqlalchemy_store.py``, ``get_model_version_by_alias``, in 2.13.1
and 3.x); Unity Catalog answers over REST (``RESOURCE_DOES_NOT_EXIST``/``NOT_FOUND``). Any
other error (permission, throttling, an outage) is raised as it is: no guess is made."""


class AliasUnreadableError(LookupError):
    """The alias is set, but the version it points at cannot be read."""


def version_by_alias(client: MlflowClient, model_name: str, alias: str) -> ModelVersion | None:
    """The version ``alias`` points at; None only when the model or the alias does not exist.

    The version is read by the alias itself (``get_model_version_by_alias``), not through the
    registered model's alias list: that list is second-hand (Unity Catalog leaves it empty unless
    asked with ``include_aliases``: MLflow's ``uc_native_rest_store.py``, ``get_registered_model``,
    "without it the response omits registered-model aliases"; databricks/databricks-sdk-py#868),
    and trusting an empty list would skip the champion. When the look-up finds nothing, the
    registered model says why: the model does not exist, or the alias is not set (None); or the
    alias is set and names a version that cannot be read, which raises
    :class:`AliasUnreadableError` rather than counting as "no champion" (fail closed). Deleting a
    version deletes its aliases in both registries (Unity Catalog's "Delete Model Version" API:
    "Any aliases assigned to the model version will also be deleted";
    ``sqlalchemy_store.py`` ``delete_model_version``), so an alias naming a missing version is a
    registry in an unexpected state, not a first model.
    """
    try:
        return client.get_model_version_by_alias(model_name, alias)
    except MlflowException as error:
        if error.error_code not in ALIAS_NOT_FOUND_CODES:
            raise
        lookup = error
    try:
        model = client.get_registered_model(model_name)
    except MlflowException as error:
        if error.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    target = (model.aliases or {}).get(alias)
    if target is None:
        return None
    raise AliasUnreadableError(
        f"model {model_name!r}: alias {alias!r} points at version {target}, which cannot be "
        f"read ({lookup.error_code}: {lookup.message}); point {alias!r} at a version that "
        "exists (README, 'The model gate on day two') before validating or deploying against it"
    )


def require_version_by_alias(client: MlflowClient, model_name: str, alias: str) -> ModelVersion:
    """The version ``alias`` points at; a clear error naming model and alias when there is none."""
    version = version_by_alias(client, model_name, alias)
    if version is None:
        raise LookupError(f"model {model_name!r} has no version with alias {alias!r}")
    return version
