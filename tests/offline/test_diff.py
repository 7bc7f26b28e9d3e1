"""``python -m mlops_resources diff``: what a pull request changes, from two offline renders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_resources.offline.cli import main
from mlops_resources.offline.diff import compare, to_markdown
from mlops_resources.offline.evaluation import Evaluation
from tests.stacks import run_stack, section


@pytest.fixture(scope="module")
def staging() -> Evaluation:
    return run_stack("staging")


@pytest.fixture(scope="module")
def prod() -> Evaluation:
    return run_stack("prod")


def document(evaluation: Evaluation) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(evaluation.to_json())
    return loaded


def test_identical_renders_have_no_changes(prod: Evaluation) -> None:
    render = document(prod)
    diff = compare(render, render)
    assert diff.empty
    assert to_markdown(diff) == (
        "### Offline render: `prod`\n\n"
        "No changes: base and head declare identical resources (23).\n"
    )


STAGING_POLICY = "00000000-0000-0000-0000-00000000c001"
POLICY = "3c5e1a2b-7d4f-4e6a-9b8c-1d2e3f4a5b6c"


def test_config_change_is_reported_input_by_input(staging: Evaluation) -> None:
    base = document(staging)
    head = document(
        run_stack(
            "staging",
            {
                "mlops:compute": section("staging", "compute", budget_policy_id=POLICY),
                "mlops:batch_inference": section(
                    "staging", "batch_inference", output_table_exists=True
                ),
                "mlops:protect_ml_assets": "true",
            },
        )
    )
    diff = compare(base, head)
    assert diff.added == (
        (
            "databricks:index/grant:Grant",
            "mlops-grants-table-staging.wine_quality.predictions@wine-quality-staging-jobs",
        ),
    )
    assert diff.removed == ()
    changed = {
        (c.name, change.path): (change.base, change.head)
        for c in diff.changed
        for change in c.changes
    }
    schema_grant = "mlops-grants-schema-staging.wine_quality@wine-quality-staging-jobs"
    assert changed == {
        ("mlops-training-job", "budgetPolicyId"): (STAGING_POLICY, POLICY),
        ("mlops-batch-inference-job", "budgetPolicyId"): (STAGING_POLICY, POLICY),
        (schema_grant, "privileges[0]"): ("CREATE_TABLE", "USE_SCHEMA"),
        (schema_grant, "privileges[1]"): ("USE_SCHEMA", None),
        ("mlops-experiment-directory", "deleteRecursive"): (True, False),
        ("mlops-experiment-directory", "(protect)"): (False, True),
        ("mlops-experiment-directory", "(retainOnDelete)"): (False, True),
        ("mlops-experiment-experiment", "(protect)"): (False, True),
        ("mlops-experiment-experiment", "(retainOnDelete)"): (False, True),
        ("mlops-model-model", "(protect)"): (False, True),
        ("mlops-model-model", "(retainOnDelete)"): (False, True),
    }
    report = to_markdown(diff)
    assert "**1 to add, 0 to remove, 6 to change**" in report
    assert f"| `budgetPolicyId` | `{STAGING_POLICY}` | `{POLICY}` |" in report
    assert "#### Added\n\n- `databricks:index/grant:Grant` **mlops-grants-table-staging" in report


def test_removed_resources_and_absent_inputs(staging: Evaluation) -> None:
    base = document(staging)
    head = document(
        run_stack(
            "staging",
            {"mlops:access": section("staging", "access", jobs_group=None, operators_group=None)},
        )
    )
    diff = compare(base, head)
    removed_types = {type_ for type_, _ in diff.removed}
    assert removed_types == {"databricks:index/grant:Grant"}
    job = next(c for c in diff.changed if c.name == "mlops-training-permissions")
    operators = next(c for c in job.changes if c.path == "accessControls[2].permissionLevel")
    assert (operators.base, operators.head) == ("IS_OWNER", None)
    assert "| `accessControls[2].permissionLevel` | `IS_OWNER` | _(absent)_ |" in to_markdown(diff)


def test_long_values_are_shortened_and_pipes_escaped() -> None:
    base = {"stack": "s", "resources": [{"type": "t", "name": "n", "inputs": {"a": "x|y"}}]}
    head = {"stack": "s", "resources": [{"type": "t", "name": "n", "inputs": {"a": "z" * 200}}]}
    report = to_markdown(compare(base, head))
    assert "| `a` | `x\\|y` | `" + "z" * 79 + "…` |" in report


def test_cli_diff_and_exit_code(
    prod: Evaluation, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, head, empty = tmp_path / "base.json", tmp_path / "head.json", tmp_path / "empty.json"
    base.write_text(prod.to_json())
    head.write_text(run_stack("prod", {"mlops:jobs": {"max_retries": 3}}).to_json())
    empty.write_text("")
    assert main(["diff", str(base), str(base), "--exit-code"]) == 0
    assert main(["diff", str(base), str(head), "--exit-code"]) == 1
    assert main(["diff", str(base), str(head)]) == 0
    out = capsys.readouterr().out
    assert "| `tasks[0].maxRetries` | `2` | `3` |" in out
    # A base without a renderer (the PR that introduces it): everything is added.
    assert main(["diff", str(empty), str(head)]) == 0
    assert "**23 to add, 0 to remove, 0 to change**" in capsys.readouterr().out
    assert main(["diff", str(tmp_path / "missing.json"), str(head)]) == 2


def test_a_changed_workspace_host_shows_though_every_resource_is_the_same(
    prod: Evaluation,
) -> None:
    """``databricks:host`` is provider config: no resource input carries it, yet the SDK sends
    the deploy job's OIDC token to that host's token endpoint (installed databricks-sdk,
    ``credentials_provider.py`` ``_oidc_credentials_provider``). A look-alike host must not
    read as "No changes"; a base rendered before renders carried it shows it as added."""
    base = document(prod)
    head = json.loads(json.dumps(base))
    head["providerConfig"]["databricks:host"] = "https://dbc-prod-0000.cloud-databricks.com"
    diff = compare(base, head)
    assert not diff.empty and not diff.changed and not diff.added
    report = to_markdown(diff)
    assert "#### Provider config changed (where the deploy's credentials go)" in report
    assert (
        "| `databricks:host` | `https://dbc-prod-0000.cloud.databricks.com` | "
        "`https://dbc-prod-0000.cloud-databricks.com` |"
    ) in report
    older = {k: v for k, v in base.items() if k != "providerConfig"}
    (added,) = compare(older, base).providers
    assert (added.path, added.base) == ("databricks:host", None)
