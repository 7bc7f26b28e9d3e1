"""The notebooks' tests also run on the Databricks Runtime 15.4 LTS ML library set: pinned,
inside the ranges the repository declares, without pulumi, run by `.ci/run`."""

from __future__ import annotations

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from mlops_resources import PROJECT_DIR


def requirements(name: str) -> dict[str, Requirement]:
    lines = (PROJECT_DIR / name).read_text().splitlines()
    parsed = [Requirement(line.split("#")[0]) for line in lines if line.split("#")[0].strip()]
    return {canonicalize_name(r.name): r for r in parsed}


def test_the_runtime_set_is_pinned_inside_the_declared_ranges() -> None:
    runtime = requirements("requirements-ml-dbr154.txt")
    pins = {name: Version(str(r.specifier).removeprefix("==")) for name, r in runtime.items()}
    assert all(str(r.specifier).startswith("==") for r in runtime.values())
    # Databricks' compatibility matrix: 15.4 LTS ML ships MLflow 2.13.1 on Spark 3.5.0.
    assert (pins["mlflow"], pins["pyspark"]) == (Version("2.13.1"), Version("3.5.0"))
    assert not any(name.startswith("pulumi") for name in runtime)
    for name, declared in requirements("requirements-ml.txt").items():
        assert declared.specifier.contains(pins[name]), (name, declared.specifier, pins[name])


def test_ci_runs_the_ml_tests_in_a_venv_of_the_runtime_set() -> None:
    ci = (PROJECT_DIR / ".ci/run").read_text().splitlines()
    steps = [
        "python3 -m venv venv-dbr154",
        "venv-dbr154/bin/pip install --quiet --disable-pip-version-check "
        "-r requirements-ml-dbr154.txt",
        "venv-dbr154/bin/python -m pytest tests/ml",
    ]
    assert [line for line in ci if line in steps] == steps
    assert ci.index(steps[0]) > ci.index("venv/bin/python -m pytest")
