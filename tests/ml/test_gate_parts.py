"""The gate's building blocks, without MLflow: split, target, metrics, lineage, hand-off."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mlops_ml.handoff import ModelRef, handed_off_version, publish
from mlops_ml.job_run import NOT_A_JOB_RUN, gate_settings, read_job_run
from mlops_ml.lineage import lineage_tags, parse_git_source_info
from mlops_ml.metrics import (
    METRICS,
    PRIMARY_METRIC,
    compute_metrics,
    get_metric,
    metric_names,
)
from mlops_ml.registry import RunMode
from mlops_ml.split import Split, digest
from mlops_ml.target import Target
from mlops_ml.validation import (
    Threshold,
    champion_checks,
    parse_flag,
    parse_thresholds,
    threshold_checks,
)

from tests.ml.conftest import FakeJobsApi, FakeTaskValues, normalized_wine_frame


def test_a_row_stays_on_its_side_whatever_else_the_table_holds() -> None:
    data = normalized_wine_frame(rows=400)
    split = Split(20)
    holdout = split.holdout(data)
    assert 0.12 < holdout.mean() < 0.28

    # The table grows, is reordered, and a CSV read the label as double this time.
    grown = pd.concat([data, normalized_wine_frame(rows=200, seed=99)], ignore_index=True)
    grown = grown.sample(frac=1.0, random_state=3).astype({"quality": "float64"})
    regrown = split.holdout(grown)
    assert (regrown.loc[data.index] == holdout).all()

    # Keys: a named id column alone decides, so an edited row keeps its side.
    with_id = data.assign(wine_id=range(len(data)))
    by_id = Split(20, ("wine_id",))
    edited = with_id.assign(quality=with_id["quality"] + 1)
    assert (by_id.holdout(with_id) == by_id.holdout(edited)).all()
    with pytest.raises(ValueError, match=r"split key columns \['id'\] are not in the data"):
        Split(20, ("id",)).holdout(data)

    # What a run logs is enough to recompute it.
    assert Split.from_params(by_id.params()) == by_id
    keys = split.keys(data)[holdout].tolist()
    assert digest(keys) == digest(keys[::-1]) != digest(keys[1:])


def test_split_parameters_are_checked() -> None:
    assert Split.from_parameters("25", '["wine_id"]') == Split(25, ("wine_id",))
    assert Split.from_parameters("20", "") == Split(20, ())
    with pytest.raises(ValueError, match="holdout_percent must be a whole number"):
        Split.from_parameters("0.2", "[]")
    with pytest.raises(ValueError, match="holdout_percent must be 1-99"):
        Split.from_parameters("0", "[]")
    with pytest.raises(ValueError, match="split_key_columns must be a JSON list"):
        Split.from_parameters("20", "wine_id")
    with pytest.raises(LookupError, match="cannot be recomputed"):
        Split.from_params({"holdout_percent": "20"})


def test_the_target_comes_from_the_problem_type_and_threshold() -> None:
    label = pd.Series([3, 6, 7, 8], name="quality")
    good = Target.from_parameters("classification", "quality", "7")
    assert good.values(label).tolist() == [0, 0, 1, 1]
    assert good.describe() == "quality >= 7"
    assert Target.from_params(good.params()) == good
    score = Target.from_parameters("regression", "quality", "")
    assert score.values(label).tolist() == [3.0, 6.0, 7.0, 8.0]
    assert score.describe() == "quality"

    with pytest.raises(ValueError, match="classification needs a number"):
        Target.from_parameters("classification", "quality", "")
    with pytest.raises(ValueError, match="only used when problem_type is 'classification'"):
        Target.from_parameters("regression", "quality", "7")
    with pytest.raises(ValueError, match="problem_type must be one of"):
        Target.from_parameters("ranking", "quality", "")
    with pytest.raises(ValueError, match="'grade' must be numeric"):
        good.values(pd.Series(["a", "b"], name="grade"))
    with pytest.raises(LookupError, match="records no target definition"):
        Target.from_params({})


def test_metrics_of_a_perfect_and_a_constant_classifier_and_a_regressor() -> None:
    y_true = np.array([0, 0, 1, 1])
    perfect = compute_metrics("classification", y_true, y_true, np.array([0.1, 0.2, 0.8, 0.9]))
    assert set(perfect) == set(metric_names("classification"))
    assert {k: v for k, v in perfect.items() if k != "log_loss"} == dict.fromkeys(
        ["accuracy_score", "precision_score", "recall_score", "f1_score", "roc_auc"], 1.0
    )
    assert perfect["log_loss"] == pytest.approx(0.1643, abs=1e-4)
    constant = compute_metrics("classification", y_true, np.zeros(4))
    assert (constant["accuracy_score"], constant["f1_score"]) == (0.5, 0.0)
    assert "roc_auc" not in constant  # no scores
    one_class = compute_metrics("classification", np.zeros(3), np.zeros(3), np.full(3, 0.2))
    assert "roc_auc" not in one_class and "log_loss" in one_class

    regression = compute_metrics("regression", np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0]))
    assert regression == pytest.approx(
        {"root_mean_squared_error": 2 / 3**0.5, "mean_absolute_error": 2 / 3, "r2_score": -1.0}
    )
    assert set(regression) == set(metric_names("regression"))


def test_metric_directions() -> None:
    rmse = get_metric("regression", "root_mean_squared_error")
    assert (rmse.greater_is_better, rmse.lower, rmse.upper) == (False, 0.0, None)
    assert rmse.meets(0.4, 0.5) and not rmse.meets(0.6, 0.5)
    assert rmse.not_worse(0.505, 0.5, 0.01) and not rmse.not_worse(0.52, 0.5, 0.01)
    assert rmse.better(0.4, 0.5) and not rmse.better(0.5, 0.5)
    auc = get_metric("classification", "roc_auc")
    assert auc.not_worse(0.9496, 0.95, 0.001) and not auc.not_worse(0.9496, 0.95, 0.0)
    assert get_metric("regression", "r2_score").upper == 1.0
    assert all(PRIMARY_METRIC[p] in metric_names(p) for p in METRICS)
    with pytest.raises(ValueError, match="'rmse' is not a regression metric; training logs"):
        get_metric("regression", "rmse")


def test_thresholds_parse_and_check_in_each_direction() -> None:
    parsed = parse_thresholds(
        '{"roc_auc": {"threshold": 0.8, "tolerance": 0.01}, "log_loss": {"threshold": 0.4},'
        ' "f1_score": {"tolerance": 0.05}}'
    )
    assert parsed == {
        "roc_auc": Threshold(0.8, 0.01),
        "log_loss": Threshold(0.4, 0.0),
        "f1_score": Threshold(None, 0.05),
    }
    assert parse_thresholds("") == {}
    metrics = {"roc_auc": 0.79, "log_loss": 0.35, "f1_score": 0.1}
    checks = threshold_checks("classification", metrics, parsed)
    assert [(c.metric, c.passed, c.message) for c in checks] == [
        ("log_loss", True, "log_loss: 0.3500 <= threshold 0.4000"),
        ("roc_auc", False, "roc_auc: 0.7900 < threshold 0.8000"),
    ]
    (unknown,) = threshold_checks("regression", metrics, {"f1_score": Threshold(0.5)})
    assert not unknown.passed and "'f1_score' is not a regression metric" in unknown.message
    (missing,) = threshold_checks("classification", {}, {"roc_auc": Threshold(0.5)})
    assert not missing.passed and "roc_auc: not computed for the candidate" in missing.message

    for bad, message in [
        ("{accuracy_score: 0.5}", "not valid JSON"),
        ("[0.5]", "must be a JSON object"),
        ('{"roc_auc": 0.8}', r"\['roc_auc'\] must be an object"),
        ('{"roc_auc": {"minimum": 0.8}}', "must be an object with 'threshold'"),
        ('{"roc_auc": {"threshold": "high"}}', r"\['roc_auc'\]\.threshold must be a number"),
        ('{"roc_auc": {"tolerance": -0.1}}', r"tolerance must be >= 0"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_thresholds(bad)


def test_a_small_dip_within_tolerance_passes_the_champion_comparison() -> None:
    # The case: a 0.0004 roc_auc dip failed with tolerance 0.
    candidate = {"roc_auc": 0.9496, "accuracy_score": 0.948}
    champion = {"roc_auc": 0.9500, "accuracy_score": 0.947}
    strict = champion_checks("classification", candidate, champion, {"roc_auc": 0.0}, "3")
    assert [c.passed for c in strict] == [False]
    assert "roc_auc: 0.9496 is worse than champion v3 (0.9500, tolerance 0)" in strict[0].message
    tolerant = champion_checks(
        "classification", candidate, champion, {"roc_auc": 0.001, "accuracy_score": 0.0}, "3"
    )
    assert [c.passed for c in tolerant] == [True, True]
    lower = champion_checks(
        "regression",
        {"root_mean_squared_error": 0.52},
        {"root_mean_squared_error": 0.50},
        {"root_mean_squared_error": 0.01},
        "1",
    )
    assert not lower[0].passed
    (missing,) = champion_checks("classification", {"roc_auc": 0.9}, {}, {"roc_auc": 0.0}, "1")
    assert not missing.passed and "cannot compare with champion v1" in missing.message


def test_flags_and_run_modes_are_checked() -> None:
    assert parse_flag("baseline_check", "True") is True
    assert parse_flag("baseline_check", "false") is False
    with pytest.raises(ValueError, match="baseline_check must be 'true' or 'false'"):
        parse_flag("baseline_check", "yes")
    assert RunMode.parse("dry_run") is RunMode.DRY_RUN
    with pytest.raises(ValueError, match=r"run_mode must be one of .*'enabled'.*got 'on'"):
        RunMode.parse("on")


def test_git_source_info_becomes_mlflow_git_tags() -> None:
    info = "url:https://github.com/example-org/wine; branch:main; commit:0a1b2c"
    assert parse_git_source_info(info) == {
        "url": "https://github.com/example-org/wine",
        "branch": "main",
        "commit": "0a1b2c",
    }
    assert lineage_tags(info) == {
        "mlflow.source.git.repoURL": "https://github.com/example-org/wine",
        "mlflow.source.git.branch": "main",
        "mlflow.source.git.commit": "0a1b2c",
        "git_source_info": info,
    }
    assert lineage_tags("workspace:/Shared/wine/staging/notebooks; commit:{{x}}") == {
        "workspace_folder": "/Shared/wine/staging/notebooks",
        "git_source_info": "workspace:/Shared/wine/staging/notebooks; commit:{{x}}",
    }
    assert lineage_tags("") == {}
    with pytest.raises(ValueError, match="'main' is not 'key:value'"):
        parse_git_source_info("url:https://x/y; main")
    # The commit the job run checked out wins: a branch moves, and a pinned commit is only
    # what was asked for.
    ran = "5e1f0c9d2b7a4e3f8a6b1c0d9e8f7a6b5c4d3e2f"
    assert lineage_tags(info, ran)["mlflow.source.git.commit"] == ran
    assert lineage_tags("url:https://github.com/example-org/wine; tag:v1.2.0", ran) == {
        "mlflow.source.git.repoURL": "https://github.com/example-org/wine",
        "git_tag": "v1.2.0",
        "mlflow.source.git.commit": ran,
        "git_source_info": "url:https://github.com/example-org/wine; tag:v1.2.0",
    }


GATE = {"run_mode": "enabled", "validation_thresholds": '{"roc_auc": {"threshold": 0.75}}'}
"""What a prod job declares (among its parameters) for the gate."""


def test_a_job_run_applies_the_gate_settings_its_job_declares() -> None:
    """Run-now and repair both take ``job_parameters`` ("Job-level parameters used in the run",
    databricks-sdk ``jobs.py``, ``JobsAPI.run_now``/``JobsAPI.repair_run``), so anyone who may
    run the job could lower the gate for one run. In a job run the job's declaration applies;
    ``run_mode`` may be raised, not lowered."""
    jobs = FakeJobsApi({**GATE, "baseline_check": "true", "env": "prod"})
    job_run = read_job_run(jobs, jobs.task_run_id)
    assert (job_run.run_id, job_run.job_id, job_run.one_time) == (5000, 41, False)
    assert job_run.used_commit == jobs.used_commit
    assert job_run.declared["run_mode"] == "enabled"

    repair = {"run_mode": "dry_run", "validation_thresholds": "{}", "baseline_check": "false"}
    gate = gate_settings(repair, job_run)
    assert gate.run_mode is RunMode.ENABLED
    assert gate.values == {**GATE, "baseline_check": "true"}
    assert gate.notes == (
        "validation_thresholds='{}' given for this run is not applied: the job declares "
        '\'{"roc_auc": {"threshold": 0.75}}\' (change it in the stack file)',
        "baseline_check='false' given for this run is not applied: the job declares 'true' "
        "(change it in the stack file)",
        "run_mode='dry_run' given for this run is not applied: the job declares 'enabled', and a "
        "run may raise run_mode but not lower it (break-glass: README, 'The model gate on day "
        "two')",
    )
    assert gate_settings({"run_mode": "disabled"}, job_run).run_mode is RunMode.ENABLED
    # Raising it is allowed: staging (dry_run) can be run once in enabled mode.
    staging = read_job_run(FakeJobsApi({"run_mode": "dry_run"}), 5001)
    assert gate_settings({"run_mode": "enabled"}, staging).run_mode is RunMode.ENABLED
    # Outside a job run (by hand) and in a one-time run (runs/submit, whose submitter sets
    # every parameter and must be allowed to run as the run-as principal), the widgets apply.
    assert gate_settings({"run_mode": "dry_run"}, NOT_A_JOB_RUN).run_mode is RunMode.DRY_RUN
    one_time = read_job_run(FakeJobsApi(GATE, run_type="SUBMIT_RUN"), 5001)
    assert (one_time.one_time, one_time.declared) == (True, {})
    assert gate_settings({"run_mode": "dry_run"}, one_time).run_mode is RunMode.DRY_RUN
    with pytest.raises(LookupError, match="run 9 does not exist"):  # read errors are raised
        read_job_run(jobs, 9)


def test_the_fake_jobs_api_has_the_sdk_s_field_names() -> None:
    """``FakeJobsApi`` answers with the attribute names of the Databricks SDK's dataclasses
    (checked where the SDK is installed: the latest library set; the runtime bundles it)."""
    sdk_jobs = pytest.importorskip("databricks.sdk.service.jobs")
    fields = {
        cls: {f.name for f in dataclasses.fields(cls)}
        for cls in (
            sdk_jobs.Run,
            sdk_jobs.GitSource,
            sdk_jobs.GitSnapshot,
            sdk_jobs.Job,
            sdk_jobs.JobSettings,
            sdk_jobs.JobParameterDefinition,
        )
    }
    assert {"run_id", "job_id", "job_run_id", "run_type", "git_source"} <= fields[sdk_jobs.Run]
    assert "git_snapshot" in fields[sdk_jobs.GitSource]
    assert "used_commit" in fields[sdk_jobs.GitSnapshot]
    assert "settings" in fields[sdk_jobs.Job] and "parameters" in fields[sdk_jobs.JobSettings]
    assert {"name", "default"} <= fields[sdk_jobs.JobParameterDefinition]
    assert sdk_jobs.RunType.SUBMIT_RUN.value == "SUBMIT_RUN"


def test_the_version_is_handed_off_by_task_values_with_widget_fallback() -> None:
    store: dict[str, dict[str, Any]] = {}
    publish(FakeTaskValues(store, "Train"), ModelRef("cat.sch.model", "7", "Train"))
    assert store["Train"] == {
        "model_name": "cat.sch.model",
        "model_version": "7",
        "model_uri": "models:/cat.sch.model/7",
    }
    # Task values win over the widgets: the run acts on the version it registered.
    received = handed_off_version(FakeTaskValues(store, "ModelValidation"), "cat.sch.model", "3")
    assert (received.version, received.source) == ("7", "task values of Train")
    # By hand, or in a job run where Train set no values: the widgets name the version.
    for in_job in (False, True):
        by_hand = handed_off_version(
            FakeTaskValues({}, "ModelValidation", in_job), "cat.sch.model", "3"
        )
        assert (by_hand.uri, by_hand.source) == (
            "models:/cat.sch.model/3",
            "the model_name/model_version parameters",
        )
    with pytest.raises(LookupError, match="no model version to act on"):
        handed_off_version(FakeTaskValues({}, "ModelDeployment"), "cat.sch.model", "")
