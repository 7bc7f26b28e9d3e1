# Databricks notebook source
# MAGIC %md
# MAGIC # BatchInference
# MAGIC
# MAGIC Scores `input_table_name` with `models:/<model_name>@champion` and overwrites
# MAGIC `output_table_name` with the input columns plus `prediction`, `model_version` and
# MAGIC `scoring_timestamp`. The table must have every column of the model's input signature.
# MAGIC Three-part model names are read from Unity Catalog, plain names from the workspace
# MAGIC registry. With `inference_log_table` set (monitoring on), the run's rows are also
# MAGIC appended to that table, which the stack's quality monitor watches; a `label_column` the
# MAGIC input has is logged in the model's label space (for classification `label >=
# MAGIC positive_threshold` as 0/1, the target definition of the scoring version's training run).

# COMMAND ----------

dbutils.widgets.text("env", "dev")
dbutils.widgets.text("input_table_name", "")
dbutils.widgets.text("output_table_name", "")
dbutils.widgets.text("model_name", "")
dbutils.widgets.text("inference_log_table", "")
dbutils.widgets.text("label_column", "")

env = dbutils.widgets.get("env")
input_table_name = dbutils.widgets.get("input_table_name")
output_table_name = dbutils.widgets.get("output_table_name")
model_name = dbutils.widgets.get("model_name")
inference_log_table = dbutils.widgets.get("inference_log_table")
label_column = dbutils.widgets.get("label_column")

# COMMAND ----------

import mlflow

# The notebook's own folder is on sys.path in Databricks (git folders and workspace files),
# so the mlops_ml package next to this notebook imports directly.
from mlops_ml.inference import score_table, version_target
from mlops_ml.monitoring import append_inference_log
from mlops_ml.registry import registry_uri_for_model

mlflow.set_registry_uri(registry_uri_for_model(model_name))

# COMMAND ----------

result = score_table(spark, model_name, input_table_name, output_table_name)
print(
    f"[{env}] wrote {result.rows} rows to {result.output_table_name} "
    f"with {model_name} version {result.model_version}"
)
if inference_log_table:
    target = version_target(mlflow.MlflowClient(), model_name, result.model_version)
    append_inference_log(
        spark, output_table_name, inference_log_table, label_column or None, target
    )
    print(f"[{env}] appended the {result.rows} rows to the inference log {inference_log_table}")

# COMMAND ----------

dbutils.notebook.exit(str(result.rows))
