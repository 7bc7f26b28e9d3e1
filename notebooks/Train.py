# Databricks notebook source
# MAGIC %md
# MAGIC # Train
# MAGIC
# MAGIC First task of the training job. Trains a scikit-learn random forest on `training_data`:
# MAGIC with `problem_type=classification` it predicts whether `label_column >= positive_threshold`
# MAGIC (a good wine: `quality >= 7`), with `regression` the label itself. Rows are split by a
# MAGIC hash of their key (`split_key_columns`: an id; default every column; `holdout_percent`
# MAGIC held out), so a row stays on its side in every run and no version is ever scored on rows it
# MAGIC trained on. Key columns identify rows and are not features.
# MAGIC
# MAGIC Logs to `experiment_name` (MLflow autologging off: one model per run): parameters (target
# MAGIC definition, split), hold-out metrics, the code (`git_source_info` as MLflow's git tags, and
# MAGIC the commit the job run checked out, from the Jobs API), the training data as a dataset input
# MAGIC and its digest, row counts and key digests (no rows), and the model with its signature and
# MAGIC a schema-only input example. Registers a new version of `model_name`
# MAGIC (`validation_status=PENDING`, no alias) and hands it to the next tasks as task values
# MAGIC `model_name`, `model_version`, `model_uri`.
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
dbutils.widgets.text("problem_type", "classification")
dbutils.widgets.text("positive_threshold", "7")
dbutils.widgets.text("holdout_percent", "20")
dbutils.widgets.text("split_key_columns", "[]")
dbutils.widgets.text("git_source_info", "")

env = dbutils.widgets.get("env")
experiment_name = dbutils.widgets.get("experiment_name")
model_name = dbutils.widgets.get("model_name")
model_registry = dbutils.widgets.get("model_registry")
training_data = dbutils.widgets.get("training_data")
label_column = dbutils.widgets.get("label_column")
problem_type = dbutils.widgets.get("problem_type")
positive_threshold = dbutils.widgets.get("positive_threshold")
holdout_percent = dbutils.widgets.get("holdout_percent")
split_key_columns = dbutils.widgets.get("split_key_columns")
git_source_info = dbutils.widgets.get("git_source_info")

# COMMAND ----------

import mlflow

# The notebook's own folder is on sys.path in Databricks (git folders and workspace files),
# so the mlops_ml package next to this notebook imports directly.
from mlops_ml.data import load_training_data
from mlops_ml.handoff import ModelRef, publish
from mlops_ml.job_run import current_job_run
from mlops_ml.registry import registry_uri
from mlops_ml.split import Split
from mlops_ml.target import Target
from mlops_ml.train import train_model

mlflow.set_registry_uri(registry_uri(model_registry, model_name))
target = Target.from_parameters(problem_type, label_column, positive_threshold)
split = Split.from_parameters(holdout_percent, split_key_columns)

# COMMAND ----------

# In a job run: the commit the run checked out (git source), read back with the Jobs API.
job_run = current_job_run()
data = load_training_data(spark, training_data, label_column)
print(f"[{env}] {len(data)} labelled rows from {training_data}; target {target.describe()}")

result = train_model(
    data,
    target,
    experiment_name,
    model_name,
    split=split,
    training_data=training_data,
    git_source_info=git_source_info,
    used_commit=job_run.used_commit,
)
print(f"Registered {model_name} version {result.model_version} (run {result.run_id})")
print(f"Hold-out metrics ({result.holdout_rows} rows, {split.describe()}): {result.metrics}")

# COMMAND ----------

publish(dbutils.jobs.taskValues, ModelRef(model_name, result.model_version, "this training run"))
dbutils.notebook.exit(result.model_uri)
