"""``mlops:jobs``: the hardening every job of the stack gets."""

from __future__ import annotations

from pydantic import Field, field_validator

from mlops_resources.config.checks import Email
from mlops_resources.config.reading import Section

MAX_TIMEOUT = 172800


class JobsConfig(Section):
    """Hardening applied to both jobs."""

    timeout_seconds: int = Field(
        14400,
        gt=0,
        examples=[7200],
        description=f"a run is cancelled after this long (at most {MAX_TIMEOUT} s)",
    )
    max_retries: int = Field(1, ge=0, le=10, examples=[2], description="retries of a failed task")
    min_retry_interval_millis: int = Field(
        60000, ge=0, examples=[300000], description="wait before a retry"
    )
    on_failure_emails: list[Email] = Field(
        default_factory=list,
        examples=[["ml-oncall@example.com"]],
        description="addresses emailed when a run fails",
    )

    @field_validator("timeout_seconds")
    @classmethod
    def _seconds(cls, seconds: int) -> int:
        if seconds > MAX_TIMEOUT:
            raise ValueError(
                f"expected at most {MAX_TIMEOUT} seconds (48 h), got {seconds}; "
                f"if that is milliseconds, write {max(1, seconds // 1000)}"
            )
        return seconds
