"""The serverless environment's dependencies: the lines of ``notebooks/requirements.txt``,
each an exact pin, checked with the stack file before anything is declared."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_resources.config import compute
from mlops_resources.config.compute import RequirementsError, notebook_requirements
from mlops_resources.config.load import validate
from mlops_resources.config.reading import ConfigError, RawConfig
from tests.stacks import classic_overrides, example_stack_file


def write_requirements(root: Path, text: str) -> Path:
    (root / "notebooks").mkdir(exist_ok=True)
    (root / "notebooks" / "requirements.txt").write_text(text)
    return root


def test_the_shipped_requirements_are_exact_pins_of_what_the_environment_lacks() -> None:
    """Serverless environment 5's standard set has MLflow, pandas and NumPy but no
    scikit-learn (its published pins, requirements-ml-serverless-5.txt): the job installs it."""
    lines = notebook_requirements()
    assert lines[0] == "scikit-learn==1.6.1"
    assert all("==" in line for line in lines)
    assert not {"mlflow", "pandas", "numpy"} & {line.split("==")[0] for line in lines}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "# ML\nscikit-learn>=1.6\n",
            "notebooks/requirements.txt:2: 'scikit-learn>=1.6': expected one exact pin, "
            "'scikit-learn==<version>'",
        ),
        ("scikit-learn==1.6.*\n", "expected one exact pin"),
        ("scikit-learn==1.6.1,!=1.6.0\n", "expected one exact pin"),
        (
            "--index-url https://example.org/simple\n",
            "notebooks/requirements.txt:1: '--index-url https://example.org/simple': expected "
            "a requirement such as 'scikit-learn==1.6.1' (no pip options, URLs or nested files",
        ),
        ("-r ../requirements-ml.txt\n", "no pip options, URLs or nested files"),
        ("# nothing yet\n\n", "notebooks/requirements.txt: holds no requirement"),
    ],
)
def test_a_line_that_would_not_pin_the_environment_is_refused_naming_the_line(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(RequirementsError) as caught:
        notebook_requirements(write_requirements(tmp_path, text))
    assert message in str(caught.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RequirementsError, match=r"notebooks/requirements.txt: cannot be read"):
        notebook_requirements(tmp_path)


def test_extras_and_markers_are_kept_as_written(tmp_path: Path) -> None:
    text = "scikit-learn==1.6.1  # the model\nmlflow-skinny[databricks]==3.8.1\n"
    assert notebook_requirements(write_requirements(tmp_path, text)) == (
        "scikit-learn==1.6.1",
        "mlflow-skinny[databricks]==3.8.1",
    )


def test_a_serverless_stack_reports_an_unpinned_requirement_with_its_other_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A team adds ``xgboost`` unpinned to the notebooks' requirements: the next render of a
    serverless stack stops before anything is declared, naming the file and line, with the
    stack file's own problems; a classic stack, which installs nothing from it, is not
    concerned."""
    source = example_stack_file("staging", {"mlops:protect_ml_assets": "yes"})
    classic = example_stack_file("staging", classic_overrides("staging"))
    monkeypatch.setattr(compute, "PROJECT_DIR", write_requirements(tmp_path, "xgboost\n"))
    with pytest.raises(ConfigError) as caught:
        validate(RawConfig(source.values, source.secret_keys), "staging")
    assert caught.value.problems == [
        "mlops:protect_ml_assets: expected true or false, got 'yes'",
        "notebooks/requirements.txt:1: 'xgboost': expected one exact pin, 'xgboost==<version>': "
        "the serverless environment must be the one the notebooks are tested on",
    ]
    assert validate(RawConfig(classic.values, classic.secret_keys), "staging").cluster
