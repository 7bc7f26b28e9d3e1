"""Helpers of the infrastructure tests: evaluate the real program for a stack file, with edits.

Behaviour tests run on the example project ``init`` renders with its default answers
(:func:`example_dir`), not on the committed stack files, which a team replaces with its own
values; tests over the committed files check only invariants (``tests/repo``).

``pulumi_databricks`` is imported once per test process (by the components); every
evaluation installs fresh mocks, so tests don't share resources or outputs. The ML tests
(``tests/ml``) must not import this module: they run without pulumi.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from mlops_resources import PROJECT_DIR
from mlops_resources.config.stack_files import StackFile, encode_value, read_stack_file
from mlops_resources.offline.evaluation import (
    DeclaredResource,
    Evaluation,
    evaluate,
    install_mocks,
    run_program,
)
from mlops_resources.offline.templates import TeamAnswers, render

PROGRAM_FILES = ("__main__.py", "bootstrap/__main__.py", "bootstrap/Pulumi.yaml")
"""What a project copy needs besides the files ``init`` renders."""


def write_project(root: Path, answers: TeamAnswers) -> Path:
    """A project directory: the programs' entry points and the files ``answers`` render."""
    for path, text in render(answers).items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    for path in PROGRAM_FILES:
        shutil.copy(PROJECT_DIR / path, root / path)
    return root


@cache
def example_dir() -> Path:
    """The example project (``init``'s defaults), written once per test process."""
    root = Path(tempfile.mkdtemp(prefix="mlops-example-"))
    atexit.register(shutil.rmtree, root, True)
    return write_project(root, TeamAnswers())


def bootstrap_dir() -> Path:
    return example_dir() / "bootstrap"


def encode_overrides(overrides: dict[str, Any]) -> dict[str, str]:
    """Config overrides encoded the way the CLI passes them (structured values as JSON)."""
    return {key: encode_value(value) for key, value in overrides.items()}


def example_stack_file(stack: str, overrides: dict[str, Any] | None = None) -> StackFile:
    """An example stack file with config overrides.

    ``overrides`` maps ``namespace:key`` to a value; a section override replaces the whole
    section, as editing it in the stack file would; None removes the key.
    """
    source = read_stack_file(stack, example_dir())
    overrides = overrides or {}
    kept = {k: v for k, v in overrides.items() if v is not None}
    values = {k: v for k, v in source.values.items() if overrides.get(k, "") is not None}
    values.update(encode_overrides(kept))
    return StackFile(source.path, values, source.secret_keys)


def run_stack(
    stack: str,
    overrides: dict[str, Any] | None = None,
    as_stack: str | None = None,
    champion: int | None = None,
    endpoints: Mapping[str, str] | None = None,
) -> Evaluation:
    """Evaluate ``__main__.py`` for an example stack file, with config overrides
    (:func:`example_stack_file`). ``as_stack`` evaluates the same file as another stack name
    (e.g. a personal dev stack). ``champion`` is the version the model's ``champion`` alias
    points at (None: no champion yet), ``endpoints`` the serving endpoints that exist.
    """
    return evaluate(
        as_stack or stack,
        example_dir(),
        example_stack_file(stack, overrides),
        champion=champion,
        endpoints=endpoints,
    )


def refused(
    stack: str, overrides: dict[str, Any] | None = None, missing: frozenset[str] = frozenset()
) -> tuple[Exception, list[DeclaredResource]]:
    """Evaluate an example stack file the program must refuse, as :func:`run_stack` does: the
    error it raised, and what it had declared by then. ``missing`` names Unity Catalog objects
    the existence checks report as missing."""
    monitor = install_mocks(stack, example_stack_file(stack, overrides), example_dir(), missing)
    try:
        run_program(stack, monitor, example_dir())
    except Exception as error:
        return error, monitor.declared
    raise AssertionError(f"the program accepted Pulumi.{stack}.yaml with {overrides}")


def section(stack: str, key: str, **changes: Any) -> dict[str, Any]:
    """A structured section of an example stack file, decoded, with keys changed."""
    source = read_stack_file(stack, example_dir())
    value: dict[str, Any] = json.loads(source.values[f"mlops:{key}"])
    value.update(changes)
    return value


def classic_cluster(stack: str) -> dict[str, Any]:
    """The job cluster of a classic stack file: what ``init`` wrote before serverless."""
    return {
        "spark_version": "15.4.x-cpu-ml-scala2.12",
        "node_type_id": "i3.xlarge",
        "num_workers": 3 if stack == "prod" else 2,
        "data_security_mode": "SINGLE_USER",
        "custom_tags": {"cost-center": "ml-platform"},
    }


def classic_overrides(stack: str) -> dict[str, Any]:
    """The example stack file as a classic one: no ``mlops:compute`` key (the default is
    classic, as in every stack file written before the key existed) and a job cluster."""
    return {"mlops:compute": None, "mlops:cluster": classic_cluster(stack)}


def workspace_registry_overrides() -> dict[str, Any]:
    """The staging file moved to the workspace model registry, with hive_metastore tables
    (no Unity Catalog grants), on classic compute (serverless needs Unity Catalog)."""
    return {
        **classic_overrides("staging"),
        "mlops:model": {"registry": "workspace"},
        "mlops:batch_inference": section(
            "staging",
            "batch_inference",
            input_table_name="wine_quality.scoring_input",
            output_table_name="wine_quality.predictions",
        ),
        "mlops:access": section("staging", "access", jobs_group=None, model_readers_group=None),
    }


def personal_stack_overrides(owner: str, jobs_group: str | None = None) -> dict[str, Any]:
    """The staging file made ``dev-<owner>``'s: schedules left to the default (paused), its
    own output table, no grant staging manages unless ``jobs_group`` is given, and no
    service principal: it runs as the user who deploys it (offline, the mocks' user)."""
    training = section("staging", "training")
    del training["schedule"]["paused"]
    batch = section(
        "staging", "batch_inference", output_table_name=f"staging.wine_quality.dev_{owner}_scores"
    )
    del batch["schedule"]["paused"]
    access = section("staging", "access", jobs_group=jobs_group, model_readers_group=None)
    del access["run_as_service_principal"]
    return {"mlops:training": training, "mlops:batch_inference": batch, "mlops:access": access}


def bootstrap_stack_file(changes: dict[str, Any] | None = None) -> StackFile:
    """The example bootstrap stack file with top-level keys replaced (None: removed)."""
    source = read_stack_file("shared", bootstrap_dir())
    changes = changes or {}
    values = {k: v for k, v in source.values.items() if changes.get(k, "") is not None}
    values.update(encode_overrides({k: v for k, v in changes.items() if v is not None}))
    return StackFile(source.path, values, source.secret_keys)


def params(evaluation: Evaluation, job: str) -> dict[str, str]:
    """A declared job's parameters: name -> default."""
    return {p["name"]: p["default"] for p in evaluation.get(job).inputs["parameters"]}


MONITORING: dict[str, Any] = {
    "enabled": True,
    "label_column": "quality",
    "granularities": ["1 day", "1 hour"],
    "schedule": {"quartz_cron": "0 0 8 * * ?", "timezone": "UTC"},
    "retraining": {
        "metric": "accuracy_score",
        "threshold": 0.8,
        "num_evaluation_windows": 5,
        "num_violation_windows": 2,
        "schedule": {"quartz_cron": "0 0 18 * * ?", "timezone": "UTC"},
    },
}
"""A monitoring section as a team turns it on (after the inference log exists). Tests that
change it copy it first."""


def existing_tables_overrides(
    output_table: str, training_table: str = "raw.wine.samples"
) -> dict[str, Any]:
    """The staging file with an output table that pre-dates the batch job
    (``output_table_exists``) and a Unity Catalog table as training data."""
    return {
        "mlops:batch_inference": section(
            "staging",
            "batch_inference",
            output_table_exists=True,
            output_table_name=output_table,
        ),
        "mlops:training": section("staging", "training", training_data=training_table),
    }


Variant = tuple[str, dict[str, Any], str | None]
"""A stack file, config overrides, and the stack name it is evaluated as (None: its own)."""

_VARIANTS: dict[str, Callable[[], Variant]] = {
    "staging": lambda: ("staging", {}, None),
    "prod": lambda: ("prod", {}, None),
    # Classic compute: no mlops:compute key, a job cluster.
    "workspace registry + uploaded notebooks": lambda: (
        "staging",
        {**workspace_registry_overrides(), "mlops:code_source": {"type": "workspace"}},
        None,
    ),
    "monitoring enabled": lambda: ("staging", {"mlops:monitoring": MONITORING}, None),
    "personal dev stack": lambda: (
        "staging",
        personal_stack_overrides("x", jobs_group="wine-quality-dev-x-jobs"),
        "dev-x",
    ),
}


class _Variants(Mapping[str, Variant]):
    """Name -> :data:`Variant`, built when looked up: the overrides read the example project,
    which collecting the tests must not write, and every lookup gets fresh dicts."""

    def __getitem__(self, name: str) -> Variant:
        return _VARIANTS[name]()

    def __iter__(self) -> Iterator[str]:
        return iter(_VARIANTS)

    def __len__(self) -> int:
        return len(_VARIANTS)


VARIANTS: Mapping[str, Variant] = _Variants()
"""Stack files the program must render: the example's two and the variants a team uses."""


MODEL_SECTIONS = ("training", "batch_inference", "monitoring", "serving")


def models_overrides(stack: str, models: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Config overrides that turn an example stack file into one of several models
    (``mlops:models``): the top-level model sections removed, and each model's sections the
    file's own (its output table ``<catalog>.<schema>.<key>_predictions``) changed by
    ``models[key]`` (a section replaces the file's; None removes it)."""
    source = read_stack_file(stack, example_dir())
    batch = json.loads(source.values["mlops:batch_inference"])
    catalog_schema = batch["output_table_name"].rsplit(".", 1)[0]
    entries = {}
    for key, changes in models.items():
        entry: dict[str, Any] = {
            name: json.loads(source.values[f"mlops:{name}"])
            for name in MODEL_SECTIONS
            if f"mlops:{name}" in source.values
        }
        table = key.replace("-", "_")
        entry["batch_inference"]["output_table_name"] = f"{catalog_schema}.{table}_predictions"
        entry.update(changes)
        entries[key] = {name: value for name, value in entry.items() if value is not None}
    return {
        **{f"mlops:{name}": None for name in MODEL_SECTIONS},
        "mlops:models": entries,
    }
