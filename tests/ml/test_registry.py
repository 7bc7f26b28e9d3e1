"""Registry URIs for the job parameters, and alias look-ups."""

from __future__ import annotations

from typing import Any

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import PERMISSION_DENIED, RESOURCE_DOES_NOT_EXIST
from mlops_ml.registry import (
    CHALLENGER_ALIAS,
    AliasUnreadableError,
    registry_uri,
    registry_uri_for_model,
    version_by_alias,
    version_uri,
)

from tests.ml.conftest import MlflowEnv


def test_registry_uri_per_model_registry_parameter() -> None:
    assert registry_uri("unity_catalog") == "databricks-uc"
    assert registry_uri("workspace") == "databricks"
    assert registry_uri("unity_catalog", "staging.wine_quality.model") == "databricks-uc"
    assert registry_uri("workspace", "staging-wine-quality-model") == "databricks"
    with pytest.raises(ValueError, match="model_registry must be one of"):
        registry_uri("mlflow")


def test_model_name_must_fit_the_registry() -> None:
    with pytest.raises(ValueError, match="'wine_model': the unity_catalog registry needs"):
        registry_uri("unity_catalog", "wine_model")
    with pytest.raises(ValueError, match=r"'a\.b\.c': the workspace registry needs a plain name"):
        registry_uri("workspace", "a.b.c")


def test_batch_inference_infers_the_registry_from_the_name() -> None:
    assert registry_uri_for_model("prod.wine_quality.prod_wine_quality_model") == "databricks-uc"
    assert registry_uri_for_model("prod-wine-quality-model") == "databricks"


def test_a_version_uri_names_the_model_and_the_version() -> None:
    assert version_uri("prod.wine_quality.model", "3") == "models:/prod.wine_quality.model/3"
    assert version_uri("wine_model", 12) == "models:/wine_model/12"


def test_alias_lookup_of_a_missing_model_or_alias(mlflow_env: MlflowEnv) -> None:
    assert version_by_alias(mlflow_env.client, "no_such_model", CHALLENGER_ALIAS) is None
    # Registry operations only: a version whose source holds no model will do.
    mlflow_env.client.create_registered_model("wine_model")
    mlflow_env.client.create_model_version("wine_model", str(mlflow_env.artifact_root / "none"))
    assert version_by_alias(mlflow_env.client, "wine_model", CHALLENGER_ALIAS) is None
    mlflow_env.client.set_registered_model_alias("wine_model", CHALLENGER_ALIAS, "1")
    assert version_by_alias(mlflow_env.client, "wine_model", "champion") is None
    found = version_by_alias(mlflow_env.client, "wine_model", CHALLENGER_ALIAS)
    assert found is not None and str(found.version) == "1"


class Registry(MlflowClient):
    """The test's store, with the by-alias read failing with ``error_code``."""

    error_code = RESOURCE_DOES_NOT_EXIST

    def get_model_version_by_alias(self, name: str, alias: str) -> Any:
        raise MlflowException(f"alias {alias} read failed", error_code=self.error_code)


def test_an_alias_naming_a_version_that_cannot_be_read_is_not_a_missing_alias(
    mlflow_env: MlflowEnv,
) -> None:
    """Not found by the alias read: the registered model says whether the alias is set. Set,
    its version unreadable: an error naming both (the previous lookup raised MLflow's error,
    and treated the model's own not-found as "no champion"). Any other error is raised as is."""
    mlflow_env.client.create_registered_model("wine_model")
    mlflow_env.client.create_model_version("wine_model", str(mlflow_env.artifact_root / "none"))
    registry = Registry(mlflow_env.uri, mlflow_env.uri)
    assert version_by_alias(registry, "wine_model", "champion") is None  # not set
    assert version_by_alias(registry, "no_such_model", "champion") is None
    mlflow_env.client.set_registered_model_alias("wine_model", "champion", "1")
    with pytest.raises(AliasUnreadableError, match="alias 'champion' points at version 1, which"):
        version_by_alias(registry, "wine_model", "champion")
    registry.error_code = PERMISSION_DENIED
    with pytest.raises(MlflowException, match="alias champion read failed"):
        version_by_alias(registry, "wine_model", "champion")
