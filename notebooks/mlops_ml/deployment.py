"""Deployment: point ``champion`` at exactly the version Train handed off.

The version comes from the hand-off (:mod:`mlops_ml.handoff`), not from an alias, so a newer
version registered meanwhile by another run cannot be deployed by mistake. Its validation
verdict is read from its own tags: no run moves ``champion`` to a version whose verdict is
FAILED, whatever its ``run_mode`` (``enabled`` refuses and fails the task; ``dry_run`` and
``disabled`` leave ``champion`` where it is and say so).

Break-glass (:func:`break_glass_deploy`) is the one way past a verdict: a person with the
registry privileges to move aliases runs it with a reason, and the version's tags record who
and why. It is not a job parameter, so CAN_MANAGE_RUN on the job does not give it.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlflow import MlflowClient

from mlops_ml.registry import (
    CHALLENGER_ALIAS,
    CHAMPION_ALIAS,
    MAX_TAG_LENGTH,
    VALIDATION_DETAILS_TAG,
    VALIDATION_MODE_TAG,
    VALIDATION_STATUS_TAG,
    RunMode,
    version_by_alias,
)

BREAK_GLASS_TAG = "break_glass"
"""Model version tag: why a person deployed it past its verdict, and who (break-glass)."""


class DeploymentRefusedError(Exception):
    """The version may not become champion (validation failed or did not pass)."""


@dataclass(frozen=True)
class DeploymentResult:
    """Which version became champion, replacing which (or, when not deployed, why)."""

    model_name: str
    version: str
    previous_champion: str | None
    validation_status: str
    """The version's ``validation_status`` tag (PASSED, SKIPPED, PENDING, FAILED)."""
    deployed: bool = True
    """False: ``champion`` was left where it was (a FAILED version in dry_run/disabled)."""
    reason: str = ""


def deploy_version(
    model_name: str, version: str, run_mode: str | RunMode, *, client: MlflowClient | None = None
) -> DeploymentResult:
    """Point ``champion`` at ``version``; drop ``challenger`` if it pointed there too.

    No mode promotes a version whose verdict is FAILED. Refused
    (:class:`DeploymentRefusedError`, aliases untouched) when the version failed validation in
    ``enabled`` mode (whatever ``run_mode`` is now: e.g. a repair run of this task alone), or
    when ``run_mode`` is ``enabled`` and the version's validation did not pass (it failed, never
    ran, or was skipped). In ``dry_run`` and ``disabled`` a version that FAILED (in ``dry_run``)
    is not deployed: the result says so and ``champion`` stays. Works with the Unity Catalog and
    the workspace registry (MLflow >= 2.3 alias APIs).
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
    if status == "FAILED":
        reason = (
            f"version {version} FAILED validation ({validated_in or 'unknown'} mode: "
            f"{tags.get(VALIDATION_DETAILS_TAG, 'no details')}); champion stays "
            f"{'v' + previous if previous else 'unset'}"
        )
        return DeploymentResult(model_name, version, previous, status, False, reason)
    _point_champion(client, model_name, version)
    return DeploymentResult(model_name, version, previous, status)


def _point_champion(client: MlflowClient, model_name: str, version: str) -> None:
    client.set_registered_model_alias(model_name, CHAMPION_ALIAS, version)
    challenger = version_by_alias(client, model_name, CHALLENGER_ALIAS)
    if challenger is not None and str(challenger.version) == version:
        client.delete_registered_model_alias(model_name, CHALLENGER_ALIAS)


def break_glass_deploy(
    model_name: str, version: str, reason: str, by: str, *, client: MlflowClient | None = None
) -> DeploymentResult:
    """Point ``champion`` at ``version`` whatever its verdict, recording ``reason`` and ``by``.

    For a person, not a job: they run it with their own registry credentials (in Unity
    Catalog, the privileges to set the model's aliases), so the job's CAN_MANAGE_RUN does not
    give it. ``reason`` (a ticket, what was reviewed) and ``by`` (who) are required; both go
    to the version's :data:`BREAK_GLASS_TAG` before the alias moves, and the verdict tags stay
    as they were: the version remains FAILED, deployed anyway, and says so.
    """
    if not reason.strip() or not by.strip():
        raise ValueError("break-glass needs a reason (what was reviewed, a ticket) and who: both")
    client = client or MlflowClient()
    tags = dict(client.get_model_version(model_name, version).tags or {})
    champion = version_by_alias(client, model_name, CHAMPION_ALIAS)
    previous = str(champion.version) if champion is not None else None
    record = f"{by.strip()}: {reason.strip()} (champion was {previous or 'unset'})"
    client.set_model_version_tag(model_name, version, BREAK_GLASS_TAG, record[:MAX_TAG_LENGTH])
    _point_champion(client, model_name, version)
    status = tags.get(VALIDATION_STATUS_TAG, "")
    return DeploymentResult(model_name, version, previous, status, True, record)
