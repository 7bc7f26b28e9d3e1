"""``init --dev NAME``: a personal dev stack file that cannot touch staging or prod.

A dev stack copied from staging by hand runs on staging's schedule, overwrites staging's
output table and manages staging's grants (two ``databricks.Grant`` on one principal and
securable revoke each other's privileges). The file written here starts from the staging
stack file and changes exactly that: both schedules paused, an output table of its own, no
Unity Catalog grants (jobs_group and model_readers_group unset). It is validated like any
stack file, including the check against the committed staging and prod files, before it is
written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlops_resources import PROJECT_DIR
from mlops_resources.config.reading import RawConfig
from mlops_resources.config.stack import NAMESPACE, committed_stacks, validate
from mlops_resources.config.stack_files import encode_config, read_stack_config, stack_file_path

DEV_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


class InitError(Exception):
    """The dev stack file can't be written as asked."""


@dataclass(frozen=True)
class DevStack:
    """A written dev stack file."""

    stack: str
    path: Path
    output_table: str


def _dev_config(
    source: dict[str, Any], name: str, output_table: str | None, run_as: str | None
) -> dict[str, Any]:
    """The source stack's namespaced config (as written) made ``dev-<name>``'s."""
    config = dict(source)
    batch = dict(config[f"{NAMESPACE}:batch_inference"])
    default_table = batch["output_table_name"].rsplit(".", 1)
    table = output_table or ".".join(
        [*default_table[:-1], f"dev_{name.replace('-', '_')}_{default_table[-1]}"]
    )
    batch["output_table_name"] = table
    batch["output_table_exists"] = False
    for section in ("training", "batch_inference"):
        key = f"{NAMESPACE}:{section}"
        values = batch if section == "batch_inference" else dict(config[key])
        values["schedule"] = {**values["schedule"], "paused": True}
        config[key] = values
    access = dict(config[f"{NAMESPACE}:access"])
    access.pop("jobs_group", None)
    access.pop("model_readers_group", None)
    access.pop("preview_group", None)
    if run_as:
        access["run_as_service_principal"] = run_as
    config[f"{NAMESPACE}:access"] = access
    return config


def init_dev(
    name: str,
    *,
    output_table: str | None = None,
    from_stack: str = "staging",
    run_as: str | None = None,
    force: bool = False,
    project_dir: Path | None = None,
) -> DevStack:
    """Write ``Pulumi.dev-<name>.yaml``; raise InitError (or ConfigError) instead of writing a
    file that would be refused or would overwrite one."""
    project_dir = project_dir or PROJECT_DIR
    if not DEV_NAME.match(name):
        raise InitError(
            f"dev stack name {name!r}: expected lowercase letters, digits and '-', starting "
            "with a letter (e.g. 'alice')"
        )
    stack = f"dev-{name}"
    path = stack_file_path(stack, project_dir)
    if path.exists() and not force:
        raise InitError(f"{path.name} exists; pass --force to replace it")
    source, written = read_stack_config(from_stack, project_dir)
    config = _dev_config(written, name, output_table, run_as)
    cfg = validate(RawConfig(*encode_config(config)), stack, committed_stacks(stack, project_dir))
    header = (
        f"# Personal dev stack '{stack}', written by `python -m mlops_resources init --dev "
        f"{name}` from\n# {source.name}: schedules paused, its own output table, no Unity "
        "Catalog grants\n# (a dev stack must not manage staging's). Keys: README.md, "
        "'Config reference'.\n"
    )
    path.write_text(header + yaml.safe_dump({"config": config}, sort_keys=False))
    return DevStack(stack, path, cfg.batch_inference.output_table_name)
