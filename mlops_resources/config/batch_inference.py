"""``mlops:batch_inference``: the batch inference job and the tables it reads and writes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from pydantic import Field

from mlops_resources.config.checks import TableName
from mlops_resources.config.reading import Section
from mlops_resources.config.schedule import ScheduleConfig


class BatchInferenceConfig(Section):
    """The batch inference job and the tables it reads and writes."""

    removed_keys: ClassVar[Mapping[str, str]] = {
        "grant_table_access": "replaced by access.jobs_group, the account-level group holding "
        "the run-as principal: it gets the tables' Unity Catalog privileges, and no table "
        "grant is declared without it",
    }

    input_table_name: TableName = Field(
        examples=["staging.wine_quality.scoring_input"], description="table to score"
    )
    output_table_name: TableName = Field(
        examples=["staging.wine_quality.predictions"],
        description="table the predictions are written to",
    )
    schedule: ScheduleConfig = Field(description="batch inference schedule")
    output_table_exists: bool = Field(
        False,
        examples=[True],
        description="the output table pre-dates the job: it must exist, and access.jobs_group "
        "gets SELECT and MODIFY on it (else CREATE_TABLE on its schema)",
    )
