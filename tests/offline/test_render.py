"""The text render reads like ``pulumi preview``: a tree of components and their children."""

from __future__ import annotations

import re

import pytest

from mlops_resources.offline.evaluation import Evaluation
from mlops_resources.offline.render import display_type, render_tree
from tests.stacks import run_stack

_ROW = re.compile(r"^(?P<guide>(?:[│ ]  )*)(?:├─|└─) (?P<type>\S+)\s+(?P<name>\S+)")


@pytest.fixture(scope="module")
def staging() -> Evaluation:
    return run_stack("staging")


def tree_rows(text: str) -> list[tuple[int, str, str]]:
    """(depth, type, name) of every resource row of a rendered tree."""
    rows = []
    for line in text.splitlines():
        match = _ROW.match(line)
        if match:
            rows.append((len(match["guide"]) // 3 + 1, match["type"], match["name"]))
    return rows


def test_every_resource_sits_under_its_parent(staging: Evaluation) -> None:
    rows = tree_rows(render_tree(staging, "mlops"))
    assert sorted(name for _, _, name in rows) == sorted(r.name for r in staging.resources)
    depth = {name: d for d, _, name in rows}
    for resource in staging.resources:
        expected = 1 if resource.parent is None else depth[resource.parent] + 1
        assert depth[resource.name] == expected, resource.name
    # A child follows its parent, before the parent's next sibling.
    position = {name: i for i, (_, _, name) in enumerate(rows)}
    for resource in staging.resources:
        if resource.parent:
            assert position[resource.parent] < position[resource.name]


def test_components_come_before_resources_and_types_read_like_preview(
    staging: Evaluation,
) -> None:
    rows = tree_rows(render_tree(staging, "mlops"))
    experiment = [(t, n) for d, t, n in rows if d == 3 and n.startswith("mlops-experiment-")]
    assert experiment == [
        ("databricks:index:Directory", "mlops-experiment-directory"),
        ("databricks:index:Permissions", "mlops-experiment-directory-permissions"),
        ("databricks:index:MlflowExperiment", "mlops-experiment-experiment"),
        ("databricks:index:Permissions", "mlops-experiment-permissions"),
    ]
    children = [t for d, t, _ in rows if d == 2]
    assert children == sorted(children, key=lambda t: not t.startswith("mlops:"))


def test_key_inputs_are_indented_under_their_resource(staging: Evaluation) -> None:
    lines = render_tree(staging, "mlops").splitlines()
    at = next(i for i, line in enumerate(lines) if line.endswith(" mlops-experiment-directory"))
    assert lines[at + 1] == (
        "   │  │      path: /Users/00000000-0000-0000-0000-00000000a001/wine-quality/staging"
    )


@pytest.mark.parametrize(
    ("token", "shown"),
    [
        ("databricks:index/job:Job", "databricks:index:Job"),
        ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3:BucketVersioning"),
        ("mlops:databricks:MlopsStack", "mlops:databricks:MlopsStack"),
    ],
)
def test_type_tokens_are_shown_as_pulumi_shows_them(token: str, shown: str) -> None:
    assert display_type(token) == shown


def test_existence_checks_show_as_not_checked_never_as_passed(staging: Evaluation) -> None:
    lines = render_tree(staging, "mlops").splitlines()
    at = lines.index(
        "Must exist, not checked offline (a preview reads each one with the provider and fails, "
        "naming the key, when it is missing):"
    )
    assert lines[at + 1 : at + 4] == [
        "    catalog  staging",
        "    schema   staging.wine_quality",
        "    table    staging.wine_quality.scoring_input",
    ]
