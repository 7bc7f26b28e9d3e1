"""Each job's notebooks read exactly the job's parameters as widgets.

Databricks passes job-level parameters to every task's notebook as widgets: a widget a
notebook reads that the job does not declare is empty at run time, and a parameter no notebook
reads is dead config. The jobs and their task notebooks come from the real program.
"""

from __future__ import annotations

import pytest

from mlops_resources import PROJECT_DIR
from mlops_resources.offline.evaluation import Evaluation
from tests.ml.test_notebooks import widgets
from tests.stacks import MONITORING, run_stack


@pytest.fixture(scope="module")
def staging() -> Evaluation:
    """Staging with monitoring on, so the retraining job is declared too."""
    return run_stack("staging", {"mlops:monitoring": MONITORING})


@pytest.mark.parametrize(
    "job", ["mlops-training-job", "mlops-batch-inference-job", "mlops-monitoring-retraining-job"]
)
def test_task_notebooks_read_exactly_the_job_parameters(staging: Evaluation, job: str) -> None:
    inputs = staging.get(job).inputs
    notebooks = [
        t["notebookTask"]["notebookPath"].split("/")[-1]
        for t in inputs["tasks"]
        if "notebookTask" in t
    ]
    assert all((PROJECT_DIR / "notebooks" / f"{n}.py").is_file() for n in notebooks)
    read = set().union(*(widgets(n, "get") for n in notebooks))
    assert read == {p["name"] for p in inputs["parameters"]}
