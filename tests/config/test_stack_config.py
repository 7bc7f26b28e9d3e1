"""Config validation, apart from resources: every bad input gets a message naming the file,
the key and what is expected, and all problems are reported together."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from mlops_ml import metrics
from mlops_ml.validation import parse_thresholds, threshold_checks

from mlops_resources.config.checks import METRICS, MetricRange
from mlops_resources.config.reading import ConfigError, RawConfig
from mlops_resources.config.stack import (
    StackConfig,
    committed_stacks,
    validate,
    validated_stacks,
)
from mlops_resources.config.stack_files import StackFileError, encode_value, read_stack_file
from tests.stacks import example_dir, personal_stack_overrides

STAGING = read_stack_file("staging", example_dir())
STAGING_OUTPUT = "staging.wine_quality.predictions"


_REMOVE = object()


def _edit(values: dict[str, str], key: str, value: Any) -> None:
    """Set (or, with ``_REMOVE``, delete) a dotted key like ``mlops:a.b.c`` in CLI config."""
    top, _, path = key.partition(".")
    if not path:
        if value is _REMOVE:
            del values[top]
        else:
            values[top] = encode_value(value)
        return
    document = json.loads(values[top])
    target = document
    *parents, leaf = path.split(".")
    for part in parents:
        target = target[part]
    if value is _REMOVE:
        del target[leaf]
    else:
        target[leaf] = value
    values[top] = encode_value(document)


def raw(
    changes: dict[str, Any], remove: tuple[str, ...] = (), secret: tuple[str, ...] = ()
) -> RawConfig:
    """The staging stack file's config with keys changed (``a:b.c`` edits inside a section)."""
    values = dict(STAGING.values)
    for key, value in changes.items():
        _edit(values, key, value)
    for key in remove:
        _edit(values, key, _REMOVE)
    return RawConfig(values, STAGING.secret_keys | frozenset(secret))


def problems_of(
    config: RawConfig, stack: str = "staging", others: list[tuple[str, StackConfig]] | None = None
) -> list[str]:
    """The problems ``validate`` raises for ``config`` as ``stack``, checked against ``others``
    (the committed stacks a personal stack must not collide with)."""
    with pytest.raises(ConfigError) as caught:
        validate(config, stack, others or ())
    return caught.value.problems


def test_committed_stack_files_are_valid() -> None:
    validated = validated_stacks(("staging", "prod"), example_dir())
    assert [name for name, _ in validated] == ["Pulumi.staging.yaml", "Pulumi.prod.yaml"]
    for (_, cfg), stack in zip(validated, ("staging", "prod"), strict=True):
        assert isinstance(cfg, StackConfig)
        assert cfg.environment == stack


def test_threshold_metrics_are_the_ones_training_logs() -> None:
    # The config keeps a copy of the notebooks' metric catalog (it cannot import scikit-learn).
    assert {
        problem: {
            m.name: MetricRange(m.greater_is_better, m.lower, m.upper)
            for m in metrics.METRICS[problem]
        }
        for problem in metrics.METRICS
    } == METRICS


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_committed_thresholds_reject_a_constant_classifier(stack: str) -> None:
    training = validate(raw({}), stack).training if stack == "staging" else _prod().training
    thresholds = parse_thresholds(
        {k: v.model_dump(exclude_none=True) for k, v in training.validation.thresholds.items()}
    )
    # Red wine: about 14% are good (quality >= 7). Always "not good" with prior probabilities:
    y_true = np.array([1] * 14 + [0] * 86)
    constant = metrics.compute_metrics("classification", y_true, np.zeros(100), np.full(100, 0.14))
    assert constant["accuracy_score"] == 0.86  # what the old accuracy_score: 0.5 let through
    assert not any(c.passed for c in threshold_checks("classification", constant, thresholds))
    # A useful model (half the good wines found, few false alarms) passes them.
    useful = metrics.compute_metrics(
        "classification",
        y_true,
        np.array([1] * 7 + [0] * 7 + [1] * 3 + [0] * 83),
        np.array([0.8] * 7 + [0.3] * 7 + [0.6] * 3 + [0.1] * 83),
    )
    assert all(c.passed for c in threshold_checks("classification", useful, thresholds))


def _prod() -> StackConfig:
    return validate(RawConfig.from_stack_file(read_stack_file("prod", example_dir())), "prod")


MONITORING_WITHOUT_LABEL: dict[str, Any] = {
    "enabled": True,
    "schedule": {"quartz_cron": "0 0 8 * * ?"},
    "retraining": {
        "metric": "accuracy_score",
        "threshold": 0.8,
        "schedule": {"quartz_cron": "0 0 18 * * ?"},
    },
}

BAD_CONFIGS = [
    (
        "missing input table",
        raw({}, remove=("mlops:batch_inference.input_table_name",)),
        [
            "mlops:batch_inference.input_table_name: required key is missing; "
            "expected table to score"
        ],
    ),
    (
        "typo in a top-level key",
        raw({"mlops:trainig": {}}),
        [
            "mlops:trainig: unknown key (did you mean 'training'?); expected one of: access, "
            "batch_inference, cluster, code_source, jobs, model, monitoring, project_name, "
            "protect_ml_assets, training, workspace_root"
        ],
    ),
    (
        "typo in a nested key",
        raw({"mlops:cluster.num_worker": 2}, remove=("mlops:cluster.num_workers",)),
        [
            "mlops:cluster.num_workers: required key is missing; expected number of workers, "
            "at least 1",
            "mlops:cluster.num_worker: unknown key (did you mean 'num_workers'?); expected one "
            "of: custom_tags, data_security_mode, max_num_workers, node_type_id, num_workers, "
            "spark_version",
        ],
    ),
    (
        "unix cron instead of Quartz",
        raw({"mlops:training.schedule.quartz_cron": "0 9 * * *"}),
        [
            "mlops:training.schedule.quartz_cron: invalid Quartz cron expression '0 9 * * *': "
            "has 5 fields; a Quartz expression has 6 or 7: seconds minutes hours day-of-month "
            "month day-of-week [year], e.g. '0 0 9 * * ?'"
        ],
    ),
    (
        "zero workers",
        raw({"mlops:cluster.num_workers": 0}),
        ["mlops:cluster.num_workers: expected a positive number of workers, got 0"],
    ),
    (
        "workers as text",
        raw({"mlops:cluster.num_workers": "three"}),
        [
            "mlops:cluster.num_workers: expected a valid integer, got 'three' "
            "(number of workers, at least 1)"
        ],
    ),
    (
        "malformed email",
        raw({"mlops:jobs.on_failure_emails": ["oncall@example.com", "not-an-email"]}),
        [
            "mlops:jobs.on_failure_emails[1]: malformed email address 'not-an-email'; "
            "expected name@example.com"
        ],
    ),
    (
        "plaintext token",
        raw({"databricks:token": "abc"}),
        [
            "databricks:token: a credential in plaintext; store it with `pulumi config set "
            "--secret databricks:token` or an environment variable"
        ],
    ),
    (
        "personal access token pasted in a value",
        raw({"mlops:access.readers_group": "dapi0123456789abcdef0123456789abcdef"}),
        [
            "mlops:access.readers_group: contains what looks like an access token in plaintext; "
            "remove it and use a Pulumi secret or an environment variable (DATABRICKS_TOKEN, ...)"
        ],
    ),
    (
        "two-part table in Unity Catalog mode",
        raw({"mlops:batch_inference.output_table_name": "wine_quality.predictions"}),
        [
            "mlops:batch_inference.output_table_name: expected a three-part Unity Catalog "
            "name <catalog>.<schema>.<table> (model.registry is 'unity_catalog'), got "
            "'wine_quality.predictions'"
        ],
    ),
    (
        "malformed table name",
        raw({"mlops:batch_inference.input_table_name": "staging.wine-quality.input"}),
        [
            "mlops:batch_inference.input_table_name: malformed table name "
            "'staging.wine-quality.input'; expected <catalog>.<schema>.<table> of letters, "
            "digits and underscores"
        ],
    ),
    (
        "boolean written as a word",
        raw({"mlops:protect_ml_assets": "yes"}),
        ["mlops:protect_ml_assets: expected true or false, got 'yes'"],
    ),
    (
        "git source without branch or tag",
        raw({}, remove=("mlops:code_source.branch",)),
        [
            "mlops:code_source.branch: set exactly one of code_source.branch and "
            "code_source.tag when code_source.type is 'git'"
        ],
    ),
    (
        "same group reads and operates",
        raw({"mlops:access.operators_group": "users"}),
        [
            "mlops:access.operators_group: must differ from access.readers_group; one "
            "principal gets exactly one permission level per object"
        ],
    ),
    (
        "no run-as principal",
        raw({}, remove=("mlops:access.run_as_service_principal",)),
        [
            "mlops:access.run_as_service_principal: required key is missing; expected "
            "application id (UUID) of the service principal the jobs run as; it owns the jobs "
            "and the model, and the environment deploys as it"
        ],
    ),
    (
        "run-as given as a display name",
        raw({"mlops:access.run_as_service_principal": "ml-deployer"}),
        [
            "mlops:access.run_as_service_principal: expected a service principal application "
            "id (a UUID), got 'ml-deployer'"
        ],
    ),
    (
        "unknown time zone",
        raw({"mlops:batch_inference.schedule.timezone": "Mars/Olympus"}),
        [
            "mlops:batch_inference.schedule.timezone: unknown time zone 'Mars/Olympus'; "
            "expected an IANA/Java id such as 'UTC' or 'Europe/Paris'"
        ],
    ),
    (
        "unpinned runtime",
        raw({"mlops:cluster.spark_version": "latest"}),
        [
            "mlops:cluster.spark_version: expected a pinned runtime like "
            "'15.4.x-cpu-ml-scala2.12', got 'latest'"
        ],
    ),
    (
        "missing workspace host",
        raw({}, remove=("databricks:host",)),
        [
            "databricks:host: required key is missing; expected a workspace URL like "
            "https://dbc-1234.cloud.databricks.com"
        ],
    ),
    (
        "workspace registry with a catalog",
        raw({"mlops:model.registry": "workspace"}),
        [
            "mlops:model.catalog: only used with model.registry 'unity_catalog'; remove it "
            "or switch the registry",
            "mlops:model.schema: only used with model.registry 'unity_catalog'; remove it "
            "or switch the registry",
            "mlops:access.model_readers_group: a Unity Catalog grant; workspace-registry models "
            "are shared with access.readers_group",
        ],
    ),
    (
        "unknown registry",
        raw({"mlops:model.registry": "unity"}),
        [
            "mlops:model.registry: expected 'unity_catalog' or 'workspace', got 'unity' "
            "('unity_catalog' (RegisteredModel) or 'workspace' (MlflowModel))"
        ],
    ),
    (
        "input and output are the same table",
        raw({"mlops:batch_inference.output_table_name": "staging.wine_quality.scoring_input"}),
        [
            "mlops:batch_inference.output_table_name: must differ from input_table_name "
            "('staging.wine_quality.scoring_input'): batch inference overwrites its output table"
        ],
    ),
    # What a real workspace refuses (README, "What a real workspace enforces").
    (
        "a workspace-local group as a Unity Catalog principal",
        raw({"mlops:access.model_readers_group": "users", "mlops:access.jobs_group": "Admins"}),
        [
            "mlops:access.jobs_group: 'Admins' is a workspace-local group, which Unity Catalog "
            "refuses as a grant principal ('Could not find principal'); expected an "
            "account-level group (or 'account users')",
            "mlops:access.model_readers_group: 'users' is a workspace-local group, which Unity "
            "Catalog refuses as a grant principal ('Could not find principal'); expected an "
            "account-level group (or 'account users')",
        ],
    ),
    (
        "standard access mode with an ML runtime",
        raw({"mlops:cluster.data_security_mode": "USER_ISOLATION"}),
        [
            "mlops:cluster.data_security_mode: 'USER_ISOLATION' (standard access mode) does "
            "not run Databricks Runtime for Machine Learning; expected 'SINGLE_USER' "
            "(dedicated), which runs as the run-as principal"
        ],
    ),
    (
        "a runtime without ML libraries",
        raw({"mlops:cluster.spark_version": "15.4.x-scala2.12"}),
        [
            "mlops:cluster.spark_version: expected a Databricks Runtime for Machine Learning "
            "(its name has '-ml-', e.g. '15.4.x-cpu-ml-scala2.12'), got '15.4.x-scala2.12': "
            "the notebooks need the MLflow, scikit-learn and pandas an ML runtime ships"
        ],
    ),
    (
        "a prod folder under /Shared",
        raw({"mlops:workspace_root": "/Shared/wine-quality"}),
        [
            "mlops:workspace_root: '/Shared/wine-quality' is under /Shared, where every "
            "workspace user can manage every object (and edit code that runs as the run-as "
            "principal); a protected or prod stack needs a folder of its own, e.g. the default "
            "(the run-as principal's home)"
        ],
        "prod",
    ),
    # Monitoring (README, "Monitoring and retraining").
    (
        "monitoring enabled without its schedules",
        raw({"mlops:monitoring": {"enabled": True}}),
        [
            "mlops:monitoring.schedule: required when monitoring.enabled is true",
            "mlops:monitoring.retraining: required when monitoring.enabled is true",
        ],
    ),
    (
        "a quality metric without a label column",
        raw({"mlops:monitoring": MONITORING_WITHOUT_LABEL}),
        [
            "mlops:monitoring.retraining.metric: 'accuracy_score' is a model-quality metric, "
            "which the monitor computes only with a label column; set monitoring.label_column, "
            "or pick a drift metric (js_distance, population_stability_index, "
            "wasserstein_distance, ks_test.statistic, chi_squared_test.statistic, tv_distance, "
            "l_infinity_distance)"
        ],
    ),
    (
        "a regression metric for a classifier, and more violations than windows",
        raw(
            {
                "mlops:monitoring": {
                    **MONITORING_WITHOUT_LABEL,
                    "retraining": {
                        **MONITORING_WITHOUT_LABEL["retraining"],
                        "metric": "root_mean_squared_error",
                        "num_evaluation_windows": 2,
                        "num_violation_windows": 3,
                    },
                }
            }
        ),
        [
            "mlops:monitoring.retraining.metric: 'root_mean_squared_error' is not a metric the "
            "monitor computes for a classification model; expected one of: accuracy_score, "
            "precision.macro, precision.weighted, recall.macro, recall.weighted, "
            "f1_score.macro, f1_score.weighted, js_distance, population_stability_index, "
            "wasserstein_distance, ks_test.statistic, chi_squared_test.statistic, tv_distance, "
            "l_infinity_distance",
            "mlops:monitoring.retraining.num_violation_windows: 3 is more than "
            "num_evaluation_windows (2)",
        ],
    ),
    (
        "a granularity the monitor lacks",
        raw({"mlops:monitoring": {**MONITORING_WITHOUT_LABEL, "granularities": ["2 days"]}}),
        [
            "mlops:monitoring.granularities[0]: expected '5 minutes', '30 minutes', '1 hour', "
            "'1 day', '1 week', '2 weeks', '3 weeks', '4 weeks', '1 month' or '1 year', got "
            "'2 days'",
        ],
    ),
    (
        "a monitor without its log, a bad output schema",
        raw(
            {
                "mlops:monitoring": {
                    **MONITORING_WITHOUT_LABEL,
                    "label_column": "quality",
                    "log_inferences": False,
                    "output_schema": "monitoring",
                    "inference_log_table": "staging.wine_quality.scoring_input",
                }
            }
        ),
        [
            "mlops:monitoring.log_inferences: the monitor watches the inference log; expected "
            "true (or unset) when monitoring.enabled is true",
            "mlops:monitoring.output_schema: expected <catalog>.<schema>, got 'monitoring'",
            "mlops:monitoring.inference_log_table: must differ from the batch job's input and "
            "output tables: batch inference appends to it",
        ],
    ),
    # Gaps found by trying bad stack files as a new user would.
    (
        "a key with no value (YAML null)",
        raw({"mlops:project_name": "null"}),
        [
            "mlops:project_name: has no value (the YAML key is empty); give it a value "
            "(project name, lowercase with hyphens, e.g. 'wine-quality') or remove the key"
        ],
    ),
    (
        "a token inside the repository URL",
        raw({"mlops:code_source.url": "https://ghp_" + "a1" * 18 + "@github.com/acme/ml"}),
        [
            "mlops:code_source.url: contains what looks like an access token in plaintext; "
            "remove it and use a Pulumi secret or an environment variable (DATABRICKS_TOKEN, ...)"
        ],
    ),
    (
        # Each at its key path; a token-shaped tag name is reported at its parent's path.
        "tokens in a cluster tag's value and in a tag's name",
        raw(
            {
                "mlops:cluster.custom_tags": {
                    "owner": "dapi" + "0b" * 16,
                    "glpat-" + "x" * 20: "ci",
                }
            }
        ),
        [
            "mlops:cluster.custom_tags.owner: contains what looks like an access token in "
            "plaintext; remove it and use a Pulumi secret or an environment variable "
            "(DATABRICKS_TOKEN, ...)",
            "mlops:cluster.custom_tags: contains what looks like an access token in plaintext; "
            "remove it and use a Pulumi secret or an environment variable (DATABRICKS_TOKEN, ...)",
        ],
    ),
    (
        "a password inside the repository URL",
        raw({"mlops:code_source.url": "https://ci:hunter2@github.com/acme/ml"}),
        [
            "mlops:code_source.url: contains a URL with a user name, password or token before "
            "its host; remove it: repository access goes through a Git credential of the run-as "
            "principal, never through the URL"
        ],
    ),
    (
        "a stack name Databricks names cannot carry",
        raw({}),
        [
            "stack name 'dev.alice': expected lowercase letters, digits, '-' and '_' (it "
            "prefixes job, folder and Unity Catalog model names), e.g. 'dev-alice'"
        ],
        "dev.alice",
    ),
    (
        "a section under another project's namespace",
        raw({"wine-mlops:cluster": {"num_workers": 8}}),
        [
            "wine-mlops:cluster: unknown namespace 'wine-mlops' (did you mean 'mlops:'?); this "
            "program reads only mlops:, databricks:, pulumi: keys, so it would ignore this one"
        ],
    ),
    (
        "input and output differ only in case",
        raw({"mlops:batch_inference.output_table_name": "Staging.wine_quality.SCORING_INPUT"}),
        [
            "mlops:batch_inference.output_table_name: expected "
            "'staging.wine_quality.scoring_input', got 'Staging.wine_quality.SCORING_INPUT': "
            "Unity Catalog names are case-insensitive and stored in lowercase: write them in "
            "lowercase so that comparisons and the provider's read-back agree"
        ],
    ),
    (
        "a git-only key with uploaded notebooks",
        raw({"mlops:code_source": {"type": "workspace", "provider": "gitHub"}}),
        [
            "mlops:code_source.provider: only used when code_source.type is 'git'; remove it "
            "or set code_source.type to 'git'"
        ],
    ),
    (
        "a timeout in milliseconds",
        raw({"mlops:jobs.timeout_seconds": 7200000}),
        [
            "mlops:jobs.timeout_seconds: expected at most 172800 seconds (48 h), got 7200000; "
            "if that is milliseconds, write 7200"
        ],
    ),
    (
        "tens of thousands of workers",
        raw({"mlops:cluster.num_workers": 20000}),
        [
            "mlops:cluster.num_workers: 20000 workers is more than cluster.max_num_workers "
            "(64); if you mean it, raise cluster.max_num_workers too"
        ],
    ),
    (
        # Keyed by all its values, a row changes key when the table gains a column or the row
        # is re-exported: the champion's rows cannot be found again (tests/ml/test_day_two.py).
        "enforced validation without a row key",
        raw({"mlops:training.run_mode": "enabled"}),
        [
            "mlops:training.validation.split_key_columns: required when training.run_mode is "
            "'enabled': the column(s) that identify a row, e.g. [wine_id]. Without them a row's "
            "key is all its values, and once the table gains a column or old rows are "
            "re-exported with other values the champion's hold-out rows cannot be recomputed, "
            "so validation cannot tell which rows it trained on and better retrains fail. Key "
            "columns are not features"
        ],
    ),
    (
        "the label as a row key",
        raw({"mlops:training.validation.split_key_columns": ["wine_id", "quality"]}),
        [
            "mlops:training.validation.split_key_columns: holds the label column 'quality': a "
            "row's key identifies the row, not its outcome (a corrected label would move the row "
            "to the other side)"
        ],
    ),
    (
        "threshold on a metric training does not log",
        raw({"mlops:training.validation.thresholds": {"accuracy": {"threshold": 0.9}}}),
        [
            "mlops:training.validation.thresholds.accuracy: unknown metric for problem_type "
            "'classification' (did you mean 'accuracy_score'?); training logs accuracy_score, "
            "f1_score, log_loss, precision_score, recall_score, roc_auc"
        ],
    ),
    (
        "thresholds and tolerances outside a metric's range",
        raw(
            {
                "mlops:training.validation.thresholds": {
                    "roc_auc": {"threshold": 75, "tolerance": 1},
                    "log_loss": {"threshold": -0.1, "tolerance": -0.01},
                }
            }
        ),
        [
            "mlops:training.validation.thresholds.roc_auc.threshold: 75 is outside the range "
            "of roc_auc, [0, 1]",
            "mlops:training.validation.thresholds.roc_auc.tolerance: 1 spans the whole range "
            "of roc_auc, [0, 1]; the champion comparison would accept any model",
            "mlops:training.validation.thresholds.log_loss.threshold: -0.1 is outside the "
            "range of log_loss, [0, inf)",
            "mlops:training.validation.thresholds.log_loss.tolerance: expected 0 or more, "
            "got -0.01",
        ],
    ),
    (
        "regression with classification settings",
        raw(
            {
                "mlops:training.problem_type": "regression",
                "mlops:training.validation.thresholds": {
                    "f1_score": {"threshold": 0.5},
                    "r2_score": {"threshold": 1.5},
                    "root_mean_squared_error": {"threshold": 0.7, "tolerance": 5},
                },
            }
        ),
        [
            "mlops:training.positive_threshold: only used when training.problem_type is "
            "'classification'",
            "mlops:training.validation.thresholds.f1_score: unknown metric for problem_type "
            "'regression' (it is a classification metric); training logs mean_absolute_error, "
            "r2_score, root_mean_squared_error",
            "mlops:training.validation.thresholds.r2_score.threshold: 1.5 is outside the range "
            "of r2_score, (-inf, 1]",
        ],
    ),
    (
        "classification without a positive threshold",
        raw({}, remove=("mlops:training.positive_threshold",)),
        [
            "mlops:training.positive_threshold: required when training.problem_type is "
            "'classification': labels at or above it are the positive class, e.g. 7"
        ],
    ),
    (
        "a threshold written as a bare number, and no hold-out",
        raw(
            {
                "mlops:training.validation.thresholds": {"roc_auc": 0.8},
                "mlops:training.validation.holdout_percent": 0,
            }
        ),
        [
            "mlops:training.validation.holdout_percent: expected a percentage from 1 to 99, got 0",
            "mlops:training.validation.thresholds.roc_auc: expected a valid dictionary or "
            "instance of MetricThreshold, got 0.8",
        ],
    ),
    (
        # A fork's stack file from before the gate and the jobs group: told where each key
        # went, not offered the nearest spelling of an unrelated key ('positive_threshold').
        "keys earlier versions read",
        raw(
            {
                "mlops:training.validation_thresholds": {"accuracy_score": 0.5},
                "mlops:batch_inference.grant_table_access": True,
            }
        ),
        [
            "mlops:training.validation_thresholds: no longer read; replaced by "
            "validation.thresholds, one entry per metric with a threshold and a tolerance, e.g. "
            "{roc_auc: {threshold: 0.75, tolerance: 0.01}}; the metrics follow problem_type "
            "(README, 'Config reference')",
            "mlops:batch_inference.grant_table_access: no longer read; replaced by "
            "access.jobs_group, the account-level group holding the run-as principal: it gets "
            "the tables' Unity Catalog privileges, and no table grant is declared without it",
        ],
    ),
]


@pytest.mark.parametrize(
    ("config", "expected", "stack"),
    [
        pytest.param(case[1], case[2], case[3] if len(case) > 3 else "staging", id=str(case[0]))
        for case in BAD_CONFIGS
    ],
)
def test_bad_config_gets_exact_message(config: RawConfig, expected: list[str], stack: str) -> None:
    assert problems_of(config, stack) == expected


def test_every_problem_is_reported_at_once_naming_the_stack_file() -> None:
    config = raw(
        {
            "mlops:cluster.num_workers": -1,
            "mlops:training.schedule.quartz_cron": "bad",
            "mlops:jobs.on_failure_emails": ["x"],
            "databricks:password": "hunter2",
        }
    )
    with pytest.raises(ConfigError) as caught:
        validate(config, "prod")
    lines = str(caught.value).splitlines()
    assert lines[0] == "4 problem(s) in Pulumi.prod.yaml; nothing was declared:"
    assert all(line.startswith("  - Pulumi.prod.yaml: ") for line in lines[1:])
    keys = [line.split(": ")[1] for line in lines[1:]]
    assert keys == [
        "databricks:password",
        "mlops:cluster.num_workers",
        "mlops:training.schedule.quartz_cron",
        "mlops:jobs.on_failure_emails[0]",
    ]


def test_secret_credentials_are_accepted() -> None:
    validate(raw({"databricks:token": "[secret]"}, secret=("databricks:token",)), "staging")


def test_config_object_is_immutable() -> None:
    cfg = validate(raw({}), "staging")
    with pytest.raises(Exception, match="frozen"):
        cfg.cluster.num_workers = 5  # type: ignore[misc]


def test_names_carry_the_environment() -> None:
    cfg = validate(raw({}), "dev-alice")
    assert cfg.training_job_name == "dev-alice-wine-quality-model-training-job"
    assert cfg.batch_inference_job_name == "dev-alice-wine-quality-batch-inference-job"
    assert cfg.experiment_name == (
        "/Users/00000000-0000-0000-0000-00000000a001/wine-quality/dev-alice/"
        "dev-alice-wine-quality-experiment"
    )
    assert cfg.model_name == "staging.wine_quality.dev_alice_wine_quality_model"


@pytest.mark.parametrize(
    ("stack", "paused"), [("staging", False), ("prod", False), ("dev-alice", True)]
)
def test_schedules_pause_by_default_outside_staging_and_prod(stack: str, paused: bool) -> None:
    cfg = validate(raw({}, remove=("mlops:training.schedule.paused",)), stack)
    assert cfg.schedule_paused(cfg.training.schedule) is paused


def test_no_problem_repeats_a_credential() -> None:
    token = "ghp_" + "Zx9" * 12
    config = raw(
        {
            "mlops:code_source.url": f"http://{token}@github.com/acme/ml",
            "mlops:access.readers_group": f"dapi{'0a' * 16}",
            "mlops:workspace_root": f"relative/{token}",
        }
    )
    with pytest.raises(ConfigError) as caught:
        validate(config, "staging")
    message = str(caught.value)
    assert "code_source.url: expected an https:// repository URL, got 'http://<redacted>@" in (
        message
    )
    assert "mlops:workspace_root: expected an absolute workspace path" in message
    assert token not in message and "dapi" not in message
    assert all(token not in problem for problem in caught.value.problems)


def test_a_repeated_key_is_refused_with_its_lines(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: mlops\nruntime: python\n")
    (tmp_path / "Pulumi.dup.yaml").write_text(
        "config:\n  mlops:cluster:\n    num_workers: 2\n    node_type_id: i3.xlarge\n"
        "    num_workers: 8\n"
    )
    with pytest.raises(StackFileError) as caught:
        read_stack_file("dup", tmp_path)
    assert str(caught.value).startswith(
        "Pulumi.dup.yaml: not valid YAML: key 'num_workers' appears twice in one mapping "
        "(lines 3 and 5); the Pulumi CLI refuses such a file"
    )


def personal(
    owner: str, jobs_group: str | None = None, changes: dict[str, Any] | None = None
) -> RawConfig:
    """The staging file made ``dev-<owner>``'s (its own output table, no grant staging
    manages: ``personal_stack_overrides``), with keys changed (``a:b.c`` inside a section)."""
    return raw({**personal_stack_overrides(owner, jobs_group), **(changes or {})})


def test_a_personal_stack_of_its_own_is_accepted() -> None:
    cfg = validate(
        personal("alice", jobs_group="wine-quality-dev-alice-jobs"),
        "dev-alice",
        committed_stacks("dev-alice", example_dir()),
    )
    assert cfg.batch_inference.output_table_name == "staging.wine_quality.dev_alice_scores"


def test_a_personal_stack_may_not_write_or_grant_what_staging_does() -> None:
    """Two ``databricks.Grant`` resources on one (principal, securable) pair revoke each
    other's privileges: each removes what it does not declare (terraform-provider-databricks
    ``catalog/resource_grant.go``, and PR #3024's report). A dev stack copied from staging
    would also overwrite staging's predictions."""
    config = raw({})  # the staging file as is, evaluated as a personal stack
    problems = problems_of(config, "dev-alice", committed_stacks("dev-alice", example_dir()))
    assert problems[0] == (
        "mlops:batch_inference.output_table_name: 'staging.wine_quality.predictions' is a "
        "table of Pulumi.staging.yaml; this stack would overwrite it. Write to a table of its "
        "own"
    )
    assert (
        "mlops:access.jobs_group: Pulumi.staging.yaml already manages the grants of "
        "'wine-quality-staging-jobs' on catalog 'staging'; two stacks managing one grant "
        "revoke each other's privileges. Use a group of this stack's own, or leave the key "
        "unset"
    ) in problems
    assert any(
        p.startswith("mlops:access.model_readers_group: Pulumi.staging.yaml") for p in problems
    )
    without_shared_grants = personal("bob")
    assert validate(without_shared_grants, "dev-bob", committed_stacks("dev-bob", example_dir()))


STAGING_LOG = "staging.wine_quality.predictions_log"
"""Staging's inference log when it logs (the default: the output table's name + ``_log``)."""
STAGING_BASELINE = "staging.wine_quality.training_baseline"


@pytest.mark.parametrize(
    ("dev_changes", "staging_changes", "expected"),
    [
        pytest.param(
            {"mlops:monitoring": {"log_inferences": True, "inference_log_table": STAGING_OUTPUT}},
            {},
            f"mlops:monitoring.inference_log_table: {STAGING_OUTPUT!r} is a table of "
            "Pulumi.staging.yaml; this stack would append its rows to it. Write to a table of "
            "its own",
            id="its inference log is staging's output table",
        ),
        pytest.param(
            {"mlops:batch_inference.output_table_name": STAGING_LOG},
            {"mlops:monitoring": {"log_inferences": True}},
            f"mlops:batch_inference.output_table_name: {STAGING_LOG!r} is a table of "
            "Pulumi.staging.yaml; this stack would overwrite it. Write to a table of its own",
            id="its output table is staging's inference log",
        ),
        pytest.param(
            {"mlops:batch_inference.output_table_name": STAGING_BASELINE},
            {
                "mlops:monitoring": {
                    **MONITORING_WITHOUT_LABEL,
                    "label_column": "quality",
                    "baseline_table": STAGING_BASELINE,
                }
            },
            f"mlops:batch_inference.output_table_name: {STAGING_BASELINE!r} is a table of "
            "Pulumi.staging.yaml; this stack would overwrite it. Write to a table of its own",
            id="its output table is staging's monitoring baseline",
        ),
    ],
)
def test_a_personal_stack_may_not_write_any_table_of_staging(
    dev_changes: dict[str, Any], staging_changes: dict[str, Any], expected: str
) -> None:
    """Every table staging's jobs and monitor read or write counts, and the problem names the
    key of the personal stack that writes it."""
    staging = validate(raw(staging_changes), "staging")
    config = personal("alice", changes=dev_changes)
    assert problems_of(config, "dev-alice", [("Pulumi.staging.yaml", staging)]) == [expected]


def test_staging_and_prod_are_not_checked_against_themselves() -> None:
    assert committed_stacks("staging", example_dir()) == []
    assert [name for name, _ in committed_stacks("dev-x", example_dir())] == [
        "Pulumi.staging.yaml",
        "Pulumi.prod.yaml",
    ]
