# Databricks notebook source
# MAGIC %md
# MAGIC # ModelDeployment
# MAGIC
# MAGIC Last task of the training job. Points the `champion` alias of `model_name` at the
# MAGIC `challenger` version and removes the `challenger` alias; batch inference then scores with
# MAGIC the new champion. Refuses a version that failed validation in `enabled` mode, and with
# MAGIC `run_mode=enabled` any version whose validation did not pass.

# COMMAND ----------

dbutils.widgets.text("model_name", "")
dbutils.widgets.text("model_registry", "unity_catalog")
dbutils.widgets.text("run_mode", "dry_run")

model_name = dbutils.widgets.get("model_name")
model_registry = dbutils.widgets.get("model_registry")
run_mode = dbutils.widgets.get("run_mode")

# COMMAND ----------

import mlflow

# The notebook's own folder is on sys.path in Databricks (git folders and workspace files),
# so the mlops_ml package next to this notebook imports directly.
from mlops_ml.deployment import deploy_challenger
from mlops_ml.registry import registry_uri

mlflow.set_registry_uri(registry_uri(model_registry, model_name))

# COMMAND ----------

result = deploy_challenger(model_name, run_mode)
print(
    f"{model_name}: champion -> version {result.version} "
    f"(was {result.previous_champion or 'none'}; validation {result.validation_status})"
)

# COMMAND ----------

dbutils.notebook.exit(result.version)
