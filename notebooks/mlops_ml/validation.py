"""Model validation: check the ``challenger`` version before it may become ``champion``.

The challenger is scored on the hold-out rows its training run logged (see
:data:`mlops_ml.train.HOLDOUT_ARTIFACT`). Checks:

* every configured threshold: ``metric >= minimum``;
* when a ``champion`` exists (and is another version), the champion is scored on the same
  rows, and the challenger must not be worse on any thresholded metric nor on
  :data:`PRIMARY_METRIC`.

``run_mode``: ``disabled`` skips the checks (status SKIPPED); ``dry_run`` records the verdict
and never raises; ``enabled`` records the verdict and raises :class:`ModelValidationError`
when a check fails. The verdict goes to model version tags (``validation_status``,
``validation_mode``, ``validation_details``) and the full report to the training run as
``validation/report.json``.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import mlflow.sklearn
import pandas as pd
from mlflow import MlflowClient

from mlops_ml.registry import (
    CHALLENGER_ALIAS,
    CHAMPION_ALIAS,
    VALIDATION_DETAILS_TAG,
    VALIDATION_MODE_TAG,
    VALIDATION_STATUS_TAG,
    require_version_by_alias,
    version_by_alias,
)
from mlops_ml.train import HOLDOUT_ARTIFACT, evaluate_classifier

PRIMARY_METRIC = "roc_auc"
"""Metric the challenger must not lose on against the champion, thresholds or not."""
REPORT_ARTIFACT = "validation/report.json"
"""Run artifact with the full :class:`ValidationReport`."""
MAX_TAG_LENGTH = 250
"""Tag values are kept short (Unity Catalog limits their length)."""


class RunMode(str, Enum):
    """How ModelValidation treats its verdict."""

    DISABLED = "disabled"
    DRY_RUN = "dry_run"
    ENABLED = "enabled"

    @classmethod
    def parse(cls, value: str) -> RunMode:
        """The mode for a ``run_mode`` job parameter; a clear error for anything else."""
        try:
            return cls(value.strip())
        except ValueError:
            allowed = [m.value for m in cls]
            raise ValueError(f"run_mode must be one of {allowed}, got {value!r}") from None


class ModelValidationError(Exception):
    """The challenger failed validation in ``enabled`` mode."""


@dataclass(frozen=True)
class Check:
    """One validation check and its outcome."""

    kind: str
    """``threshold`` or ``champion``."""
    metric: str
    candidate: float | None
    """The challenger's value (None: not computed)."""
    reference: float | None
    """The threshold, or the champion's value."""
    passed: bool
    message: str


@dataclass(frozen=True)
class ValidationReport:
    """The verdict on one challenger version."""

    model_name: str
    version: str
    run_mode: str
    status: str
    """PASSED, FAILED or SKIPPED."""
    checks: tuple[Check, ...] = ()
    candidate_metrics: dict[str, float] = field(default_factory=dict)
    champion_version: str | None = None
    champion_metrics: dict[str, float] = field(default_factory=dict)

    @property
    def failed_checks(self) -> tuple[Check, ...]:
        """The checks that did not pass."""
        return tuple(c for c in self.checks if not c.passed)

    def summary(self) -> str:
        """One line per check, headed by the verdict."""
        head = (
            f"model {self.model_name!r} version {self.version}: validation {self.status} "
            f"(run_mode={self.run_mode})"
        )
        return "\n".join([head, *(f"  - {c.message}" for c in self.checks)])


def parse_thresholds(value: str | dict[str, Any]) -> dict[str, float]:
    """Parse the ``validation_thresholds`` JSON object (metric name -> minimum value)."""
    if isinstance(value, str):
        text = value.strip() or "{}"
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"validation_thresholds is not valid JSON: {error}") from None
    else:
        parsed = value
    if not isinstance(parsed, dict):
        raise ValueError(
            f"validation_thresholds must be a JSON object of metric -> minimum, got {value!r}"
        )
    thresholds: dict[str, float] = {}
    for metric, minimum in parsed.items():
        if isinstance(minimum, bool) or not isinstance(minimum, (int, float)):
            raise ValueError(f"validation threshold for {metric!r} must be a number: {minimum!r}")
        thresholds[str(metric)] = float(minimum)
    return thresholds


def threshold_checks(metrics: dict[str, float], thresholds: dict[str, float]) -> list[Check]:
    """One check per threshold: the metric must exist and be at least the minimum."""
    checks = []
    for metric, minimum in sorted(thresholds.items()):
        value = metrics.get(metric)
        if value is None or math.isnan(value):
            checks.append(
                Check(
                    "threshold",
                    metric,
                    None,
                    minimum,
                    False,
                    f"{metric}: not computed for the candidate (available: {sorted(metrics)})",
                )
            )
            continue
        passed = value >= minimum
        checks.append(
            Check(
                "threshold",
                metric,
                value,
                minimum,
                passed,
                f"{metric}: {value:.4f} {'>=' if passed else '<'} threshold {minimum:.4f}",
            )
        )
    return checks


def champion_checks(
    candidate: dict[str, float],
    champion: dict[str, float],
    metrics: list[str],
    champion_version: str,
    tolerance: float = 0.0,
) -> list[Check]:
    """The candidate must not be worse than the champion (by more than ``tolerance``)."""
    checks = []
    for metric in metrics:
        mine, theirs = candidate.get(metric), champion.get(metric)
        if theirs is None:
            checks.append(
                Check(
                    "champion",
                    metric,
                    mine,
                    None,
                    True,
                    f"{metric}: champion v{champion_version} has no value; not compared",
                )
            )
            continue
        if mine is None:
            checks.append(
                Check(
                    "champion",
                    metric,
                    None,
                    theirs,
                    False,
                    f"{metric}: not computed for the candidate; champion "
                    f"v{champion_version} has {theirs:.4f}",
                )
            )
            continue
        passed = mine >= theirs - tolerance
        checks.append(
            Check(
                "champion",
                metric,
                mine,
                theirs,
                passed,
                f"{metric}: {mine:.4f} {'is not worse than' if passed else 'is worse than'} "
                f"champion v{champion_version} ({theirs:.4f})",
            )
        )
    return checks


def load_holdout(client: MlflowClient, run_id: str) -> pd.DataFrame:
    """The hold-out rows logged by training run ``run_id``."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = client.download_artifacts(run_id, HOLDOUT_ARTIFACT, tmp)
        except Exception as error:
            raise LookupError(
                f"training run {run_id} has no hold-out artifact {HOLDOUT_ARTIFACT!r}: {error}"
            ) from error
        return pd.read_parquet(path)


def _record(client: MlflowClient, report: ValidationReport, run_id: str | None) -> None:
    """Tag the version with the verdict and log the full report to its training run."""
    client.set_model_version_tag(
        report.model_name, report.version, VALIDATION_STATUS_TAG, report.status
    )
    client.set_model_version_tag(
        report.model_name, report.version, VALIDATION_MODE_TAG, report.run_mode
    )
    details = "; ".join(c.message for c in report.failed_checks) or "all checks passed"
    if report.status == "SKIPPED":
        details = "validation disabled"
    if len(details) > MAX_TAG_LENGTH:
        details = details[: MAX_TAG_LENGTH - 3] + "..."
    client.set_model_version_tag(report.model_name, report.version, VALIDATION_DETAILS_TAG, details)
    if run_id:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(REPORT_ARTIFACT).name
            path.write_text(json.dumps(asdict(report), indent=2, sort_keys=True))
            client.log_artifact(run_id, str(path), str(Path(REPORT_ARTIFACT).parent))


def validate_challenger(
    model_name: str,
    run_mode: str | RunMode,
    thresholds: dict[str, float],
    *,
    primary_metric: str = PRIMARY_METRIC,
    tolerance: float = 0.0,
    client: MlflowClient | None = None,
) -> ValidationReport:
    """Validate the ``challenger`` version of ``model_name``, record and return the verdict.

    Raises :class:`ModelValidationError` (after recording) when ``run_mode`` is ``enabled``
    and a check fails; ``LookupError`` when the model has no challenger.
    """
    mode = run_mode if isinstance(run_mode, RunMode) else RunMode.parse(run_mode)
    client = client or MlflowClient()
    challenger = require_version_by_alias(client, model_name, CHALLENGER_ALIAS)
    version = str(challenger.version)
    if mode is RunMode.DISABLED:
        report = ValidationReport(model_name, version, mode.value, "SKIPPED")
        _record(client, report, challenger.run_id)
        return report

    if not challenger.run_id:
        raise LookupError(f"model {model_name!r} version {version} has no training run")
    holdout = load_holdout(client, challenger.run_id)
    candidate_metrics = evaluate_classifier(
        mlflow.sklearn.load_model(f"models:/{model_name}/{version}"), holdout
    )
    checks = threshold_checks(candidate_metrics, thresholds)

    champion = version_by_alias(client, model_name, CHAMPION_ALIAS)
    champion_version: str | None = None
    champion_metrics: dict[str, float] = {}
    if champion is not None and str(champion.version) != version:
        champion_version = str(champion.version)
        compared = sorted(set(thresholds) | {primary_metric})
        try:
            champion_model = mlflow.sklearn.load_model(f"models:/{model_name}/{champion_version}")
            champion_metrics = evaluate_classifier(champion_model, holdout)
        except Exception as error:  # e.g. the champion was trained on other features
            checks.append(
                Check(
                    "champion",
                    primary_metric,
                    candidate_metrics.get(primary_metric),
                    None,
                    True,
                    f"champion v{champion_version} could not score the hold-out set "
                    f"({type(error).__name__}: {error}); not compared",
                )
            )
        else:
            checks.extend(
                champion_checks(
                    candidate_metrics, champion_metrics, compared, champion_version, tolerance
                )
            )

    status = "PASSED" if all(c.passed for c in checks) else "FAILED"
    report = ValidationReport(
        model_name,
        version,
        mode.value,
        status,
        tuple(checks),
        candidate_metrics,
        champion_version,
        champion_metrics,
    )
    _record(client, report, challenger.run_id)
    if status == "FAILED" and mode is RunMode.ENABLED:
        raise ModelValidationError(report.summary())
    return report
