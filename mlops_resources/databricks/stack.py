"""The top component: one environment's MLOps resources, composed from validated config."""

from __future__ import annotations

from typing import Any

import pulumi

from mlops_resources.config.stack import StackConfig
from mlops_resources.config.unity_catalog import stack_grant_plan, stack_required_objects
from mlops_resources.databricks.batch_inference_job import TASKS as BATCH_TASKS
from mlops_resources.databricks.code_source import CodeSource, CodeSourceArgs
from mlops_resources.databricks.experiment import Experiment, declare_folder
from mlops_resources.databricks.grants import UnityCatalogGrants, UnityCatalogGrantsArgs
from mlops_resources.databricks.model import Model
from mlops_resources.databricks.model_resources import (
    ModelResources,
    ModelResourcesArgs,
    declare_model_and_jobs,
    declare_serving_and_monitoring,
    experiment_args,
    model_outputs,
    model_served_version,
)
from mlops_resources.databricks.monitoring import CHECK_TASK, Monitoring
from mlops_resources.databricks.prerequisites import (
    require_deployer,
    require_objects,
    run_as_deployer,
)
from mlops_resources.databricks.serving import ServingEndpoint
from mlops_resources.databricks.serving_log_job import TASKS as SERVING_LOG_TASKS
from mlops_resources.databricks.training_job import SERVING_TASK
from mlops_resources.databricks.training_job import TASKS as TRAINING_TASKS


def notebooks(cfg: StackConfig) -> tuple[str, ...]:
    """The notebooks the stack's jobs run (each a file of ``notebooks/``), every model's."""
    keys: dict[str, None] = {}
    for view in cfg.model_views():
        keys.update(dict.fromkeys(t.key for t in TRAINING_TASKS + BATCH_TASKS))
        if view.serving.enabled:
            keys[SERVING_TASK.key] = None
        if view.serving_logs_inferences:
            keys.update(dict.fromkeys(t.key for t in SERVING_LOG_TASKS))
        if view.monitoring.enabled:
            keys[CHECK_TASK] = None
    return tuple(keys)


def code_source_args(
    cfg: StackConfig, folder: pulumi.Resource, workspace_dir: str
) -> CodeSourceArgs:
    """Where ``cfg``'s jobs find :func:`notebooks`: its git source, or uploads to
    ``workspace_dir``."""
    return CodeSourceArgs(
        type=cfg.code_source.type,
        notebooks=notebooks(cfg),
        workspace_dir=workspace_dir,
        git_url=cfg.code_source.url,
        git_provider=cfg.code_source.git_provider,
        git_branch=cfg.code_source.branch,
        git_tag=cfg.code_source.tag,
        folder=folder,
    )


class MlopsStack(pulumi.ComponentResource):
    """One stack's MLOps resources: the stack folder and experiment, the code source (the git
    repository, or notebooks uploaded into the folder), the model, the training and batch
    inference jobs, the Unity Catalog grants, and, when monitoring is enabled, the quality
    monitor and retraining job. The Unity Catalog objects it needs are checked first.

    A stack of several models (``mlops:models``) shares the folder, the code source and the
    grants (merged over its models), and declares each model's resources under a
    :class:`~mlops_resources.databricks.model_resources.ModelResources` of its own."""

    outputs: dict[str, Any]

    def __init__(
        self, name: str, cfg: StackConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # Before anything is declared: who a personal stack runs as (its deployer, unless its
        # file names a user), the catalogs, schemas and tables the stack needs, and for an
        # update of a committed stack with a monitor, who deploys (its creator).
        cfg = run_as_deployer(cfg)
        stack_file = f"Pulumi.{cfg.environment}.yaml"
        found = require_objects(stack_file, stack_required_objects(cfg))
        monitored = any(view.monitoring.enabled for view in cfg.model_views())
        if monitored and not cfg.personal:
            require_deployer(stack_file, cfg.run_as.name)
        served = None if cfg.model_configs else model_served_version(cfg)
        super().__init__("mlops:databricks:MlopsStack", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.serving: ServingEndpoint | None = None
        self.monitoring: Monitoring | None = None
        self.models: dict[str, ModelResources] = {}
        """Each model's component, by key (a stack of several models; empty otherwise)."""
        outputs: dict[str, Any]
        if not cfg.model_configs:
            # One model: its resources directly under the stack, named as they always were.
            experiment = Experiment(f"{name}-experiment", experiment_args(cfg), child)
            code = CodeSource(
                f"{name}-code",
                code_source_args(cfg, experiment.directory, f"{cfg.stack_dir}/notebooks"),
                child,
            )
            jobs = declare_model_and_jobs(name, cfg, experiment, code, child)
            grants = self._grants(name, cfg, child, [jobs.model])
            extra = declare_serving_and_monitoring(
                name, cfg, jobs, served, found, code, grants, child
            )
            self.serving, self.monitoring = extra.serving, extra.monitoring
            outputs = model_outputs(jobs, experiment, extra)
        else:
            # Several models: the folder, the code source and the grants are the stack's;
            # each model's resources sit under a component of its own.
            folder = declare_folder(name, experiment_args(cfg), self)
            code = CodeSource(
                f"{name}-code",
                code_source_args(cfg, folder, f"{cfg.stack_dir}/notebooks"),
                child,
            )
            for view in cfg.model_configs:
                key = view.model_key
                assert key is not None  # every model of mlops:models has its key
                own_code = code
                if view.code_source != cfg.code_source:
                    # A model with a code source of its own gets its own checkout or upload,
                    # in a folder of its own under the stack's: its Directory is created with
                    # the Workspace API's mkdirs, which "Creates the specified directory (and
                    # necessary parent directories if they do not exist)" (databricks-sdk
                    # ``service/workspace.py``, ``WorkspaceAPI.mkdirs``).
                    own_code = CodeSource(
                        f"{name}-{key}-code",
                        code_source_args(view, folder, f"{cfg.stack_dir}/{key}/notebooks"),
                        child,
                    )
                self.models[key] = ModelResources(
                    f"{name}-{key}", ModelResourcesArgs(view, folder, own_code, found), child
                )
            # The grants wait for every registered model; each endpoint waits for them.
            grants = self._grants(name, cfg, child, [m.model for m in self.models.values()])
            for model in self.models.values():
                model.declare_serving_and_monitoring(grants)
            outputs = {"models": {k: m.outputs for k, m in self.models.items()}}
        self.outputs = outputs
        """What ``__main__.py`` exports: a one-model stack's outputs as they always were, or
        ``models``: model key -> that model's outputs (the same names)."""
        self.register_outputs(outputs)

    @staticmethod
    def _grants(
        name: str, cfg: StackConfig, child: pulumi.ResourceOptions, models: list[Model]
    ) -> UnityCatalogGrants | None:
        """Every model's Unity Catalog grants, merged per (principal, securable): one Grant
        each (:func:`~mlops_resources.config.unity_catalog.stack_grant_plan`); a Grant on a
        registered model waits for it."""
        plan = stack_grant_plan(cfg)
        if not plan:
            return None
        by_name = {model.full_name.lower(): model.resource for model in models}
        return UnityCatalogGrants(f"{name}-grants", UnityCatalogGrantsArgs(plan, by_name), child)
