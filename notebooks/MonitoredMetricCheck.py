# Databricks notebook source
# MAGIC %md
# MAGIC # MonitoredMetricCheck
# MAGIC
# MAGIC First task of the retraining job. Reads `metric` from the quality monitor's metric table
# MAGIC over the latest `num_evaluation_windows` windows of `granularity` and sets the task value
# MAGIC `is_metric_violated`: true when it crossed `threshold` (`direction`: `below` for quality
# MAGIC metrics such as accuracy, `above` for error and drift metrics) in at least
# MAGIC `num_violation_windows` of them, the latest included. The job's condition task reads it
# MAGIC and runs the training job only then. No metrics yet (no refresh, no labels joined) is
# MAGIC not a violation; a metric the table lacks fails the task.

# COMMAND ----------

dbutils.widgets.text("env", "dev")
dbutils.widgets.text("metrics_table", "")
dbutils.widgets.text("metric", "")
dbutils.widgets.text("threshold", "")
dbutils.widgets.text("direction", "")
dbutils.widgets.text("num_evaluation_windows", "5")
dbutils.widgets.text("num_violation_windows", "2")
dbutils.widgets.text("granularity", "1 day")

env = dbutils.widgets.get("env")
metrics_table = dbutils.widgets.get("metrics_table")
metric = dbutils.widgets.get("metric")
threshold = dbutils.widgets.get("threshold")
direction = dbutils.widgets.get("direction")
num_evaluation_windows = dbutils.widgets.get("num_evaluation_windows")
num_violation_windows = dbutils.widgets.get("num_violation_windows")
granularity = dbutils.widgets.get("granularity")

# COMMAND ----------

# The notebook's own folder is on sys.path in Databricks (git folders and workspace files),
# so the mlops_ml package next to this notebook imports directly.
from mlops_ml.monitoring import MetricCheck, check_metric

check = MetricCheck.from_parameters(
    metric,
    threshold,
    direction,
    num_evaluation_windows,
    num_violation_windows,
    granularity,
)
result = check_metric(spark, metrics_table, check)
print(f"[{env}] {metrics_table}: {result.reason}")

# COMMAND ----------

dbutils.jobs.taskValues.set("is_metric_violated", result.is_violated)
dbutils.notebook.exit(str(result.is_violated).lower())
