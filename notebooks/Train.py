# Databricks notebook source
# MAGIC %md
# MAGIC # Train
# MAGIC
# MAGIC First task of the training job. Trains a scikit-learn random forest that predicts whether a
# MAGIC wine is good (`label_column >= 7`, binary), logs parameters, hold-out metrics
# MAGIC (`accuracy_score`, `precision_score`, `recall_score`, `f1_score`, `roc_auc`) and the model
# MAGIC (signature + input example) to `experiment_name`, registers a new version of `model_name`
# MAGIC and gives it the `challenger` alias, which ModelValidation and ModelDeployment read.
# MAGIC
# MAGIC `training_data` is a semicolon-separated CSV path (e.g. `/databricks-datasets/...`) or a
# MAGIC table name. Column names are normalized (`fixed acidity` -> `fixed_acidity`).

# COMMAND ----------

dbutils.widgets.text("env", "dev")
dbutils.widgets.text("experiment_name", "")
dbutils.widgets.text("model_name", "")
dbutils.widgets.text("model_registry", "unity_catalog")
dbutils.widgets.text("training_data", "/databricks-datasets/wine-quality/winequality-red.csv")
dbutils.widgets.text("label_column", "quality")

env = dbutils.widgets.get("env")
experiment_name = dbutils.widgets.get("experiment_name")
model_name = dbutils.widgets.get("model_name")
model_registry = dbutils.widgets.get("model_registry")
training_data = dbutils.widgets.get("training_data")
label_column = dbutils.widgets.get("label_column")

# COMMAND ----------

import mlflow

# The notebook's own folder is on sys.path in Databricks (git folders and workspace files),
# so the mlops_ml package next to this notebook imports directly.
from mlops_ml.data import load_training_data
from mlops_ml.registry import registry_uri
from mlops_ml.train import train_model

mlflow.set_registry_uri(registry_uri(model_registry, model_name))

# COMMAND ----------

data = load_training_data(spark, training_data, label_column)
print(f"[{env}] {len(data)} labelled rows from {training_data}")

result = train_model(data, label_column, experiment_name, model_name, training_data=training_data)
print(f"Registered {model_name} version {result.model_version} (run {result.run_id})")
print(f"Hold-out metrics: {result.metrics}")

# COMMAND ----------

dbutils.notebook.exit(result.model_version)
