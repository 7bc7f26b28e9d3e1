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

Finding the champion's hold-out rows in today's table is exact when the champion was split by
key columns (an id): a row keeps its key when the table gains a column or old rows are
re-exported with other values. A champion split by every column (no key columns when it
trained) is exact only while the table is unchanged (its logged key digests still match);
otherwise rows it trained on may count as unseen, which can only flatter it, so the candidate
still passes when it is no worse even so, and a loss is reported as inconclusive with what to
do, never as the candidate being worse. A champion whose key columns are gone fails the check
with what to do. A candidate split by every column must still find its own split in the data.

It fails closed: an error anywhere (reading a run, loading data, loading or scoring either
model, a champion alias naming a version that cannot be read) and a metric that cannot be
computed are failed checks that say what failed. ``run_mode``: ``disabled`` records SKIPPED
without checking; ``dry_run`` records the verdict and never raises; ``enabled`` records it and
raises :class:`ModelValidationError` on FAILED. The verdict goes to version tags
(``validation_status``, ``validation_mode``, ``validation_details``) and the full report to the
training run (``validation/report.json``). It is a fact about the version: one FAILED in
``enabled`` mode is never re-decided (a repair run, ``dry_run`` or ``disabled`` leaves it
FAILED). Only a version that PASSED gets the ``challenger`` alias; one that FAILED loses it.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import mlflow.sklearn
import pandas as pd
from mlflow import MlflowClient
from sklearn.dummy import DummyClassifier, DummyRegressor

from mlops_ml.lineage import log_validation_metrics, training_dataset
from mlops_ml.metrics import PRIMARY_METRIC, Metric, get_metric, metric_names, score_model
from mlops_ml.registry import (
    CHALLENGER_ALIAS,
    CHAMPION_ALIAS,
    MAX_TAG_LENGTH,
    VALIDATION_DETAILS_TAG,
    VALIDATION_MODE_TAG,
    VALIDATION_STATUS_TAG,
    RunMode,
    version_by_alias,
    version_uri,
)
from mlops_ml.split import (
    HOLDOUT_DIGEST_PARAM,
    KEY_COLUMNS_USED_PARAM,
    SPLIT_ARTIFACT,
    TRAINING_DIGEST_PARAM,
    Split,
    digest,
)
from mlops_ml.target import Target, split_features

REPORT_ARTIFACT = "validation/report.json"
"""Run artifact with the full :class:`ValidationReport`."""
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
    comparison_basis: str = ""
    """How the champion's hold-out rows were found in today's data (exact or not)."""

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


@dataclass(frozen=True)
class _TrainingRun:
    """What a version's training run recorded: enough to rebuild its target and its split."""

    target: Target
    split: Split
    training_data: str
    key_columns_used: tuple[str, ...] | None
    """The columns its row keys were made of (None: a run from before they were logged)."""
    training_digest: str | None
    """:func:`~mlops_ml.split.digest` of its training side's keys (None: not logged)."""
    holdout_digest: str | None


def _training_run(client: MlflowClient, run_id: str | None) -> _TrainingRun:
    if not run_id:
        raise LookupError("the version has no training run")
    params = client.get_run(run_id).data.params
    target, split = Target.from_params(params), Split.from_params(params)
    used = params.get(KEY_COLUMNS_USED_PARAM)
    training, holdout = params.get(TRAINING_DIGEST_PARAM), params.get(HOLDOUT_DIGEST_PARAM)
    if training is None or holdout is None:
        # Runs from before the digests were parameters have them in the split artifact only.
        logged: dict[str, Any] = {}
        with tempfile.TemporaryDirectory() as directory:
            try:
                path = client.download_artifacts(run_id, SPLIT_ARTIFACT, directory)
                logged = json.loads(Path(path).read_text())
            except Exception:  # no artifact: the digests are unknown, which is what None says
                pass
        training = training or logged.get("training_key_digest")
        holdout = holdout or logged.get("holdout_key_digest")
    return _TrainingRun(
        target,
        split,
        params.get("training_data", ""),
        tuple(json.loads(used)) if used else None,
        training,
        holdout,
    )


class KeyMismatchError(LookupError):
    """The rows a version trained on cannot be identified in today's data."""


@dataclass(frozen=True)
class _ChampionRows:
    """The champion's hold-out rows in today's data, and how sure that is."""

    holdout: pd.Series
    exact: bool
    """True: exactly the rows the champion did not train on. False: rows it trained on may be
    among them (its key was every column and the table changed since), which can only make
    the champion look better than it is."""
    basis: str
    """How they were found, for the report."""


def _unchanged(run: _TrainingRun, keys: pd.Series, holdout: pd.Series) -> bool:
    """Whether recomputed keys give exactly the sides the run logged (same rows, same values)."""
    return (
        run.training_digest is not None
        and run.holdout_digest is not None
        and digest(keys[~holdout]) == run.training_digest
        and digest(keys[holdout]) == run.holdout_digest
    )


def _champion_rows(
    data: pd.DataFrame,
    run: _TrainingRun,
    load_incumbent: Callable[[], Any],
    label: str,
    version: str,
) -> _ChampionRows:
    """The rows champion ``version`` held out, recomputed from its own logged split.

    With key columns (an id), a row keeps its key whatever columns the table gained or values
    were re-exported: exact. Without (every column was its key), its keys are recomputed over
    the columns it had (logged; for older runs its features plus the label): exact when that
    reproduces the digests it logged (the table is unchanged), approximate otherwise, since an
    edited value gives a row a new key. Raises :class:`KeyMismatchError` when its key columns
    are not all in the data. ``load_incumbent`` loads the champion's model, needed only for a
    run that did not log its key columns.
    """
    split = run.split
    if split.key_columns:
        missing = [c for c in split.key_columns if c not in data.columns]
        if missing:
            raise KeyMismatchError(
                f"champion v{version} was split by key columns {list(split.key_columns)}, and "
                f"{missing} are not in the training data any more (columns: {list(data)}), so "
                "the rows it trained on cannot be identified; restore the column(s), or replace "
                "the champion with break-glass after reviewing this version's other checks "
                "(README, 'The model gate on day two')"
            )
        holdout = split.holdout(data)
        basis = f"by its key columns {list(split.key_columns)}: exact"
        return _ChampionRows(holdout, True, basis)
    columns = run.key_columns_used
    if columns is None:  # a run from before the key columns were logged: features + label
        names = getattr(load_incumbent(), "feature_names_in_", None)
        if names is None:
            raise KeyMismatchError(
                f"champion v{version} was split by every column, and neither its run nor its "
                "model says which columns it had; its training rows cannot be identified"
            )
        columns = tuple(sorted({*map(str, names), label}))
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise KeyMismatchError(
            f"champion v{version} was split by the values of every column it had, and "
            f"{missing} are not in the training data any more, so the rows it trained on "
            "cannot be identified; set training.validation.split_key_columns (an id column) "
            "and replace the champion with break-glass after reviewing this version's other "
            "checks (README, 'The model gate on day two')"
        )
    keys = split.keys(data, columns)
    holdout = split.holdout(data, keys)
    if _unchanged(run, keys, holdout):
        return _ChampionRows(holdout, True, "by every column it had; the table is unchanged: exact")
    basis = (
        "by every column it had, and the table changed since it trained (its key digests do not "
        "match): rows it trained on may count as unseen, which can only flatter it"
    )
    return _ChampionRows(holdout, False, basis)


def _inconclusive(check: Check, champion_version: str) -> Check:
    """A failed comparison with a champion found only approximately: not the candidate's fault."""
    return replace(
        check,
        message=(
            f"{check.message}; inconclusive, not a verdict on this version: champion "
            f"v{champion_version} was split by every column (no split_key_columns) and the table "
            "changed since, so some rows it trained on may be among the comparison rows and "
            "flatter it. Set training.validation.split_key_columns (an id column) and replace "
            "the champion with break-glass after reviewing this version's other checks "
            "(README, 'The model gate on day two')"
        ),
    )


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
    run = _training_run(client, run_id)
    target, split = run.target, run.split
    problem_type = target.problem_type
    found.stage = "reading validation_thresholds"
    configured = parse_thresholds(thresholds)

    found.stage = f"loading the training data {run.training_data!r}"
    data = load_data(run.training_data, target.label_column)
    found.stage = "splitting the training data"
    features, y = split_features(data, target, split.key_columns)
    keys = split.keys(data)
    holdout = split.holdout(data, keys)
    holdout_rows = int(holdout.sum())
    found.report = replace(
        found.report, holdout_rows=holdout_rows, holdout_key_digest=digest(keys[holdout])
    )
    if holdout_rows == 0:
        raise ValueError(f"no hold-out rows ({split.describe()}) in {len(data)} rows")
    if not split.key_columns and not _unchanged(run, keys, holdout):
        # Keyed by every value, a row edited since training has a new key and may have moved
        # to the hold-out side: the version would be scored on rows it trained on.
        found.fail(
            "error",
            "",
            f"the training data changed since version {version} was trained (its split, by "
            "every column, no longer gives the key digests its run logged), so its hold-out "
            "rows cannot be recomputed; run the whole job again to train and validate a new "
            "version on today's data, or set training.validation.split_key_columns",
        )
        return

    found.stage = f"loading version {version}"
    candidate = mlflow.sklearn.load_model(version_uri(model_name, version))
    found.stage = f"scoring version {version} on its hold-out rows"
    candidate_metrics = score_model(candidate, features[holdout], y[holdout], problem_type)
    found.report = replace(found.report, candidate_metrics=candidate_metrics)
    found.add(*threshold_checks(problem_type, candidate_metrics, configured))
    if run_id:
        # MLflow 3: the scores go to the version's logged model, linked to the rows read.
        found.stage = f"logging the scores of version {version} to its logged model"
        dataset = training_dataset(data, run.training_data, target.label)
        log_validation_metrics(client, run_id, candidate_metrics, dataset)

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
    champion_run = _training_run(client, champion.run_id)
    if champion_run.target.problem_type != problem_type:
        found.fail(
            "champion",
            PRIMARY_METRIC[problem_type],
            f"{label} is a {champion_run.target.problem_type} model and the candidate a "
            f"{problem_type} model; they cannot be compared",
        )
        return
    loaded: list[Any] = []

    def load_incumbent() -> Any:
        if not loaded:
            found.stage = f"loading {label}"
            loaded.append(mlflow.sklearn.load_model(version_uri(model_name, champion.version)))
        return loaded[0]

    found.stage = f"recomputing the rows {label} held out"
    try:
        rows_of_champion = _champion_rows(
            data, champion_run, load_incumbent, target.label, str(champion.version)
        )
    except KeyMismatchError as error:
        found.fail("champion", PRIMARY_METRIC[problem_type], str(error))
        return
    rows = holdout & rows_of_champion.holdout
    comparison_rows = int(rows.sum())
    found.report = replace(
        found.report, comparison_rows=comparison_rows, comparison_basis=rows_of_champion.basis
    )
    if comparison_rows < MIN_COMPARISON_ROWS:
        found.fail(
            "champion",
            PRIMARY_METRIC[problem_type],
            f"only {comparison_rows} rows are held out by both the candidate "
            f"({split.describe()}) and {label} ({champion_run.split.describe()}); need "
            f"{MIN_COMPARISON_ROWS} to compare them on rows neither trained on",
        )
        return
    incumbent = load_incumbent()
    found.stage = f"scoring {label} on the rows neither version trained on"
    # The champion reads its own features (its key columns are not among them).
    champion_features, _ = split_features(data, target, champion_run.split.key_columns)
    champion_metrics = score_model(incumbent, champion_features[rows], y[rows], problem_type)
    found.report = replace(found.report, champion_metrics=champion_metrics)
    found.stage = f"scoring version {version} on the rows neither version trained on"
    comparison_metrics = score_model(candidate, features[rows], y[rows], problem_type)
    found.report = replace(found.report, candidate_comparison_metrics=comparison_metrics)
    known = set(metric_names(problem_type))
    tolerances = {m: t.tolerance for m, t in configured.items() if m in known}
    tolerances.setdefault(PRIMARY_METRIC[problem_type], 0.0)
    checks = champion_checks(
        problem_type, comparison_metrics, champion_metrics, tolerances, str(champion.version)
    )
    if not rows_of_champion.exact:
        checks = [c if c.passed else _inconclusive(c, str(champion.version)) for c in checks]
    found.add(*checks)


def _final_verdict(tags: Mapping[str, str]) -> bool:
    """Whether the version's recorded verdict is final: FAILED in ``enabled`` mode."""
    return (
        tags.get(VALIDATION_STATUS_TAG) == "FAILED"
        and tags.get(VALIDATION_MODE_TAG) == RunMode.ENABLED.value
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
    if report.status == "PASSED":
        client.set_registered_model_alias(name, CHALLENGER_ALIAS, version)
    elif report.status == "FAILED":
        _drop_challenger(client, name, version)


def _drop_challenger(client: MlflowClient, name: str, version: str) -> None:
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

    A verdict is a fact about the version: one FAILED in ``enabled`` mode is final, and a later
    validation (a repair run, another mode) neither re-evaluates nor overwrites it; ``disabled``
    does not overwrite a FAILED verdict either. A FAILED ``dry_run`` verdict may be re-evaluated
    (e.g. after a transient error). Only a PASSED version gets ``challenger``.
    """
    mode = RunMode.parse(run_mode)
    client = client or MlflowClient()
    registered = client.get_model_version(model_name, version)
    run_id = registered.run_id
    tags = dict(registered.tags or {})
    recorded = tags.get(VALIDATION_STATUS_TAG, "")
    if _final_verdict(tags) or (mode is RunMode.DISABLED and recorded == "FAILED"):
        message = (
            f"version {version} already FAILED validation in {tags.get(VALIDATION_MODE_TAG)} "
            f"mode ({tags.get(VALIDATION_DETAILS_TAG, 'no details')}); a verdict is not "
            "re-decided by a later run: run the whole job to train and validate a new version"
        )
        report = ValidationReport(
            model_name,
            version,
            mode.value,
            "FAILED",
            checks=(Check("recorded", "", None, None, False, message),),
        )
        _drop_challenger(client, model_name, version)
        if mode is RunMode.ENABLED:
            raise ModelValidationError(report.summary())
        return report
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
