"""``init``: a team's own values into the project's files, asked again whenever they change.

Both templates this project replaces are generated per team (the Terraform MLOps Stack by
cookiecutter, MLOps Stacks by ``databricks bundle init``). Here the example files are rendered
from :class:`TeamAnswers`; the committed ones are exactly what the defaults render (a test), so
they stay in step as keys are added, and ``init`` asks only for what differs per team.

``init`` can run again at any time. The answers' defaults are read back from the files as they
are now (:func:`current_answers`), so a prompt shows the current value and an unanswered key
keeps it; the files are then edited in place (:mod:`~mlops_resources.offline.edits`) by what
the new answers change, so every other value, a team's hand edits and comments, and the keys
Pulumi manages (``encryptedkey``, ``encryptionsalt``, and ``secretsprovider`` once a stack has
been initialised with it) stay as they are. The result is validated with the programs' own
config validation before anything is written; a problem names the answer it comes from.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml

from mlops_resources import PROJECT_DIR
from mlops_resources.config.bootstrap import (
    BOOTSTRAP,
    FOLDER,
    BootstrapConfig,
    validate_bootstrap,
)
from mlops_resources.config.load import validate
from mlops_resources.config.models import model_key_problem
from mlops_resources.config.namespace import NAMESPACE
from mlops_resources.config.reading import ConfigError, RawConfig
from mlops_resources.config.stack_files import (
    StackFileError,
    encode_config,
    load_yaml,
    parse_config,
)
from mlops_resources.offline.edits import MISSING_TEXT, Conflict, patch

T = TypeVar("T")

PULUMI_MANAGED = re.compile(r"^(encryptedkey|encryptionsalt): .*\n", re.M)
"""The lines ``pulumi stack init`` adds to a stack file (the stack's encrypted data key, or a
passphrase stack's salt): never written by ``init``, ignored when comparing with a render."""

PROJECT_FILE = "Pulumi.yaml"
BOOTSTRAP_FILE = f"{FOLDER}/Pulumi.shared.yaml"
STACKS = ("staging", "prod")
STAGING_FILE, PROD_FILE = (f"Pulumi.{stack}.yaml" for stack in STACKS)

NODE_TYPES = {"aws": "i3.xlarge", "azure": "Standard_D3_v2", "gcp": "n2-highmem-4"}
"""Default job cluster node type per cloud: the ones Databricks' MLOps Stacks template picks
(databricks/mlops-stacks ``library/template_variables.tmpl``, ``cloud_specific_node_type_id``),
4-core general-purpose nodes that run the ML runtime."""
CLOUD_HOSTS = {"azure": ".azuredatabricks.net", "gcp": ".gcp.databricks.com"}
"""Workspace URL suffixes per cloud (an AWS workspace's is ``.cloud.databricks.com``)."""
RELEASE_TAG_PATTERN = "v*"
"""The tags the deployment guide's tag rulesets protect (``refs/tags/v*``: no update, no
deletion, created by release managers only): prod runs one of them. A test keeps the guide's
rulesets and this pattern equal."""
PROBLEM_TYPES = ("classification", "regression")
WINE = {
    "training_data": "/databricks-datasets/wine-quality/winequality-red.csv",
    "label_column": "quality",
    "problem_type": "classification",
    "positive_threshold": "7",
}
"""The example's ML problem (red wines of quality 7 and up are good), which the comments on
its validation thresholds describe."""


def _ask(question: str, source: tuple[str, str, str] | None = None, **extra: Any) -> Any:
    """Field metadata: the prompt, and where the current value is read back from: (file,
    ``namespace:section.key``, how: "" as is, "last" part of a dotted name, "first" item)."""
    return {"ask": question, "from": source, **extra}


@dataclass(frozen=True)
class TeamAnswers:
    """What differs per team; the defaults are the committed example's values."""

    project_name: str = field(
        default="wine-quality",
        metadata=_ask("project name", (STAGING_FILE, "mlops:project_name", "")),
    )
    staging_host: str = field(
        default="https://dbc-staging-0000.cloud.databricks.com",
        metadata=_ask("staging workspace URL", (STAGING_FILE, "databricks:host", "")),
    )
    prod_host: str = field(
        default="https://dbc-prod-0000.cloud.databricks.com",
        metadata=_ask("prod workspace URL", (PROD_FILE, "databricks:host", "")),
    )
    compute: str = field(
        default="serverless",
        metadata=_ask(
            "job compute: serverless, or classic (job clusters) for a workspace without it",
            (STAGING_FILE, "mlops:compute.type", ""),
        ),
    )
    cloud: str = field(
        default="aws",
        metadata=_ask("cloud of the workspaces: aws, azure or gcp (sets the node type's default)"),
    )
    node_type: str = field(
        default="",
        metadata=_ask(
            "node type of the classic job clusters (empty: the cloud's default)",
            (STAGING_FILE, "mlops:cluster.node_type_id", ""),
        ),
    )
    staging_catalog: str = field(
        default="staging",
        metadata=_ask("staging catalog", (STAGING_FILE, "mlops:model.catalog", "")),
    )
    prod_catalog: str = field(
        default="prod", metadata=_ask("prod catalog", (PROD_FILE, "mlops:model.catalog", ""))
    )
    schema: str = field(
        default="wine_quality",
        metadata=_ask("schema (in both catalogs)", (STAGING_FILE, "mlops:model.schema", "")),
    )
    input_table: str = field(
        default="scoring_input",
        metadata=_ask(
            "batch input table (in that schema)",
            (STAGING_FILE, "mlops:batch_inference.input_table_name", "last"),
        ),
    )
    output_table: str = field(
        default="predictions",
        metadata=_ask(
            "batch output table (in that schema)",
            (STAGING_FILE, "mlops:batch_inference.output_table_name", "last"),
        ),
    )
    models: str = field(
        default="",
        metadata=_ask(
            "model keys, comma-separated, for several models in one stack, e.g. churn,fraud "
            "(empty: one model)",
            (STAGING_FILE, "mlops:models", "keys"),
            optional=True,
        ),
    )
    training_data: str = field(
        default=WINE["training_data"],
        metadata=_ask(
            "training data: a /databricks-datasets CSV path or a <catalog>.<schema>.<table>",
            (STAGING_FILE, "mlops:training.training_data", ""),
        ),
    )
    label_column: str = field(
        default=WINE["label_column"],
        metadata=_ask(
            "label column the model learns", (STAGING_FILE, "mlops:training.label_column", "")
        ),
    )
    problem_type: str = field(
        default=WINE["problem_type"],
        metadata=_ask(
            "problem type: classification or regression",
            (STAGING_FILE, "mlops:training.problem_type", ""),
        ),
    )
    positive_threshold: str = field(
        default=WINE["positive_threshold"],
        metadata=_ask(
            "classification: labels at or above this are the positive class",
            (STAGING_FILE, "mlops:training.positive_threshold", ""),
            optional=True,
        ),
    )
    split_key_column: str = field(
        default="wine_id",
        metadata=_ask(
            "column that identifies a training row (prod's enforced validation needs one; "
            "empty: prod validates in dry_run)",
            (PROD_FILE, "mlops:training.validation.split_key_columns", "first"),
            optional=True,
        ),
    )
    readers_group: str = field(
        default="users",
        metadata=_ask("workspace readers group", (STAGING_FILE, "mlops:access.readers_group", "")),
    )
    operators_group: str = field(
        default="ml-engineers",
        metadata=_ask(
            "workspace operators group (empty: none)",
            (STAGING_FILE, "mlops:access.operators_group", ""),
            optional=True,
        ),
    )
    model_readers_group: str = field(
        default="wine-quality-model-readers",
        metadata=_ask(
            "account group reading the model (empty: none)",
            (STAGING_FILE, "mlops:access.model_readers_group", ""),
            optional=True,
        ),
    )
    staging_jobs_group: str = field(
        default="wine-quality-staging-jobs",
        metadata=_ask(
            "account group of the staging run-as principal (empty: grant by hand)",
            (STAGING_FILE, "mlops:access.jobs_group", ""),
            optional=True,
        ),
    )
    prod_jobs_group: str = field(
        default="wine-quality-prod-jobs",
        metadata=_ask(
            "account group of the prod run-as principal (empty: grant by hand)",
            (PROD_FILE, "mlops:access.jobs_group", ""),
            optional=True,
        ),
    )
    staging_run_as: str = field(
        default="00000000-0000-0000-0000-00000000a001",
        metadata=_ask(
            "staging run-as service principal (application id)",
            (STAGING_FILE, "mlops:access.run_as_service_principal", ""),
        ),
    )
    prod_run_as: str = field(
        default="00000000-0000-0000-0000-00000000b001",
        metadata=_ask(
            "prod run-as service principal (application id)",
            (PROD_FILE, "mlops:access.run_as_service_principal", ""),
        ),
    )
    staging_budget_policy: str = field(
        default="00000000-0000-0000-0000-00000000c001",
        metadata=_ask(
            "staging serverless budget policy id (its User role to the run-as; "
            "required if serverless)",
            (STAGING_FILE, "mlops:compute.budget_policy_id", ""),
            optional=True,
        ),
    )
    prod_budget_policy: str = field(
        default="00000000-0000-0000-0000-00000000d001",
        metadata=_ask(
            "prod serverless budget policy id (its User role to the run-as; "
            "required if serverless)",
            (PROD_FILE, "mlops:compute.budget_policy_id", ""),
            optional=True,
        ),
    )
    on_failure_email: str = field(
        default="ml-oncall@example.com",
        metadata=_ask(
            "address emailed when a job fails (empty: none)",
            (STAGING_FILE, "mlops:jobs.on_failure_emails", "first"),
            optional=True,
        ),
    )
    repository_url: str = field(
        default="https://github.com/example-org/wine-quality-mlops",
        metadata=_ask(
            "git repository URL the jobs check out", (STAGING_FILE, "mlops:code_source.url", "")
        ),
    )
    git_provider: str = field(
        default="gitHub",
        metadata=_ask(
            "git provider (Jobs API name)", (STAGING_FILE, "mlops:code_source.provider", "")
        ),
    )
    prod_tag: str = field(
        default="v0.1.0",
        metadata=_ask(
            f"first tag prod runs (matching {RELEASE_TAG_PATTERN}, the tags the guide's "
            "rulesets protect)",
            (PROD_FILE, "mlops:code_source.tag", ""),
        ),
    )
    github_repository: str = field(
        default="example-org/wine-quality-mlops",
        metadata=_ask(
            "GitHub repository of the workflows (owner/name)",
            (BOOTSTRAP_FILE, "mlops-bootstrap:github.repository", ""),
        ),
    )
    github_owner_id: str = field(
        default="",
        metadata=_ask(
            "GitHub owner id, if the repository's OIDC subjects carry ids (created or "
            "renamed on or after 2026-07-15): gh api repos/OWNER/NAME --jq .owner.id; "
            "empty if not",
            (BOOTSTRAP_FILE, "mlops-bootstrap:github.owner_id", ""),
            optional=True,
        ),
    )
    github_repository_id: str = field(
        default="",
        metadata=_ask(
            "GitHub repository id, with the owner id: gh api repos/OWNER/NAME --jq .id",
            (BOOTSTRAP_FILE, "mlops-bootstrap:github.repository_id", ""),
            optional=True,
        ),
    )
    aws_account_id: str = field(
        default="123456789012",
        metadata=_ask("AWS account id", (BOOTSTRAP_FILE, "mlops-bootstrap:account_id", "")),
    )
    region: str = field(
        default="us-east-1", metadata=_ask("AWS region", (BOOTSTRAP_FILE, "aws:region", ""))
    )
    state_bucket: str = field(
        default="example-org-mlops-pulumi-state",
        metadata=_ask("state bucket name", (BOOTSTRAP_FILE, "mlops-bootstrap:bucket_name", "")),
    )
    kms_alias: str = field(
        default="wine-quality-pulumi",
        metadata=_ask(
            "KMS alias prefix of the keys", (BOOTSTRAP_FILE, "mlops-bootstrap:kms_alias", "")
        ),
    )
    key_admin_arn: str = field(
        default="arn:aws:iam::123456789012:role/platform-key-admin",
        metadata=_ask(
            "IAM principal that administers the keys",
            (BOOTSTRAP_FILE, "mlops-bootstrap:key_admins", "first"),
        ),
    )
    operator_arn: str = field(
        default="arn:aws:iam::123456789012:role/ml-platform-operator",
        metadata=_ask(
            "IAM principal that runs Pulumi by hand",
            (BOOTSTRAP_FILE, "mlops-bootstrap:operators", "first"),
        ),
    )

    @property
    def state_prefix(self) -> str:
        """The bucket folder of the project's stacks: the project's name."""
        return self.project_name

    @property
    def node_type_id(self) -> str:
        """The job clusters' node type: the answer, or the cloud's default."""
        return self.node_type or NODE_TYPES.get(self.cloud, "")

    @property
    def model_keys(self) -> tuple[str, ...]:
        """The keys of ``mlops:models`` (none: the one-model form)."""
        return tuple(key.strip() for key in self.models.split(",") if key.strip())

    @property
    def wine(self) -> bool:
        """Whether the answers still describe the example's ML problem."""
        return all(getattr(self, name) == value for name, value in WINE.items())


QUESTIONS = {f.name: str(f.metadata["ask"]) for f in fields(TeamAnswers)}
"""Answer key -> the question ``init`` asks, in the order it asks them."""


@lru_cache(maxsize=4096)
def _text(value: str) -> str:
    """An answer as a YAML scalar that reads back as that text: plain when it can be, else
    double-quoted (an answer such as ``a: b`` or ``#x`` must not change the file's shape)."""
    try:
        plain = load_yaml(value) == value and value == value.strip()
    except yaml.YAMLError:
        plain = False
    return value if plain and value else json.dumps(value)


def _line(indent: str, key: str, value: str, *, raw: bool = False) -> str:
    """``key: value`` on its own line, or nothing for an empty (optional) answer."""
    return f"{indent}{key}: {value if raw else _text(value)}\n" if value else ""


def _thresholds(answers: TeamAnswers) -> str:
    if answers.problem_type == "regression":
        return (
            "      thresholds:\n"
            "        r2_score:\n"
            "          threshold: 0.0\n"
            "          tolerance: 0.01\n"
        )
    wine_comment = (
        '      # Predicting "not good" for every wine scores accuracy 0.88 on the red-wine data '
        "but\n"
        "      # roc_auc 0.5 and f1_score 0: these reject it; the forest scores about 0.85-0.88 "
        "and\n"
        "      # 0.29-0.37 on the hold-out rows.\n"
    )
    return (
        (wine_comment if answers.wine else "") + "      thresholds:\n"
        "        roc_auc:\n"
        "          threshold: 0.75\n"
        "          tolerance: 0.01\n"
        "        f1_score:\n"
        "          threshold: 0.2\n"
        "          tolerance: 0.05\n"
    )


def _training_data(answers: TeamAnswers, catalog: str, prod: bool) -> str:
    """The training data line: the answer, except that prod, which enforces validation and so
    needs a row id, trains on ``<catalog>.<schema>.training`` while the answer is the sample CSV
    (it has no id column; README, "The model gate on day two")."""
    if prod and answers.training_data == WINE["training_data"]:
        return (
            "    # Enforced validation needs a row id: the sample CSV has none, so prod trains on "
            'a table\n    # with one (README, "The model gate on day two").\n'
            f"    training_data: {_text(f'{catalog}.{answers.schema}.training')}\n"
        )
    return f"    training_data: {_text(answers.training_data)}\n"


def _compute(answers: TeamAnswers, prod: bool) -> str:
    """The jobs' compute: a pinned serverless environment with the stack's budget policy, or
    classic job clusters of the cloud's node type."""
    if answers.compute == "classic":
        return (
            "  mlops:cluster:\n"
            "    spark_version: 15.4.x-cpu-ml-scala2.12\n"
            f"    node_type_id: {_text(answers.node_type_id)}\n"
            f"    num_workers: {3 if prod else 2}\n"
            "    data_security_mode: SINGLE_USER\n"
            "    custom_tags:\n"
            "      cost-center: ml-platform\n"
        )
    policy = answers.prod_budget_policy if prod else answers.staging_budget_policy
    return (
        "  # Serverless jobs in a pinned environment; for classic job clusters, type: classic\n"
        '  # and a cluster section instead (README.md, "Compute").\n'
        "  mlops:compute:\n"
        f"    type: {_text(answers.compute)}\n"
        '    environment_version: "5"\n' + _line("    ", "budget_policy_id", policy)
    )


def _stack_file(answers: TeamAnswers, stack: str, secrets_provider: str) -> str:
    """A stack file: the one-model form, or with several model keys their training and batch
    inference sections under ``mlops:models``, each model writing ``<key>_<output table>``."""
    text = _one_model_stack_file(answers, stack, secrets_provider)
    if not answers.model_keys:
        return text
    start, end = text.index("  mlops:training:\n"), text.index("  mlops:jobs:\n")
    # Without the example's comments: the edit of an existing file places a moved comment
    # line as the render of the one-model form had it (edits.py keeps comments where they are).
    sections = "".join(
        line
        for line in text[start:end].splitlines(keepends=True)
        if not line.lstrip().startswith("#")
    )
    catalog = answers.prod_catalog if stack == "prod" else answers.staging_catalog
    output = f"output_table_name: {_text(f'{catalog}.{answers.schema}.{answers.output_table}')}"
    models = "  mlops:models:\n"
    for key in answers.model_keys:
        table = f"{catalog}.{answers.schema}.{key.replace('-', '_')}_{answers.output_table}"
        own = sections.replace(output, f"output_table_name: {_text(table)}")
        models += f"    {key}:\n" + "".join(
            f"      {line[len('  mlops:') :]}" if line.startswith("  mlops:") else f"    {line}"
            for line in own.splitlines(keepends=True)
        )
    return text[:start] + models + text[end:]


def _one_model_stack_file(answers: TeamAnswers, stack: str, secrets_provider: str) -> str:
    prod = stack == "prod"
    catalog = answers.prod_catalog if prod else answers.staging_catalog
    host = answers.prod_host if prod else answers.staging_host
    classification = answers.problem_type != "regression"
    header = (
        "# Prod: runs an immutable tag, validation enforced, experiment and model protected.\n"
        "# Promote model code with a pull request that bumps code_source.tag; before prod "
        "deploys, the\n# deploy workflow runs that tag once in staging (docs/deployment.md, "
        '"Promote to prod").\n'
        if prod
        else "# Staging: follows main, schedules running, validation reports only.\n"
    )
    emails = (
        f"    on_failure_emails:\n      - {_text(answers.on_failure_email)}\n"
        if answers.on_failure_email
        else ""
    )
    return (
        header + '# Every key is described in README.md ("Config reference").\n'
        "# Stack secrets are encrypted with this stack's own KMS key (bootstrap/ creates it);\n"
        "# `pulumi stack init <stack> --secrets-provider <this URL>` adds the stack's "
        "`encryptedkey`\n# below it the first time.\n"
        f"secretsprovider: {secrets_provider}\n"
        "config:\n"
        f"  databricks:host: {_text(host)}\n"
        f"  mlops:project_name: {_text(answers.project_name)}\n"
        f"  mlops:protect_ml_assets: {'true' if prod else 'false'}\n"
        "  mlops:model:\n"
        "    registry: unity_catalog\n"
        f"    catalog: {_text(catalog)}\n"
        f"    schema: {_text(answers.schema)}\n"
        "  mlops:code_source:\n"
        "    type: git\n"
        f"    url: {_text(answers.repository_url)}\n"
        + _line("    ", "provider", answers.git_provider)
        + (f"    tag: {_text(answers.prod_tag)}\n" if prod else "    branch: main\n")
        + _compute(answers, prod)
        + "  mlops:training:\n"
        "    schedule:\n"
        f"      quartz_cron: {'0 0 9 ? * MON' if prod else '0 0 9 * * ?'}\n"
        "      timezone: UTC\n"
        "      paused: false\n"
        + _training_data(answers, catalog, prod)
        + f"    label_column: {_text(answers.label_column)}\n"
        f"    problem_type: {_text(answers.problem_type)}\n"
        + (
            _line("    ", "positive_threshold", answers.positive_threshold, raw=True)
            if classification
            else ""
        )
        + f"    run_mode: {'enabled' if prod and answers.split_key_column else 'dry_run'}\n"
        "    validation:\n"
        "      holdout_percent: 20\n"
        + (
            f"      split_key_columns: [{_text(answers.split_key_column)}]\n"
            if answers.split_key_column and (prod or answers.training_data != WINE["training_data"])
            else ""
        )
        + "      baseline_check: true\n"
        + _thresholds(answers)
        + "  mlops:batch_inference:\n"
        f"    input_table_name: {_text(f'{catalog}.{answers.schema}.{answers.input_table}')}\n"
        f"    output_table_name: {_text(f'{catalog}.{answers.schema}.{answers.output_table}')}\n"
        "    schedule:\n"
        "      quartz_cron: 0 0 11 * * ?\n"
        "      timezone: UTC\n"
        "      paused: false\n"
        "    output_table_exists: false\n"
        "  mlops:jobs:\n"
        "    timeout_seconds: 7200\n"
        f"    max_retries: {2 if prod else 1}\n" + emails + "  mlops:access:\n"
        f"    readers_group: {_text(answers.readers_group)}\n"
        + _line("    ", "operators_group", answers.operators_group)
        + "    run_as_service_principal: "
        f"{_text(answers.prod_run_as if prod else answers.staging_run_as)}\n"
        + _line(
            "    ", "jobs_group", answers.prod_jobs_group if prod else answers.staging_jobs_group
        )
        + _line("    ", "model_readers_group", answers.model_readers_group)
    )


def _bootstrap_file(answers: TeamAnswers) -> str:
    ids = _line("    ", "owner_id", answers.github_owner_id, raw=True) + _line(
        "    ", "repository_id", answers.github_repository_id, raw=True
    )
    return (
        "# The one bootstrap stack: state bucket, KMS keys and CI roles for this AWS account.\n"
        '# Every key is described in docs/deployment.md ("Bootstrap config").\n'
        "config:\n"
        f"  aws:region: {_text(answers.region)}\n"
        f"  mlops-bootstrap:account_id: {json.dumps(answers.aws_account_id)}\n"
        f"  mlops-bootstrap:bucket_name: {_text(answers.state_bucket)}\n"
        f"  mlops-bootstrap:state_prefix: {_text(answers.state_prefix)}\n"
        "  mlops-bootstrap:project: mlops\n"
        "  mlops-bootstrap:stacks:\n"
        "    - staging\n"
        "    - prod\n"
        "  mlops-bootstrap:noncurrent_version_days: 90\n"
        f"  mlops-bootstrap:kms_alias: {_text(answers.kms_alias)}\n"
        "  mlops-bootstrap:key_admins:\n"
        f"    - {_text(answers.key_admin_arn)}\n"
        "  mlops-bootstrap:operators:\n"
        f"    - {_text(answers.operator_arn)}\n"
        "  mlops-bootstrap:github:\n"
        f"    repository: {_text(answers.github_repository)}\n"
        f"{ids}"
        "    create_oidc_provider: true\n"
        f"    role_prefix: {_text(answers.project_name)}\n"
        "    read_environments:\n"
        "      staging: staging-preview\n"
        "      prod: prod-drift\n"
    )


def _project_file(backend_url: str) -> str:
    return (
        "name: mlops\n"
        "description: Databricks MLOps resources (experiment, model, training and batch "
        "inference jobs) per environment\n"
        "runtime:\n"
        "  name: python\n"
        "  options:\n"
        "    toolchain: pip\n"
        "    virtualenv: venv\n"
        "# Refresh before every update and preview: the serving endpoint's served version is "
        "moved by the\n"
        '# training job and ignored by the program after create (README, "Real-time '
        'serving"), and the\n'
        "# provider sends the whole endpoint config on any config change, so an update must "
        "carry the\n"
        "# live version, not the one of the last `up`.\n"
        "options:\n"
        "  refresh: always\n"
        "# Shared state: staging and prod side by side in the bucket that bootstrap/ creates.\n"
        "# PULUMI_BACKEND_URL overrides this (e.g. file://~/.pulumi-state to try the program "
        "locally).\n"
        "backend:\n"
        f"  url: {backend_url}\n"
    )


def _namespace(path: str) -> str:
    return BOOTSTRAP.name if path == BOOTSTRAP_FILE else NAMESPACE


def _validated(
    path: str,
    text: str,
    namespace: str,
    validator: Callable[[RawConfig, str], T],
    stack: str,
    problems: list[str],
) -> T | None:
    """``validator``'s model of a rendered stack file (read as the CLI reads the file on
    disk), or None with its problems (file: key: ...) added to ``problems``."""
    try:
        return validator(RawConfig(*encode_config(parse_config(text, path, namespace))), stack)
    except StackFileError as error:
        problems.append(str(error))
    except ConfigError as error:
        problems += [f"{error.stack_file}: {p}" for p in error.problems]
    return None


def _files(answers: TeamAnswers, bootstrap: BootstrapConfig | None) -> dict[str, str]:
    """The texts ``answers`` render, the backend URL and secrets providers from ``bootstrap``
    (the bootstrap program's validated config, as it exports them; empty without one)."""
    files = {PROJECT_FILE: _project_file(bootstrap.backend_url if bootstrap else "")}
    for stack, path in zip(STACKS, (STAGING_FILE, PROD_FILE), strict=True):
        provider = bootstrap.secrets_provider(stack) if bootstrap else ""
        files[path] = _stack_file(answers, stack, provider)
    files[BOOTSTRAP_FILE] = _bootstrap_file(answers)
    return files


def _bootstrap(answers: TeamAnswers, problems: list[str]) -> BootstrapConfig | None:
    return _validated(
        BOOTSTRAP_FILE,
        _bootstrap_file(answers),
        BOOTSTRAP.name,
        validate_bootstrap,
        "shared",
        problems,
    )


def _file_problems(files: Mapping[str, str], bootstrap_problems: list[str]) -> list[str]:
    """Every problem of the stack files (each validated as its stack) and the bootstrap's."""
    problems: list[str] = []
    for stack, path in zip(STACKS, (STAGING_FILE, PROD_FILE), strict=True):
        _validated(path, files[path], NAMESPACE, validate, stack, problems)
    return problems + bootstrap_problems


class AnswerError(Exception):
    """The answers are refused; each problem names the answer it comes from."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(
            f"{len(problems)} problem(s) in the answers:\n{lines}\nNothing was written."
        )


def answer_problems(answers: TeamAnswers) -> list[str]:
    """Problems of the answers themselves, before any file is rendered."""
    problems = []
    if answers.cloud not in NODE_TYPES:
        problems.append(f"cloud: expected one of {', '.join(NODE_TYPES)}, got {answers.cloud!r}")
    if answers.problem_type not in PROBLEM_TYPES:
        problems.append(
            f"problem_type: expected {' or '.join(PROBLEM_TYPES)}, got {answers.problem_type!r}"
        )
    if not fnmatch.fnmatchcase(answers.prod_tag, RELEASE_TAG_PATTERN):
        problems.append(
            f"prod_tag: expected a tag matching {RELEASE_TAG_PATTERN} (e.g. v0.1.0), got "
            f"{answers.prod_tag!r}: the tag rulesets of docs/deployment.md (section 4) protect "
            f"refs/tags/{RELEASE_TAG_PATTERN} only, and prod must run a tag nobody can move"
        )
    for key in answers.model_keys:
        key_problem = model_key_problem(key)
        if key_problem:
            problems.append(f"models: {key_problem}")
    if len(set(answers.model_keys)) != len(answers.model_keys):
        problems.append(f"models: a key appears twice in {answers.models!r}")
    return problems


_ALTERNATIVES = {
    "cloud": "gcp",
    "problem_type": "regression",
    "positive_threshold": "1234",
    "github_owner_id": "1234",
    "github_repository_id": "5678",
}
"""A value other than the default for each answer, rendered to find the keys it feeds."""


def _leaves(prefix: str, value: Any) -> Iterable[tuple[str, Any]]:
    """(key as a problem spells it, value) of every leaf of a config value."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _leaves(f"{prefix}.{key}", item)
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from _leaves(f"{prefix}[{index}]", item)
    else:
        yield prefix, value


def _config_leaves(files: Mapping[str, str]) -> dict[tuple[str, str], Any]:
    leaves = {}
    for path, text in files.items():
        if path == PROJECT_FILE:
            continue
        for key, value in parse_config(text, path, _namespace(path)).items():
            leaves.update({(path, k): v for k, v in _leaves(key, value)})
    return leaves


@cache
def answer_keys() -> dict[tuple[str, str], tuple[str, ...]]:
    """(file, key) -> the answers whose value it holds, found by rendering each answer with
    another value and seeing which keys change."""
    base = _config_leaves(_files(TeamAnswers(), None))
    found: dict[tuple[str, str], list[str]] = {}
    for name in QUESTIONS:
        other = dataclasses.replace(TeamAnswers(), **{name: _ALTERNATIVES.get(name, "zz-9")})
        changed = _config_leaves(_files(other, None))
        for key in set(base) | set(changed):
            if base.get(key) != changed.get(key):
                found.setdefault(key, []).append(name)
    return {key: tuple(names) for key, names in found.items()}


def _attributed(problem: str) -> str:
    """A file's problem (``file: key: message``) said as the answers' problem: the answers the
    key holds first, then the message, then where it is."""
    path, _, rest = problem.partition(": ")
    key, _, message = rest.partition(": ")
    keys = answer_keys()
    names = keys.get((path, key)) or next(
        (
            names
            for (file, leaf), names in keys.items()
            if file == path
            and (
                leaf.startswith((f"{key}.", f"{key}[")) or key.startswith((f"{leaf}.", f"{leaf}["))
            )
        ),
        None,
    )
    if not names or not message:
        return problem
    return f"{', '.join(names)}: {message} ({path}: {key})"


def render(answers: TeamAnswers) -> dict[str, str]:
    """Every file ``init`` writes (path relative to the repository -> text), validated with
    the programs' own validation; raises AnswerError listing every problem by answer.

    The bootstrap file renders first: the backend URL and each stack's secrets provider are
    its validated config's (:class:`~mlops_resources.config.bootstrap.BootstrapConfig`), as
    the bootstrap program exports them.
    """
    problems = answer_problems(answers)
    bootstrap_problems: list[str] = []
    files = _files(answers, _bootstrap(answers, bootstrap_problems))
    # Without a valid bootstrap the stack files are still rendered (with no backend or
    # secrets provider) and validated: every problem is reported at once.
    problems += [_attributed(p) for p in _file_problems(files, bootstrap_problems)]
    if problems:
        raise AnswerError(problems)
    return files


def _read(config: Mapping[str, Any], key: str) -> Any:
    """A value of a stack file's namespaced config by ``namespace:section.key``; None."""
    top, *nested = key.split(".")
    value = config.get(top)
    for part in nested:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _answer_text(value: Any, how: str) -> str | None:
    if how == "keys":
        return ",".join(value) if isinstance(value, dict) and value else None
    if how == "first":
        value = value[0] if isinstance(value, list) and value else None
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return text.rsplit(".", 1)[-1] if how == "last" else text


def cloud_of(host: str, node_type: str) -> str:
    """The cloud a workspace is on: from its node type when that is a cloud's default, else
    from its URL."""
    for cloud, default in NODE_TYPES.items():
        if node_type == default:
            return cloud
    return next((c for c, suffix in CLOUD_HOSTS.items() if suffix in host), "aws")


def _one_model_view(config: dict[str, Any]) -> dict[str, Any]:
    """A stack file's config with its first model's sections (``mlops:models``) at the top, as
    the one-model form has them, its output table without the ``<key>_`` that :func:`render`
    gave it: where the answers are read back from."""
    models = config.get("mlops:models")
    if not isinstance(models, dict) or not models:
        return config
    key, first = next(iter(models.items()))
    view = dict(config)
    for name, section in first.items() if isinstance(first, dict) else ():
        view.setdefault(f"mlops:{name}", section)
    batch = view.get("mlops:batch_inference")
    if isinstance(batch, dict) and isinstance(batch.get("output_table_name"), str):
        head, _, table = batch["output_table_name"].rpartition(".")
        prefix = f"{str(key).replace('-', '_')}_"
        table = table.removeprefix(prefix)
        view["mlops:batch_inference"] = {**batch, "output_table_name": f"{head}.{table}"}
    return view


def current_answers(project_dir: Path | None = None) -> TeamAnswers:
    """The answers the project's files hold now, read back from where each is rendered; the
    example's where a file (or an optional key: then empty) is missing."""
    project_dir = project_dir or PROJECT_DIR
    configs: dict[str, dict[str, Any]] = {}
    for path in (STAGING_FILE, PROD_FILE, BOOTSTRAP_FILE):
        try:
            configs[path] = _one_model_view(
                parse_config((project_dir / path).read_text(), path, _namespace(path))
            )
        except (OSError, StackFileError):
            continue
    values: dict[str, str] = {}
    for answer in fields(TeamAnswers):
        source = answer.metadata["from"]
        if source is None or source[0] not in configs:
            continue
        path, key, how = source
        text = _answer_text(_read(configs[path], key), how)
        if text is not None:
            values[answer.name] = text
        elif answer.metadata.get("optional"):
            values[answer.name] = ""
    if STAGING_FILE in configs and _read(configs[STAGING_FILE], "mlops:compute") is None:
        values["compute"] = "classic"  # a stack file without the key runs job clusters
    answers = dataclasses.replace(TeamAnswers(), **values)
    cloud = cloud_of(answers.staging_host, answers.node_type)
    node_type = "" if answers.node_type == NODE_TYPES[cloud] else answers.node_type
    return dataclasses.replace(answers, cloud=cloud, node_type=node_type)


class InitConflictError(Exception):
    """A value the answers change was also changed by hand: it is not overwritten."""

    def __init__(self, conflicts: list[tuple[str, Conflict]]) -> None:
        self.conflicts = conflicts
        lines = "\n".join(f"  - {path}: {_conflict(c)}" for path, c in conflicts)
        super().__init__(
            f"{len(conflicts)} value(s) the answers change were edited by hand:\n{lines}\n"
            "Edit them by hand, or pass --force to write the answers' values. "
            "Nothing was written."
        )


def _conflict(conflict: Conflict) -> str:
    if conflict.found == MISSING_TEXT:
        return (
            f"{conflict.key} is not in the file (or its section is written differently); the "
            f"answers give {conflict.wanted!r}"
        )
    return (
        f"{conflict.key} holds {conflict.found!r}, not {conflict.expected!r} as the answers "
        f"before this change render it; they now give {conflict.wanted!r}"
    )


@dataclass(frozen=True)
class InitResult:
    """What ``init`` wrote (or, dry, would write)."""

    changed: list[Path]
    """Files written (or that would be)."""
    diff: str
    """Unified diff of every changed file."""
    kept: tuple[str, ...] = ()
    """Notes on Pulumi-managed keys kept although the answers would change them."""


def init_team(
    answers: TeamAnswers,
    *,
    force: bool = False,
    dry_run: bool = False,
    project_dir: Path | None = None,
) -> InitResult:
    """Edit the project's files in ``project_dir`` to hold ``answers``: each file changes
    only where the answers' render changes (from the answers it holds now), so hand edits,
    comments and Pulumi-managed keys stay. A missing file is written whole.

    Raises AnswerError (every problem, naming the answer) and InitConflictError (a value the
    answers change that was edited by hand, unless ``force``) before writing anything.
    """
    project_dir = project_dir or PROJECT_DIR
    problems = answer_problems(answers)
    if problems:
        raise AnswerError(problems)
    now = current_answers(project_dir)
    before = _files(now, _bootstrap(now, []))
    bootstrap_problems: list[str] = []
    after = _files(answers, _bootstrap(answers, bootstrap_problems))
    texts: dict[str, str] = {}
    conflicts: list[tuple[str, Conflict]] = []
    kept: list[str] = []
    for path, new in after.items():
        target = project_dir / path
        if not target.exists():
            texts[path] = new
            continue
        current = target.read_text()
        # Once `pulumi stack init` encrypted the stack's data key, its provider stays.
        frozen = ("secretsprovider",) if PULUMI_MANAGED.search(current) else ()
        try:
            patched = patch(
                current, before[path], new, namespace=_namespace(path), force=force, frozen=frozen
            )
        except yaml.YAMLError as error:
            raise AnswerError(
                [f"{path}: not valid YAML, so it cannot be edited: {error}"]
            ) from None
        texts[path] = patched.text
        conflicts += [(path, c) for c in patched.conflicts]
        kept += [
            f"{path}: {key} kept (the stack's data key is encrypted with it; change it with "
            "`pulumi stack change-secrets-provider`)"
            for key in patched.frozen
        ]
    if conflicts:
        raise InitConflictError(conflicts)
    problems = [_attributed(p) for p in _file_problems(texts, bootstrap_problems)]
    if problems:
        raise AnswerError(problems)
    changed: list[Path] = []
    diff: list[str] = []
    for path, text in texts.items():
        target = project_dir / path
        old = target.read_text() if target.exists() else ""
        if text == old:
            continue
        changed.append(target)
        diff += difflib.unified_diff(
            old.splitlines(keepends=True), text.splitlines(keepends=True), f"a/{path}", f"b/{path}"
        )
        if not dry_run:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    return InitResult(changed, "".join(diff), tuple(kept))


def answers_from(mapping: Mapping[str, Any], base: TeamAnswers | None = None) -> TeamAnswers:
    """``base`` (default: the example) with answers from a mapping (an answers file, --set);
    unknown keys are refused by name."""
    known = {f.name for f in fields(TeamAnswers)}
    unknown = sorted(set(mapping) - known)
    if unknown:
        raise ValueError(
            f"unknown answer(s) {', '.join(unknown)}; expected some of: {', '.join(sorted(known))}"
        )
    given = {k: _answer_text(v, "") or "" for k, v in mapping.items()}
    base = base or TeamAnswers()
    if "cloud" in given and "node_type" not in given and given["cloud"] != base.cloud:
        given["node_type"] = ""  # the new cloud's default, unless one was asked for
    return dataclasses.replace(base, **given)


def kept_examples(answers: TeamAnswers) -> list[str]:
    """The answers that still hold the example's value (optional ones left empty aside)."""
    example = TeamAnswers()
    return [
        f.name
        for f in fields(TeamAnswers)
        if getattr(answers, f.name) == getattr(example, f.name) != ""
        and f.metadata["from"] is not None
    ]


def ask(answers: TeamAnswers, answered: set[str]) -> TeamAnswers:
    """Ask for every answer not given yet, showing the current value; Enter keeps it, '-'
    empties an optional one."""
    for name, question in QUESTIONS.items():
        if name in answered:
            continue
        if name == "positive_threshold" and answers.problem_type == "regression":
            continue
        current = answers.node_type_id if name == "node_type" else getattr(answers, name)
        reply = input(f"{question} [{current}]: ").strip()
        if reply == "-" and fields_by_name()[name].metadata.get("optional"):
            answers = dataclasses.replace(answers, **{name: ""})
        elif reply:
            answers = answers_from({name: reply}, answers)
    return answers


@cache
def fields_by_name() -> dict[str, dataclasses.Field[Any]]:
    return {f.name: f for f in fields(TeamAnswers)}
