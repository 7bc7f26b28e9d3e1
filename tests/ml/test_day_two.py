"""The model gate on day two: the table changes under a champion, and the verdict stays right.

A champion is compared with a candidate on the rows neither trained on, which needs the
champion's own hold-out rows in *today's* table. These stories change the table the way real
ones change (a column added, old rows re-exported with other values, a column dropped) and check
that a better retrain is accepted, or that the gate fails saying what to do, never blaming the
candidate for rows the champion trained on.

The champion is a 1-nearest-neighbour model: perfect on the rows it trained on, honestly worse
than the candidate's random forest on rows it did not see, so scoring it on its own training
rows (the leak) shows up as the champion winning.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from mlflow.models import get_model_info
from mlops_ml.registry import CHAMPION_ALIAS
from mlops_ml.split import Split
from mlops_ml.validation import (
    KeyMismatchError,
    _champion_rows,
    _TrainingRun,
    validate_version,
)
from sklearn.neighbors import KNeighborsClassifier

from tests.ml.conftest import CLASSIFICATION, MlflowEnv, loader, normalized_wine_frame

MODEL = "wine_model"
HOLDOUT = 40
"""Two independent 40 % splits share 16 % of the rows: enough comparison rows in 300."""
NO_TOLERANCE = {"roc_auc": {"tolerance": 0.0}}
MEMORIZER = KNeighborsClassifier(n_neighbors=1)
DATA = normalized_wine_frame()
WITH_ID = DATA.assign(wine_id=range(len(DATA)))
"""The same rows once the table has an id column (the key ``split_key_columns`` names)."""
RE_EXPORTED = WITH_ID.assign(alcohol=WITH_ID["alcohol"].round(1))
"""Old rows re-exported with other values: alcohol now has one decimal, not two."""
BY_ID = Split(HOLDOUT, ("wine_id",))


def validate(version: str, data: pd.DataFrame, mode: str = "enabled") -> Any:
    return validate_version(MODEL, version, mode, NO_TOLERANCE, load_data=loader(data))


def previous_release_champion(env: MlflowEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """Version 1, champion, trained by the previous release as prod ran it: no split key
    columns (every column was the key), and neither its key columns nor its key digests logged
    as run parameters (its digests are in ``validation/split.json`` only)."""
    with monkeypatch.context() as previous:
        previous.setattr(Split, "logged", lambda self, data, keys, holdout: {}, raising=False)
        env.train(MODEL, estimator=MEMORIZER, data=DATA, split=Split(HOLDOUT))
    env.client.set_registered_model_alias(MODEL, CHAMPION_ALIAS, "1")


def test_prod_upgrade_a_champion_keyed_by_every_column_meets_a_changing_table(
    mlflow_env: MlflowEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given prod's champion from the previous release (keyed by every column), when the table
    gains an id column (as ``run_mode: enabled`` now requires) and the next retrain is keyed by
    it, then the champion's rows are still found exactly and the better retrain is accepted.
    The previous gate recomputed the champion's split over today's columns, scored it on rows
    it trained on, and failed this retrain (the issue's 0.9431 vs 0.9318)."""
    previous_release_champion(mlflow_env, monkeypatch)
    mlflow_env.train(MODEL, data=WITH_ID, split=BY_ID)

    report = validate("2", WITH_ID)

    assert report.status == "PASSED", report.summary()
    assert report.comparison_basis == "by every column it had; the table is unchanged: exact"
    (check,) = [c for c in report.checks if c.kind == "champion"]
    assert check.candidate is not None and check.reference is not None
    assert check.candidate > check.reference

    # Old rows re-exported with other values: a row keyed by its values has a new key, so the
    # champion's rows cannot be told apart; its comparison may be flattered by rows it
    # trained on. The same candidate (version 2 registered again) then loses, and the check says the
    # comparison is inconclusive and what to do, not that the candidate is worse.
    assert mlflow_env.copy_version(MODEL, "2") == "3"
    report = validate("3", RE_EXPORTED, "dry_run")
    assert report.status == "FAILED"
    assert "rows it trained on may count as unseen" in report.comparison_basis
    (failed,) = report.failed_checks
    assert failed.kind == "champion"
    assert "inconclusive, not a verdict on this version" in failed.message
    assert "split_key_columns" in failed.message and "break-glass" in failed.message

    # A column the champion had is dropped: its rows cannot be found at all.
    dropped = WITH_ID.drop(columns=["chlorides"])
    mlflow_env.train(MODEL, data=dropped, split=BY_ID)
    report = validate("4", dropped, "dry_run")
    (failed,) = report.failed_checks
    assert failed.message.startswith(
        "champion v1 was split by the values of every column it had, and ['chlorides'] are not "
        "in the training data any more"
    )
    assert "break-glass" in failed.message

    # A repair run re-validates the version Train registered, possibly days later. Keyed by
    # every column, rows edited since then have new keys and some would move to its hold-out
    # side: it would be scored on rows it trained on. Validation refuses and says what to do.
    assert mlflow_env.copy_version(MODEL, "1") == "5"
    report = validate("5", DATA.assign(alcohol=DATA["alcohol"].round(1)), "dry_run")
    (failed,) = report.failed_checks
    assert failed.message.startswith("the training data changed since version 5 was trained")
    assert "run the whole job again" in failed.message


def test_an_id_keyed_champion_is_compared_exactly_after_rows_are_re_exported(
    mlflow_env: MlflowEnv,
) -> None:
    """Given a champion keyed by ``wine_id``, when old rows are re-exported with other values,
    the table gains a column and grows, then the next retrain is compared on exactly the rows
    neither trained on and accepted; the id is a key, not a feature, in both versions (the
    previous gate trained on it and stored it in the model's signature)."""
    mlflow_env.train(MODEL, estimator=MEMORIZER, data=WITH_ID, split=BY_ID)
    mlflow_env.client.set_registered_model_alias(MODEL, CHAMPION_ALIAS, "1")
    grown = normalized_wine_frame(rows=100, seed=21).assign(wine_id=range(300, 400))
    today = pd.concat([RE_EXPORTED, grown], ignore_index=True).assign(vintage=2019.0)
    mlflow_env.train(MODEL, data=today, split=BY_ID)

    report = validate("2", today)

    assert report.status == "PASSED", report.summary()
    assert report.comparison_rows == int((BY_ID.holdout(today)).sum())
    for version, features in [("1", WITH_ID), ("2", today)]:
        signature = get_model_info(f"models:/{MODEL}/{version}").signature
        assert signature is not None
        names = signature.inputs.input_names()
        assert names == [c for c in features.columns if c not in ("quality", "wine_id")]
    assert report.comparison_basis == "by its key columns ['wine_id']: exact"


def test_a_champion_whose_id_column_is_gone_fails_with_what_to_do() -> None:
    """Keyed by an id the table no longer has (renamed, say), the champion's rows cannot be
    found: the comparison fails naming the columns and the way out, before scoring anything."""
    run = _TrainingRun(CLASSIFICATION, BY_ID, "synthetic", ("wine_id",), None, None)
    renamed = WITH_ID.rename(columns={"wine_id": "id"})
    with pytest.raises(KeyMismatchError) as caught:
        _champion_rows(renamed, run, lambda: pytest.fail("no model needed"), "quality", "3")
    assert str(caught.value).startswith(
        "champion v3 was split by key columns ['wine_id'], and ['wine_id'] are not in the "
        "training data any more"
    )
    assert "break-glass" in str(caught.value)
