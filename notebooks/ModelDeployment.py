# Databricks notebook source
# MAGIC %md
# MAGIC # ModelDeployment
# MAGIC
# MAGIC Last task of the training job. Points the `champion` alias of the model at exactly the
# MAGIC version Train handed off (task values of task `Train`; in a manual run, the `model_name`
# MAGIC and `model_version` widgets) and removes `challenger` from it; batch inference then scores
# MAGIC with the new champion. Refuses a version that failed validation in `enabled` mode, and with
# MAGIC `run_mode=enabled` any version whose validation did not pass.

# COMMAND ----------

dbutils.widgets.text("model_name", "")
dbutils.widgets.text("model_version", "")
dbutils.widgets.text("model_registry", "unity_catalog")
dbutils.widgets.text("run_mode", "dry_run")

model_name = dbutils.widgets.get("model_name")
model_version = dbutils.widgets.get("model_version")
model_registry = dbutils.widgets.get("model_registry")
run_mode = dbutils.widgets.get("run_mode")

# COMMAND ----------

import mlflow

# The notebook's own folder is on sys.path in Databricks (git folders and workspace files),
# so the mlops_ml package next to this notebook imports directly.
from mlops_ml.deployment import deploy_version
from mlops_ml.handoff import handed_off_version
from mlops_ml.registry import registry_uri

model = handed_off_version(dbutils.jobs.taskValues, model_name, model_version)
mlflow.set_registry_uri(registry_uri(model_registry, model.name))

# COMMAND ----------

result = deploy_version(model.name, model.version, run_mode)
print(
    f"{model.name}: champion -> version {result.version} from {model.source} "
    f"(was {result.previous_champion or 'none'}; validation {result.validation_status})"
)

# COMMAND ----------

dbutils.notebook.exit(result.version)
