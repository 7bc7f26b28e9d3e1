"""Real-time serving of the champion (``mlops:serving``), as a story: a team turns serving on
before any model is trained, trains, deploys, promotes a new champion, and deploys again.

Evidence (terraform-provider-databricks v1.118.0, pulumi_databricks 1.118):
- ``pluginfw/products/registered_model/data_registered_model.go`` ``Read``: the aliases, an
  empty list when there are none; "failed to get registered model <name>" when it is missing.
- ``serving/resource_model_serving.go``: ``Read`` writes the live endpoint into state
  (``common.StructToData``) with no diff suppression on ``entity_version``; ``name`` and
  ``route_optimized`` are ForceNew; ``serving_endpoint_id`` is the id ``Permissions`` takes.
- ``permissions/permission_definitions.go`` (``serving-endpoints``): CAN_VIEW, CAN_QUERY,
  CAN_MANAGE; the caller is added as CAN_MANAGE when absent (``AddCurrentUserAsManage``).
- ``ModelServingConfigServedEntityArgs.entity_version``: ``Optional[str]``.
"""

from __future__ import annotations

from typing import Any

import pulumi_databricks as databricks
import pytest

from mlops_resources.config.load import validate
from mlops_resources.config.reading import RawConfig
from mlops_resources.config.serving import endpoint_name_problem
from mlops_resources.config.unity_catalog import GrantKey, Securable, grant_plan
from mlops_resources.databricks import serving
from mlops_resources.offline.evaluation import IGNORED, Evaluation
from mlops_resources.offline.render import render_tree
from tests.stacks import example_stack_file, params, run_stack

ENDPOINT = "databricks:index/modelServing:ModelServing"
SERVING: dict[str, Any] = {
    "enabled": True,
    "query_group": "wine-quality-clients",
    "rate_limits": [{"calls": 100, "key": "user"}],
    "inference_table": {"enabled": True},
}
ON = {"mlops:serving": SERVING}
NAME = "staging-wine-quality-endpoint"
MODEL = "staging.wine_quality.staging_wine_quality_model"
RUN_AS = "00000000-0000-0000-0000-00000000a001"


@pytest.fixture(scope="module")
def before_champion() -> Evaluation:
    """Serving turned on in a stack whose model has no champion yet (a new stack)."""
    return run_stack("staging", ON)


@pytest.fixture(scope="module")
def champion_3() -> Evaluation:
    """The deploy after the first training run: champion is version 3."""
    return run_stack("staging", ON, champion=3, endpoints={})


@pytest.fixture(scope="module")
def champion_4() -> Evaluation:
    """ModelDeployment promoted version 4 (and ServingUpdate moved the endpoint to it)."""
    return run_stack("staging", ON, champion=4, endpoints={NAME: "4"})


def test_before_the_first_champion_the_preview_succeeds_declares_no_endpoint_and_says_why(
    before_champion: Evaluation,
) -> None:
    assert before_champion.of_type(ENDPOINT) == []
    assert "serving_endpoint_name" not in before_champion.outputs
    assert len(before_champion.warnings) == 1
    warning = before_champion.warnings[0]
    assert f"endpoint {NAME!r} waits for the first champion of {MODEL!r}" in warning
    assert "run the training job" in warning and "deploy again" in warning
    # The offline render prints it, and lists the alias read as not performed.
    tree = render_tree(before_champion, "mlops")
    assert warning in tree
    assert any(
        lookup.function == serving.GET_REGISTERED_MODEL for lookup in before_champion.not_checked
    )


def test_the_training_job_updates_the_endpoint_after_deployment_even_before_it_exists(
    before_champion: Evaluation,
) -> None:
    job = before_champion.get("mlops-training-job")
    tasks = {t["taskKey"]: t for t in job.inputs["tasks"]}
    assert tasks["ServingUpdate"]["dependsOns"] == [{"taskKey": "ModelDeployment"}]
    assert params(before_champion, "mlops-training-job")["serving_endpoint_name"] == NAME


def test_after_the_first_champion_the_endpoint_serves_its_version_as_a_string(
    champion_3: Evaluation,
) -> None:
    endpoint = champion_3.get("mlops-serving-endpoint")
    assert endpoint.parent == "mlops-serving"
    entity = endpoint.input("config.servedEntities.0")
    assert entity == {
        "name": "champion",
        "entityName": MODEL,
        "entityVersion": "3",
        "workloadSize": "Small",
        "scaleToZeroEnabled": True,  # staging's default
    }
    assert endpoint.input("name") == NAME
    assert endpoint.ignore_changes == (serving.ENTITY_VERSION_PATH,)
    gateway = endpoint.input("aiGateway")
    assert gateway["rateLimits"] == [{"calls": 100, "key": "user", "renewalPeriod": "minute"}]
    assert gateway["inferenceTableConfig"] == {
        "enabled": True,
        "catalogName": "staging",
        "schemaName": "wine_quality",
        "tableNamePrefix": "staging_wine_quality_serving",
    }
    assert "autoCaptureConfig" not in endpoint.input("config")
    assert champion_3.outputs["serving_endpoint_name"] == NAME
    assert champion_3.warnings == ()


def test_the_query_group_may_query_readers_view_and_the_run_as_principal_manages(
    champion_3: Evaluation,
) -> None:
    permissions = champion_3.get("mlops-serving-permissions")
    endpoint_id = permissions.inputs["servingEndpointId"]
    assert endpoint_id.startswith("endpoint-")  # the endpoint's id, not its name
    assert permissions.inputs["accessControls"] == [
        {"groupName": "users", "permissionLevel": "CAN_VIEW"},
        {"groupName": "wine-quality-clients", "permissionLevel": "CAN_QUERY"},
        {"servicePrincipalName": RUN_AS, "permissionLevel": "CAN_MANAGE"},
    ]


def test_a_promotion_then_a_re_render_shows_no_change(
    champion_3: Evaluation, champion_4: Evaluation
) -> None:
    """The declared version differs (3 at create, 4 now), but it is ignored after create,
    so what a deploy would change is byte-identical."""
    assert (
        champion_4.get("mlops-serving-endpoint").input("config.servedEntities.0.entityVersion")
        == "4"
    )
    assert champion_3.to_json() == champion_4.to_json()
    assert f'"entityVersion": "{IGNORED}"' in champion_4.to_json()


def test_when_the_alias_is_gone_the_existing_endpoint_stays_declared() -> None:
    """A deleted alias must not plan the endpoint's delete: it stays, with a warning."""
    evaluation = run_stack("staging", ON, champion=None, endpoints={NAME: "4"})
    endpoint = evaluation.get("mlops-serving-endpoint")
    assert endpoint.input("config.servedEntities.0.entityVersion") == "4"
    assert "has no 'champion' alias" in evaluation.warnings[0]


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        ("failed to get registered model m: RESOURCE_DOES_NOT_EXIST: Model m does not exist", None),
        (
            "failed to get registered model m: PERMISSION_DENIED: User does not have EXECUTE",
            "raise",
        ),
    ],
)
def test_only_a_missing_model_reads_as_no_champion(
    monkeypatch: pytest.MonkeyPatch, error: str, outcome: str | None
) -> None:
    def fail(**_: Any) -> Any:
        raise Exception(error)

    monkeypatch.setattr(databricks, "get_registered_model", fail)
    if outcome is None:
        assert serving.champion_version("m") is None
    else:
        with pytest.raises(serving.ServingLookupError, match="EXECUTE"):
            serving.champion_version("m")


def test_the_jobs_group_may_create_the_inference_table_in_its_schema() -> None:
    """The endpoint's creator creates and owns the table: USE CATALOG, USE SCHEMA and CREATE
    TABLE on the schema (Databricks docs, "AI Gateway-enabled inference tables")."""
    cfg = validate(RawConfig.from_stack_file(example_stack_file("staging", ON)), "staging")
    plan = grant_plan(cfg)
    schema = GrantKey("wine-quality-staging-jobs", Securable("schema", "staging.wine_quality"))
    assert "CREATE_TABLE" in plan[schema]


def test_endpoint_names_are_refused_beyond_the_charset_and_our_cap() -> None:
    assert endpoint_name_problem(NAME) is None
    assert "alphanumeric characters, dashes and underscores" in str(
        endpoint_name_problem("staging.wine-endpoint")
    )
    assert "more than 63" in str(endpoint_name_problem("x" * 64))
