# Databricks notebook source
# MAGIC %md
# MAGIC # ServingSmoke
# MAGIC
# MAGIC Run once by the smoke run (`python -m mlops_resources smoke`) of a stack that serves the
# MAGIC model (`mlops:serving`): queries the serving endpoint with one row of the scoring input
# MAGIC and checks the answer's shape (one number per row). A scale-to-zero endpoint may first
# MAGIC need minutes to get capacity, so the query is retried for a while.

# COMMAND ----------

dbutils.widgets.text("input_table_name", "")
dbutils.widgets.text("serving_endpoint_name", "")

input_table_name = dbutils.widgets.get("input_table_name")
endpoint_name = dbutils.widgets.get("serving_endpoint_name")

# COMMAND ----------

import json
import time
from datetime import timedelta

from databricks.sdk import WorkspaceClient

# The notebook's own folder is on sys.path in Databricks (git folders and workspace files),
# so the mlops_ml package next to this notebook imports directly.
from mlops_ml.serving import check_prediction

endpoints = WorkspaceClient().serving_endpoints
endpoints.wait_get_serving_endpoint_not_updating(endpoint_name, timeout=timedelta(minutes=45))
# One row, as JSON-safe records (timestamps and decimals as the API's JSON takes them).
records = json.loads(spark.table(input_table_name).limit(1).toPandas().to_json(orient="records"))

# COMMAND ----------

for attempt in range(20):
    try:
        answer = endpoints.query(name=endpoint_name, dataframe_records=records)
        break
    except Exception as error:  # scale-to-zero capacity still starting: retry for ~10 min
        if attempt == 19:
            raise
        print(f"query failed ({error}); retrying in 30 s")
        time.sleep(30)
predictions = check_prediction(answer.as_dict(), rows=len(records))
print(f"{endpoint_name}: {len(records)} row -> predictions {predictions}")

# COMMAND ----------

dbutils.notebook.exit(json.dumps(predictions))
