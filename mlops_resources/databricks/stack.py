"""The top component: one environment's MLOps resources, composed from validated config."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from mlops_resources.config.compute import notebook_requirements
from mlops_resources.config.monitoring import DRIFT_METRICS, monitored_metric_direction
from mlops_resources.config.schedule import ScheduleConfig
from mlops_resources.config.serving import inference_table_prefix, inference_table_schema
from mlops_resources.config.stack import StackConfig
from mlops_resources.config.unity_catalog import (
    Securable,
    grant_plan,
    model_schema,
    required_objects,
)
from mlops_resources.databricks.batch_inference_job import TASKS as BATCH_TASKS
from mlops_resources.databricks.batch_inference_job import BatchInferenceJob, BatchInferenceJobArgs
from mlops_resources.databricks.code_source import CodeSource, CodeSourceArgs
from mlops_resources.databricks.common import MANAGED_BY
from mlops_resources.databricks.experiment import Experiment, ExperimentArgs
from mlops_resources.databricks.grants import UnityCatalogGrants, UnityCatalogGrantsArgs
from mlops_resources.databricks.model import Model, ModelArgs
from mlops_resources.databricks.monitoring import CHECK_TASK, Monitoring, MonitoringArgs
from mlops_resources.databricks.notebook_job import (
    ClusterSpec,
    JobSettings,
    Schedule,
    ServerlessSpec,
)
from mlops_resources.databricks.prerequisites import (
    require_deployer,
    require_objects,
    run_as_deployer,
)
from mlops_resources.databricks.serving import (
    InferenceTable,
    ServedVersion,
    ServingEndpoint,
    ServingEndpointArgs,
    served_version,
)
from mlops_resources.databricks.serving_log_job import TASKS as SERVING_LOG_TASKS
from mlops_resources.databricks.serving_log_job import ServingLogJob, ServingLogJobArgs
from mlops_resources.databricks.training_job import SERVING_TASK, TrainingJob, TrainingJobArgs
from mlops_resources.databricks.training_job import TASKS as TRAINING_TASKS


def _schedule(cfg: StackConfig, schedule: ScheduleConfig) -> Schedule:
    return Schedule(schedule.quartz_cron, schedule.timezone, cfg.schedule_paused(schedule))


def notebooks(cfg: StackConfig) -> tuple[str, ...]:
    """The notebooks the stack's jobs run (each a file of ``notebooks/``)."""
    keys = [t.key for t in TRAINING_TASKS + BATCH_TASKS]
    if cfg.serving.enabled:
        keys.append(SERVING_TASK.key)
    if cfg.serving_logs_inferences:
        keys += [t.key for t in SERVING_LOG_TASKS]
    return (*keys, CHECK_TASK) if cfg.monitoring.enabled else tuple(keys)


def serving_args(
    cfg: StackConfig, served: ServedVersion, depends_on: tuple[pulumi.Resource, ...]
) -> ServingEndpointArgs:
    """The endpoint of an enabled ``serving`` section, declared at ``served``'s version."""
    serving = cfg.serving
    assert serving.query_group is not None  # validated when enabled
    schema = inference_table_schema(serving, model_schema(cfg))
    return ServingEndpointArgs(
        endpoint_name=cfg.serving_endpoint_name,
        model_name=cfg.model_name,
        entity_version=served.version,
        workload_size=serving.workload_size,
        scale_to_zero=cfg.serving_scales_to_zero,
        query_group=serving.query_group,
        readers_group=cfg.access.readers_group,
        run_as=cfg.run_as,
        tags={"env": cfg.environment, "managed-by": MANAGED_BY, "project": cfg.project_name},
        rate_limits=tuple(serving.rate_limits),
        inference_table=None
        if schema is None
        else InferenceTable(
            catalog=schema.split(".")[0],
            schema=schema.split(".")[1],
            table_name_prefix=inference_table_prefix(serving, cfg.environment, cfg.project_name),
        ),
        depends_on=depends_on,
    )


def monitoring_args(
    cfg: StackConfig,
    found: Mapping[Securable, Any],
    code: CodeSource,
    settings: JobSettings,
    training_job_id: pulumi.Input[str],
) -> MonitoringArgs:
    """The monitor and retraining job of an enabled ``monitoring`` section; ``found`` holds
    the existence checks' answers, which carry the ids the monitor is declared with."""
    monitoring = cfg.monitoring
    retraining, schedule = monitoring.retraining, monitoring.schedule
    assert retraining is not None and schedule is not None  # validated when enabled
    metric_kind = "drift" if retraining.metric in DRIFT_METRICS else "profile"
    log = found[Securable("table", cfg.inference_log_table.lower())]
    output_schema = found[Securable("schema", cfg.monitor_output_schema.lower())]
    return MonitoringArgs(
        table_id=str(log.table_info.table_id),
        assets_dir=f"{cfg.stack_dir}/monitoring",
        output_schema_id=str(output_schema.schema_info.schema_id),
        problem_type=cfg.training.problem_type,
        granularities=tuple(monitoring.granularities),
        label_column=monitoring.label_column,
        baseline_table=monitoring.baseline_table,
        schedule=_schedule(cfg, schedule) if cfg.monitor_scheduled else None,
        retraining_job_name=cfg.retraining_job_name,
        check_parameters={
            "env": cfg.environment,
            "metrics_table": cfg.metrics_table(metric_kind),
            "metric": retraining.metric,
            "threshold": repr(retraining.threshold),
            "direction": monitored_metric_direction(cfg),
            "num_evaluation_windows": str(retraining.num_evaluation_windows),
            "num_violation_windows": str(retraining.num_violation_windows),
            "granularity": monitoring.granularities[0],
        },
        retraining_schedule=_schedule(cfg, retraining.schedule),
        training_job_id=training_job_id,
        code=code,
        settings=settings,
    )


def job_settings(cfg: StackConfig) -> JobSettings:
    """The hardening and compute the jobs share, from config: the job cluster of
    ``mlops:cluster`` (classic), or the serverless environment and budget policy."""
    compute, cluster = cfg.compute, cfg.cluster
    return JobSettings(
        environment=cfg.environment,
        project=cfg.project_name,
        cluster=None
        if cluster is None
        else ClusterSpec(
            spark_version=cluster.spark_version,
            node_type_id=cluster.node_type_id,
            num_workers=cluster.num_workers,
            data_security_mode=cluster.data_security_mode,
            custom_tags=cluster.custom_tags,
        ),
        serverless=ServerlessSpec(
            environment_version=compute.pinned_environment_version,
            dependencies=notebook_requirements(),
            budget_policy_id=compute.budget_policy_id,
        )
        if compute.serverless
        else None,
        timeout_seconds=cfg.jobs.timeout_seconds,
        max_retries=cfg.jobs.max_retries,
        min_retry_interval_millis=cfg.jobs.min_retry_interval_millis,
        on_failure_emails=cfg.failure_emails,
        readers_group=cfg.access.readers_group,
        operators_group=cfg.access.operators_group,
        run_as=cfg.run_as,
    )


class MlopsStack(pulumi.ComponentResource):
    """One stack's MLOps resources: the stack folder and experiment, the code source (the git
    repository, or notebooks uploaded into the folder), the model, the training and batch
    inference jobs, the Unity Catalog grants, and, when monitoring is enabled, the quality
    monitor and retraining job. The Unity Catalog objects it needs are checked first."""

    experiment_id: pulumi.Output[str]
    experiment_name: pulumi.Output[str]
    model_name: pulumi.Output[str]
    training_job_id: pulumi.Output[str]
    training_job_url: pulumi.Output[str]
    batch_inference_job_id: pulumi.Output[str]
    batch_inference_job_url: pulumi.Output[str]

    def __init__(
        self, name: str, cfg: StackConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # Before anything is declared: who a personal stack runs as (its deployer, unless its
        # file names a user), the catalogs, schemas and tables the stack needs, and for an
        # update of a committed stack with a monitor, who deploys (its creator).
        cfg = run_as_deployer(cfg)
        stack_file = f"Pulumi.{cfg.environment}.yaml"
        found = require_objects(stack_file, required_objects(cfg))
        if cfg.monitoring.enabled and not cfg.personal:
            require_deployer(stack_file, cfg.run_as.name)
        # The champion alias, read at every preview: before the first one, no endpoint yet.
        served = (
            served_version(cfg.serving_endpoint_name, cfg.model_name)
            if cfg.serving.enabled
            else None
        )
        super().__init__("mlops:databricks:MlopsStack", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        access = cfg.access
        description = (
            f"{cfg.project_name} ({cfg.environment}), managed by Pulumi; "
            f"trained by job '{cfg.training_job_name}'"
        )

        experiment = Experiment(
            f"{name}-experiment",
            ExperimentArgs(
                directory=cfg.stack_dir,
                name=cfg.experiment_name,
                readers_group=access.readers_group,
                run_as=cfg.run_as,
                protect=cfg.protect_ml_assets,
            ),
            child,
        )
        code = CodeSource(
            f"{name}-code",
            CodeSourceArgs(
                type=cfg.code_source.type,
                notebooks=notebooks(cfg),
                workspace_dir=f"{cfg.stack_dir}/notebooks",
                git_url=cfg.code_source.url,
                git_provider=cfg.code_source.git_provider,
                git_branch=cfg.code_source.branch,
                git_tag=cfg.code_source.tag,
                folder=experiment.directory,
            ),
            child,
        )
        model = Model(
            f"{name}-model",
            ModelArgs(
                registry=cfg.model.registry,
                full_name=cfg.model_name,
                description=description,
                readers_group=access.readers_group,
                run_as=cfg.run_as,
                tags={"env": cfg.environment, "project": cfg.project_name},
                protect=cfg.protect_ml_assets,
            ),
            child,
        )
        settings = job_settings(cfg)
        training = TrainingJob(
            f"{name}-training",
            TrainingJobArgs(
                job_name=cfg.training_job_name,
                # Names from config, not the resources' outputs: a read-back form (such as a
                # /Workspace prefix) must not change the jobs. The dependency stays.
                experiment_name=cfg.experiment_name,
                model_name=cfg.model_name,
                model_registry=cfg.model.registry,
                training=cfg.training,
                schedule=_schedule(cfg, cfg.training.schedule),
                code=code,
                settings=settings,
                depends_on=(experiment.resource, model.resource),
                serving_endpoint=cfg.serving_endpoint_name if cfg.serving.enabled else None,
            ),
            child,
        )
        batch = cfg.batch_inference
        inference = BatchInferenceJob(
            f"{name}-batch-inference",
            BatchInferenceJobArgs(
                job_name=cfg.batch_inference_job_name,
                model_name=cfg.model_name,
                input_table_name=batch.input_table_name,
                output_table_name=batch.output_table_name,
                inference_log_table=cfg.inference_log_table if cfg.batch_logs_inferences else "",
                label_column=(cfg.monitoring.label_column or "")
                if cfg.batch_logs_inferences
                else "",
                schedule=_schedule(cfg, batch.schedule),
                code=code,
                settings=settings,
                depends_on=(model.resource,),
            ),
            child,
        )
        self.serving_log: ServingLogJob | None = None
        payload = cfg.serving_payload_table
        if cfg.serving_logs_inferences and payload:
            self.serving_log = ServingLogJob(
                f"{name}-serving-log",
                ServingLogJobArgs(
                    job_name=cfg.serving_log_job_name,
                    model_name=cfg.model_name,
                    endpoint_name=cfg.serving_endpoint_name,
                    payload_table=payload,
                    inference_log_table=cfg.inference_log_table,
                    label_column=cfg.monitoring.label_column or "",
                    schedule=_schedule(cfg, batch.schedule),
                    code=code,
                    settings=settings,
                ),
                child,
            )
        plan = grant_plan(cfg)
        grants = None
        if plan:
            grants = UnityCatalogGrants(f"{name}-grants", UnityCatalogGrantsArgs(plan), child)
        self.serving: ServingEndpoint | None = None
        if served is not None:
            # After the grants: the endpoint creates its inference table with them.
            needs = (model.resource,) if grants is None else (model.resource, grants)
            self.serving = ServingEndpoint(
                f"{name}-serving", serving_args(cfg, served, needs), child
            )
        self.monitoring: Monitoring | None = None
        if cfg.monitoring.enabled:
            self.monitoring = Monitoring(
                f"{name}-monitoring",
                monitoring_args(cfg, found, code, settings, training.job_id),
                child,
            )

        self.experiment_id = experiment.experiment_id
        self.experiment_name = experiment.name
        self.model_name = model.name
        self.training_job_id = training.job_id
        self.training_job_url = training.url
        self.batch_inference_job_id = inference.job_id
        self.batch_inference_job_url = inference.url
        self.register_outputs(
            {
                "experiment_id": self.experiment_id,
                "experiment_name": self.experiment_name,
                "model_name": self.model_name,
                "training_job_id": self.training_job_id,
                "training_job_url": self.training_job_url,
                "batch_inference_job_id": self.batch_inference_job_id,
                "batch_inference_job_url": self.batch_inference_job_url,
            }
        )
