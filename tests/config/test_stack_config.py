"""Config validation, apart from resources: every bad input gets a message naming the file,
the key and what is expected, and all problems are reported together."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from mlops_ml import metrics
from mlops_ml.validation import parse_thresholds, threshold_checks

from mlops_resources.config.checks import METRICS, MetricRange
from mlops_resources.config.reading import ConfigError, RawConfig
from mlops_resources.config.stack import StackConfig, validate
from mlops_resources.offline.evaluation import read_stack_file

STAGING = read_stack_file("staging")


_REMOVE = object()


def _edit(values: dict[str, str], key: str, value: Any) -> None:
    """Set (or, with ``_REMOVE``, delete) a dotted key like ``mlops:a.b.c`` in CLI config."""
    top, _, path = key.partition(".")
    if not path:
        if value is _REMOVE:
            del values[top]
        else:
            values[top] = value if isinstance(value, str) else json.dumps(value)
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
    values[top] = json.dumps(document)


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


def problems_of(config: RawConfig, stack: str = "staging") -> list[str]:
    with pytest.raises(ConfigError) as caught:
        validate(config, stack)
    return caught.value.problems


def test_committed_stack_files_are_valid() -> None:
    for stack in ("staging", "prod"):
        source = read_stack_file(stack)
        cfg = validate(RawConfig(source.values, source.secret_keys), stack)
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
    source = read_stack_file("prod")
    return validate(RawConfig(source.values, source.secret_keys), "prod")


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
            "batch_inference, cluster, code_source, jobs, model, project_name, "
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
            "of: custom_tags, data_security_mode, node_type_id, num_workers, spark_version",
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
            "mlops:access: contains what looks like a Databricks personal access token in "
            "plaintext; remove it and use a Pulumi secret or DATABRICKS_TOKEN"
        ],
    ),
    (
        "two-part table in Unity Catalog mode",
        raw({"mlops:batch_inference.output_table_name": "wine_quality.predictions"}),
        [
            "mlops:batch_inference.output_table_name: expected a three-part Unity Catalog "
            "name <catalog>.<schema>.<table>, got 'wine_quality.predictions'"
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
        "grants without a run-as principal",
        raw({}, remove=("mlops:access.run_as_service_principal",)),
        [
            "mlops:batch_inference.grant_table_access: needs "
            "mlops:access.run_as_service_principal (the principal to grant to)"
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
            "mlops:batch_inference.grant_table_access: table grants are Unity Catalog grants; "
            "expected model.registry 'unity_catalog'",
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
            "('staging.wine_quality.scoring_input')"
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
        "the old thresholds key",
        raw({"mlops:training.validation_thresholds": {"accuracy_score": 0.5}}),
        [
            "mlops:training.validation_thresholds: unknown key (did you mean "
            "'positive_threshold'?); expected one of: label_column, positive_threshold, "
            "problem_type, run_mode, schedule, training_data, validation"
        ],
    ),
]


@pytest.mark.parametrize(
    ("config", "expected"), [case[1:] for case in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS]
)
def test_bad_config_gets_exact_message(config: RawConfig, expected: list[str]) -> None:
    assert problems_of(config) == expected


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
        "/Shared/wine-quality/dev-alice/dev-alice-wine-quality-experiment"
    )
    assert cfg.model_name == "staging.wine_quality.dev_alice_wine_quality_model"


@pytest.mark.parametrize(
    ("stack", "paused"), [("staging", False), ("prod", False), ("dev-alice", True)]
)
def test_schedules_pause_by_default_outside_staging_and_prod(stack: str, paused: bool) -> None:
    cfg = validate(raw({}, remove=("mlops:training.schedule.paused",)), stack)
    assert cfg.schedule_paused(cfg.training.schedule) is paused
