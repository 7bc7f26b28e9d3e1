# Databricks notebook source
# MAGIC %md
# MAGIC # ServingUpdate
# MAGIC
# MAGIC Last task of the training job when the stack serves the model (`mlops:serving`). Points
# MAGIC the serving endpoint at the version the `champion` alias names, so a promotion reaches
# MAGIC the endpoint without a deploy. It reads the alias, not task values: for a rollback, move
# MAGIC the alias back and run this task alone (docs/deployment.md, "Rollback"). Before the
# MAGIC endpoint exists (the first champion), it says the next deploy declares it.

# COMMAND ----------

dbutils.widgets.text("model_name", "")
dbutils.widgets.text("model_registry", "unity_catalog")
dbutils.widgets.text("serving_endpoint_name", "")

model_name = dbutils.widgets.get("model_name")
model_registry = dbutils.widgets.get("model_registry")
endpoint_name = dbutils.widgets.get("serving_endpoint_name")

# COMMAND ----------

import mlflow
from databricks.sdk import WorkspaceClient
from mlflow import MlflowClient

# The notebook's own folder is on sys.path in Databricks (git folders and workspace files),
# so the mlops_ml package next to this notebook imports directly.
from mlops_ml.registry import registry_uri
from mlops_ml.serving import champion_version, point_endpoint_at

mlflow.set_registry_uri(registry_uri(model_registry, model_name))

# COMMAND ----------

version = champion_version(MlflowClient(), model_name)
update = point_endpoint_at(WorkspaceClient().serving_endpoints, endpoint_name, model_name, version)
print(update.message)

# COMMAND ----------

dbutils.notebook.exit(update.version)
