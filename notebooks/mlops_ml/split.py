"""A stable train / hold-out split: each row's side follows from a hash of its key.

A row's key is the values of ``key_columns`` (default: every column, in name order). Its
SHA-256 puts it in one of 100 buckets; buckets below ``holdout_percent`` are the hold-out
set. So the same row falls on the same side in every run, whatever else the table holds:
when the training table grows, rows an earlier version trained on never move to the hold-out
set, and validation can score the champion on rows neither version trained on. Changing the
key columns or the percentage changes the split; every training run logs its split (see
:meth:`Split.params`), so validation recomputes the champion's own hold-out set and compares
on the rows in both.

With the default key, a row whose values change (a corrected label) is a new row. Name a
stable id column in ``key_columns`` to keep a row on its side across such edits.
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

    def keys(self, data: pd.DataFrame) -> pd.Series:
        """The SHA-256 (hex) of each row's key."""
        columns = list(self.key_columns) or sorted(data.columns)
        missing = [c for c in columns if c not in data.columns]
        if missing:
            raise ValueError(f"split key columns {missing} are not in the data: {list(data)}")
        texts = (
            "\x1f".join(_canonical(v) for v in row)
            for row in data[columns].itertuples(index=False, name=None)
        )
        return pd.Series(
            [hashlib.sha256(t.encode()).hexdigest() for t in texts], index=data.index, dtype=object
        )

    def holdout(self, data: pd.DataFrame, keys: pd.Series | None = None) -> pd.Series:
        """Boolean mask of the hold-out rows of ``data`` (``keys``: its :meth:`keys`, if known)."""
        keys = self.keys(data) if keys is None else keys
        buckets = keys.map(lambda key: int(key[:12], 16) % BUCKETS)
        return (buckets < self.holdout_percent).astype(bool)

    def describe(self) -> str:
        key = ", ".join(self.key_columns) if self.key_columns else "every column"
        return f"{self.holdout_percent}% hold-out by hash of {key}"


def digest(keys: Iterable[str]) -> str:
    """One SHA-256 for a set of row keys (order-independent): logged instead of the rows."""
    total = hashlib.sha256()
    for key in sorted(keys):
        total.update(key.encode())
    return total.hexdigest()
