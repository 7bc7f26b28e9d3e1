"""Pulumi program: one environment's Databricks MLOps resources.

Only wiring: validated config in, the top component built, outputs exported. Everything that
differs between environments is in ``Pulumi.<stack>.yaml``.
"""

import pulumi

from mlops_resources.config.load import load_config
from mlops_resources.databricks.stack import MlopsStack

config = load_config()
stack = MlopsStack("mlops", config)

pulumi.export("experiment_id", stack.experiment_id)
pulumi.export("experiment_name", stack.experiment_name)
pulumi.export("model_name", stack.model_name)
pulumi.export("training_job_id", stack.training_job_id)
pulumi.export("training_job_url", stack.training_job_url)
pulumi.export("batch_inference_job_id", stack.batch_inference_job_id)
pulumi.export("batch_inference_job_url", stack.batch_inference_job_url)
if stack.monitoring is not None:
    pulumi.export("monitor_dashboard_id", stack.monitoring.dashboard_id)
    pulumi.export("monitor_profile_metrics_table", stack.monitoring.profile_metrics_table)
    pulumi.export("monitor_drift_metrics_table", stack.monitoring.drift_metrics_table)
    pulumi.export("retraining_job_id", stack.monitoring.retraining_job_id)
    pulumi.export("retraining_job_url", stack.monitoring.retraining_job_url)
if stack.serving is not None:
    pulumi.export("serving_endpoint_name", stack.serving.endpoint_name)
    pulumi.export("serving_endpoint_url", stack.serving.endpoint_url)
if stack.serving_log is not None:
    pulumi.export("serving_log_job_id", stack.serving_log.job_id)
    pulumi.export("serving_log_job_url", stack.serving_log.url)
