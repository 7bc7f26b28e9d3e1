"""Config validation of a stack of several models (``mlops:models``), apart from resources:
every model is validated as a one-model stack, its problems reported at its own keys."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_resources import PROJECT_DIR
from mlops_resources.config.load import validate
from mlops_resources.config.reading import ConfigError, RawConfig
from mlops_resources.config.stack import StackConfig
from mlops_resources.config.stack_files import encode_config, parse_config
from mlops_resources.config.unity_catalog import (
    GrantKey,
    Securable,
    grant_plan,
    stack_grant_plan,
)
from mlops_resources.policies.cross_stack import (
    SHARED_GRANTS,
    SHARED_TABLES,
    cross_stack_violations,
)
from tests.stacks import (
    MODEL_SECTIONS,
    example_stack_file,
    models_overrides,
    personal_stack_overrides,
    section,
)

OUTPUT = "mlops:batch_inference.output_table_name"


def _validate(
    models: dict[str, dict[str, Any]],
    extra: dict[str, Any] | None = None,
    stack: str = "staging",
    as_stack: str | None = None,
    others: list[tuple[str, StackConfig]] | None = None,
) -> StackConfig:
    source = example_stack_file(stack, {**models_overrides(stack, models), **(extra or {})})
    return validate(RawConfig(source.values, source.secret_keys), as_stack or stack, others or [])


def _problems(*args: Any, **kwargs: Any) -> str:
    with pytest.raises(ConfigError) as error:
        _validate(*args, **kwargs)
    return str(error.value)


def test_each_model_gets_its_key_in_its_names_and_its_overrides() -> None:
    cfg = _validate({"churn": {}, "fraud-eu": {"jobs": {"max_retries": 3}}})
    views = cfg.model_views()
    assert [v.model_key for v in views] == ["churn", "fraud-eu"]
    churn, fraud = views
    assert fraud.training_job_name == "staging-wine-quality-fraud-eu-model-training-job"
    assert fraud.model_name == "staging.wine_quality.staging_wine_quality_fraud_eu_model"
    assert fraud.serving_endpoint_name == "staging-wine-quality-fraud-eu-endpoint"
    # An override is merged key by key into the shared section.
    assert (churn.jobs.max_retries, fraud.jobs.max_retries) == (1, 3)
    assert fraud.jobs.timeout_seconds == churn.jobs.timeout_seconds


def test_the_one_model_form_has_no_key_and_its_names_stay() -> None:
    source = example_stack_file("staging")
    cfg = validate(RawConfig(source.values, source.secret_keys), "staging")
    assert cfg.model_views() == (cfg,) and cfg.model_key is None
    assert cfg.training_job_name == "staging-wine-quality-model-training-job"
    assert cfg.model_name == "staging.wine_quality.staging_wine_quality_model"


def test_mixing_the_one_model_sections_with_models_is_refused() -> None:
    training = section("staging", "training")
    message = _problems({"churn": {}}, {"mlops:training": training})
    assert "Pulumi.staging.yaml" in message
    assert "mlops:training: a stack with mlops:models declares each model's training" in message


@pytest.mark.parametrize(
    ("key", "found"),
    [
        ("Churn", "expected a model key of lowercase letters"),
        ("a" * 21, "at most 20 characters"),
        ("churn--eu", "words joined by single hyphens"),
    ],
)
def test_a_bad_model_key_is_refused(key: str, found: str) -> None:
    message = _problems({key: {}})
    assert "mlops:models: " in message and found in message


def test_model_entries_are_checked_and_problems_named_at_the_models_key() -> None:
    message = _problems(
        {
            "churn": {"training": {**section("staging", "training"), "label_column": "bad column"}},
            "fraud": {"schedules": {}, "access": {"run_as_service_principal": "x"}},
        }
    )
    assert "mlops:models.churn.training.label_column" in message
    assert "mlops:models.fraud.schedules: unknown key; expected one of:" in message
    assert (
        "mlops:models.fraud.access.run_as_service_principal: the stack's models run as" in message
    )


def test_a_model_may_not_narrow_who_reads_its_experiment() -> None:
    """Every model's experiment sits in the stack's one folder, and "Objects in a folder
    inherit all permissions settings of that folder" (Databricks docs, "Share workspace objects
    using folders"; provider ``docs/resources/permissions.md``, "Folder usage"): a model's own
    ``readers_group`` would still let the shared group read it, so it is refused, while its
    ``model_readers_group`` (a Unity Catalog grant on its own model) is allowed."""
    message = _problems({"churn": {}, "fraud": {"access": {"readers_group": "fraud-team"}}})
    assert "mlops:models.fraud.access.readers_group: the stack's one folder holds" in message
    assert "inherit all permissions settings of that folder" in message
    _validate({"churn": {}, "fraud": {"access": {"model_readers_group": "fraud-readers"}}})


def test_two_models_writing_one_table_are_refused() -> None:
    batch = section("staging", "batch_inference")
    message = _problems({"churn": {"batch_inference": batch}, "fraud": {"batch_inference": batch}})
    assert (
        f"mlops:models.fraud.batch_inference.output_table_name: {batch['output_table_name']!r} "
        "is a table of model 'churn' too" in message
    )


def test_two_models_sharing_one_registered_model_are_refused() -> None:
    model = {**section("staging", "model"), "name": "wine"}
    message = _problems({"churn": {"model": model}, "fraud": {"model": model}})
    assert "mlops:models.fraud.model.name: 'staging.wine_quality.staging_wine' is the" in message


def test_the_name_length_checks_run_per_model() -> None:
    """The endpoint name cap (serving) counts the model key: a project name that fits alone
    is too long with a long key."""
    serving = {"enabled": True, "query_group": "wine-quality-clients"}
    project = {"mlops:project_name": "p" * 30}
    _validate({"churn": {"serving": serving}}, project)
    message = _problems({"a" * 20: {"serving": serving}, "churn": {"serving": serving}}, project)
    assert f"model {'a' * 20!r} of mlops:models: its key is in the name" in message
    assert "'churn'" not in message


def test_a_personal_stack_writing_a_models_table_of_staging_is_refused() -> None:
    staging = _validate({"churn": {}, "fraud": {}})
    overrides = personal_stack_overrides("x", jobs_group="wine-quality-dev-x-jobs")
    message = _problems(
        {"mine": {}, "fraud": {}},
        overrides,
        as_stack="dev-x",
        others=[("Pulumi.staging.yaml", staging)],
    )
    assert (
        "mlops:models.fraud.batch_inference.output_table_name: "
        "'staging.wine_quality.fraud_predictions' is a table of Pulumi.staging.yaml" in message
    )
    assert "mlops:models.mine." not in message


def test_the_stacks_grant_plan_merges_every_models_privileges_per_securable() -> None:
    """``databricks.Grant`` is authoritative for its principal on its securable
    (terraform-provider-databricks ``catalog/resource_grant.go``): one plan entry, the union.
    Here the jobs group needs CREATE_TABLE on the schema for churn's new output table, while
    fraud's output table pre-dates its job (MODIFY and SELECT on it, USE_SCHEMA only)."""
    batch = section("staging", "batch_inference")
    cfg = _validate(
        {
            "churn": {},
            "fraud": {
                "batch_inference": {
                    **batch,
                    "output_table_exists": True,
                    "output_table_name": "staging.wine_quality.fraud_out",
                }
            },
        }
    )
    churn, fraud = cfg.model_views()
    plan = stack_grant_plan(cfg)
    schema = GrantKey("wine-quality-staging-jobs", Securable("schema", "staging.wine_quality"))
    assert grant_plan(fraud)[schema] == ("USE_SCHEMA",)
    assert plan[schema] == ("CREATE_TABLE", "USE_SCHEMA")
    for view in (churn, fraud):
        for key, privileges in grant_plan(view).items():
            assert set(privileges) <= set(plan[key])
    assert set(plan) == set(grant_plan(churn)) | set(grant_plan(fraud))
    assert stack_grant_plan(churn) == grant_plan(churn)


def test_the_readmes_three_model_example_validates() -> None:
    readme = (PROJECT_DIR / "README.md").read_text()
    section = readme.split("## Several models in one stack")[1]
    example = section.split("```yaml\n")[1].split("```")[0]
    values, secret = encode_config(parse_config(example, "README.md", "mlops"))
    cfg = validate(RawConfig(values, secret), "staging")
    assert [view.model_key for view in cfg.model_views()] == ["red", "white", "rose"]
    assert cfg.model_views()[2].access.model_readers_group == "wine-quality-rose-readers"


def test_the_cross_stack_check_compares_every_model_of_both_stacks() -> None:
    """The offline ``check`` over the committed files: a table one stack's model writes that
    the other's reads, and a grant both manage (merged plans on both sides)."""
    staging = _validate({"churn": {}, "fraud": {}})
    personal = personal_stack_overrides("x", jobs_group="wine-quality-staging-jobs")
    shared = {k: v for k, v in personal.items() if k.split(":")[1] not in MODEL_SECTIONS}
    other = _validate({"fraud": {}}, shared, as_stack="dev-x")
    found = cross_stack_violations([("Pulumi.staging.yaml", staging), ("Pulumi.dev-x.yaml", other)])
    assert any(
        v.policy == SHARED_TABLES
        and v.stack == "Pulumi.dev-x.yaml"
        and v.message.startswith("mlops:models.fraud.batch_inference.output_table_name: ")
        for v in found
    )
    assert any(
        v.policy == SHARED_GRANTS
        and v.message.startswith("mlops:access.jobs_group: Pulumi.staging.yaml already manages")
        for v in found
    )
