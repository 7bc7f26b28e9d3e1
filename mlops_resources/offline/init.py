"""``init --dev NAME``: a personal dev stack file that cannot touch staging or prod.

A dev stack copied from staging by hand runs on staging's schedule, overwrites staging's
output table, manages staging's grants (two ``databricks.Grant`` on one principal and
securable revoke each other's privileges), runs as staging's service principal, which would
then own its jobs and model (only it or an admin could delete them), emails the team's
on-call and runs the team's branch. The file written here starts from the staging stack file
and changes exactly that: every schedule paused, an output table (and inference log) of its
own, no Unity Catalog grants, no service principal (the stack runs as the developer who
deploys it, or the user ``--user`` names, in their home folder, and notifies them), and the
developer's git branch. It is validated like any stack file, including the check against the
committed staging and prod files, before it is written.

The file holds no ``secretsprovider``: a personal stack keeps its state in a backend of its
own with a passphrase (docs/deployment.md, section 7), never a committed stack's KMS key.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlops_resources import PROJECT_DIR
from mlops_resources.config.load import committed_stacks, validate
from mlops_resources.config.models import MODELS
from mlops_resources.config.namespace import NAMESPACE
from mlops_resources.config.reading import RawConfig
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
    """The output table (each model's, comma-separated, in a stack of several)."""
    run_as_user: str | None
    """The user the file names, or None: whoever deploys the stack."""
    branch: str | None
    """The git branch the jobs run (None: the stack uploads the notebooks instead)."""
    dropped_secrets: tuple[str, ...] = ()
    """Encrypted keys of the source file: encrypted with its stack's key, so not copied."""


def suggest_name(name: str) -> str | None:
    """A dev name close to ``name`` that :data:`DEV_NAME` accepts (``John.Doe`` ->
    ``john-doe``), or None."""
    candidate = re.sub(r"[^a-z0-9]+", "-", name.lower())
    candidate = re.sub(r"^[^a-z]+", "", candidate)[:31].strip("-")
    return candidate if DEV_NAME.match(candidate) else None


def _check_name(name: str) -> None:
    if not name:
        raise InitError(
            'init --dev: the name is empty (in a shell without $USER, `--dev "$USER"` gives '
            "one); pass your name, e.g. --dev alice"
        )
    if not DEV_NAME.match(name):
        suggestion = suggest_name(name)
        hint = f"; e.g. --dev {suggestion}" if suggestion else " (e.g. 'alice')"
        raise InitError(
            f"dev stack name {name!r}: expected lowercase letters, digits and '-', starting "
            f"with a letter, at most 31 characters{hint}"
        )


def current_branch(directory: Path) -> str | None:
    """The branch checked out in ``directory``'s git repository (None: not a repository, or a
    detached HEAD)."""
    try:
        result = subprocess.run(
            ["git", "-C", str(directory), "symbolic-ref", "--quiet", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except OSError:
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def _secrets(config: dict[str, Any]) -> tuple[str, ...]:
    """Keys whose value is encrypted (``{secure: ...}``) with the source stack's key."""
    return tuple(k for k, v in config.items() if isinstance(v, dict) and set(v) == {"secure"})


def _section(config: dict[str, Any], name: str, prefix: str = f"{NAMESPACE}:") -> dict[str, Any]:
    value = config.get(f"{prefix}{name}")
    return dict(value) if isinstance(value, dict) else {}


def _paused(section: dict[str, Any]) -> dict[str, Any]:
    schedule = section.get("schedule")
    if isinstance(schedule, dict):
        section["schedule"] = {**schedule, "paused": True}
    return section


def _dev_model(
    config: dict[str, Any], name: str, output_table: str | None, prefix: str = f"{NAMESPACE}:"
) -> None:
    """A model's own sections (at the top, or of one ``mlops:models`` entry with ``prefix``
    empty) made the dev stack's: schedules paused, an output table and inference log of its
    own."""
    batch = _paused(_section(config, "batch_inference", prefix))
    default_table = str(batch["output_table_name"]).rsplit(".", 1)
    batch["output_table_name"] = output_table or ".".join(
        [*default_table[:-1], f"dev_{name.replace('-', '_')}_{default_table[-1]}"]
    )
    batch["output_table_exists"] = False
    config[f"{prefix}batch_inference"] = batch
    config[f"{prefix}training"] = _paused(_section(config, "training", prefix))
    monitoring = _section(config, "monitoring", prefix)
    if monitoring:
        monitoring.pop("inference_log_table", None)  # <its own output table>_log
        _paused(monitoring)
        if isinstance(monitoring.get("retraining"), dict):
            monitoring["retraining"] = _paused(dict(monitoring["retraining"]))
        config[f"{prefix}monitoring"] = monitoring


def _dev_shared(
    config: dict[str, Any],
    user: str | None,
    branch: str | None,
    prefix: str = f"{NAMESPACE}:",
) -> None:
    """The shared sections (at the top, or a model's overrides of them with ``prefix`` empty)
    made the dev stack's: no grants, no service principal, no budget policy, no on-call, the
    developer's branch."""
    access = _section(config, "access", prefix)
    for key in (
        "jobs_group",
        "model_readers_group",
        "preview_group",
        "run_as_service_principal",
        "run_as_user",
    ):
        access.pop(key, None)
    if user and prefix:
        access["run_as_user"] = user
    if access or prefix:
        config[f"{prefix}access"] = access
    else:  # a model's override of nothing but grants
        config.pop("access", None)
    compute = _section(config, "compute", prefix)
    if compute:
        # Staging's budget policy: using one takes its User role, which the guide gives the
        # run-as principal only (docs, "Attribute usage with serverless budget policies").
        compute.pop("budget_policy_id", None)
        config[f"{prefix}compute"] = compute
    jobs = _section(config, "jobs", prefix)
    if jobs:
        jobs.pop("on_failure_emails", None)  # the team's on-call; the developer is emailed
        config[f"{prefix}jobs"] = jobs
    code = _section(config, "code_source", prefix)
    if code.get("type") == "git" or (not prefix and {"tag", "branch"} & set(code)):
        # A model's override of the ref too: the developer's branch, never a release tag.
        code.pop("tag", None)
        code["branch"] = branch
        config[f"{prefix}code_source"] = code


def _dev_config(
    source: dict[str, Any],
    name: str,
    output_table: str | None,
    user: str | None,
    branch: str | None,
) -> dict[str, Any]:
    """The source stack's namespaced config (as written) made ``dev-<name>``'s; a stack of
    several models (``mlops:models``) has each model's sections and overrides changed the
    same way, each model with an output table of its own."""
    config = {key: value for key, value in source.items() if key not in _secrets(source)}
    # Lives in the developer's home and is destroyed with everything in it.
    for key in ("workspace_root", "protect_ml_assets"):
        config.pop(f"{NAMESPACE}:{key}", None)
    models = _section(config, MODELS)
    if not models:
        _dev_model(config, name, output_table)
    elif output_table is not None:
        raise InitError(
            "init --dev --output-table: the stack declares several models (mlops:models), "
            f"each with an output table; leave it out: each gets dev_{name.replace('-', '_')}_"
            "<its table>"
        )
    for key, entry in models.items():
        entry = dict(entry) if isinstance(entry, dict) else {}
        _dev_model(entry, name, None, prefix="")
        _dev_shared(entry, user, branch, prefix="")
        models[key] = entry
    if models:
        config[f"{NAMESPACE}:{MODELS}"] = models
    _dev_shared(config, user, branch)
    return config


def init_dev(
    name: str,
    *,
    output_table: str | None = None,
    from_stack: str = "staging",
    user: str | None = None,
    branch: str | None = None,
    force: bool = False,
    project_dir: Path | None = None,
) -> DevStack:
    """Write ``Pulumi.dev-<name>.yaml``; raise InitError (or ConfigError) instead of writing a
    file that would be refused or would overwrite one.

    ``user`` pins who the stack runs as (default: whoever deploys it); ``branch`` is the git
    branch its jobs run (default: the branch checked out in ``project_dir``).
    """
    project_dir = project_dir or PROJECT_DIR
    _check_name(name)
    stack = f"dev-{name}"
    path = stack_file_path(stack, project_dir)
    if path.exists() and not force:
        raise InitError(f"{path.name} exists; pass --force to replace it")
    source, written = read_stack_config(from_stack, project_dir)
    git = _section(written, "code_source").get("type") == "git"
    if git and not branch:
        branch = current_branch(project_dir)
        if branch is None:
            raise InitError(
                f"init --dev: {project_dir} is not on a git branch (not a checkout, or a "
                "detached HEAD), and the jobs check out a branch: pass --branch NAME, a branch "
                "you pushed"
            )
    config = _dev_config(written, name, output_table, user, branch if git else None)
    cfg = validate(RawConfig(*encode_config(config)), stack, committed_stacks(stack, project_dir))
    identity = f"as {user}" if user else "as the user who deploys it"
    code = f"branch {branch}" if git else "the notebooks it uploads"
    header = (
        f"# Personal dev stack '{stack}', written by `python -m mlops_resources init --dev "
        f"{name}` from\n# {source.name}: runs {identity}, in their home folder, emails them "
        f"on failure,\n# runs {code}; schedules paused, its own output table, no Unity "
        "Catalog grants\n# (a dev stack must not manage staging's). Keys: README.md, "
        "'Config reference'.\n"
    )
    path.write_text(header + yaml.safe_dump({"config": config}, sort_keys=False))
    return DevStack(
        stack,
        path,
        ", ".join(view.batch_inference.output_table_name for view in cfg.model_views()),
        user,
        branch if git else None,
        _secrets(written),
    )
