"""The notebooks' tests also run on the library sets they meet in Databricks, each pinned,
inside the ranges the repository declares, without pulumi, run by `.ci/run`: Databricks
Runtime 15.4 LTS ML (classic job clusters) and the serverless environment version a stack
pins (its standard set plus ``notebooks/requirements.txt``)."""

from __future__ import annotations

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from mlops_resources import PROJECT_DIR
from mlops_resources.config.compute import (
    DEFAULT_ENVIRONMENT_VERSION,
    NOTEBOOK_REQUIREMENTS,
    SERVERLESS_ENVIRONMENT_VERSIONS,
)


def requirements(name: str) -> dict[str, Requirement]:
    """A requirements file's requirements by name, following ``-r`` (relative to the root)."""
    found: dict[str, Requirement] = {}
    for line in (PROJECT_DIR / name).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r "):
            found.update(requirements(line.removeprefix("-r ").strip()))
        elif line:
            requirement = Requirement(line)
            found[canonicalize_name(requirement.name)] = requirement
    return found


def pins(name: str) -> dict[str, Version]:
    runtime = requirements(name)
    assert all(str(r.specifier).startswith("==") for r in runtime.values()), name
    assert not any(name.startswith("pulumi") for name in runtime)
    return {name: Version(str(r.specifier).removeprefix("==")) for name, r in runtime.items()}


def test_the_runtime_set_is_pinned_inside_the_declared_ranges() -> None:
    runtime = pins("requirements-ml-dbr154.txt")
    # Databricks' compatibility matrix: 15.4 LTS ML ships MLflow 2.13.1 on Spark 3.5.0.
    assert (runtime["mlflow"], runtime["pyspark"]) == (Version("2.13.1"), Version("3.5.0"))
    for name, declared in requirements("requirements-ml.txt").items():
        assert declared.specifier.contains(runtime[name]), (name, declared.specifier, runtime[name])


def test_each_serverless_version_a_stack_may_pin_has_its_set_inside_the_declared_ranges() -> None:
    """Version 5 (release notes, "Serverless environment version 5"): MLflow 3.8.1, Python
    3.12, Databricks Connect 18 (Spark 4.1); pandas, NumPy and PyArrow as Databricks publishes
    the standard set's pins. On serverless Spark is Databricks Connect, not a pyspark install:
    the set's pyspark is the tests' local stand-in of its Spark version, which no range of
    requirements-ml.txt (the local pyspark of the main test run) is meant to cover."""
    assert DEFAULT_ENVIRONMENT_VERSION == "5"
    for version in SERVERLESS_ENVIRONMENT_VERSIONS:
        name = f"requirements-ml-serverless-{version}.txt"
        serverless = pins(name)
        shipped = requirements(NOTEBOOK_REQUIREMENTS)
        assert set(shipped) <= set(serverless), f"{name} lacks -r {NOTEBOOK_REQUIREMENTS}"
        for package, declared in requirements("requirements-ml.txt").items():
            if package != "pyspark":
                assert declared.specifier.contains(serverless[package]), (name, package)
    five = pins("requirements-ml-serverless-5.txt")
    assert (five["mlflow"], five["pyspark"].release[:2]) == (Version("3.8.1"), (4, 1))
    assert (five["pandas"], five["numpy"]) == (Version("2.2.3"), Version("2.1.3"))


def test_ci_runs_the_ml_tests_in_a_venv_of_each_runtime_set() -> None:
    ci = (PROJECT_DIR / ".ci/run").read_text().splitlines()
    dbr154 = [
        "python3 -m venv venv-dbr154",
        "venv-dbr154/bin/pip install --quiet --disable-pip-version-check "
        "-r requirements-ml-dbr154.txt",
        "venv-dbr154/bin/python -m pytest tests/ml",
    ]
    serverless = [
        '"$py312" -m venv venv-serverless',
        "venv-serverless/bin/pip install --quiet --disable-pip-version-check "
        f"-r requirements-ml-serverless-{DEFAULT_ENVIRONMENT_VERSION}.txt",
        "venv-serverless/bin/python -m pytest tests/ml",
    ]
    assert [line for line in ci if line in dbr154] == dbr154
    assert [line for line in ci if line in serverless] == serverless
    assert ci.index(dbr154[0]) > ci.index("venv/bin/python -m pytest")
    # Python 3.12 as in the environment, checked before the venv is made from it.
    check = "sys.version_info[:2] == (3, 12)"
    assert any(check in line for line in ci[: ci.index(serverless[0])])
