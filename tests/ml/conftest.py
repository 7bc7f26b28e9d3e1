"""Fixtures for the notebooks' logic: a local SparkSession and a fresh local MLflow store.

Every test that uses :func:`mlflow_env` gets its own SQLite tracking store and model
registry under ``tmp_path`` (a copy of a store migrated once per session), with the tracking
and registry URIs set explicitly and restored afterwards. One local SparkSession (in-memory
catalog, warehouse in a temporary directory) serves the whole session.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

# MLflow 3 reports usage over the network unless told not to; tests have no network.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

import mlflow
import mlflow.tracking._model_registry.utils as registry_utils
import mlflow.tracking._tracking_service.utils as tracking_utils
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlops_ml import train
from mlops_ml.split import Split
from mlops_ml.target import Target
from mlops_ml.train import TrainingResult, default_estimator, train_model
from pyspark import SparkContext, java_gateway
from pyspark.sql import SparkSession

from tests.ml import mlflow_template

FEATURES = (
    "fixed acidity",
    "volatile acidity",
    "citric acid",
    "residual sugar",
    "chlorides",
    "free sulfur dioxide",
    "total sulfur dioxide",
    "density",
    "pH",
    "sulphates",
    "alcohol",
)
"""Column names of the wine-quality CSV (before normalization), label excluded."""


def wine_frame(rows: int = 300, seed: int = 7) -> pd.DataFrame:
    """Synthetic wine-quality data: quality rises with alcohol and falls with volatile acidity."""
    rng = np.random.default_rng(seed)
    data = {name: rng.uniform(0.0, 1.0, rows).round(4) for name in FEATURES}
    data["alcohol"] = rng.uniform(8.0, 14.0, rows).round(2)
    data["volatile acidity"] = rng.uniform(0.1, 1.2, rows).round(3)
    score = (data["alcohol"] - 11.0) * 1.2 - (data["volatile acidity"] - 0.6) * 3.0
    noise = rng.normal(0.0, 0.3, rows)
    data["quality"] = np.clip(np.round(5.5 + score + noise), 3, 8).astype("int64")
    return pd.DataFrame(data)


def write_wine_csv(path: Path, frame: pd.DataFrame) -> Path:
    """Write ``frame`` like the Databricks sample file: ``;``-separated, quoted header."""
    header = ";".join(f'"{c}"' for c in frame.columns)
    body = frame.to_csv(sep=";", header=False, index=False)
    path.write_text(header + "\n" + body)
    return path


def normalized_wine_frame(rows: int = 300, seed: int = 7) -> pd.DataFrame:
    """:func:`wine_frame` with the column names training uses (spaces -> underscores)."""
    frame = wine_frame(rows, seed)
    return frame.rename(columns=lambda c: c.replace(" ", "_"))


CLASSIFICATION = Target("classification", "quality", 7)
"""The target the stacks train: a good wine is quality 7 or more."""


def loader(frame: pd.DataFrame) -> Callable[[str, str], pd.DataFrame]:
    """A ``load_data`` for validation that returns ``frame`` whatever source it is asked for."""
    return lambda source, label: frame


@dataclass(frozen=True)
class MlflowEnv:
    """A local MLflow tracking store and registry for one test."""

    uri: str
    experiment_name: str
    artifact_root: Path
    client: MlflowClient

    def train(
        self,
        model_name: str,
        estimator: Any = None,
        data: pd.DataFrame | None = None,
        target: Target = CLASSIFICATION,
        split: Split | None = None,
        git_source_info: str = "",
    ) -> TrainingResult:
        """Train on ``data`` (default: synthetic wine data) and register a version.

        The default model is the production pipeline with a small forest: the tests check
        what training logs and registers, not how good 200 trees are, and stay fast.
        """
        return train_model(
            normalized_wine_frame() if data is None else data,
            target,
            self.experiment_name,
            model_name,
            split=split,
            training_data="synthetic",
            git_source_info=git_source_info,
            estimator=estimator
            if estimator is not None
            else default_estimator(target.problem_type, n_estimators=10),
            client=self.client,
        )

    def copy_version(self, model_name: str, version: str) -> str:
        """Register version ``version``'s model and run again, as a new version: a version
        with the same training run and model, without training (tests stay fast)."""
        registered = self.client.get_model_version(model_name, version)
        copy = self.client.create_model_version(
            model_name, str(registered.source), registered.run_id
        )
        return str(copy.version)


class FakeTaskValues:
    """``dbutils.jobs.taskValues`` for one task: in a job run, or (``in_job=False``) by hand.

    Outside a job run ``get`` returns ``debugValue`` and raises TypeError without one, as the
    Databricks SDK's dbutils does (databricks/databricks-sdk-py, ``databricks/sdk/dbutils.py``,
    ``_JobsUtil._TaskValuesUtil.get``: "Returns `debugValue` if present, throws an error
    otherwise as this implementation is always run outside of a job run"); ``set`` does
    nothing there. In a job run ``get`` returns what the named task set in ``store``, else
    ``default``: an assumption, the documentation we could read does not say what a key the
    task did not set returns (:func:`mlops_ml.handoff.handed_off_version` passes both
    ``default`` and ``debugValue``). ``set`` refuses values that are not JSON: "Only values
    that can be expressed as valid JSON are permitted" (Databricks docs, "Use task values to
    pass information between tasks", https://docs.databricks.com/aws/en/jobs/task-values).
    """

    def __init__(self, store: dict[str, dict[str, Any]], task: str, in_job: bool = True) -> None:
        self.store, self.task, self.in_job = store, task, in_job

    def get(
        self,
        task_key: str,
        key: str,
        /,
        default: Any = None,
        debugValue: Any = None,  # noqa: N803 - dbutils' keyword
    ) -> Any:
        if not self.in_job:
            if debugValue is None:
                raise TypeError("Must pass debugValue when calling get outside of a job context")
            return debugValue
        return self.store.get(task_key, {}).get(key, default)

    def set(self, key: str, value: Any) -> None:
        json.dumps(value)  # Databricks keeps task values as JSON
        if self.in_job:
            self.store.setdefault(self.task, {})[key] = value


class NotebookExitError(Exception):
    """``dbutils.notebook.exit`` ends the notebook with a value."""

    def __init__(self, value: str) -> None:
        super().__init__(value)
        self.value = value


class Widgets:
    """``dbutils.widgets``: a job parameter overrides the default the notebook declares."""

    def __init__(self, parameters: dict[str, str]) -> None:
        self.parameters = parameters
        self.defaults: dict[str, str] = {}

    def text(self, name: str, defaultValue: str, label: str | None = None) -> None:  # noqa: N803
        self.defaults[name] = defaultValue

    def get(self, name: str) -> str:
        if name not in self.defaults:
            raise ValueError(f"InputWidgetNotDefined: no widget named {name!r}")
        return self.parameters.get(name, self.defaults[name])


class Dbutils:
    """The parts of ``dbutils`` the notebooks use."""

    class Jobs:
        def __init__(self, task_values: FakeTaskValues) -> None:
            self.taskValues = task_values

    class Notebook:
        def exit(self, value: Any) -> None:
            raise NotebookExitError(str(value))

    def __init__(self, parameters: dict[str, str], task_values: FakeTaskValues) -> None:
        self.widgets = Widgets(parameters)
        self.jobs = self.Jobs(task_values)
        self.notebook = self.Notebook()


@dataclass
class FakeJobsApi:
    """``WorkspaceClient().jobs`` as a notebook task of one job run sees it: ``get_run`` and
    ``get``, answering with objects shaped like the Databricks SDK's (``Run.job_run_id``,
    ``Run.job_id``, ``Run.run_type.value``, ``Run.git_source.git_snapshot.used_commit``,
    ``Job.settings.parameters[].name/default``; ``test_gate_parts`` checks these names against
    the SDK's dataclasses where it is installed). The task run and the job run are different
    runs, as in a multi-task job."""

    declared: dict[str, str]
    """The job's parameters as it declares them (what the stack file deployed)."""
    used_commit: str | None = "5e1f0c9d2b7a4e3f8a6b1c0d9e8f7a6b5c4d3e2f"
    run_type: str = "JOB_RUN"
    job_id: int = 41
    job_run_id: int = 5000
    task_run_id: int = 5001

    def get_run(self, run_id: int) -> SimpleNamespace:
        if run_id not in (self.job_run_id, self.task_run_id):
            raise LookupError(f"run {run_id} does not exist")
        # The git snapshot is on the job run ("only included on job runs").
        snapshot = SimpleNamespace(used_commit=self.used_commit)
        return SimpleNamespace(
            run_id=run_id,
            job_id=self.job_id,
            job_run_id=self.job_run_id,
            run_type=SimpleNamespace(value=self.run_type),
            git_source=SimpleNamespace(
                git_snapshot=snapshot if run_id == self.job_run_id else None
            ),
        )

    def get(self, job_id: int) -> SimpleNamespace:
        assert job_id == self.job_id, f"read job {job_id}, not the run's job {self.job_id}"
        parameters = [SimpleNamespace(name=k, default=v) for k, v in self.declared.items()]
        return SimpleNamespace(job_id=job_id, settings=SimpleNamespace(parameters=parameters))


def in_job_run(monkeypatch: pytest.MonkeyPatch, jobs: FakeJobsApi) -> None:
    """Make the notebooks run as a task of ``jobs``'s job run: MLflow's context helper gives the
    task run's id (``databricks_utils.get_job_run_id``, what MLflow tags runs with) and
    ``databricks.sdk.WorkspaceClient().jobs`` is ``jobs`` (the SDK the runtime bundles; the
    Databricks Runtime 15.4 library set of these tests has none)."""
    from mlflow.utils import databricks_utils

    monkeypatch.setattr(databricks_utils, "get_job_run_id", lambda: str(jobs.task_run_id))
    sdk = ModuleType("databricks.sdk")
    sdk.WorkspaceClient = lambda: SimpleNamespace(jobs=jobs)  # type: ignore[attr-defined]
    if "databricks" not in sys.modules:
        monkeypatch.setitem(sys.modules, "databricks", ModuleType("databricks"))
    monkeypatch.setitem(sys.modules, "databricks.sdk", sdk)


NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@dataclass
class NotebookRunner:
    """Runs ``notebooks/<name>.py`` as a job task (or by hand) and returns its exit value."""

    spark: SparkSession
    registry_uris: list[str]
    """Registry URIs the notebooks set (Databricks ones, which don't exist here)."""

    def __call__(
        self, name: str, parameters: dict[str, str], store: dict[str, Any], in_job: bool = True
    ) -> str:
        """``parameters`` are the job's; ``store`` holds the job run's task values by task."""
        path = NOTEBOOKS / f"{name}.py"
        dbutils = Dbutils(parameters, FakeTaskValues(store, name, in_job))
        namespace = {"spark": self.spark, "dbutils": dbutils}
        try:
            exec(compile(path.read_text(), str(path), "exec"), namespace)
        except NotebookExitError as done:
            return done.value
        raise AssertionError(f"{name} ended without dbutils.notebook.exit")


@pytest.fixture
def run_notebook(
    spark: SparkSession, mlflow_env: MlflowEnv, monkeypatch: pytest.MonkeyPatch
) -> NotebookRunner:
    """A :class:`NotebookRunner` on the shared Spark session and this test's MLflow store."""
    runner = NotebookRunner(spark, [])
    # Record the Databricks registry URIs the notebooks set; keep the local store.
    monkeypatch.setattr(mlflow, "set_registry_uri", runner.registry_uris.append)
    monkeypatch.setattr(train, "DEFAULT_N_ESTIMATORS", 10)  # tiny forests keep tests fast
    return runner


def _start_spark(warehouse: str) -> SparkSession:
    """A local SparkSession (2 threads, small shuffles, no UI, no Hive), warmed up.

    The warm-up runs the kinds of work the tests do (a CSV read with schema inference, a
    table write, a pandas UDF in a Python worker that imports MLflow), so the JVM's JIT and
    Spark's Python workers are ready when the first Spark test runs.
    """
    java_home = os.environ.get("JAVA_HOME")
    if not (java_home and Path(java_home, "bin", "java").is_file()) and not shutil.which("java"):
        raise RuntimeError(
            "the Spark tests need Java 17 (PySpark 3.5 runs on the JVM): no `java` on PATH and "
            "no JAVA_HOME; install it, e.g. `apt-get install openjdk-17-jre-headless`"
        )
    # The JVM, and the Python workers it forks, run in the warehouse, not in the checkout:
    # mlflow's spark_udf opens the test's tracking store inside a worker, and MLflow 3.8 (the
    # serverless environment 5 set) creates the store's default artifact root, ./mlruns, in
    # the worker's working directory. PySpark starts the JVM with java_gateway's Popen.
    in_warehouse = functools.partial(subprocess.Popen, cwd=warehouse)
    java_gateway.Popen = in_warehouse  # type: ignore[attr-defined,assignment]
    session = (
        SparkSession.builder.master("local[2]")
        .appName("mlops-ml-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.sql.catalogImplementation", "in-memory")
        .config("spark.sql.warehouse.dir", warehouse)
        .config("spark.sql.session.timeZone", "UTC")
        # Tiny data: compiling whole-stage Java code for every query costs more CPU than it
        # saves, and so does re-planning shuffles (AQE); neither changes a result.
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.driver.memory", "1g")
        # Short-lived test JVM: the C1 compiler warms up faster and costs less CPU than C2.
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    csv = Path(warehouse) / "warm-up.csv"
    csv.write_text('"a";"b"\n1;2.5\n3;4.5\n')
    frame = (
        session.read.option("header", "true")
        .option("sep", ";")
        .option("inferSchema", "true")
        .csv(str(csv))
    )
    frame.write.mode("overwrite").saveAsTable("default.warm_up")

    def import_mlflow(batches: Iterable[pd.DataFrame]) -> Iterable[pd.DataFrame]:
        import mlflow.pyfunc  # noqa: F401 - loaded once per reused Python worker

        yield from batches

    session.table("default.warm_up").repartition(1).mapInPandas(
        import_mlflow, frame.schema
    ).collect()
    session.sql("DROP TABLE default.warm_up")
    return session


_SPARK: Future[SparkSession] | None = None
"""The session being started in the background, when any collected test uses Spark."""


def _start_background_work(items: list[pytest.Item]) -> None:
    """Start Spark in a background thread and the MLflow template store's migration in a
    process, when the collected tests need them (once per process)."""
    global _SPARK
    if _TEMPLATE is None and any("mlflow_env" in getattr(i, "fixturenames", ()) for i in items):
        _start_template_migration()
    if _SPARK is None and any("spark" in getattr(i, "fixturenames", ()) for i in items):
        # Python workers must run this interpreter (the venv), not whatever python3 is on PATH.
        os.environ["PYSPARK_PYTHON"] = sys.executable
        os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
        os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
        warehouse = tempfile.mkdtemp(prefix="mlops-spark-warehouse-")
        _SPARK = ThreadPoolExecutor(1, thread_name_prefix="spark-start").submit(
            _start_spark, warehouse
        )


def pytest_collection_finish(session: pytest.Session) -> None:
    """In a single process, start the background work as soon as collection is done: the JVM
    warms up (seconds of mostly Java CPU) while the tests that need no Spark run, and
    :func:`pytest_collection_modifyitems` puts the Spark tests last. Under pytest-xdist every
    worker collects everything but one runs the Spark tests: a worker starts what its test
    needs at the test (:func:`pytest_runtest_setup`), Spark on the worker of the Spark group
    only, the MLflow template on each worker that runs an MLflow test."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        _start_background_work(session.items)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER") and Path(__file__).parent in item.path.parents:
        _start_background_work([item])


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """The one local SparkSession of the test run (started by :func:`pytest_collection_finish`)."""
    assert _SPARK is not None, "pytest_collection_finish starts Spark when a test needs it"
    session = _SPARK.result(timeout=300)
    warehouse = session.conf.get("spark.sql.warehouse.dir")
    try:
        yield session
    finally:
        gateway = SparkContext._gateway
        session.stop()
        if gateway is not None:
            # Stop the JVM (and the Python workers it forked) now, not at interpreter exit.
            gateway.shutdown()
            gateway.proc.stdin.close()  # PySpark's launcher exits when its stdin closes
            gateway.proc.wait(timeout=30)
            SparkContext._gateway = None
            SparkContext._jvm = None
        shutil.rmtree(str(warehouse).removeprefix("file:"), ignore_errors=True)


_LEFTOVERS = ("mlruns", "mlflow.db", "spark-warehouse", "metastore_db", "derby.log")
"""What MLflow and Spark create in the working directory when a test forgets to point them
elsewhere (MLflow 2's SQL store, for one, makes ``./mlruns`` whenever a client opens it)."""


@pytest.fixture(scope="session", autouse=True)
def checkout_left_clean(pytestconfig: pytest.Config) -> Iterator[None]:
    """Fail the run if the ML tests leave MLflow or Spark files in the checkout: tests write
    under ``tmp_path`` or a temporary directory only."""
    root = pytestconfig.rootpath
    before = {name for name in _LEFTOVERS if (root / name).exists()}
    yield
    left = sorted(name for name in _LEFTOVERS if (root / name).exists() and name not in before)
    assert not left, f"the ML tests left {left} in {root}; write under tmp_path instead"


_TEMPLATE: tuple[subprocess.Popen[bytes] | None, Path] | None = None
"""The template store's path and the process migrating it (None: the xdist controller's, in
another process), once a collected test needs it."""


def _start_template_migration() -> None:
    global _TEMPLATE
    shared = mlflow_template.shared()
    _TEMPLATE = (None, shared) if shared else mlflow_template.start()


@pytest.fixture(scope="session")
def mlflow_template_db() -> Iterator[Path]:
    """An empty MLflow SQLite store, migrated once (:mod:`tests.ml.mlflow_template`: by the
    xdist controller for every worker, or in a process started at the end of collection, in
    parallel with the tests before the first that needs it); tests copy it."""
    if _TEMPLATE is None:
        _start_template_migration()
    assert _TEMPLATE is not None
    process, path = _TEMPLATE
    if process is None:
        yield mlflow_template.wait(path)
        return  # the controller removes it
    if process.wait(timeout=300) != 0:
        log = path.with_suffix(".log").read_text()
        raise RuntimeError(f"migrating the MLflow template store failed:\n{log}")
    try:
        yield path
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


@pytest.fixture
def mlflow_env(
    tmp_path: Path, mlflow_template_db: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MlflowEnv]:
    """A fresh local tracking store and registry, set as MLflow's URIs for this test only."""
    db = tmp_path / "mlflow.db"
    shutil.copyfile(mlflow_template_db, db)
    uri = f"sqlite:///{db}"
    # MLflow 2's SQL store creates its default artifact root, ./mlruns, in the working
    # directory whenever a client opens it: keep that out of the checkout.
    monkeypatch.chdir(tmp_path)
    # monkeypatch restores the module globals and variables mlflow.set_*_uri change.
    monkeypatch.setattr(tracking_utils, "_tracking_uri", None)
    monkeypatch.setattr(registry_utils, "_registry_uri", None)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    artifact_root = tmp_path / "artifacts"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment_name = "/Shared/wine-quality/test/experiment"
    client.create_experiment(experiment_name, artifact_location=artifact_root.as_uri())
    try:
        yield MlflowEnv(uri, experiment_name, artifact_root, client)
    finally:
        while mlflow.active_run() is not None:
            mlflow.end_run("FAILED")


THIRD_PARTY_DEPRECATIONS = (
    "ignore::DeprecationWarning:pyspark",
    "ignore:The ``noload`` loader strategy is deprecated",
    # MLflow 2.13 (the Databricks Runtime 15.4 LTS ML set) imports distutils when it logs a model.
    "ignore:The distutils package is deprecated",
    "ignore:Distutils was imported before Setuptools",
    "ignore:Setuptools is replacing distutils",
)
"""Deprecation warnings raised inside pyspark 3.5, MLflow's SQL store and MLflow 2's model
logging, not by our code."""


SPARK_GROUP = "ml-spark"
"""The pytest-xdist group of the tests that use Spark: one worker, one JVM."""


def _uses_spark(item: pytest.Item) -> bool:
    return "spark" in getattr(item, "fixturenames", ())


def _in_this_directory(item: pytest.Item) -> bool:
    return Path(__file__).parent in item.path.parents


def pytest_itemcollected(item: pytest.Item) -> None:
    """Keep the tests of this directory that use Spark on one pytest-xdist worker
    (``--dist loadgroup``: one JVM), while the MLflow-only ones are shared out with the
    infrastructure tests (each worker copies its own MLflow template). Marked as each is
    collected: pytest-xdist reads the groups in its own collection hook."""
    if _in_this_directory(item):
        if _uses_spark(item):
            item.add_marker(pytest.mark.xdist_group(SPARK_GROUP))
        for spec in THIRD_PARTY_DEPRECATIONS:
            item.add_marker(pytest.mark.filterwarnings(spec))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """In one process, run the Spark tests last, so Spark warms up in the background
    meanwhile. Under pytest-xdist, the Spark group first: its worker takes it at once (the
    scheduler hands out work in collection order), and the other tests, shorter each, fill
    the other worker and whatever time is left."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        items.sort(key=lambda item: not (_in_this_directory(item) and _uses_spark(item)))
    else:
        items.sort(key=_uses_spark)
