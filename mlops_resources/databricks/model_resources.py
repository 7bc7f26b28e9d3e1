"""One model's resources: its experiment, registered model, training and batch inference jobs
and, when enabled, its serving endpoint and quality monitor with its retraining job.

A one-model stack declares them directly under its :class:`~mlops_resources.databricks.stack.
MlopsStack`, with the logical names they always had; a stack of several models (``mlops:models``)
declares each model's under a :class:`ModelResources` component of its own, named
``<stack component>-<model key>``, whose children carry that name (``mlops-churn-training``).
The code source, the stack's folder and the Unity Catalog grants are the stack's, shared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_databricks as databricks

from mlops_resources.config.compute import notebook_requirements
from mlops_resources.config.monitoring import DRIFT_METRICS, monitored_metric_direction
from mlops_resources.config.schedule import ScheduleConfig
from mlops_resources.config.serving import inference_table_prefix, inference_table_schema
from mlops_resources.config.stack import StackConfig
from mlops_resources.config.unity_catalog import Securable
from mlops_resources.databricks.batch_inference_job import BatchInferenceJob, BatchInferenceJobArgs
from mlops_resources.databricks.code_source import CodeSource
from mlops_resources.databricks.common import MANAGED_BY
from mlops_resources.databricks.experiment import Experiment, ExperimentArgs
from mlops_resources.databricks.model import Model, ModelArgs
from mlops_resources.databricks.monitoring import Monitoring, MonitoringArgs
from mlops_resources.databricks.notebook_job import (
    ClusterSpec,
    JobSettings,
    Schedule,
    ServerlessSpec,
)
from mlops_resources.databricks.serving import (
    InferenceTable,
    ServedVersion,
    ServingEndpoint,
    ServingEndpointArgs,
    served_version,
)
from mlops_resources.databricks.serving_log_job import ServingLogJob, ServingLogJobArgs
from mlops_resources.databricks.training_job import TrainingJob, TrainingJobArgs


def monitor_assets_dir(cfg: StackConfig) -> str:
    """The monitor's dashboard folder: ``<stack folder>/monitoring``, and a folder per model
    in a stack of several (a monitor's assets folder cannot move: it replaces the monitor)."""
    if cfg.model_key is None:
        return f"{cfg.stack_dir}/monitoring"
    return f"{cfg.stack_dir}/monitoring/{cfg.model_key}"


def _schedule(cfg: StackConfig, schedule: ScheduleConfig) -> Schedule:
    return Schedule(schedule.quartz_cron, schedule.timezone, cfg.schedule_paused(schedule))


def serving_args(
    cfg: StackConfig, served: ServedVersion, depends_on: tuple[pulumi.Resource, ...]
) -> ServingEndpointArgs:
    """The endpoint of an enabled ``serving`` section, declared at ``served``'s version."""
    serving = cfg.serving
    assert serving.query_group is not None  # validated when enabled
    schema = inference_table_schema(serving, cfg.model_schema)
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
            table_name_prefix=inference_table_prefix(serving, cfg.environment, cfg.model_project),
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
        assets_dir=monitor_assets_dir(cfg),
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


def experiment_args(cfg: StackConfig, folder: databricks.Directory | None = None) -> ExperimentArgs:
    """The model's experiment, in the stack's folder (declared by it when ``folder`` is None)."""
    return ExperimentArgs(
        directory=cfg.stack_dir,
        name=cfg.experiment_name,
        readers_group=cfg.access.readers_group,
        run_as=cfg.run_as,
        protect=cfg.protect_ml_assets,
        folder=folder,
    )


@dataclass(frozen=True)
class ModelJobs:
    """A model's registered model and its jobs."""

    model: Model
    training: TrainingJob
    inference: BatchInferenceJob
    serving_log: ServingLogJob | None
    """The serving inference log job (``monitoring.source: serving``), else None."""
    settings: JobSettings
    """The hardening and compute the jobs share (the retraining job's too)."""


def declare_model_and_jobs(
    name: str,
    cfg: StackConfig,
    experiment: Experiment,
    code: CodeSource,
    opts: pulumi.ResourceOptions,
) -> ModelJobs:
    """``<name>-model``, ``<name>-training``, ``<name>-batch-inference`` and, with
    ``monitoring.source: serving``, ``<name>-serving-log``."""
    description = (
        f"{cfg.model_project} ({cfg.environment}), managed by Pulumi; "
        f"trained by job '{cfg.training_job_name}'"
    )
    model = Model(
        f"{name}-model",
        ModelArgs(
            registry=cfg.model.registry,
            full_name=cfg.model_name,
            description=description,
            readers_group=cfg.access.readers_group,
            run_as=cfg.run_as,
            tags={"env": cfg.environment, "project": cfg.project_name},
            protect=cfg.protect_ml_assets,
        ),
        opts,
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
        opts,
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
            label_column=(cfg.monitoring.label_column or "") if cfg.batch_logs_inferences else "",
            schedule=_schedule(cfg, batch.schedule),
            code=code,
            settings=settings,
            depends_on=(model.resource,),
        ),
        opts,
    )
    serving_log = None
    payload = cfg.serving_payload_table
    if cfg.serving_logs_inferences and payload:
        serving_log = ServingLogJob(
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
            opts,
        )
    return ModelJobs(model, training, inference, serving_log, settings)


def model_served_version(cfg: StackConfig) -> ServedVersion | None:
    """The champion alias the endpoint serves, read at every preview (None: serving disabled;
    before the first champion, no endpoint yet)."""
    if not cfg.serving.enabled:
        return None
    return served_version(cfg.serving_endpoint_name, cfg.model_name)


@dataclass(frozen=True)
class Served:
    """A model's optional endpoint and monitor."""

    serving: ServingEndpoint | None
    monitoring: Monitoring | None


def declare_serving_and_monitoring(
    name: str,
    cfg: StackConfig,
    jobs: ModelJobs,
    served: ServedVersion | None,
    found: Mapping[Securable, Any],
    code: CodeSource,
    grants: pulumi.Resource | None,
    opts: pulumi.ResourceOptions,
) -> Served:
    """``<name>-serving`` at ``served``'s version and ``<name>-monitoring``, when enabled."""
    serving = None
    if served is not None:
        # After the grants: the endpoint creates its inference table with them.
        needs = (jobs.model.resource,) if grants is None else (jobs.model.resource, grants)
        serving = ServingEndpoint(f"{name}-serving", serving_args(cfg, served, needs), opts)
    monitoring = None
    if cfg.monitoring.enabled:
        monitoring = Monitoring(
            f"{name}-monitoring",
            monitoring_args(cfg, found, code, jobs.settings, jobs.training.job_id),
            opts,
        )
    return Served(serving, monitoring)


def model_outputs(jobs: ModelJobs, experiment: Experiment, served: Served) -> dict[str, Any]:
    """A model's outputs, named as a one-model stack exports them."""
    outputs: dict[str, Any] = {
        "experiment_id": experiment.experiment_id,
        "experiment_name": experiment.name,
        "model_name": jobs.model.name,
        "training_job_id": jobs.training.job_id,
        "training_job_url": jobs.training.url,
        "batch_inference_job_id": jobs.inference.job_id,
        "batch_inference_job_url": jobs.inference.url,
    }
    if served.monitoring is not None:
        outputs.update(
            monitor_dashboard_id=served.monitoring.dashboard_id,
            monitor_profile_metrics_table=served.monitoring.profile_metrics_table,
            monitor_drift_metrics_table=served.monitoring.drift_metrics_table,
            retraining_job_id=served.monitoring.retraining_job_id,
            retraining_job_url=served.monitoring.retraining_job_url,
        )
    if served.serving is not None:
        outputs.update(
            serving_endpoint_name=served.serving.endpoint_name,
            serving_endpoint_url=served.serving.endpoint_url,
        )
    if jobs.serving_log is not None:
        outputs.update(
            serving_log_job_id=jobs.serving_log.job_id,
            serving_log_job_url=jobs.serving_log.url,
        )
    return outputs


@dataclass(frozen=True)
class ModelResourcesArgs:
    """Inputs of :class:`ModelResources`."""

    cfg: StackConfig
    """The model's config (one of ``StackConfig.model_configs``)."""
    folder: databricks.Directory
    """The stack's folder, which holds every model's experiment."""
    code: CodeSource
    """Where the model's jobs find their notebooks."""
    found: Mapping[Securable, Any]
    """The stack's existence checks' answers (the monitor is declared with their ids)."""


class ModelResources(pulumi.ComponentResource):
    """One model of a stack of several: its experiment, model, jobs, endpoint and monitor.

    Declared in two steps: the constructor declares the experiment, the registered model and
    the jobs; :meth:`declare_serving_and_monitoring` the endpoint and the monitor, once the
    stack has declared its grants, which wait for every registered model and which the
    endpoint waits for (:mod:`mlops_resources.databricks.grants`)."""

    outputs: dict[str, Any]
    """The model's outputs (:func:`model_outputs`); the stack exports them under its key."""
    model: Model
    """The registered model (the stack's grants on it wait for it)."""

    def __init__(
        self, name: str, args: ModelResourcesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        cfg = args.cfg
        self._served = model_served_version(cfg)
        super().__init__("mlops:databricks:ModelResources", name, None, opts)
        self._name, self._args = name, args
        self._experiment = Experiment(
            f"{name}-experiment", experiment_args(cfg, args.folder), self._child
        )
        self._jobs = declare_model_and_jobs(name, cfg, self._experiment, args.code, self._child)
        self.model = self._jobs.model
        self.serving: ServingEndpoint | None = None
        self.monitoring: Monitoring | None = None
        self.outputs = {}

    @property
    def _child(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self)

    def declare_serving_and_monitoring(self, grants: pulumi.Resource | None) -> None:
        """The endpoint (after ``grants``) and the monitor, when enabled; then the outputs."""
        args = self._args
        extra = declare_serving_and_monitoring(
            self._name,
            args.cfg,
            self._jobs,
            self._served,
            args.found,
            args.code,
            grants,
            self._child,
        )
        self.serving = extra.serving
        self.monitoring = extra.monitoring
        self.outputs = model_outputs(self._jobs, self._experiment, extra)
        self.register_outputs(self.outputs)
