"""``mlops:training``: the training job, and how ModelValidation judges a new model version."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from mlops_resources.config.checks import (
    Identifier,
    NonEmpty,
    check_table_name,
    raise_problems,
    threshold_problems,
)
from mlops_resources.config.reading import Section
from mlops_resources.config.schedule import ScheduleConfig


class MetricThreshold(Section):
    """What one metric must satisfy for a new model version to pass validation."""

    threshold: float | None = Field(
        None,
        examples=[0.75],
        description="minimum (maximum where lower is better, e.g. log_loss); unset: only "
        "compared with the champion",
    )
    tolerance: float = Field(
        0.0,
        examples=[0.01],
        description="how much worse than the champion the new version may be on it",
    )


class ValidationConfig(Section):
    """How ModelValidation judges a new model version."""

    holdout_percent: int = Field(
        20,
        examples=[25],
        description="percent of rows held out, chosen by a hash of each row's key (1-99); "
        "a row stays on its side in every run",
    )
    split_key_columns: list[Identifier] = Field(
        default_factory=list,
        examples=[["wine_id"]],
        description="columns that identify a row (an id) for the split; not features; required "
        "with run_mode 'enabled'; default: every column",
    )
    baseline_check: bool = Field(
        True,
        examples=[False],
        description="the primary metric must beat a trivial predictor's (class prior, mean)",
    )
    thresholds: dict[str, MetricThreshold] = Field(
        default_factory=dict,
        examples=[{"roc_auc": {"threshold": 0.75, "tolerance": 0.01}}],
        description="metric -> {threshold, tolerance}; metrics training logs for the problem "
        "type; each is also compared with the champion, as is roc_auc (classification) or "
        "root_mean_squared_error (regression)",
    )

    @field_validator("holdout_percent")
    @classmethod
    def _percent(cls, percent: int) -> int:
        if not 1 <= percent <= 99:
            raise ValueError(f"expected a percentage from 1 to 99, got {percent}")
        return percent


class TrainingConfig(Section):
    """The training job: Train -> ModelValidation -> ModelDeployment."""

    removed_keys: ClassVar[Mapping[str, str]] = {
        "validation_thresholds": "replaced by validation.thresholds, one entry per metric with "
        "a threshold and a tolerance, e.g. {roc_auc: {threshold: 0.75, tolerance: 0.01}}; "
        "the metrics follow problem_type (README, 'Config reference')",
    }

    schedule: ScheduleConfig = Field(description="training schedule")
    training_data: NonEmpty = Field(
        "/databricks-datasets/wine-quality/winequality-red.csv",
        examples=["staging.wine_quality.training"],
        description="a /databricks-datasets CSV path, or a <catalog>.<schema>.<table> name",
    )
    label_column: Identifier = Field(
        "quality", examples=["quality"], description="column the model learns from"
    )
    problem_type: Literal["classification", "regression"] = Field(
        "classification",
        examples=["regression"],
        description="'classification' (label >= positive_threshold is class 1) or "
        "'regression' (the label itself)",
    )
    positive_threshold: float | None = Field(
        None,
        validate_default=True,
        examples=[7],
        description="classification only: labels at or above it are the positive class, "
        "e.g. 7 for quality >= 7",
    )
    run_mode: Literal["disabled", "dry_run", "enabled"] = Field(
        "dry_run",
        examples=["enabled"],
        description="validation mode: 'enabled' fails a worse model (needs "
        "validation.split_key_columns), 'dry_run' reports; a run cannot lower it",
    )
    validation: ValidationConfig = Field(
        ValidationConfig(),
        validate_default=True,
        description="how a new model version is validated",
    )

    @field_validator("training_data")
    @classmethod
    def _path_or_table(cls, value: str) -> str:
        if not value.startswith(("/", "dbfs:/")):
            check_table_name(value)
        return value

    @property
    def training_table_name(self) -> str | None:
        """The training table, when training data is a table rather than a file path."""
        return None if self.training_data.startswith(("/", "dbfs:/")) else self.training_data

    @field_validator("positive_threshold")
    @classmethod
    def _fits_problem_type(cls, threshold: float | None, info: ValidationInfo) -> float | None:
        problem_type = info.data.get("problem_type")
        if problem_type == "classification" and threshold is None:
            raise ValueError(
                "required when training.problem_type is 'classification': labels at or above "
                "it are the positive class, e.g. 7"
            )
        if problem_type == "regression" and threshold is not None:
            raise ValueError("only used when training.problem_type is 'classification'")
        return threshold

    @field_validator("validation")
    @classmethod
    def _fits_training(cls, validation: ValidationConfig, info: ValidationInfo) -> ValidationConfig:
        """Thresholds of the problem type's metrics; a row key when validation is enforced."""
        problems: list[tuple[tuple[str, ...], str]] = []
        problem_type = info.data.get("problem_type")
        if problem_type is not None:  # else problem_type itself is reported
            thresholds = {
                name: (entry.threshold, entry.tolerance)
                for name, entry in validation.thresholds.items()
            }
            problems += threshold_problems(problem_type, thresholds)
        key = validation.split_key_columns
        if info.data.get("run_mode") == "enabled" and not key:
            problems.append(
                (
                    ("split_key_columns",),
                    "required when training.run_mode is 'enabled': the column(s) that identify "
                    "a row, e.g. [wine_id]. Without them a row's key is all its values, and "
                    "once the table gains a column or old rows are re-exported with other "
                    "values the champion's hold-out rows cannot be recomputed, so validation "
                    "cannot tell which rows it trained on and better retrains fail. Key "
                    "columns are not features",
                )
            )
        label = info.data.get("label_column")
        if label is not None and label in key:
            problems.append(
                (
                    ("split_key_columns",),
                    f"holds the label column {label!r}: a row's key identifies the row, not its "
                    "outcome (a corrected label would move the row to the other side)",
                )
            )
        raise_problems("ValidationConfig", problems)
        return validation
