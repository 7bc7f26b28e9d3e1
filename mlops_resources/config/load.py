"""Loading a stack's config: the Pulumi runtime's (:func:`load_config`) or a stack file's
(:func:`validated_stacks`), validated completely (:func:`validate`) into a
:class:`~mlops_resources.config.stack.StackConfig`, or a ConfigError listing every problem.

It sits above :mod:`~mlops_resources.config.stack` and
:mod:`~mlops_resources.config.unity_catalog`: a personal stack is checked against the committed
ones with the Unity Catalog collision checks, which derive from ``StackConfig``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pulumi

from mlops_resources.config.access import identity_problems
from mlops_resources.config.compute import RequirementsError, notebook_requirements
from mlops_resources.config.host import DATABRICKS_HOST_KEY, host_domain_problem, host_url_problem
from mlops_resources.config.models import at_model, model_entries, split_models
from mlops_resources.config.namespace import NAMESPACE, SCHEDULED_STACKS
from mlops_resources.config.reading import ConfigError, RawConfig, credential_problems
from mlops_resources.config.stack import MLOPS, StackConfig, cross_field_problems
from mlops_resources.config.stack_files import read_stack_file, stack_file_path
from mlops_resources.config.unity_catalog import collision_problems, model_collisions

_STACK = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def _stack_name_problem(stack: str) -> str | None:
    if _STACK.match(stack):
        return None
    return (
        f"stack name {stack!r}: expected lowercase letters, digits, '-' and '_' (it prefixes "
        "job, folder and Unity Catalog model names), e.g. 'dev-alice'"
    )


def validate(
    raw: RawConfig, stack: str, others: Iterable[tuple[str, StackConfig]] = ()
) -> StackConfig:
    """Validate raw runtime config for ``stack``; raise ConfigError listing every problem.

    ``others`` are the committed stacks (file name, config) a personal stack must not collide
    with (:func:`~mlops_resources.config.unity_catalog.collision_problems`). A stack of several
    models (``mlops:models``, :mod:`~mlops_resources.config.models`) is validated model by
    model, each in the one-model form with its key; the result is the first model's config
    with every model's in ``model_configs``.
    """
    others = list(others)
    split = split_models(raw, NAMESPACE)
    if split is None:
        cfg, problems = _validated(raw, stack, others)
    else:
        per_model, problems = split
        entries = model_entries(raw, NAMESPACE)
        views: list[StackConfig] = []
        for key, model_raw in per_model.items():
            view, found = _validated(model_raw, stack, others, key)
            problems += [at_model(p, NAMESPACE, key, entries[key]) for p in found]
            if view is not None:
                views.append(view)
        problems = list(dict.fromkeys(problems))  # a shared key's problem, once
        if not problems:
            problems += model_collisions(views)
        cfg = views[0].model_copy(update={"model_configs": tuple(views)}) if views else None
    if problems or cfg is None:
        raise ConfigError(f"Pulumi.{stack}.yaml", problems)
    return cfg


def _validated(
    raw: RawConfig, stack: str, others: list[tuple[str, StackConfig]], model_key: str | None = None
) -> tuple[StackConfig | None, list[str]]:
    """One model's config (None if invalid) and every problem found."""
    problems = credential_problems(raw) + MLOPS.namespace_problems(raw)
    stack_problem = _stack_name_problem(stack)
    if stack_problem:
        problems.append(stack_problem)
    host = raw.values.get(DATABRICKS_HOST_KEY)
    host_problem = host_url_problem(host)
    if host_problem:
        problems.append(host_problem)
    injected = {
        "environment": stack,
        "host": (host or "https://invalid").rstrip("/"),
        "model_key": model_key,
    }
    cfg, model_problems = MLOPS.build(raw, injected)
    problems += model_problems
    if isinstance(cfg, StackConfig):
        if not host_problem:
            domain_problem = host_domain_problem(cfg.host, cfg.extra_host_domains)
            problems += [domain_problem] if domain_problem else []
        problems += cross_field_problems(cfg)
        if cfg.compute.serverless:
            try:
                notebook_requirements()
            except RequirementsError as error:
                problems.append(str(error))
        if not problems:  # the Unity Catalog plan needs well-formed names
            problems += collision_problems(cfg, others)
        problems += identity_problems(cfg)
    return (cfg if isinstance(cfg, StackConfig) else None), problems


def validated_stacks(
    stacks: Iterable[str], project_dir: Path | None = None
) -> list[tuple[str, StackConfig]]:
    """(file name, config) of each stack's ``Pulumi.<stack>.yaml``, each validated on its own.

    Raises StackFileError for a missing or unreadable file, ConfigError for an invalid one.
    """
    validated = []
    for stack in stacks:
        source = read_stack_file(stack, project_dir)
        validated.append((source.path.name, validate(RawConfig.from_stack_file(source), stack)))
    return validated


def committed_stacks(stack: str, project_dir: Path | None = None) -> list[tuple[str, StackConfig]]:
    """The committed staging and prod stacks a personal stack is checked against (none for
    staging and prod themselves; a missing file is skipped, an invalid one is an error)."""
    if stack in SCHEDULED_STACKS:
        return []
    present = [name for name in SCHEDULED_STACKS if stack_file_path(name, project_dir).is_file()]
    return validated_stacks(present, project_dir)


def load_config() -> StackConfig:
    """Read and validate the current stack's config from the Pulumi runtime; a personal stack
    is checked against the committed stack files next to the project's ``Pulumi.yaml``."""
    stack = pulumi.get_stack()
    root = pulumi.get_root_directory()
    others = committed_stacks(stack, Path(root) if root else None)
    return validate(RawConfig.from_runtime(), stack, others)
