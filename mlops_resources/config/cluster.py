"""``mlops:cluster``: the job cluster of a classic-compute stack (``mlops:compute``, in
:mod:`~mlops_resources.config.compute`, chooses classic or serverless)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from mlops_resources.config.checks import NonEmpty
from mlops_resources.config.reading import Section

MAX_WORKERS = 64
_SPARK_VERSION = re.compile(r"^\d+\.\d+\.x-([a-z0-9-]+-)?scala\d+\.\d+$")


class ClusterConfig(Section):
    """The job cluster every task runs on."""

    spark_version: NonEmpty = Field(
        examples=["15.4.x-cpu-ml-scala2.12"],
        description="pinned ML runtime, e.g. '15.4.x-cpu-ml-scala2.12'",
    )
    node_type_id: NonEmpty = Field(
        examples=["i3.xlarge"], description="node type, e.g. 'i3.xlarge'"
    )
    num_workers: int = Field(examples=[2], description="number of workers, at least 1")
    max_num_workers: int = Field(
        MAX_WORKERS,
        ge=1,
        examples=[128],
        description="upper bound num_workers is checked against; raise it to allow a bigger "
        "cluster on purpose",
    )
    data_security_mode: Literal["SINGLE_USER", "USER_ISOLATION"] = Field(
        "SINGLE_USER",
        examples=["SINGLE_USER"],
        description="access mode; ML runtimes need SINGLE_USER (dedicated), which runs as the "
        "run-as principal",
    )
    custom_tags: dict[str, str] = Field(
        default_factory=dict,
        examples=[{"cost-center": "ml-platform"}],
        description="extra cluster tags (cost attribution)",
    )

    @field_validator("spark_version")
    @classmethod
    def _pinned_ml(cls, version: str) -> str:
        if not _SPARK_VERSION.match(version):
            raise ValueError(
                f"expected a pinned runtime like '15.4.x-cpu-ml-scala2.12', got {version!r}"
            )
        if "-ml-" not in version:
            raise ValueError(
                f"expected a Databricks Runtime for Machine Learning (its name has '-ml-', e.g. "
                f"'15.4.x-cpu-ml-scala2.12'), got {version!r}: the notebooks need the MLflow, "
                "scikit-learn and pandas an ML runtime ships"
            )
        return version

    @field_validator("num_workers")
    @classmethod
    def _positive(cls, workers: int) -> int:
        if workers < 1:
            raise ValueError(f"expected a positive number of workers, got {workers}")
        return workers
