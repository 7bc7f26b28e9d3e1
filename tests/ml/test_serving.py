"""ServingUpdate points the serving endpoint at the version ``champion`` names, and a rollback
(the alias moved back, the task run alone) points it back. The serving client is a fake that
behaves as databricks-sdk 0.167's ``ServingEndpointsAPI`` does (``service/serving.py``):
``get`` raises ``NotFound`` (``errors/platform.py``) for a missing endpoint;
``update_config`` replaces the served entities and returns a waiter whose ``result`` waits
for ``NOT_UPDATING``; an update while another is in progress is refused (the method's
docstring), here with a ``ResourceConflict`` (HTTP 409)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import pytest
from mlops_ml.serving import (
    ServingUpdateError,
    champion_version,
    check_prediction,
    point_endpoint_at,
)

from tests.ml.conftest import MlflowEnv

ENDPOINT = "staging-wine-quality-endpoint"
MODEL = "wine_model"


class NotFound(Exception):  # noqa: N818 - the SDK class name the task matches
    """As databricks-sdk's ``errors.NotFound`` (matched by class name)."""


class ResourceConflict(Exception):  # noqa: N818 - the SDK class name
    """As databricks-sdk's ``errors.ResourceConflict`` (HTTP 409)."""


@dataclass(frozen=True)
class Entity:
    """The fields of the SDK's ``ServedEntityOutput``/``ServedEntityInput`` the task uses."""

    name: str
    entity_name: str
    entity_version: str
    workload_size: str
    scale_to_zero_enabled: bool


@dataclass
class FakeServing:
    entities: list[Entity] | None
    """None: the endpoint does not exist."""
    updating: int = 0
    """How many polls still show IN_PROGRESS (an update already running)."""
    refuse: int = 0
    """How many update_config calls are refused with a conflict."""
    calls: list[str] = field(default_factory=list)

    def get(self, name: str) -> Any:
        self.calls.append("get")
        if self.entities is None:
            raise NotFound(f"Endpoint {name} does not exist")
        return type(
            "Endpoint", (), {"config": type("Config", (), {"served_entities": self.entities})}
        )

    def wait_get_serving_endpoint_not_updating(self, name: str, timeout: timedelta) -> Any:
        self.calls.append("wait")
        self.updating = 0
        return self.get(name)

    def update_config(self, name: str, *, served_entities: list[Any]) -> Any:
        self.calls.append("update")
        if self.updating:
            raise AssertionError("updated while an update was in progress")
        if self.refuse:
            self.refuse -= 1
            raise ResourceConflict("an update is in progress")
        self.entities = list(served_entities)
        fake = self

        class Waiter:
            def result(self, timeout: timedelta) -> Any:
                fake.calls.append("result")
                return fake.get(name)

        return Waiter()


LIVE = Entity("champion", MODEL, "1", "Small", True)


def update(fake: FakeServing, version: str) -> Any:
    return point_endpoint_at(
        fake, ENDPOINT, MODEL, version, entity_input=Entity, pause=lambda _: None
    )


def test_a_promotion_moves_only_the_version_and_keeps_the_served_entity() -> None:
    fake = FakeServing(
        [replace(LIVE, workload_size="Medium", scale_to_zero_enabled=False)], updating=2
    )
    result = update(fake, "2")
    assert fake.entities == [Entity("champion", MODEL, "2", "Medium", False)]
    # It waited for the update in progress before sending its own, then for its own.
    assert fake.calls.index("wait") < fake.calls.index("update") < fake.calls.index("result")
    assert (result.previous, result.version, result.updated) == ("1", "2", True)


def test_the_same_version_again_changes_nothing() -> None:
    fake = FakeServing([LIVE])
    assert update(fake, "1").updated is False
    assert "update" not in fake.calls


def test_before_the_endpoint_exists_the_task_succeeds_and_says_the_next_deploy_declares_it() -> (
    None
):
    result = update(FakeServing(None), "1")
    assert result.updated is False
    assert "the next deploy of the stack declares it serving version 1" in result.message


def test_an_update_refused_because_another_started_is_retried_once_after_waiting() -> None:
    fake = FakeServing([LIVE], refuse=1)
    assert update(fake, "2").updated is True
    assert fake.calls.count("update") == 2
    with pytest.raises(ResourceConflict):
        update(FakeServing([LIVE], refuse=2), "2")


def test_an_endpoint_without_the_champion_entity_is_refused() -> None:
    with pytest.raises(ServingUpdateError, match="no served entity named 'champion'"):
        update(FakeServing([replace(LIVE, name="wine_model-1")]), "2")


def test_rollback_moves_the_alias_back_and_the_task_alone_follows_it(
    mlflow_env: MlflowEnv,
) -> None:
    """docs/deployment.md, "Rollback": set ``champion`` to the older version, run ServingUpdate
    alone; it reads the alias (no task values), so the endpoint serves the older version."""
    client = mlflow_env.client
    client.create_registered_model(MODEL)
    for _ in range(2):
        client.create_model_version(MODEL, source="file:///tmp/model", run_id=None)
    client.set_registered_model_alias(MODEL, "champion", "2")
    fake = FakeServing([LIVE])
    assert update(fake, champion_version(client, MODEL)).version == "2"
    client.set_registered_model_alias(MODEL, "champion", "1")  # the rollback
    result = update(fake, champion_version(client, MODEL))
    assert (result.previous, result.version) == ("2", "1")
    assert fake.entities is not None and fake.entities[0].entity_version == "1"


def test_without_a_champion_the_task_fails(mlflow_env: MlflowEnv) -> None:
    mlflow_env.client.create_registered_model(MODEL)
    with pytest.raises(ServingUpdateError, match="no 'champion' alias"):
        champion_version(mlflow_env.client, MODEL)


@pytest.mark.parametrize(
    ("answer", "ok"),
    [
        ({"predictions": [1]}, True),
        ({"predictions": [0.73]}, True),
        ({"predictions": [1, 0]}, False),
        ({"predictions": ["good"]}, False),
        ({"error_code": "BAD_REQUEST"}, False),
    ],
)
def test_the_smoke_check_wants_one_number_per_row(answer: dict[str, Any], ok: bool) -> None:
    if ok:
        assert check_prediction(answer) == answer["predictions"]
    else:
        with pytest.raises(ValueError, match="expected"):
            check_prediction(answer)
