"""A job's ``schedule`` (training, batch inference, a monitor, retraining)."""

from __future__ import annotations

from pydantic import Field

from mlops_resources.config.checks import QuartzCron, TimeZone
from mlops_resources.config.reading import Section


class ScheduleConfig(Section):
    """When a job runs."""

    quartz_cron: QuartzCron = Field(
        examples=["0 0 9 * * ?"], description="Quartz cron expression, e.g. '0 0 9 * * ?'"
    )
    timezone: TimeZone = Field(
        "UTC", examples=["Europe/Paris"], description="time zone id of the schedule"
    )
    paused: bool | None = Field(
        None,
        examples=[True],
        description="pause the schedule; default: running on staging/prod, paused on other stacks",
    )
