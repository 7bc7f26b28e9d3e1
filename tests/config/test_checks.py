"""Quartz cron validation: what Databricks' scheduler accepts and what it rejects."""

import pytest

from mlops_resources.config.checks import quartz_problem


@pytest.mark.parametrize(
    "expression",
    [
        "0 0 9 * * ?",
        "0 0 11 ? * MON-FRI",
        "0 */15 * * * ?",
        "0 0 9 L * ?",
        "0 0 9 15W * ?",
        "0 0 9 ? * 6L",
        "0 0 9 ? * 2#1 2030",
        "0 30 6 1,15 JAN-MAR ?",
        "0 0 0/6 * * ?",
    ],
)
def test_valid_expressions_pass(expression: str) -> None:
    assert quartz_problem(expression) is None


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("0 9 * * *", "has 5 fields; a Quartz expression has 6 or 7"),
        ("0 0 9 * * *", "exactly one of day-of-month and day-of-week must be '?'"),
        ("0 0 9 ? * ?", "exactly one of day-of-month and day-of-week must be '?'"),
        ("0 60 9 * * ?", "minutes field '60' is not valid (allowed: 0-59"),
        ("0 0 24 * * ?", "hours field '24' is not valid (allowed: 0-23"),
        ("0 0 9 ? * 0", "day-of-week field '0' is not valid (allowed: 1-7 or SUN-SAT"),
        ("0 0 9 * 13 ?", "month field '13' is not valid (allowed: 1-12 or JAN-DEC"),
        ("0 0 9 * * ? 1800", "year field '1800' is not valid"),
        ("0 0/0 9 * * ?", "minutes field '0/0' is not valid"),
        ("? 0 9 * * ?", "'?' is not allowed in seconds"),
        ("0 0 9 * * MON", "exactly one of day-of-month and day-of-week must be '?'"),
    ],
)
def test_invalid_expressions_explain_why(expression: str, problem: str) -> None:
    found = quartz_problem(expression)
    assert found is not None and found.startswith(problem)
