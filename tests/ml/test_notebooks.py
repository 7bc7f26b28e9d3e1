"""The notebooks match the jobs: Databricks source format, widget names, resolvable imports."""

from __future__ import annotations

import ast
import importlib
import re
from functools import cache
from pathlib import Path

import pytest

from mlops_resources.offline import PROJECT_DIR, evaluate

NOTEBOOKS = PROJECT_DIR / "notebooks"
TRAINING_NOTEBOOKS = ("Train", "ModelValidation", "ModelDeployment")
ALL_NOTEBOOKS = (*TRAINING_NOTEBOOKS, "BatchInference")
_WIDGET = re.compile(r"""dbutils\.widgets\.(text|get)\(\s*["']([^"']+)["']""")


def source(notebook: str) -> str:
    return (NOTEBOOKS / f"{notebook}.py").read_text()


def widgets(notebook: str, call: str) -> set[str]:
    """Names passed to ``dbutils.widgets.<call>`` in the notebook."""
    return {name for kind, name in _WIDGET.findall(source(notebook)) if kind == call}


@cache
def job_parameters() -> dict[str, set[str]]:
    """Parameter names of the two jobs, as the real program declares them for staging."""
    result = evaluate("staging")
    return {
        job: {p["name"] for p in result.get(job).inputs["parameters"]}
        for job in ("mlops-training-job", "mlops-batch-inference-job")
    }


@pytest.mark.parametrize("notebook", ALL_NOTEBOOKS)
def test_notebooks_are_databricks_source_files(notebook: str) -> None:
    text = source(notebook)
    assert text.splitlines()[0] == "# Databricks notebook source"
    assert "\n# COMMAND ----------\n" in text
    assert "# MAGIC %md" in text
    ast.parse(text)  # cells are plain Python; magic lines are comments
    # Each widget the notebook declares is read, and each one it reads is declared.
    assert widgets(notebook, "text") == widgets(notebook, "get")


def test_training_notebooks_read_exactly_the_training_job_parameters() -> None:
    names = set().union(*(widgets(n, "get") for n in TRAINING_NOTEBOOKS))
    assert names == job_parameters()["mlops-training-job"]


def test_batch_inference_reads_exactly_the_batch_job_parameters() -> None:
    assert widgets("BatchInference", "get") == job_parameters()["mlops-batch-inference-job"]


@pytest.mark.parametrize("notebook", ALL_NOTEBOOKS)
def test_notebook_imports_of_mlops_ml_resolve(notebook: str) -> None:
    imports = [
        node
        for node in ast.walk(ast.parse(source(notebook)))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mlops_ml")
    ]
    assert imports, f"{notebook} calls no mlops_ml function"
    for node in imports:
        module = importlib.import_module(str(node.module))
        assert Path(str(module.__file__)).is_relative_to(NOTEBOOKS / "mlops_ml")
        for alias in node.names:
            assert hasattr(module, alias.name), f"{node.module} has no {alias.name}"
