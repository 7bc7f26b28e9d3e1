"""Deployment: move the ``champion`` alias to the validated ``challenger`` version."""

from __future__ import annotations

from dataclasses import dataclass

from mlflow import MlflowClient

from mlops_ml.registry import (
    CHALLENGER_ALIAS,
    CHAMPION_ALIAS,
    VALIDATION_MODE_TAG,
    VALIDATION_STATUS_TAG,
    require_version_by_alias,
    version_by_alias,
)
from mlops_ml.validation import RunMode


class DeploymentRefusedError(Exception):
    """The challenger may not become champion (validation failed or did not run)."""


@dataclass(frozen=True)
class DeploymentResult:
    """Which version became champion, replacing which."""

    model_name: str
    version: str
    previous_champion: str | None
    validation_status: str
    """The deployed version's ``validation_status`` tag (PASSED, SKIPPED, or FAILED in dry_run)."""


def deploy_challenger(
    model_name: str, run_mode: str | RunMode, *, client: MlflowClient | None = None
) -> DeploymentResult:
    """Point ``champion`` at the ``challenger`` version and remove the ``challenger`` alias.

    Refused (:class:`DeploymentRefusedError`, aliases untouched) when the version failed
    validation in ``enabled`` mode, or when ``run_mode`` is ``enabled`` and the version's
    validation did not pass (e.g. it never ran). Works with the Unity Catalog and the
    workspace registry (MLflow >= 2.3 alias APIs).
    """
    mode = run_mode if isinstance(run_mode, RunMode) else RunMode.parse(run_mode)
    client = client or MlflowClient()
    challenger = require_version_by_alias(client, model_name, CHALLENGER_ALIAS)
    version = str(challenger.version)
    # Read the version itself: not every registry returns tags with the alias lookup.
    tags = dict(client.get_model_version(model_name, version).tags or {})
    status = tags.get(VALIDATION_STATUS_TAG, "")
    validated_in = tags.get(VALIDATION_MODE_TAG, "")
    if status == "FAILED" and validated_in == RunMode.ENABLED.value:
        raise DeploymentRefusedError(
            f"model {model_name!r} version {version} failed validation in enabled mode; "
            "not deploying"
        )
    if mode is RunMode.ENABLED and status != "PASSED":
        raise DeploymentRefusedError(
            f"model {model_name!r} version {version} has validation_status "
            f"{status or '(none)'!r}; run_mode 'enabled' deploys only PASSED versions"
        )
    champion = version_by_alias(client, model_name, CHAMPION_ALIAS)
    previous = str(champion.version) if champion is not None else None
    client.set_registered_model_alias(model_name, CHAMPION_ALIAS, version)
    client.delete_registered_model_alias(model_name, CHALLENGER_ALIAS)
    return DeploymentResult(model_name, version, previous, status)
