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
from mlops_resources.config.load import committed_stacks, validate, validated_stacks
from mlops_resources.config.reading import ConfigError, RawConfig
from mlops_resources.config.stack import StackConfig
from mlops_resources.config.stack_files import (
    StackFile,
    StackFileError,
    encode_value,
    read_stack_file,
)
from tests.stacks import (
    classic_cluster,
    classic_overrides,
    example_dir,
    example_stack_file,
    personal_stack_overrides,
)

STAGING = read_stack_file("staging", example_dir())
CLASSIC = example_stack_file("staging", classic_overrides("staging"))
"""The staging file as a classic one (no mlops:compute key, a job cluster): the cluster keys'
cases edit this one."""
STAGING_OUTPUT = "staging.wine_quality.predictions"
SP_KEY = "mlops:access.run_as_service_principal"


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
    changes: dict[str, Any],
    remove: tuple[str, ...] = (),
    secret: tuple[str, ...] = (),
    source: StackFile = STAGING,
) -> RawConfig:
    """The staging stack file's config with keys changed (``a:b.c`` edits inside a section)."""
    values = dict(source.values)
    for key, value in changes.items():
        _edit(values, key, value)
    for key in remove:
        _edit(values, key, _REMOVE)
    return RawConfig(values, source.secret_keys | frozenset(secret))


def classic(changes: dict[str, Any], remove: tuple[str, ...] = ()) -> RawConfig:
    """:func:`raw` of the classic staging file (:data:`CLASSIC`)."""
    return raw(changes, remove, source=CLASSIC)


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

POLICY = "3c5e1a2b-7d4f-4e6a-9b8c-1d2e3f4a5b6c"

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
            "batch_inference, cluster, code_source, compute, extra_host_domains, jobs, model, "
            "monitoring, project_name, protect_ml_assets, serving, training, workspace_root"
        ],
    ),
    (
        "typo in a nested key",
        classic({"mlops:cluster.num_worker": 2}, remove=("mlops:cluster.num_workers",)),
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
        classic({"mlops:cluster.num_workers": 0}),
        ["mlops:cluster.num_workers: expected a positive number of workers, got 0"],
    ),
    (
        "workers as text",
        classic({"mlops:cluster.num_workers": "three"}),
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
            "mlops:access.run_as_service_principal: required key is missing; staging runs as "
            "a service principal: expected its application id (a UUID)"
        ],
    ),
    (
        "run-as given as a display name",
        raw({"mlops:access.run_as_service_principal": "ml-deployer"}),
        [
            "mlops:access.run_as_service_principal: expected a service principal application "
            "id, a UUID in lowercase such as '6a1e2c4b-8f2d-4c1a-9e3b-0d5f7a9c1b2e', got "
            "'ml-deployer'"
        ],
    ),
    (
        # The provider reads a run-as back as a service principal only in this exact form
        # (terraform-provider-databricks common/util.go, uuidRegex; jobs/resource_job.go,
        # Read): another spelling of the same UUID would read back as a user name, a change
        # on every preview.
        "run-as application id in another spelling",
        raw({"mlops:access.run_as_service_principal": "{6A1E2C4B-8F2D-4C1A-9E3B-0D5F7A9C1B2E}"}),
        [
            "mlops:access.run_as_service_principal: expected a service principal application "
            "id, a UUID in lowercase such as '6a1e2c4b-8f2d-4c1a-9e3b-0d5f7a9c1b2e', got "
            "'{6A1E2C4B-8F2D-4C1A-9E3B-0D5F7A9C1B2E}'"
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
        classic({"mlops:cluster.spark_version": "latest"}),
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
        classic({"mlops:model.registry": "workspace"}),
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
        classic({"mlops:cluster.data_security_mode": "USER_ISOLATION"}),
        [
            "mlops:cluster.data_security_mode: 'USER_ISOLATION' (standard access mode) does "
            "not run Databricks Runtime for Machine Learning; expected 'SINGLE_USER' "
            "(dedicated), which runs as the run-as principal"
        ],
    ),
    (
        "a runtime without ML libraries",
        classic({"mlops:cluster.spark_version": "15.4.x-scala2.12"}),
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
        classic(
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
        raw({}, remove=("mlops:access.run_as_service_principal",)),
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
        classic({"mlops:cluster.num_workers": 20000}),
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
        "cluster keys on serverless compute",
        raw({"mlops:cluster": classic_cluster("staging")}),
        [
            "mlops:cluster: not used when compute.type is 'serverless': serverless tasks run on "
            "compute Databricks sizes and manages (no runtime, node type, workers, access mode "
            "or cluster tags to set; serverless cost is attributed by compute.budget_policy_id); "
            "remove it, or set compute.type to 'classic'"
        ],
    ),
    (
        # Serverless needs Unity Catalog (docs, "Serverless compute limitations"); the
        # workspace registry is legacy (docs, "Workspace Model Registry (legacy)").
        "serverless with the workspace model registry",
        raw(
            {"mlops:model": {"registry": "workspace"}},
            remove=("mlops:access.model_readers_group",),
        ),
        [
            "mlops:compute.type: 'serverless' needs model.registry 'unity_catalog': serverless "
            "compute requires a Unity Catalog workspace and reaches data only through Unity "
            "Catalog (Databricks docs, 'Serverless compute limitations'), and the workspace "
            "model registry is legacy, disabled in new accounts (docs, 'Workspace Model "
            "Registry (legacy)'); set model.registry to 'unity_catalog', or compute.type to "
            "'classic'"
        ],
    ),
    (
        "classic compute without a cluster",
        raw({"mlops:compute": {"type": "classic"}}),
        [
            "mlops:cluster: required when compute.type is 'classic' (the default when "
            "mlops:compute is absent): the job cluster every task runs on; or set "
            "compute.type to 'serverless'"
        ],
    ),
    (
        "serverless keys on classic compute",
        classic({"mlops:compute": {"environment_version": "5", "budget_policy_id": POLICY}}),
        [
            f"mlops:compute.{key}: only used when compute.type is 'serverless' (classic "
            "clusters pin mlops:cluster.spark_version and are attributed by "
            "cluster.custom_tags); remove it, or set compute.type to 'serverless'"
            for key in ("environment_version", "budget_policy_id")
        ],
    ),
    (
        "an environment version the notebooks are not tested on",
        raw({"mlops:compute.environment_version": "4"}),
        [
            "mlops:compute.environment_version: expected one of '5', got '4': the notebooks' "
            "logic is tested on the library set of those versions only "
            "(requirements-ml-serverless-<version>.txt, run by .ci/run)"
        ],
    ),
    (
        # Without budget_policy_id "a default budget policy may be applied when creating or
        # modifying the job" (databricks-sdk JobSettings.budget_policy_id): the deployer's.
        "serverless staging without a budget policy",
        raw({}, remove=("mlops:compute.budget_policy_id",)),
        [
            "mlops:compute.budget_policy_id: required in staging and prod when compute.type is "
            "'serverless': the jobs' cost is attributed by their budget policy (cluster tags "
            "do not apply), and without one Databricks applies whichever default policy the "
            "deploying principal has (databricks-sdk JobSettings.budget_policy_id); expected "
            "the id (a UUID) of a policy a workspace admin created, whose User role the "
            "run-as principal holds (docs, 'Attribute usage with serverless budget "
            "policies'), or set compute.type to 'classic'"
        ],
    ),
    (
        "a budget policy given by name",
        raw({"mlops:compute.budget_policy_id": "ml-platform"}),
        [
            "mlops:compute.budget_policy_id: expected a budget policy id (a UUID, from the "
            "policy's page in the workspace settings or the account console), got "
            "'ml-platform'"
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


LABELLED = {**MONITORING_WITHOUT_LABEL, "label_column": "quality"}
LONG = "t" * 256
"""A name part one character longer than Unity Catalog allows (docs, "Unity Catalog
requirements and limitations": "Object names cannot exceed 255 characters")."""


def retraining(metric: str, threshold: float) -> dict[str, Any]:
    section = json.loads(json.dumps(LABELLED))
    section["retraining"].update(metric=metric, threshold=threshold)
    return {"mlops:monitoring": section}


# What a workspace refuses, or a reviewer would not want, that the config once accepted.
WORKSPACE_REFUSES = [
    (
        "a percent where the metric is a fraction",
        raw(retraining("accuracy_score", 80)),
        [
            "mlops:monitoring.retraining.threshold: 80 is outside the range of accuracy_score, "
            "[0, 1] (a fraction: 0.8 for 80%); it would never be crossed, or always"
        ],
    ),
    (
        "a negative distance",
        raw(retraining("js_distance", -0.1)),
        [
            "mlops:monitoring.retraining.threshold: -0.1 is outside the range of js_distance, "
            "[0, 1]; it would never be crossed, or always"
        ],
    ),
    (
        "a negative error",
        raw(
            {
                **retraining("root_mean_squared_error", -1),
                "mlops:training.problem_type": "regression",
                "mlops:training.positive_threshold": _REMOVE,
                "mlops:training.validation.thresholds": {},
            }
        ),
        [
            "mlops:monitoring.retraining.threshold: -1 is outside the range of "
            "root_mean_squared_error, [0, inf); it would never be crossed, or always"
        ],
    ),
    (
        "a baseline that is the table it is a baseline for",
        raw({"mlops:monitoring": {**LABELLED, "baseline_table": STAGING_OUTPUT + "_log"}}),
        [
            "mlops:monitoring.baseline_table: must differ from the table it is a baseline for, "
            "the inference log 'staging.wine_quality.predictions_log': drift measured against "
            "itself is always zero"
        ],
    ),
    (
        "the jobs group is the readers group",
        raw({"mlops:access.readers_group": "wine-quality-staging-jobs"}),
        [
            "mlops:access.jobs_group: must differ from access.readers_group: the jobs group "
            "gets SELECT, MODIFY and CREATE_TABLE on the stack's tables, so every reader of the "
            "jobs and the experiment could write them"
        ],
    ),
    (
        "the jobs group is the model readers group",
        raw({"mlops:access.model_readers_group": "Wine-Quality-Staging-Jobs"}),
        [
            "mlops:access.jobs_group: must differ from access.model_readers_group: the jobs "
            "group gets SELECT, MODIFY and CREATE_TABLE on the stack's tables, so every reader "
            "of the model could write them"
        ],
    ),
    (
        "a credential in a section",
        classic({"mlops:cluster.custom_tags": {"cost-center": "ml", "api_token": "s3cr3t-value"}}),
        [
            "mlops:cluster.custom_tags.api_token: a credential in plaintext (the key names "
            "one); remove it, or encrypt it with `pulumi config set --secret --path "
            "'mlops:cluster.custom_tags.api_token'`"
        ],
    ),
    (
        "a table name Unity Catalog refuses as too long",
        raw({"mlops:batch_inference.input_table_name": f"staging.wine_quality.{LONG}"}),
        [
            "mlops:batch_inference.input_table_name: table name part 'tttttttttttttttttttttttt'"
            "... is 256 characters; Unity Catalog names are at most 255"
        ],
    ),
    (
        "a model name the environment prefix makes too long",
        raw({"mlops:model.name": "m" * 250}),
        [
            "mlops:model.name: the name it gives, 'staging_mmmmmmmmmmmmmmmm'... is 258 "
            "characters; Unity Catalog names are at most 255"
        ],
    ),
    (
        "metric tables the monitor would name too long",
        raw(
            {
                "mlops:batch_inference.output_table_name": f"staging.wine_quality.{'p' * 236}",
                "mlops:monitoring": LABELLED,
            }
        ),
        [
            "mlops:batch_inference.output_table_name: the name it gives, "
            "'pppppppppppppppppppppppp'... is 256 characters; Unity Catalog names are at most "
            "255"
        ],
    ),
    (
        "an invisible character in a group",
        raw({"mlops:access.operators_group": "ml\u200bengineers"}),
        [
            "mlops:access.operators_group: principal name 'ml\\u200bengineers' contains "
            "invisible characters (U+200B ZERO WIDTH SPACE); retype the name"
        ],
    ),
    (
        "an invisible character in the preview group",
        raw({"mlops:access.preview_group": "wine-preview\u200b"}),
        [
            "mlops:access.preview_group: principal name 'wine-preview\\u200b' contains "
            "invisible characters (U+200B ZERO WIDTH SPACE); retype the name"
        ],
    ),
    (
        "a no-break space in a group",
        raw({"mlops:access.readers_group": "data\xa0scientists"}),
        [
            "mlops:access.readers_group: principal name 'data\\xa0scientists' contains "
            "invisible characters (U+00A0 NO-BREAK SPACE); retype the name"
        ],
    ),
    (
        "a Cyrillic letter in a Latin group name",
        raw({"mlops:access.jobs_group": "wine-quality-st\u0430ging-jobs"}),
        [
            "mlops:access.jobs_group: principal name 'wine-quality-st\u0430ging-jobs' mixes "
            "CYRILLIC and LATIN letters ('\u0430' (U+0430 CYRILLIC SMALL LETTER A)), which look "
            "alike; retype the name"
        ],
    ),
    (
        "a dash that is not a hyphen-minus",
        raw({"mlops:access.model_readers_group": "wine\u2011readers"}),
        [
            "mlops:access.model_readers_group: principal name 'wine\u2011readers' contains "
            "'\u2011' (U+2011 NON-BREAKING HYPHEN), which looks like another character; "
            "retype the name"
        ],
    ),
    (
        "a look-alike letter in a table name",
        raw({"mlops:batch_inference.input_table_name": "staging.wine_quality.sc\u043eres"}),
        [
            "mlops:batch_inference.input_table_name: table name 'staging.wine_quality."
            "sc\u043eres' mixes CYRILLIC and LATIN letters ('\u043e' (U+043E CYRILLIC SMALL "
            "LETTER O)), which look alike; retype the name"
        ],
    ),
    (
        "an unknown key with an invisible character, printed escaped",
        raw({"mlops:jobs.max\u200bretries": 2}),
        [
            "mlops:jobs.max\\u200bretries: unknown key (did you mean 'max_retries'?); expected "
            "one of: max_retries, min_retry_interval_millis, on_failure_emails, timeout_seconds"
        ],
    ),
    (
        "a user as staging's run-as identity",
        raw({"mlops:access.run_as_user": "alice@example.com"}),
        [
            "mlops:access.run_as_user: only a personal stack runs as a user; staging runs as "
            "its service principal (access.run_as_service_principal), so that what it deploys "
            "belongs to no one person; remove the key"
        ],
    ),
]


@pytest.mark.parametrize(
    ("config", "expected"),
    [pytest.param(case[1], case[2], id=str(case[0])) for case in WORKSPACE_REFUSES],
)
def test_what_a_workspace_refuses_is_refused_by_key(config: RawConfig, expected: list[str]) -> None:
    assert problems_of(config) == expected


def test_every_printed_problem_escapes_invisible_characters() -> None:
    with pytest.raises(ConfigError) as caught:
        validate(raw({"mlops:access.readers_group": "users\u200b"}), "staging")
    assert "\u200b" not in str(caught.value)
    assert "'users\\u200b'" in str(caught.value)


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
    config = classic(
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


def test_a_stack_file_without_the_compute_key_is_classic() -> None:
    """Every stack file written before ``mlops:compute`` existed keeps its job cluster; the
    example ``init`` writes is serverless, its version written as a string or a number."""
    assert validate(classic({}), "staging").compute.type == "classic"
    serverless = validate(raw({}), "staging").compute
    assert (serverless.type, serverless.pinned_environment_version) == ("serverless", "5")
    as_number = validate(raw({"mlops:compute.environment_version": 5}), "staging").compute
    assert as_number.environment_version == "5"
    unset = validate(raw({}, remove=("mlops:compute.environment_version",)), "staging")
    assert unset.compute.pinned_environment_version == "5"


def test_secret_credentials_are_accepted() -> None:
    validate(raw({"databricks:token": "[secret]"}, secret=("databricks:token",)), "staging")


def test_config_object_is_immutable() -> None:
    cfg = validate(raw({}), "staging")
    with pytest.raises(Exception, match="frozen"):
        cfg.compute.type = "classic"  # type: ignore[misc]


def test_names_carry_the_environment() -> None:
    unresolved = validate(raw({}, remove=(SP_KEY,)), "dev-alice")
    cfg = unresolved.with_run_as_user("alice@example.com")
    assert cfg.training_job_name == "dev-alice-wine-quality-model-training-job"
    assert cfg.batch_inference_job_name == "dev-alice-wine-quality-batch-inference-job"
    assert cfg.experiment_name == (
        "/Users/alice@example.com/wine-quality/dev-alice/dev-alice-wine-quality-experiment"
    )
    assert cfg.model_name == "staging.wine_quality.dev_alice_wine_quality_model"


@pytest.mark.parametrize(
    ("stack", "paused"), [("staging", False), ("prod", False), ("dev-alice", True)]
)
def test_schedules_pause_by_default_outside_staging_and_prod(stack: str, paused: bool) -> None:
    identity = (SP_KEY,) if stack.startswith("dev-") else ()
    cfg = validate(raw({}, remove=("mlops:training.schedule.paused", *identity)), stack)
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


MERGED = """\
config:
  mlops:training:
    schedule: &daily
      quartz_cron: 0 0 9 * * ?
      timezone: Europe/Paris
      paused: true
  mlops:batch_inference:
    schedule:
      <<: *daily
      quartz_cron: 0 0 11 * * ?
  mlops:cluster:
    custom_tags:
      <<: [{team: a, owner: x}, {team: b, cost-center: ml}]
"""


def test_merge_keys_are_read_as_the_pulumi_cli_reads_them(tmp_path: Path) -> None:
    """The CLI reads stack files with gopkg.in/yaml.v3 (pulumi/pulumi
    ``sdk/go/common/encoding/marshal.go``, ``workspace.LoadProjectStackBytes``), which resolves
    ``<<`` merge keys: a mapping's own keys win, and of several merged mappings the first
    (yaml.v3 v3.0.1 ``decode.go``, ``mapping``: own keys are set first and recorded in
    ``mergedFields``; ``merge`` skips keys already set)."""
    (tmp_path / "Pulumi.yaml").write_text("name: mlops\nruntime: python\n")
    (tmp_path / "Pulumi.merged.yaml").write_text(MERGED)
    values = read_stack_file("merged", tmp_path).values
    assert json.loads(values["mlops:batch_inference"])["schedule"] == {
        "quartz_cron": "0 0 11 * * ?",
        "timezone": "Europe/Paris",
        "paused": True,
    }
    assert json.loads(values["mlops:cluster"])["custom_tags"] == {
        "team": "a",
        "owner": "x",
        "cost-center": "ml",
    }


def test_a_key_repeated_inside_a_merged_mapping_is_refused(tmp_path: Path) -> None:
    """yaml.v3 checks every mapping it decodes, a merged one too, for repeated keys."""
    (tmp_path / "Pulumi.yaml").write_text("name: mlops\nruntime: python\n")
    (tmp_path / "Pulumi.merged.yaml").write_text(
        "config:\n  mlops:cluster:\n    custom_tags:\n      <<: {team: a, team: b}\n"
    )
    with pytest.raises(StackFileError, match="key 'team' appears twice in one mapping"):
        read_stack_file("merged", tmp_path)


def test_a_secret_inside_a_section_makes_the_key_secret(tmp_path: Path) -> None:
    """``pulumi config set --secret --path`` writes ``{secure: ...}`` inside a section; the CLI
    then passes the whole key as a secret (pulumi/pulumi
    ``sdk/go/common/resource/config/object.go``, ``object.Secure``; ``map.go``,
    ``SecureKeys``), and offline the program sees a placeholder in its place."""
    (tmp_path / "Pulumi.yaml").write_text("name: mlops\nruntime: python\n")
    (tmp_path / "Pulumi.s.yaml").write_text(
        "config:\n  mlops:cluster:\n    custom_tags:\n      api_token:\n        secure: v1:abc\n"
    )
    source = read_stack_file("s", tmp_path)
    assert source.secret_keys == {"mlops:cluster"}
    assert json.loads(source.values["mlops:cluster"]) == {"custom_tags": {"api_token": "[secret]"}}


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


def test_a_personal_serverless_stack_may_go_without_a_budget_policy() -> None:
    """Its developer may hold no policy's User role (docs, "Attribute usage with serverless
    budget policies"); staging and prod may not go without (the bad-config cases)."""
    config = raw(
        personal_stack_overrides("alice", "wine-quality-dev-alice-jobs"),
        remove=("mlops:compute.budget_policy_id",),
    )
    cfg = validate(config, "dev-alice", committed_stacks("dev-alice", example_dir()))
    assert cfg.compute.serverless and cfg.compute.budget_policy_id is None


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
    # And it would run as staging's service principal, which would then own its jobs and model.
    assert problems[-1].startswith(
        "mlops:access.run_as_service_principal: a personal stack runs as its developer"
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


MONITORING_ON: dict[str, Any] = {**MONITORING_WITHOUT_LABEL, "label_column": "quality"}


def test_the_preview_group_is_an_account_group_of_its_own() -> None:
    """Unity Catalog refuses workspace-local groups as grant principals (SQL reference,
    "Principal"); and the preview principal only reads, so its group shares no grant with the
    jobs group or the model readers (one ``databricks.Grant`` per pair would merge them)."""
    problems = problems_of(raw({"mlops:access.preview_group": "wine-quality-staging-jobs"}))
    assert problems == [
        "mlops:access.preview_group: must differ from access.jobs_group; the preview principal "
        "only reads, and a group's privileges on a securable are one grant"
    ]
    (problem,) = problems_of(raw({"mlops:access.preview_group": "users"}))
    assert problem.startswith("mlops:access.preview_group: 'users' is a workspace-local group")


def test_a_personal_stack_may_not_manage_stagings_preview_grants() -> None:
    preview = {"mlops:access.preview_group": "wine-quality-preview"}
    staging = validate(raw(preview), "staging")
    access = {
        **personal_stack_overrides("alice")["mlops:access"],
        "preview_group": "wine-quality-preview",
    }
    problems = problems_of(
        personal("alice", changes={"mlops:access": access}),
        "dev-alice",
        [("Pulumi.staging.yaml", staging)],
    )
    assert problems[0] == (
        "mlops:access.preview_group: Pulumi.staging.yaml already manages the grants of "
        "'wine-quality-preview' on catalog 'staging'; two stacks managing one grant revoke "
        "each other's privileges. Use a group of this stack's own, or leave the key unset"
    )


def test_a_monitor_schedule_on_a_stack_whose_jobs_are_paused_is_refused() -> None:
    """A monitor's schedule cannot be paused (the provider computes ``pause_status``,
    ``dataquality_tf/model.go``; the Databricks CLI drops it instead,
    ``resourcemutator/apply_presets.go``): asking for one on a personal stack, whose jobs are
    paused, would refresh and bill while nothing reads the metrics."""
    schedule = {"quartz_cron": "0 0 8 * * ?", "paused": False}
    config = personal(
        "alice", changes={"mlops:monitoring": {**MONITORING_ON, "schedule": schedule}}
    )
    assert problems_of(config, "dev-alice") == [
        "mlops:monitoring.schedule.paused: false on a stack whose jobs are all paused; a "
        "monitor's schedule cannot be paused, so it would refresh (billed compute) while no job "
        "reads its metrics. Leave it unset (the monitor then has no schedule; refresh it by "
        "hand) or unpause a job"
    ]
    unset = personal("alice", changes={"mlops:monitoring": MONITORING_ON})
    cfg = validate(unset, "dev-alice")
    assert (cfg.jobs_paused, cfg.monitor_scheduled) == (True, False)


def test_a_monitor_notifies_at_most_five_addresses() -> None:
    """terraform-provider-databricks v1.118.0 ``docs/resources/data_quality_monitor.md``,
    NotificationDestination: "A maximum of 5 email addresses is supported"."""
    emails = [f"oncall{i}@example.com" for i in range(6)]
    config = raw({"mlops:monitoring": MONITORING_ON, "mlops:jobs.on_failure_emails": emails})
    assert problems_of(config) == [
        "mlops:jobs.on_failure_emails: 6 addresses; the monitor's failure notification takes at "
        "most 5 when monitoring.enabled is true"
    ]
    assert validate(raw({"mlops:jobs.on_failure_emails": emails}), "staging")
