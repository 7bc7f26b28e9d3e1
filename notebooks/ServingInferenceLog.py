# Databricks notebook source
# MAGIC %md
# MAGIC # ServingInferenceLog
# MAGIC
# MAGIC The serving inference log job's task (`mlops:monitoring.source: serving`). Unpacks the
# MAGIC serving endpoint's AI Gateway inference table (`payload_table`, raw request and response
# MAGIC JSON) into `inference_log_table`, the table the stack's monitor watches, with the batch
# MAGIC inference log's columns: the request's features, `prediction`, `model_version` (the served
# MAGIC entity's version, from `system.serving.served_entities`) and `scoring_timestamp` (the
# MAGIC request time), plus `databricks_request_id`. Only successful requests the log does not
# MAGIC hold yet are appended, so a re-run or a repair appends nothing twice. A `label_column`
# MAGIC the requests carry is logged in the model's label space, like batch inference's.

# COMMAND ----------

dbutils.widgets.text("env", "dev")
dbutils.widgets.text("model_name", "")
dbutils.widgets.text("serving_endpoint_name", "")
dbutils.widgets.text("payload_table", "")
dbutils.widgets.text("inference_log_table", "")
dbutils.widgets.text("label_column", "")

env = dbutils.widgets.get("env")
model_name = dbutils.widgets.get("model_name")
endpoint_name = dbutils.widgets.get("serving_endpoint_name")
payload_table = dbutils.widgets.get("payload_table")
inference_log_table = dbutils.widgets.get("inference_log_table")
label_column = dbutils.widgets.get("label_column")

# COMMAND ----------

import mlflow

# The notebook's own folder is on sys.path in Databricks (git folders and workspace files),
# so the mlops_ml package next to this notebook imports directly.
from mlops_ml.inference import version_target
from mlops_ml.registry import registry_uri_for_model
from mlops_ml.serving_log import append_serving_log, served_versions

mlflow.set_registry_uri(registry_uri_for_model(model_name))

# COMMAND ----------

client = mlflow.MlflowClient()
result = append_serving_log(
    spark,
    payload_table,
    inference_log_table,
    served_versions(spark, endpoint_name),
    label_column or None,
    lambda version: version_target(client, model_name, version),
)
print(f"[{env}] {payload_table} -> {inference_log_table}: {result.describe()}")

# COMMAND ----------

dbutils.notebook.exit(str(result.appended))
