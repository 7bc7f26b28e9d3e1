"""A stable train / hold-out split: each row's side follows from a hash of its key.

A row's key is the values of ``key_columns``: an id that names the row whatever else about it
changes. Its SHA-256 puts it in one of 100 buckets; buckets below ``holdout_percent`` are the
hold-out set. So the same row falls on the same side in every run, whatever else the table
holds: when the table grows, gains a column, or has old rows re-exported with other values,
rows an earlier version trained on never move to the hold-out set, and validation can score
the champion on rows neither version trained on. Key columns identify rows; they are not
features (:func:`~mlops_ml.target.split_features` drops them).

Without key columns the key is every column (in name order): a row whose values change (a
corrected label, a re-export) or a table that gains a column gives new keys, so a champion's
hold-out cannot be recomputed exactly after such a change. The stack config therefore refuses
``run_mode: enabled`` without ``split_key_columns``; validation treats a champion keyed by
every column with care (:mod:`mlops_ml.validation`). Every training run logs its split and the
columns its key was made of (:meth:`Split.params`, :data:`KEY_COLUMNS_USED_PARAM`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

SPLIT_SCHEME = "sha256-bucket-v1"
"""Version of the hashing below; a run logged with another scheme cannot be recomputed."""
BUCKETS = 100
SPLIT_ARTIFACT = "validation/split.json"
"""Run artifact: the split, row counts of each side and digests of their row keys."""
KEY_COLUMNS_USED_PARAM = "split_key_columns_used"
"""Run parameter: the columns a run's row keys were made of (JSON list, in key order); the
same as ``split_key_columns`` unless that was empty (every column of the data it read)."""
TRAINING_DIGEST_PARAM = "split_training_key_digest"
"""Run parameter: :func:`digest` of the training side's row keys."""
HOLDOUT_DIGEST_PARAM = "split_holdout_key_digest"
"""Run parameter: :func:`digest` of the hold-out side's row keys."""


def _canonical(value: Any) -> str:
    """A type-stable text for one value: 7, 7.0 and numpy's 7.0 hash alike; NaN like None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) or hasattr(value, "dtype"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return json.dumps(str(value))
        return "null" if math.isnan(number) else repr(number)
    return json.dumps(str(value))


@dataclass(frozen=True)
class Split:
    """Which rows are held out: ``holdout_percent`` of the key-hash buckets."""

    holdout_percent: int = 20
    key_columns: tuple[str, ...] = ()
    """Columns whose values identify a row; empty: every column."""

    def __post_init__(self) -> None:
        if not 1 <= self.holdout_percent <= 99:
            raise ValueError(f"holdout_percent must be 1-99, got {self.holdout_percent}")

    @classmethod
    def from_parameters(cls, holdout_percent: str, key_columns: str) -> Split:
        """The split from job parameters: a percentage and a JSON list of column names."""
        try:
            percent = int(holdout_percent.strip())
        except ValueError:
            raise ValueError(
                f"holdout_percent must be a whole number, got {holdout_percent!r}"
            ) from None
        text = key_columns.strip() or "[]"
        try:
            columns = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError(
                f"split_key_columns must be a JSON list of column names, got {key_columns!r}"
            ) from None
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise ValueError(
                f"split_key_columns must be a JSON list of column names, got {key_columns!r}"
            )
        return cls(percent, tuple(columns))

    def params(self) -> dict[str, str]:
        """Run parameters that record the split (read back by :meth:`from_params`)."""
        return {
            "split_scheme": SPLIT_SCHEME,
            "holdout_percent": str(self.holdout_percent),
            "split_key_columns": json.dumps(list(self.key_columns)),
        }

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Split:
        """The split a training run logged; LookupError when it logged none or another scheme."""
        scheme = params.get("split_scheme")
        if scheme != SPLIT_SCHEME:
            raise LookupError(
                f"the training run records split scheme {scheme!r}, not {SPLIT_SCHEME!r}; "
                "the rows it trained on cannot be recomputed"
            )
        return cls.from_parameters(params["holdout_percent"], params["split_key_columns"])

    def columns(self, data: pd.DataFrame) -> tuple[str, ...]:
        """The columns a row's key is made of: ``key_columns``, else every column by name."""
        columns = self.key_columns or tuple(sorted(data.columns))
        missing = [c for c in columns if c not in data.columns]
        if missing:
            raise ValueError(f"split key columns {missing} are not in the data: {list(data)}")
        return columns

    def keys(self, data: pd.DataFrame, columns: tuple[str, ...] | None = None) -> pd.Series:
        """The SHA-256 (hex) of each row's key (``columns``: instead of :meth:`columns`)."""
        columns = self.columns(data) if columns is None else columns
        missing = [c for c in columns if c not in data.columns]
        if missing:
            raise ValueError(f"split key columns {missing} are not in the data: {list(data)}")
        texts = (
            "\x1f".join(_canonical(v) for v in row)
            for row in data[list(columns)].itertuples(index=False, name=None)
        )
        return pd.Series(
            [hashlib.sha256(t.encode()).hexdigest() for t in texts], index=data.index, dtype=object
        )

    def holdout(self, data: pd.DataFrame, keys: pd.Series | None = None) -> pd.Series:
        """Boolean mask of the hold-out rows of ``data`` (``keys``: its :meth:`keys`, if known)."""
        keys = self.keys(data) if keys is None else keys
        buckets = keys.map(lambda key: int(key[:12], 16) % BUCKETS)
        return (buckets < self.holdout_percent).astype(bool)

    def logged(self, data: pd.DataFrame, keys: pd.Series, holdout: pd.Series) -> dict[str, str]:
        """Run parameters recording which rows went where: the key columns used and the digests
        of each side's keys (no rows); validation checks a recomputed split against them."""
        return {
            KEY_COLUMNS_USED_PARAM: json.dumps(list(self.columns(data))),
            TRAINING_DIGEST_PARAM: digest(keys[~holdout]),
            HOLDOUT_DIGEST_PARAM: digest(keys[holdout]),
        }

    def describe(self) -> str:
        key = ", ".join(self.key_columns) if self.key_columns else "every column"
        return f"{self.holdout_percent}% hold-out by hash of {key}"


def digest(keys: Iterable[str]) -> str:
    """One SHA-256 for a set of row keys (order-independent): logged instead of the rows."""
    total = hashlib.sha256()
    for key in sorted(keys):
        total.update(key.encode())
    return total.hexdigest()
