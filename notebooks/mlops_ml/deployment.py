"""Deployment: point ``champion`` at exactly the version Train handed off.

The version comes from the hand-off (:mod:`mlops_ml.handoff`), not from an alias, so a newer
version registered meanwhile by another run cannot be deployed by mistake. Its validation
verdict is read from its own tags.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlflow import MlflowClient

from mlops_ml.registry import (
    CHALLENGER_ALIAS,
    CHAMPION_ALIAS,
    VALIDATION_MODE_TAG,
    VALIDATION_STATUS_TAG,
    RunMode,
    version_by_alias,
)


class DeploymentRefusedError(Exception):
    """The version may not become champion (validation failed or did not pass)."""


@dataclass(frozen=True)
class DeploymentResult:
    """Which version became champion, replacing which."""

    model_name: str
    version: str
    previous_champion: str | None
    validation_status: str
    """The deployed version's ``validation_status`` tag (PASSED, SKIPPED, FAILED in dry_run)."""


def deploy_version(
    model_name: str, version: str, run_mode: str | RunMode, *, client: MlflowClient | None = None
) -> DeploymentResult:
    """Point ``champion`` at ``version``; drop ``challenger`` if it pointed there too.

    Refused (:class:`DeploymentRefusedError`, aliases untouched) when the version failed
    validation in ``enabled`` mode (whatever ``run_mode`` is now: e.g. a repair run of this
    task alone), or when ``run_mode`` is ``enabled`` and the version's validation did not
    pass (it never ran, or was skipped). Works with the Unity Catalog and the workspace
    registry (MLflow >= 2.3 alias APIs).
    """
    mode = RunMode.parse(run_mode)
    client = client or MlflowClient()
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
    challenger = version_by_alias(client, model_name, CHALLENGER_ALIAS)
    if challenger is not None and str(challenger.version) == version:
        client.delete_registered_model_alias(model_name, CHALLENGER_ALIAS)
    return DeploymentResult(model_name, version, previous, status)
