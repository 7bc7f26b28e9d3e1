"""How the label column becomes what the model predicts, from the job parameters.

* ``classification``: a binary target, 1 where ``label >= positive_threshold`` (a good wine:
  ``quality >= 7``), else 0.
* ``regression``: the label itself, as a float.

The definition is logged as run parameters, so validation rebuilds the target of each
version from its own training run. :func:`split_features` splits labelled rows into the
features and the target, for training and validation alike.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from mlops_ml.data import normalize_column_name
from mlops_ml.metrics import check_problem_type

TARGET_COLUMN = "_target"
"""Reserved column name: no feature may be called this."""


@dataclass(frozen=True)
class Target:
    """The problem type, the label column and (classification) the positive threshold."""

    problem_type: str
    label_column: str
    positive_threshold: float | None = None

    def __post_init__(self) -> None:
        check_problem_type(self.problem_type)
        if self.problem_type == "classification":
            if self.positive_threshold is None or not math.isfinite(self.positive_threshold):
                raise ValueError(
                    "positive_threshold: classification needs a number (label >= it is the "
                    f"positive class), got {self.positive_threshold!r}"
                )
        elif self.positive_threshold is not None:
            raise ValueError("positive_threshold: only used when problem_type is 'classification'")

    @classmethod
    def from_parameters(
        cls, problem_type: str, label_column: str, positive_threshold: str
    ) -> Target:
        """The target from job parameters (strings; ``positive_threshold`` empty for regression)."""
        text = positive_threshold.strip()
        try:
            threshold = float(text) if text else None
        except ValueError:
            raise ValueError(f"positive_threshold must be a number, got {text!r}") from None
        return cls(problem_type.strip(), label_column, threshold)

    @property
    def label(self) -> str:
        """The label column as training data names it (normalized like every column)."""
        return normalize_column_name(self.label_column)

    def describe(self) -> str:
        """``quality >= 7`` or ``quality``."""
        if self.problem_type == "classification":
            return f"{self.label} >= {self.positive_threshold:g}"
        return self.label

    def values(self, label: pd.Series) -> pd.Series:
        """The target for a label column: 0/1 (classification) or float (regression)."""
        if not pd.api.types.is_numeric_dtype(label) or pd.api.types.is_bool_dtype(label):
            raise ValueError(
                f"label column {label.name!r} must be numeric, got dtype {label.dtype}"
            )
        if self.problem_type == "classification":
            assert self.positive_threshold is not None  # checked in __post_init__
            return (label >= self.positive_threshold).astype("int64").rename(TARGET_COLUMN)
        return label.astype("float64").rename(TARGET_COLUMN)

    def params(self) -> dict[str, str]:
        """Run parameters that record the definition (read back by :meth:`from_params`)."""
        threshold = "" if self.positive_threshold is None else repr(self.positive_threshold)
        return {
            "problem_type": self.problem_type,
            "label_column": self.label_column,
            "positive_threshold": threshold,
            "target": self.describe(),
        }

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Target:
        """The definition a training run logged; LookupError when the run predates it."""
        missing = [k for k in ("problem_type", "label_column") if k not in params]
        if missing:
            raise LookupError(f"the training run records no target definition (no {missing})")
        return cls.from_parameters(
            params["problem_type"], params["label_column"], params.get("positive_threshold", "")
        )


def split_features(
    data: pd.DataFrame, target: Target, key_columns: Sequence[str] = ()
) -> tuple[pd.DataFrame, pd.Series]:
    """Features (every column but the label and the row key, as float64) and the target.

    ``key_columns`` (the split's ``split_key_columns``) identify rows: an id says which row it
    is, not what the row is, so a model must not learn from it (it would also store an id in
    the model's signature and make scoring tables carry it as a feature). Training and
    validation drop the same columns, so the model's signature never holds them; batch
    inference scores the signature's columns and keeps every input column in its output.
    """
    label = target.label
    if label not in data.columns:
        raise ValueError(f"label column {target.label_column!r} is not in {list(data.columns)}")
    if label in key_columns:
        raise ValueError(
            f"split_key_columns {list(key_columns)} hold the label column {label!r}: a row's key "
            "must identify it, not its outcome (a corrected label would move the row)"
        )
    missing = [c for c in key_columns if c not in data.columns]
    if missing:
        raise ValueError(f"split key columns {missing} are not in the data: {list(data)}")
    features = data.drop(columns=[label, *key_columns])
    if features.shape[1] == 0:
        raise ValueError("training data has no feature columns besides the label and row key")
    if TARGET_COLUMN in features.columns:
        raise ValueError(f"feature column name {TARGET_COLUMN!r} is reserved")
    non_numeric = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if non_numeric:
        raise ValueError(f"feature columns must be numeric; not numeric: {non_numeric}")
    return features.astype("float64"), target.values(data[label])
