"""Several models in one stack: the ``mlops:models`` key.

A one-model stack file keeps its model's sections at the top (``mlops:training``,
``mlops:batch_inference``, ``mlops:monitoring``, ``mlops:serving``). A stack of several models
declares them under ``mlops:models`` instead: a map of model key -> that model's sections, plus
optional overrides of the shared ``model``, ``compute``, ``cluster``, ``jobs``, ``access`` and
``code_source`` sections, which stay at the top as every model's defaults. An override is merged
key by key into the shared section (``access: {jobs_group: churn-jobs}`` changes only that key).

:func:`split_models` turns such a stack's raw config into one raw config per model, each of the
one-model form, so every model is validated by the same :class:`StackConfig` checks as a
one-model stack (name lengths included), with its key injected as ``model_key``: the naming
hook that puts the key in every per-model Databricks name.

This module reads raw values only: it imports nothing of the stack config.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from mlops_resources.config.reading import RawConfig

MODELS = "models"
"""The key (under the ``mlops`` namespace) of the map of models."""

MODEL_SECTIONS = ("training", "batch_inference", "monitoring", "serving")
"""Sections each model has of its own: under ``mlops:models.<key>``, never at the top."""

SHARED_SECTIONS = ("model", "compute", "cluster", "jobs", "access", "code_source")
"""Top-level sections a model may override, key by key."""

FIXED_ACCESS_KEYS = {
    "run_as_service_principal": "the stack's models run as one principal, whose home holds "
    "the stack's one folder",
    "run_as_user": "the stack's models run as one principal, whose home holds the stack's one "
    "folder",
    "readers_group": "the stack's one folder holds every model's experiment, and \"objects in "
    'a folder inherit all permissions settings of that folder" (Databricks docs, workspace '
    "ACLs), so one group reads them all",
}
"""Keys of ``access`` a model may not override, and why."""

MODEL_KEY = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
MAX_MODEL_KEY = 20
"""A model key goes into job, experiment, endpoint and Unity Catalog names (``-`` as ``_``
there); the stack's existing name-length checks run on each model's names, and this cap keeps
a key from eating the room the project name and environment need."""


def model_key_problem(key: str) -> str | None:
    """Why ``key`` cannot name a model, or None."""
    if not MODEL_KEY.match(key) or len(key) > MAX_MODEL_KEY:
        return (
            f"expected a model key of lowercase letters and digits, words joined by single "
            f"hyphens, starting with a letter, at most {MAX_MODEL_KEY} characters (it goes "
            f"into every Databricks name of the model), e.g. 'churn' or 'fraud-eu'; got {key!r}"
        )
    return None


def _decoded(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def split_models(raw: RawConfig, namespace: str) -> tuple[dict[str, RawConfig], list[str]] | None:
    """Each model's raw config (one-model form) and the problems of ``<namespace>:models``;
    None for a stack file without it (the one-model form, read as it always was)."""
    models_key = f"{namespace}:{MODELS}"
    if models_key not in raw.values:
        return None
    problems = [
        f"{namespace}:{name}: a stack with {models_key} declares each model's {name} under it "
        f"({models_key}.<key>.{name}); move it there, or remove {models_key} for the one-model "
        "form"
        for name in MODEL_SECTIONS
        if f"{namespace}:{name}" in raw.values
    ]
    declared = _decoded(raw.values[models_key])
    if not isinstance(declared, dict) or not declared:
        problems.append(
            f"{models_key}: expected a map of model key -> the model's sections "
            f"({', '.join(MODEL_SECTIONS)}; optional overrides of {', '.join(SHARED_SECTIONS)}), "
            f"with at least one model, got {declared!r}"
        )
        return {}, problems
    shared = {k: v for k, v in raw.values.items() if k != models_key}
    split: dict[str, RawConfig] = {}
    for key, entry in declared.items():
        where = f"{models_key}.{key}"
        key_problem = model_key_problem(str(key))
        if key_problem:
            problems.append(f"{models_key}: {key_problem}")
            continue
        if not isinstance(entry, dict):
            problems.append(
                f"{where}: expected a map of the model's sections ({', '.join(MODEL_SECTIONS)}), "
                f"got {entry!r}"
            )
            continue
        unknown = sorted(set(entry) - {*MODEL_SECTIONS, *SHARED_SECTIONS})
        for name in unknown:
            problems.append(
                f"{where}.{name}: unknown key; expected one of: "
                f"{', '.join(sorted({*MODEL_SECTIONS, *SHARED_SECTIONS}))}"
            )
        fixed = entry.get("access")
        if isinstance(fixed, dict):
            for name, why in FIXED_ACCESS_KEYS.items():
                if name in fixed:
                    problems.append(
                        f"{where}.access.{name}: {why}; set it in {namespace}:access only and "
                        "remove it here"
                    )
        values = dict(shared)
        for name in (*MODEL_SECTIONS, *SHARED_SECTIONS):
            if name not in entry:
                continue
            value = entry[name]
            base = _decoded(shared.get(f"{namespace}:{name}", "null"))
            if name in SHARED_SECTIONS and isinstance(base, dict) and isinstance(value, dict):
                value = {**base, **value}
            values[f"{namespace}:{name}"] = value if isinstance(value, str) else json.dumps(value)
        secret = raw.secret_keys
        if models_key in secret:
            secret = secret | {f"{namespace}:{name}" for name in entry}
        split[key] = RawConfig(values, frozenset(secret - {models_key}))
    return split, problems


def at_model(problem: str, namespace: str, key: str, entry: Mapping[str, Any]) -> str:
    """A problem of one model's one-model form, reported at the key the stack file has: its own
    sections (and the shared ones it overrides) under ``<namespace>:models.<key>``."""
    owned = [*MODEL_SECTIONS, *(name for name in SHARED_SECTIONS if name in entry)]
    pattern = rf"^{re.escape(namespace)}:({'|'.join(owned)})\b"
    if problem.startswith(f"{namespace}:project_name:"):
        # A name derived from the project name, which in this model's names has its key too.
        return f"{problem} (model {key!r} of {namespace}:{MODELS}: its key is in the name)"
    return re.sub(pattern, rf"{namespace}:{MODELS}.{key}.\1", problem)


def model_entries(raw: RawConfig, namespace: str) -> dict[str, Any]:
    """The decoded ``<namespace>:models`` map (empty when absent or malformed)."""
    declared = _decoded(raw.values.get(f"{namespace}:{MODELS}", "null"))
    return declared if isinstance(declared, dict) else {}
