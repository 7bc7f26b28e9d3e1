"""``mlops:model``: where the model is registered (its derived name is
``StackConfig.model_name``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mlops_resources.config.checks import UcIdentifier
from mlops_resources.config.reading import Section


class ModelConfig(Section):
    """Where the model is registered."""

    registry: Literal["unity_catalog", "workspace"] = Field(
        examples=["unity_catalog"],
        description="'unity_catalog' (RegisteredModel) or 'workspace' (MlflowModel)",
    )
    catalog: UcIdentifier | None = Field(
        None, examples=["staging"], description="Unity Catalog catalog (unity_catalog only)"
    )
    schema_name: UcIdentifier | None = Field(
        None,
        alias="schema",
        examples=["wine_quality"],
        description="Unity Catalog schema (unity_catalog only)",
    )
    name: UcIdentifier | None = Field(
        None,
        examples=["wine_classifier"],
        description="model base name; the environment is prefixed. Default: <project>_model",
    )
