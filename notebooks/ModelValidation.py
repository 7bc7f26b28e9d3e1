# Databricks notebook source
# MAGIC %md
# MAGIC # ModelValidation
# MAGIC
# MAGIC Second task of the training job. Validates exactly the version Train handed off (task
# MAGIC values `model_name`/`model_version` of task `Train`; in a manual run, the `model_name` and
# MAGIC `model_version` widgets). It rebuilds the version's target and split from its training run,
# MAGIC reloads the training data and checks:
# MAGIC - `validation_thresholds` (JSON, metric -> `{"threshold": x, "tolerance": t}`): each metric
# MAGIC   against its threshold, a minimum, or a maximum where lower is better (`log_loss`, errors);
# MAGIC - `baseline_check` (`true` by default): the primary metric (`roc_auc`, or
# MAGIC   `root_mean_squared_error` for regression) must beat a trivial predictor's;
# MAGIC - when another version is `champion`: both scored on the rows neither trained on, and the
# MAGIC   candidate no worse on the configured metrics and the primary metric, within each
# MAGIC   metric's tolerance.
# MAGIC
# MAGIC Any error (reading a run, loading data or a model, scoring, a metric that cannot be
# MAGIC computed, a champion alias naming a version that cannot be read) is a failed check. In a job
# MAGIC run, `run_mode`, `validation_thresholds` and `baseline_check` are the job's declared values
# MAGIC (read back with the Jobs API): a run may raise `run_mode`, never lower it. `run_mode`:
# MAGIC `disabled` records SKIPPED without checking; `dry_run` records the verdict and never fails;
# MAGIC `enabled` fails this task (so nothing is deployed) when the verdict is FAILED, and that
# MAGIC verdict is final: no later run re-decides it. The verdict is in the version tags
# MAGIC `validation_status`, `validation_mode`, `validation_details`, the full report in the
# MAGIC training run's artifact `validation/report.json`. A version that passed gets the
# MAGIC `challenger` alias; one that failed does not.

# COMMAND ----------

dbutils.widgets.text("model_name", "")
dbutils.widgets.text("model_version", "")
dbutils.widgets.text("model_registry", "unity_catalog")
dbutils.widgets.text("run_mode", "dry_run")
dbutils.widgets.text("validation_thresholds", "{}")
dbutils.widgets.text("baseline_check", "true")

model_name = dbutils.widgets.get("model_name")
model_version = dbutils.widgets.get("model_version")
model_registry = dbutils.widgets.get("model_registry")
run_mode = dbutils.widgets.get("run_mode")
validation_thresholds = dbutils.widgets.get("validation_thresholds")
baseline_check = dbutils.widgets.get("baseline_check")

# COMMAND ----------

import mlflow

# The notebook's own folder is on sys.path in Databricks (git folders and workspace files),
# so the mlops_ml package next to this notebook imports directly.
from mlops_ml.data import load_training_data
from mlops_ml.handoff import handed_off_version
from mlops_ml.job_run import current_job_run, gate_settings
from mlops_ml.registry import registry_uri
from mlops_ml.validation import parse_flag, validate_version

model = handed_off_version(dbutils.jobs.taskValues, model_name, model_version)
mlflow.set_registry_uri(registry_uri(model_registry, model.name))
gate = gate_settings(
    {
        "run_mode": run_mode,
        "validation_thresholds": validation_thresholds,
        "baseline_check": baseline_check,
    },
    current_job_run(),
)
for note in gate.notes:
    print(f"WARNING: {note}")
print(f"Validating {model.uri} (from {model.source}), run_mode={gate.run_mode.value}")

# COMMAND ----------

# Raises ModelValidationError (failing the task) only when run_mode is "enabled".
report = validate_version(
    model.name,
    model.version,
    gate.run_mode,
    gate.values["validation_thresholds"],
    load_data=lambda source, label: load_training_data(spark, source, label),
    baseline=parse_flag("baseline_check", gate.values["baseline_check"]),
)
print(report.summary())
if report.status == "FAILED":
    print(f"WARNING: validation failed; run_mode={gate.run_mode.value}: not deployed")

# COMMAND ----------

dbutils.notebook.exit(report.status)
