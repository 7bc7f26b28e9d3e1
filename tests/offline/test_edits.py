"""Editing a YAML file in place by what a new render changes (``init`` run again)."""

from __future__ import annotations

import dataclasses

import pytest

from mlops_resources.offline.edits import patch
from mlops_resources.offline.templates import (
    PROD_FILE,
    STAGING_FILE,
    TeamAnswers,
    _files,
)

EXAMPLE = TeamAnswers()
CHANGES = {
    "entries removed and added": {
        "problem_type": "regression",
        "on_failure_email": "",
        "operators_group": "",
        "github_owner_id": "1",
        "github_repository_id": "2",
        "readers_group": "yes",  # text YAML would read as true: quoted
        "schema": "#1",
    },
    "values and comments": {
        "training_data": "staging.raw.samples",
        "label_column": "y",
        "cloud": "gcp",
        "staging_host": "https://1.1.gcp.databricks.com",
    },
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_file_that_is_the_old_render_becomes_the_new_render(change: dict[str, str]) -> None:
    """Applying the differences between two renders to the first gives the second, byte for
    byte, whatever the change: a value replaced, an entry inserted where the render has it, an
    entry and the comments that describe it removed, and back again."""
    old, new = _files(EXAMPLE, None), _files(dataclasses.replace(EXAMPLE, **change), None)
    for path, text in old.items():
        assert patch(text, text, new[path], namespace="mlops").text == new[path], path
        assert patch(new[path], new[path], text, namespace="mlops").text == text, path


def test_hand_edits_comments_and_other_spellings_are_kept() -> None:
    """A file written with un-namespaced keys (``config: {model: ...}``, which the CLI reads as
    ``mlops:model``), another indentation, a comment and a key of the team's own: the answer's
    key changes where it stands, and an entry the new render adds goes in at the file's own
    indentation, after the sibling it follows in the render."""
    old = _files(EXAMPLE, None)[STAGING_FILE]
    current = (
        old.replace("\n  mlops:", "\n  ")
        .replace("    schema: wine_quality\n", "    schema: wine_quality  # the team's comment\n")
        .replace("  jobs:\n", "  jobs:\n    min_retry_interval_millis: 1000\n")
    )
    regression = dataclasses.replace(EXAMPLE, problem_type="regression", schema="churn")
    classification = dataclasses.replace(regression, problem_type="classification")
    first = patch(current, old, _files(regression, None)[STAGING_FILE], namespace="mlops")
    assert first.conflicts == ()
    assert "    schema: churn  # the team's comment\n" in first.text
    assert "    min_retry_interval_millis: 1000\n" in first.text
    assert "positive_threshold" not in first.text and "r2_score" in first.text
    back = patch(
        first.text,
        _files(regression, None)[STAGING_FILE],
        _files(classification, None)[STAGING_FILE],
        namespace="mlops",
    )
    assert "    problem_type: classification\n    positive_threshold: 7\n" in back.text


def test_a_changed_value_the_team_edited_is_a_conflict_unless_forced() -> None:
    old = _files(EXAMPLE, None)[PROD_FILE]
    current = old.replace("tag: v0.1.0", "tag: v0.1.1")
    new = _files(dataclasses.replace(EXAMPLE, prod_tag="v0.2.0"), None)[PROD_FILE]
    refused = patch(current, old, new, namespace="mlops")
    assert [(c.key, c.found, c.expected, c.wanted) for c in refused.conflicts] == [
        ("mlops:code_source.tag", "v0.1.1", "v0.1.0", "v0.2.0")
    ]
    assert refused.text == current
    assert "tag: v0.2.0" in patch(current, old, new, namespace="mlops", force=True).text
