"""Model validation: the verdict on one registered version before it may become ``champion``.

The version is the one Train handed off (see :mod:`mlops_ml.handoff`), never "whatever an
alias points at". Validation rebuilds the version's target and split from its training run's
parameters, reloads the training data and scores:

* **thresholds**: each configured metric against its threshold (a minimum, or a maximum for
  metrics where lower is better);
* **baseline** (on by default): the primary metric (:data:`~mlops_ml.metrics.PRIMARY_METRIC`)
  must be strictly better than a trivial predictor's (class prior / mean of the training rows);
* **champion**: when another version holds ``champion``, both are scored on the rows neither
  trained on (the candidate's hold-out rows that are also in the champion's own hold-out set,
  recomputed from the champion's logged split); the candidate must not be worse on any
  configured metric nor on the primary metric by more than that metric's tolerance.

It fails closed: an error anywhere (reading a run, loading data, loading or scoring either
model) and a metric that cannot be computed are failed checks that say what failed.
``run_mode``: ``disabled`` records SKIPPED without checking; ``dry_run`` records the verdict
and never raises; ``enabled`` records it and raises :class:`ModelValidationError` on FAILED.
The verdict goes to version tags (``validation_status``, ``validation_mode``,
``validation_details``) and the full report to the training run (``validation/report.json``).
A version that PASSED, or was validated in ``dry_run``, gets the ``challenger`` alias; one that
FAILED in ``enabled`` mode never gets it and loses it if it had it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import mlflow.sklearn
import pandas as pd
from mlflow import MlflowClient
from sklearn.dummy import DummyClassifier, DummyRegressor

from mlops_ml.metrics import PRIMARY_METRIC, Metric, get_metric, metric_names, score_model
from mlops_ml.registry import (
    CHALLENGER_ALIAS,
    CHAMPION_ALIAS,
    VALIDATION_DETAILS_TAG,
    VALIDATION_MODE_TAG,
    VALIDATION_STATUS_TAG,
    RunMode,
    version_by_alias,
    version_uri,
)
from mlops_ml.split import Split, digest
from mlops_ml.target import Target, split_features

REPORT_ARTIFACT = "validation/report.json"
"""Run artifact with the full :class:`ValidationReport`."""
MAX_TAG_LENGTH = 250
"""Longest ``validation_details`` tag value: a summary to read in the UI (the full report is
:data:`REPORT_ARTIFACT`), well within the limits: Unity Catalog takes tag values of up to 1000
characters on model versions (Databricks docs, "Apply tags to Unity Catalog securable
objects", https://learn.microsoft.com/azure/databricks/database-objects/tags, "Constraints"),
MLflow's client checks model version tag values against ``MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH``
(``mlflow/utils/validation.py``: 5000 in MLflow 2.13.1, 100000 in 3.17.2)."""
MIN_COMPARISON_ROWS = 20
"""Fewest rows unseen by both versions that a champion comparison accepts."""

LoadData = Callable[[str, str], pd.DataFrame]
"""``(training_data, label_column) -> labelled rows``: how validation reads the data."""


class ModelValidationError(Exception):
    """The version failed validation in ``enabled`` mode."""


@dataclass(frozen=True)
class Threshold:
    """What one configured metric must satisfy."""

    threshold: float | None = None
    """Minimum (maximum where lower is better); None: only compared with the champion."""
    tolerance: float = 0.0
    """How much worse than the champion the candidate may be on this metric."""


@dataclass(frozen=True)
class Check:
    """One validation check and its outcome."""

    kind: str
    """``threshold``, ``baseline``, ``champion`` or ``error``."""
    metric: str
    candidate: float | None
    """The candidate's value (None: not computed)."""
    reference: float | None
    """The threshold, the baseline's or the champion's value."""
    passed: bool
    message: str


@dataclass(frozen=True)
class ValidationReport:
    """The verdict on one version, and the numbers behind it (no data rows)."""

    model_name: str
    version: str
    run_mode: str
    status: str
    """PASSED, FAILED or SKIPPED."""
    checks: tuple[Check, ...] = ()
    candidate_metrics: dict[str, float] = field(default_factory=dict)
    """On the candidate's hold-out rows."""
    baseline_metrics: dict[str, float] = field(default_factory=dict)
    champion_version: str | None = None
    champion_metrics: dict[str, float] = field(default_factory=dict)
    """The champion's, on the comparison rows."""
    candidate_comparison_metrics: dict[str, float] = field(default_factory=dict)
    """The candidate's, on the same comparison rows."""
    holdout_rows: int = 0
    holdout_key_digest: str = ""
    comparison_rows: int = 0

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


def parse_thresholds(value: str | Mapping[str, Any]) -> dict[str, Threshold]:
    """Parse ``validation_thresholds``: metric -> ``{"threshold": x, "tolerance": t}``."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value.strip() or "{}")
        except json.JSONDecodeError as error:
            raise ValueError(f"validation_thresholds is not valid JSON: {error}") from None
    else:
        parsed = value
    expected = 'a JSON object like {"roc_auc": {"threshold": 0.8, "tolerance": 0.01}}'
    if not isinstance(parsed, dict):
        raise ValueError(f"validation_thresholds must be {expected}, got {value!r}")
    thresholds = {}
    for metric, entry in parsed.items():
        if not isinstance(entry, dict) or set(entry) - {"threshold", "tolerance"}:
            raise ValueError(
                f"validation_thresholds[{metric!r}] must be an object with 'threshold' and/or "
                f"'tolerance', got {entry!r}"
            )
        numbers = {}
        for key in ("threshold", "tolerance"):
            number = entry.get(key)
            if number is None:
                continue
            if isinstance(number, bool) or not isinstance(number, (int, float)):
                raise ValueError(f"validation_thresholds[{metric!r}].{key} must be a number")
            numbers[key] = float(number)
        if numbers.get("tolerance", 0.0) < 0:
            raise ValueError(f"validation_thresholds[{metric!r}].tolerance must be >= 0")
        thresholds[str(metric)] = Threshold(numbers.get("threshold"), numbers.get("tolerance", 0.0))
    return thresholds


def parse_flag(name: str, value: str) -> bool:
    """A ``true``/``false`` job parameter."""
    text = value.strip().lower()
    if text not in ("true", "false"):
        raise ValueError(f"{name} must be 'true' or 'false', got {value!r}")
    return text == "true"


def _value(metrics: Mapping[str, float], name: str) -> float | None:
    value = metrics.get(name)
    return None if value is None or math.isnan(value) else value


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def threshold_checks(
    problem_type: str, metrics: Mapping[str, float], thresholds: Mapping[str, Threshold]
) -> list[Check]:
    """One check per configured threshold; an unknown or uncomputed metric fails."""
    checks = []
    for name, configured in sorted(thresholds.items()):
        try:
            metric = get_metric(problem_type, name)
        except ValueError as error:
            checks.append(Check("threshold", name, None, configured.threshold, False, str(error)))
            continue
        if configured.threshold is None:
            continue
        value = _value(metrics, name)
        if value is None:
            message = f"{name}: not computed for the candidate (computed: {sorted(metrics)})"
            checks.append(Check("threshold", name, None, configured.threshold, False, message))
            continue
        passed = metric.meets(value, configured.threshold)
        failed_operator = "<" if metric.greater_is_better else ">"
        operator = metric.comparison if passed else failed_operator
        checks.append(
            Check(
                "threshold",
                name,
                value,
                configured.threshold,
                passed,
                f"{name}: {value:.4f} {operator} threshold {configured.threshold:.4f}",
            )
        )
    return checks


def baseline_check(
    problem_type: str, candidate: Mapping[str, float], baseline: Mapping[str, float]
) -> Check:
    """The candidate must be strictly better than the trivial predictor on the primary metric."""
    name = PRIMARY_METRIC[problem_type]
    metric = get_metric(problem_type, name)
    mine, theirs = _value(candidate, name), _value(baseline, name)
    if mine is None or theirs is None:
        return Check(
            "baseline",
            name,
            mine,
            theirs,
            False,
            f"{name}: cannot compare with the baseline (candidate {_fmt(mine)}, baseline "
            f"{_fmt(theirs)}); e.g. the hold-out rows hold one class only",
        )
    passed = metric.better(mine, theirs)
    verdict = "beats" if passed else "does not beat"
    return Check(
        "baseline",
        name,
        mine,
        theirs,
        passed,
        f"{name}: {mine:.4f} {verdict} the baseline (a trivial predictor) {theirs:.4f}",
    )


def champion_checks(
    problem_type: str,
    candidate: Mapping[str, float],
    champion: Mapping[str, float],
    tolerances: Mapping[str, float],
    champion_version: str,
) -> list[Check]:
    """The candidate must not be worse than the champion by more than each metric's tolerance."""
    checks = []
    for name, tolerance in sorted(tolerances.items()):
        metric: Metric = get_metric(problem_type, name)
        mine, theirs = _value(candidate, name), _value(champion, name)
        if mine is None or theirs is None:
            checks.append(
                Check(
                    "champion",
                    name,
                    mine,
                    theirs,
                    False,
                    f"{name}: cannot compare with champion v{champion_version} on the rows "
                    f"neither trained on (candidate {_fmt(mine)}, champion {_fmt(theirs)})",
                )
            )
            continue
        passed = metric.not_worse(mine, theirs, tolerance)
        verdict = "is not worse than" if passed else "is worse than"
        checks.append(
            Check(
                "champion",
                name,
                mine,
                theirs,
                passed,
                f"{name}: {mine:.4f} {verdict} champion v{champion_version} ({theirs:.4f}, "
                f"tolerance {tolerance:g})",
            )
        )
    return checks


def baseline_model(problem_type: str) -> Any:
    """The trivial predictor the candidate must beat: class prior, or the mean."""
    if problem_type == "regression":
        return DummyRegressor(strategy="mean")
    return DummyClassifier(strategy="prior")


@dataclass
class _Evaluation:
    """The report so far and the stage validation reached: an error keeps what was found
    before it and names the stage. The report's status is settled once every check ran."""

    report: ValidationReport
    stage: str = "starting"

    def add(self, *checks: Check) -> None:
        self.report = replace(self.report, checks=self.report.checks + checks)

    def fail(self, kind: str, metric: str, message: str) -> None:
        self.add(Check(kind, metric, None, None, False, message))


def _training_run(client: MlflowClient, run_id: str | None) -> tuple[Target, Split, str]:
    if not run_id:
        raise LookupError("the version has no training run")
    params = client.get_run(run_id).data.params
    return Target.from_params(params), Split.from_params(params), params.get("training_data", "")


def _evaluate(
    found: _Evaluation,
    client: MlflowClient,
    model_name: str,
    version: str,
    run_id: str | None,
    thresholds: str | Mapping[str, Any],
    load_data: LoadData,
    baseline: bool,
) -> None:
    found.stage = f"reading the training run of version {version}"
    target, split, training_data = _training_run(client, run_id)
    problem_type = target.problem_type
    found.stage = "reading validation_thresholds"
    configured = parse_thresholds(thresholds)

    found.stage = f"loading the training data {training_data!r}"
    data = load_data(training_data, target.label_column)
    found.stage = "splitting the training data"
    features, y = split_features(data, target)
    keys = split.keys(data)
    holdout = split.holdout(data, keys)
    holdout_rows = int(holdout.sum())
    found.report = replace(
        found.report, holdout_rows=holdout_rows, holdout_key_digest=digest(keys[holdout])
    )
    if holdout_rows == 0:
        raise ValueError(f"no hold-out rows ({split.describe()}) in {len(data)} rows")

    found.stage = f"loading version {version}"
    candidate = mlflow.sklearn.load_model(version_uri(model_name, version))
    found.stage = f"scoring version {version} on its hold-out rows"
    candidate_metrics = score_model(candidate, features[holdout], y[holdout], problem_type)
    found.report = replace(found.report, candidate_metrics=candidate_metrics)
    found.add(*threshold_checks(problem_type, candidate_metrics, configured))

    if baseline:
        found.stage = "scoring the baseline"
        trivial = baseline_model(problem_type).fit(features[~holdout], y[~holdout])
        baseline_metrics = score_model(trivial, features[holdout], y[holdout], problem_type)
        found.report = replace(found.report, baseline_metrics=baseline_metrics)
        found.add(baseline_check(problem_type, candidate_metrics, baseline_metrics))

    found.stage = "looking up the champion"
    champion = version_by_alias(client, model_name, CHAMPION_ALIAS)
    if champion is None or str(champion.version) == version:
        return
    label = f"champion v{champion.version}"
    found.report = replace(found.report, champion_version=str(champion.version))
    found.stage = f"reading the training run of {label}"
    champion_target, champion_split, _ = _training_run(client, champion.run_id)
    if champion_target.problem_type != problem_type:
        found.fail(
            "champion",
            PRIMARY_METRIC[problem_type],
            f"{label} is a {champion_target.problem_type} model and the candidate a "
            f"{problem_type} model; they cannot be compared",
        )
        return
    found.stage = f"recomputing the rows {label} held out"
    # A row's key depends on the key columns only: the same columns, the same keys.
    same_keys = champion_split.key_columns == split.key_columns
    rows = holdout & champion_split.holdout(data, keys if same_keys else None)
    comparison_rows = int(rows.sum())
    found.report = replace(found.report, comparison_rows=comparison_rows)
    if comparison_rows < MIN_COMPARISON_ROWS:
        found.fail(
            "champion",
            PRIMARY_METRIC[problem_type],
            f"only {comparison_rows} rows are held out by both the candidate "
            f"({split.describe()}) and {label} ({champion_split.describe()}); need "
            f"{MIN_COMPARISON_ROWS} to compare them on rows neither trained on",
        )
        return
    found.stage = f"loading {label}"
    incumbent = mlflow.sklearn.load_model(version_uri(model_name, champion.version))
    found.stage = f"scoring {label} on the rows neither version trained on"
    champion_metrics = score_model(incumbent, features[rows], y[rows], problem_type)
    found.report = replace(found.report, champion_metrics=champion_metrics)
    found.stage = f"scoring version {version} on the rows neither version trained on"
    comparison_metrics = score_model(candidate, features[rows], y[rows], problem_type)
    found.report = replace(found.report, candidate_comparison_metrics=comparison_metrics)
    known = set(metric_names(problem_type))
    tolerances = {m: t.tolerance for m, t in configured.items() if m in known}
    tolerances.setdefault(PRIMARY_METRIC[problem_type], 0.0)
    found.add(
        *champion_checks(
            problem_type, comparison_metrics, champion_metrics, tolerances, str(champion.version)
        )
    )


def _record(client: MlflowClient, report: ValidationReport, run_id: str | None) -> None:
    """Tag the version with the verdict, log the report, and set or remove ``challenger``."""
    name, version = report.model_name, report.version
    client.set_model_version_tag(name, version, VALIDATION_STATUS_TAG, report.status)
    client.set_model_version_tag(name, version, VALIDATION_MODE_TAG, report.run_mode)
    details = "; ".join(c.message for c in report.failed_checks) or "all checks passed"
    if report.status == "SKIPPED":
        details = "validation disabled"
    if len(details) > MAX_TAG_LENGTH:
        details = details[: MAX_TAG_LENGTH - 3] + "..."
    client.set_model_version_tag(name, version, VALIDATION_DETAILS_TAG, details)
    if run_id:
        client.log_dict(run_id, asdict(report), REPORT_ARTIFACT)
    if report.status == "PASSED" or report.run_mode == RunMode.DRY_RUN.value:
        client.set_registered_model_alias(name, CHALLENGER_ALIAS, version)
    elif report.status == "FAILED":
        holder = version_by_alias(client, name, CHALLENGER_ALIAS)
        if holder is not None and str(holder.version) == version:
            client.delete_registered_model_alias(name, CHALLENGER_ALIAS)


def validate_version(
    model_name: str,
    version: str,
    run_mode: str | RunMode,
    thresholds: str | Mapping[str, Any],
    *,
    load_data: LoadData,
    baseline: bool = True,
    client: MlflowClient | None = None,
) -> ValidationReport:
    """Validate version ``version`` of ``model_name``; record and return the verdict.

    ``thresholds`` is the ``validation_thresholds`` parameter (JSON or parsed).
    ``load_data(training_data, label_column)`` reads the labelled rows the version's training
    run names. Raises :class:`ModelValidationError` (after recording) when ``run_mode`` is
    ``enabled`` and the verdict is FAILED; a missing version raises in every mode, since there
    is nothing to record the verdict on.
    """
    mode = RunMode.parse(run_mode)
    client = client or MlflowClient()
    registered = client.get_model_version(model_name, version)
    run_id = registered.run_id
    if mode is RunMode.DISABLED:
        report = ValidationReport(model_name, version, mode.value, "SKIPPED")
        _record(client, report, run_id)
        return report

    found = _Evaluation(ValidationReport(model_name, version, mode.value, "FAILED"))
    try:
        _evaluate(found, client, model_name, version, run_id, thresholds, load_data, baseline)
    except Exception as error:  # fail closed: any error is a failed check naming the stage
        found.fail("error", "", f"{found.stage} failed: {type(error).__name__}: {error}")
    if not found.report.checks:
        found.fail("error", "", "no check ran: configure thresholds or keep the baseline check")
    passed = all(c.passed for c in found.report.checks)
    report = replace(found.report, status="PASSED" if passed else "FAILED")
    _record(client, report, run_id)
    if report.status == "FAILED" and mode is RunMode.ENABLED:
        raise ModelValidationError(report.summary())
    return report
