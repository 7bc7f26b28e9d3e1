# Databricks notebook source
# MAGIC %md
# MAGIC # ModelDeployment
# MAGIC
# MAGIC Last task of the training job. Points the `champion` alias of the model at exactly the
# MAGIC version Train handed off (task values of task `Train`; in a manual run, the `model_name`
# MAGIC and `model_version` widgets) and removes `challenger` from it; batch inference then scores
# MAGIC with the new champion. No run promotes a version whose validation FAILED: one that failed in
# MAGIC `enabled` mode is refused in every mode, and with `run_mode=enabled` any version whose
# MAGIC validation did not pass; in `dry_run` and `disabled` a FAILED version is not deployed
# MAGIC (`champion` stays, the exit value says why). In a job run `run_mode` is the job's
# MAGIC declared value or stricter (read back with the Jobs API).

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
from mlops_ml.job_run import current_job_run, gate_settings
from mlops_ml.registry import registry_uri

model = handed_off_version(dbutils.jobs.taskValues, model_name, model_version)
mlflow.set_registry_uri(registry_uri(model_registry, model.name))
gate = gate_settings({"run_mode": run_mode}, current_job_run())
for note in gate.notes:
    print(f"WARNING: {note}")

# COMMAND ----------

result = deploy_version(model.name, model.version, gate.run_mode)
if result.deployed:
    print(
        f"{model.name}: champion -> version {result.version} from {model.source} "
        f"(was {result.previous_champion or 'none'}; validation {result.validation_status})"
    )
else:
    print(f"{model.name}: not deployed: {result.reason}")

# COMMAND ----------

dbutils.notebook.exit(result.version if result.deployed else f"not deployed: {result.reason}")
