"""The notebooks are Databricks source files whose imports of ``mlops_ml`` resolve.

That their widgets are the jobs' parameters is checked with the infrastructure tests
(``tests/databricks/test_notebook_parameters.py``): it evaluates the Pulumi program.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
TRAINING_NOTEBOOKS = ("Train", "ModelValidation", "ModelDeployment")
ALL_NOTEBOOKS = (*TRAINING_NOTEBOOKS, "BatchInference")
_WIDGET = re.compile(r"""dbutils\.widgets\.(text|get)\(\s*["']([^"']+)["']""")


def source(notebook: str) -> str:
    return (NOTEBOOKS / f"{notebook}.py").read_text()


def widgets(notebook: str, call: str) -> set[str]:
    """Names passed to ``dbutils.widgets.<call>`` in the notebook."""
    return {name for kind, name in _WIDGET.findall(source(notebook)) if kind == call}


@pytest.mark.parametrize("notebook", ALL_NOTEBOOKS)
def test_notebooks_are_databricks_source_files(notebook: str) -> None:
    text = source(notebook)
    assert text.splitlines()[0] == "# Databricks notebook source"
    assert "\n# COMMAND ----------\n" in text
    assert "# MAGIC %md" in text
    ast.parse(text)  # cells are plain Python; magic lines are comments
    # Each widget the notebook declares is read, and each one it reads is declared.
    assert widgets(notebook, "text") == widgets(notebook, "get")


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
