"""The empty, migrated MLflow SQLite store the ML tests copy (``mlflow_env``).

Creating one runs every alembic migration of MLflow's SQL store: seconds of CPU. Under
pytest-xdist the controlling process starts that once, while the workers collect
(``tests/conftest.py``), and names the file in :data:`TEMPLATE_ENV`; each worker waits for it
(:func:`wait`). In a single process, or when no controller started one, the ML tests' conftest
starts its own. Standard library only: the controller imports this without MLflow's cost.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE_ENV = "MLOPS_TESTS_MLFLOW_TEMPLATE"
"""Where the controlling process's migration writes the template store."""

_MIGRATE = """
import os, sys, traceback
target = sys.argv[1]
try:
    from mlflow import MlflowClient
    uri = "sqlite:///" + target + ".partial"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.search_experiments()
    client.search_registered_models()
    os.replace(target + ".partial", target)
except BaseException:
    with open(target + ".failed", "w") as failed:
        failed.write(traceback.format_exc())
    raise
"""
"""Creates and migrates an empty store under a temporary name, then moves it into place: the
file at the target path is always complete. A failure leaves ``<target>.failed``."""


def start() -> tuple[subprocess.Popen[bytes], Path]:
    """Start migrating a template store in a new temporary folder; return the process and the
    store's path (complete once the process succeeds)."""
    path = Path(tempfile.mkdtemp(prefix="mlflow-template-")) / "mlflow.db"
    with open(path.with_suffix(".log"), "wb") as log:  # alembic logs every migration
        process = subprocess.Popen(
            [sys.executable, "-c", _MIGRATE, str(path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=path.parent,  # MLflow 2 creates its default artifact root, ./mlruns, in the cwd
        )
    return process, path


def wait(path: Path, timeout: float = 300) -> Path:
    """``path`` once another process's migration has written it; fail with its error."""
    failed = path.with_name(path.name + ".failed")
    deadline = time.monotonic() + timeout
    while not path.exists():
        if failed.exists():
            raise RuntimeError(f"migrating the MLflow template store failed:\n{failed.read_text()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no MLflow template store at {path} after {timeout:.0f} s")
        time.sleep(0.05)
    return path


def shared() -> Path | None:
    """The template store the controlling process is migrating, if it started one."""
    value = os.environ.get(TEMPLATE_ENV)
    return Path(value) if value else None
