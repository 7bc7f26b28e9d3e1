# Databricks notebook source
# MAGIC %md
# MAGIC # ModelValidation
# MAGIC
# MAGIC Second task of the training job. Scores the `challenger` version of `model_name` on the
# MAGIC hold-out rows its training run logged and checks `validation_thresholds` (metric ->
# MAGIC minimum). When a `champion` exists it is scored on the same rows, and the challenger must
# MAGIC not be worse on the thresholded metrics or on `roc_auc`.
# MAGIC
# MAGIC `run_mode`: `disabled` skips the checks; `dry_run` records the verdict and never fails;
# MAGIC `enabled` fails this task (and so skips deployment) when a check fails. The verdict is in
# MAGIC the version tags `validation_status`, `validation_mode`, `validation_details`, and the full
# MAGIC report is the run artifact `validation/report.json`.

# COMMAND ----------

dbutils.widgets.text("model_name", "")
dbutils.widgets.text("model_registry", "unity_catalog")
dbutils.widgets.text("run_mode", "dry_run")
dbutils.widgets.text("validation_thresholds", "{}")

model_name = dbutils.widgets.get("model_name")
model_registry = dbutils.widgets.get("model_registry")
run_mode = dbutils.widgets.get("run_mode")
validation_thresholds = dbutils.widgets.get("validation_thresholds")

# COMMAND ----------

import mlflow

# The notebook's own folder is on sys.path in Databricks (git folders and workspace files),
# so the mlops_ml package next to this notebook imports directly.
from mlops_ml.registry import registry_uri
from mlops_ml.validation import parse_thresholds, validate_challenger

mlflow.set_registry_uri(registry_uri(model_registry, model_name))

# COMMAND ----------

# Raises ModelValidationError (failing the task) only when run_mode is "enabled".
report = validate_challenger(model_name, run_mode, parse_thresholds(validation_thresholds))
print(report.summary())
if report.status == "FAILED":
    print(f"WARNING: validation failed; run_mode={run_mode} does not block deployment")

# COMMAND ----------

dbutils.notebook.exit(report.status)
