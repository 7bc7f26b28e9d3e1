"""Serving: point the stack's model serving endpoint at the version ``champion`` names.

Runs as the training job's ``ServingUpdate`` task, after ModelDeployment moved the alias, and
alone for a rollback (move the alias back, run this task): it reads the alias, never task
values. The stack declares the endpoint with the champion's version at create and ignores the
served version afterwards (``mlops_resources/databricks/serving.py``); this task is what moves
it, so a promotion reaches the endpoint without a deploy.

The Serving Endpoints API, per databricks-sdk 0.167 ``ServingEndpointsAPI``:

- ``update_config(name, served_entities=...)`` replaces the endpoint's served entities
  (``PUT /api/2.0/serving-endpoints/{name}/config``) and returns a waiter on
  ``wait_get_serving_endpoint_not_updating`` (target ``NOT_UPDATING``; ``UPDATE_FAILED`` and
  ``UPDATE_CANCELED`` raise ``OperationFailed``). "An endpoint that already has an update in
  progress can not be updated until the current update completes or fails": so the task waits
  for ``NOT_UPDATING`` first, and retries once after waiting again if the update is refused
  with a conflict (an update started meanwhile).
- The served entity is sent whole: the live one with only ``entity_version`` changed (its
  name, entity name, workload size and scale-to-zero copied). Omitting
  ``scale_to_zero_enabled`` fails the update (terraform-provider-databricks #4064).
- Updating the config takes CAN_MANAGE on the endpoint (Databricks docs, "Serving endpoint
  ACLs"), which the run-as principal holds (the stack lists it).

No databricks-sdk import here: the Databricks Runtime 15.4 ML test venv has none. The notebook
passes ``WorkspaceClient().serving_endpoints`` and the SDK's ``ServedEntityInput``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

SERVED_ENTITY_NAME = "champion"
"""The stack's one served entity (``mlops_resources/config/serving.py``)."""
UPDATE_TIMEOUT = timedelta(minutes=45)
"""How long an update may take: the provider's create/update timeout
(``serving/resource_model_serving.go``, ``DefaultProvisionTimeout``)."""
_MISSING = ("NotFound", "ResourceDoesNotExist")
_CONFLICT = ("ResourceConflict", "Aborted")
"""databricks-sdk ``errors/platform.py`` classes (HTTP 404, 409): the class names, since the
SDK is not imported here."""


class ServingClient(Protocol):
    """What the task uses of databricks-sdk's ``ServingEndpointsAPI``."""

    def get(self, name: str) -> Any: ...

    def update_config(self, name: str, *, served_entities: list[Any]) -> Any: ...

    def wait_get_serving_endpoint_not_updating(self, name: str, timeout: timedelta) -> Any: ...


class ServingUpdateError(Exception):
    """The endpoint cannot be pointed at the champion (no alias, no champion entity)."""


@dataclass(frozen=True)
class ServingUpdate:
    """What the task did."""

    endpoint: str
    version: str
    """The version the endpoint serves now (or will, once the next deploy declares it)."""
    previous: str | None
    """The version it served before; None when the endpoint does not exist yet."""
    updated: bool

    @property
    def message(self) -> str:
        if self.previous is None:
            return (
                f"endpoint {self.endpoint!r} does not exist yet: the next deploy of the stack "
                f"declares it serving version {self.version}"
            )
        if not self.updated:
            return f"endpoint {self.endpoint!r} already serves version {self.version}"
        return f"endpoint {self.endpoint!r}: version {self.previous} -> {self.version}"


def _is(error: Exception, names: tuple[str, ...]) -> bool:
    return any(cls.__name__ in names for cls in type(error).__mro__)


def _champion_entity(endpoint: Any, name: str) -> Any:
    config = getattr(endpoint, "config", None)
    for entity in getattr(config, "served_entities", None) or []:
        if entity.name == SERVED_ENTITY_NAME:
            return entity
    raise ServingUpdateError(
        f"endpoint {name!r} has no served entity named {SERVED_ENTITY_NAME!r}: it is not the "
        "stack's endpoint, or was edited out of band; deploy the stack to restore it"
    )


def sdk_entity_input(**fields: Any) -> Any:
    """databricks-sdk's ``ServedEntityInput`` (imported when a real client is used)."""
    from databricks.sdk.service.serving import ServedEntityInput

    return ServedEntityInput(**fields)


def point_endpoint_at(
    client: ServingClient,
    endpoint: str,
    model_name: str,
    version: str,
    *,
    entity_input: Callable[..., Any] = sdk_entity_input,
    timeout: timedelta = UPDATE_TIMEOUT,
    pause: Callable[[float], None] = time.sleep,
) -> ServingUpdate:
    """Make ``endpoint`` serve ``model_name`` version ``version``; idempotent.

    An endpoint that does not exist yet (the first champion, before the deploy that declares
    it) is not an error. An update in progress is waited for; a refused update (a conflict)
    is retried once after waiting again.
    """
    try:
        live = client.get(endpoint)
    except Exception as error:
        if _is(error, _MISSING):
            return ServingUpdate(endpoint, version, None, updated=False)
        raise
    live = client.wait_get_serving_endpoint_not_updating(endpoint, timeout=timeout)
    entity = _champion_entity(live, endpoint)
    previous = str(entity.entity_version)
    if previous == version and entity.entity_name == model_name:
        return ServingUpdate(endpoint, version, previous, updated=False)
    wanted = entity_input(
        name=entity.name,
        entity_name=model_name,
        entity_version=version,
        workload_size=entity.workload_size,
        scale_to_zero_enabled=bool(entity.scale_to_zero_enabled),
    )
    for attempt in (1, 2):
        try:
            client.update_config(endpoint, served_entities=[wanted]).result(timeout=timeout)
            break
        except Exception as error:
            if attempt == 2 or not _is(error, _CONFLICT):
                raise
            pause(10)
            client.wait_get_serving_endpoint_not_updating(endpoint, timeout=timeout)
    return ServingUpdate(endpoint, version, previous, updated=True)


def champion_version(client: Any, model_name: str) -> str:
    """The version the ``champion`` alias points at (an MlflowClient); fails without one."""
    try:
        return str(client.get_model_version_by_alias(model_name, SERVED_ENTITY_NAME).version)
    except Exception as error:
        raise ServingUpdateError(
            f"model {model_name!r} has no {SERVED_ENTITY_NAME!r} alias ({error}); "
            "ModelDeployment sets it, a rollback moves it back"
        ) from error


def check_prediction(answer: Any, rows: int = 1) -> list[Any]:
    """The predictions of a query answer (``{"predictions": [...]}``), checked: one number
    per row sent. Raises ValueError otherwise."""
    predictions = answer.get("predictions") if isinstance(answer, dict) else None
    if not isinstance(predictions, list) or len(predictions) != rows:
        raise ValueError(f"expected {rows} prediction(s) in the answer, got {answer!r}")
    for value in predictions:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number per row, got {value!r}")
    return predictions
