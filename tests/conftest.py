"""Run once in the process that starts the tests: under pytest-xdist, the work the workers
would each repeat is started here, while they collect."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.ml import mlflow_template

ML_TESTS = Path(__file__).parent / "ml"

_MIGRATION: subprocess.Popen[bytes] | None = None


def _runs_ml_tests(config: pytest.Config) -> bool:
    for arg in config.args:
        path = Path(arg.split("::")[0]).resolve()
        if path == ML_TESTS or path in ML_TESTS.parents or ML_TESTS in path.parents:
            return True
    return False


def pytest_configure(config: pytest.Config) -> None:
    """The xdist controller migrates the MLflow template store once for every worker (they
    inherit :data:`~tests.ml.mlflow_template.TEMPLATE_ENV`), when the run includes ML tests."""
    global _MIGRATION
    controller = not os.environ.get("PYTEST_XDIST_WORKER") and config.getoption(
        "numprocesses", default=None
    )
    if not controller or mlflow_template.shared() or not _runs_ml_tests(config):
        return
    _MIGRATION, path = mlflow_template.start()
    os.environ[mlflow_template.TEMPLATE_ENV] = str(path)


def pytest_unconfigure(config: pytest.Config) -> None:
    global _MIGRATION
    if _MIGRATION is None:
        return
    _MIGRATION.wait(timeout=300)
    path = mlflow_template.shared()
    os.environ.pop(mlflow_template.TEMPLATE_ENV, None)
    if path is not None:
        shutil.rmtree(path.parent, ignore_errors=True)
    _MIGRATION = None
