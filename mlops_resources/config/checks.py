"""Value checks shared by the config models: each raises ``ValueError`` saying what is expected.

Field types such as :data:`QuartzCron` or :data:`TableName` attach a check to a string, so a
model declares what a key holds and the error names the key. Quartz cron has its own grammar
here: Databricks passes ``quartz_cron_expression`` to the Quartz scheduler, which differs from
Unix cron (a leading seconds field, an optional trailing year, 1-7 (SUN-SAT) for the day of
week, exactly one of day-of-month / day-of-week set to ``?``). The Jobs API only rejects a
malformed expression at ``pulumi up``, after other resources changed; checking it here moves
that failure before anything is declared.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
import uuid
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_]+$")
_UC_NAME = re.compile(r"^[a-z0-9_]+$")
_LOWERCASE = (
    "Unity Catalog names are case-insensitive and stored in lowercase: write them in lowercase "
    "so that comparisons and the provider's read-back agree"
)

MAX_NAME_LENGTH = 255
"""Unity Catalog refuses longer object names (docs, "Unity Catalog requirements and
limitations", "Securable object naming requirements": "Object names cannot exceed 255
characters"); each part of a three-part name is one object's name."""

_CONFUSABLE_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC")
"""Scripts whose letters look alike (Latin 'a' and U+0430 CYRILLIC SMALL LETTER A): a name
mixing them is a spoof or a paste accident, and a grant or ACL to it names a principal nobody
meant."""

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()

    def value(self, token: str) -> int | None:
        """The numeric value of a single token, or None when it is not one."""
        upper = token.upper()
        if upper in self.names:
            return self.names.index(upper) + self.low
        if token.isdigit():
            number = int(token)
            return number if self.low <= number <= self.high else None
        return None


_FIELDS = (
    _Field("seconds", 0, 59),
    _Field("minutes", 0, 59),
    _Field("hours", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, _MONTHS),
    _Field("day-of-week", 1, 7, _DAYS),
    _Field("year", 1970, 2099),
)

# Special forms Quartz accepts only in the day fields.
_DAY_OF_MONTH_SPECIAL = re.compile(r"^(L|LW|L-([1-9]|[12][0-9]|30)|([1-9]|[12][0-9]|3[01])W)$")
_DAY_OF_WEEK_SPECIAL = re.compile(r"^([1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(L|#[1-5])$", re.IGNORECASE)


def _item_ok(field: _Field, item: str) -> bool:
    base, _, step = item.partition("/")
    if step and (not step.isdigit() or int(step) == 0):
        return False
    if base == "*":
        return True
    start, dash, end = base.partition("-")
    if not dash:
        return field.value(start) is not None
    return field.value(start) is not None and field.value(end) is not None


def _field_problem(field: _Field, text: str) -> str | None:
    if text == "?":
        return (
            None
            if field.name in ("day-of-month", "day-of-week")
            else f"'?' is not allowed in {field.name}"
        )
    if field.name == "day-of-month" and _DAY_OF_MONTH_SPECIAL.match(text):
        return None
    if field.name == "day-of-week" and _DAY_OF_WEEK_SPECIAL.match(text):
        return None
    for item in text.split(","):
        if not item or not _item_ok(field, item):
            allowed = f"{field.low}-{field.high}"
            if field.names:
                allowed += f" or {field.names[0]}-{field.names[-1]}"
            return (
                f"{field.name} field {text!r} is not valid "
                f"(allowed: {allowed}, '*', ranges, lists, '/step')"
            )
    return None


def quartz_problem(expression: str) -> str | None:
    """Return why ``expression`` is not a valid Quartz cron expression, or None if it is."""
    parts = expression.split()
    if len(parts) not in (6, 7):
        return (
            f"has {len(parts)} fields; a Quartz expression has 6 or 7: "
            "seconds minutes hours day-of-month month day-of-week [year], e.g. '0 0 9 * * ?'"
        )
    for field, text in zip(_FIELDS, parts, strict=False):
        problem = _field_problem(field, text)
        if problem:
            return problem
    day_of_month, day_of_week = parts[3], parts[5]
    if (day_of_month == "?") == (day_of_week == "?"):
        return "exactly one of day-of-month and day-of-week must be '?' (e.g. '0 0 9 * * ?')"
    return None


def check_quartz(expression: str) -> str:
    problem = quartz_problem(expression)
    if problem:
        raise ValueError(f"invalid Quartz cron expression {expression!r}: {problem}")
    return expression


def check_timezone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; expected an IANA/Java id such as 'UTC' or 'Europe/Paris'"
        ) from None
    return name


def _invisible(char: str) -> bool:
    """Characters that print as nothing (or as a plain space): controls, format characters
    such as U+200B ZERO WIDTH SPACE, and every space but U+0020."""
    category = unicodedata.category(char)
    return category in ("Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp") or (
        category == "Zs" and char != " "
    )


def escape_invisible(text: str) -> str:
    """``text`` with every invisible character (:func:`_invisible`) written as its escape
    (``\\u200b``), so a message shows what a name really holds."""
    return "".join(
        (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
        if _invisible(c) and c != "\n"
        else c
        for c in text
    )


def _codepoint(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed')}"


def _describe(char: str) -> str:
    return f"{char!r} ({_codepoint(char)})"


def lookalike_problem(name: str) -> str | None:
    """Why ``name`` holds invisible or confusable characters, or None: an invisible or
    surrounding space, a character NFKC folds into another (fullwidth letters, ligatures), a
    dash other than '-', or letters of two of Latin, Greek and Cyrillic."""
    shown = repr(name)  # repr escapes what does not print (U+200B is '\\u200b')
    invisible = [c for c in name if _invisible(c)]
    if invisible:
        chars = ", ".join(_codepoint(c) for c in invisible)
        return f"{shown} contains invisible characters ({chars}); retype the name"
    if name != name.strip():
        return f"{shown} starts or ends with a space; remove it"
    odd = [
        c
        for c in name
        if unicodedata.normalize("NFKC", c) != c or (unicodedata.category(c) == "Pd" and c != "-")
    ]
    if odd:
        return (
            f"{shown} contains {', '.join(_describe(c) for c in odd)}, which looks like "
            "another character; retype the name"
        )
    scripts: dict[str, list[str]] = {}
    for char in name:
        script = unicodedata.name(char, "").split(" ", 1)[0]
        if char.isalpha() and script in _CONFUSABLE_SCRIPTS:
            scripts.setdefault(script, []).append(char)
    if len(scripts) > 1:
        minority = min(scripts.values(), key=len)
        return (
            f"{shown} mixes {' and '.join(sorted(scripts))} letters "
            f"({', '.join(_describe(c) for c in minority)}), which look alike; retype the name"
        )
    return None


def check_principal(name: str) -> str:
    problem = lookalike_problem(name)
    if problem:
        raise ValueError(f"principal name {problem}")
    return name


def name_length_problem(name: str) -> str | None:
    """Why a (dotted) Unity Catalog name has a part longer than Unity Catalog allows, or None."""
    for part in name.split("."):
        if len(part) > MAX_NAME_LENGTH:
            return (
                f"{part[:24]!r}... is {len(part)} characters; Unity Catalog names are at most "
                f"{MAX_NAME_LENGTH}"
            )
    return None


def check_email(address: str) -> str:
    if not _EMAIL.match(address):
        raise ValueError(f"malformed email address {address!r}; expected name@example.com")
    return address


def check_workspace_path(path: str) -> str:
    if not path.startswith("/") or path.endswith("/") or "//" in path:
        raise ValueError(
            f"expected an absolute workspace path like '/Shared/my-project', got {path!r}"
        )
    return path


def check_table_name(name: str) -> str:
    parts = name.split(".")
    lookalike = lookalike_problem(name)
    if lookalike and not name.isascii():
        raise ValueError(f"table name {lookalike}")
    if not 1 <= len(parts) <= 3 or not all(_IDENTIFIER.match(part) for part in parts):
        raise ValueError(
            f"malformed table name {name!r}; expected <catalog>.<schema>.<table> "
            "of letters, digits and underscores"
        )
    if name != name.lower():
        raise ValueError(f"expected {name.lower()!r}, got {name!r}: {_LOWERCASE}")
    too_long = name_length_problem(name)
    if too_long:
        raise ValueError(f"table name part {too_long}")
    return name


def is_uuid(text: str) -> bool:
    """Whether ``text`` is a UUID (an application id, a budget policy id)."""
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def is_uc_table(name: str) -> bool:
    """Whether a table name is a three-part Unity Catalog name (``<catalog>.<schema>.<table>``)."""
    return name.count(".") == 2


def check_uc_identifier(name: str) -> str:
    lookalike = lookalike_problem(name)
    if lookalike and not name.isascii():
        raise ValueError(f"name {lookalike}")
    if not _IDENTIFIER.match(name):
        raise ValueError(f"expected letters, digits and underscores only, got {name!r}")
    if not _UC_NAME.match(name):
        raise ValueError(f"expected {name.lower()!r}, got {name!r}: {_LOWERCASE}")
    too_long = name_length_problem(name)
    if too_long:
        raise ValueError(f"name {too_long}")
    return name


def check_identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"expected letters, digits and underscores only, got {name!r}")
    return name


QuartzCron = Annotated[str, AfterValidator(check_quartz)]
TimeZone = Annotated[str, AfterValidator(check_timezone)]
Email = Annotated[str, AfterValidator(check_email)]
WorkspacePath = Annotated[str, AfterValidator(check_workspace_path)]
TableName = Annotated[str, AfterValidator(check_table_name)]
Identifier = Annotated[str, AfterValidator(check_identifier)]
UcIdentifier = Annotated[str, AfterValidator(check_uc_identifier)]
NonEmpty = Annotated[str, Field(min_length=1)]
PrincipalName = Annotated[str, Field(min_length=1), AfterValidator(check_principal)]
"""A group or user name an ACL or a grant names: no invisible or look-alike characters."""


@dataclass(frozen=True)
class MetricRange:
    """Direction and range of a metric training logs."""

    greater_is_better: bool
    lower: float | None
    """Smallest possible value (None: unbounded)."""
    upper: float | None
    """Largest possible value (None: unbounded)."""

    def describe(self) -> str:
        low = "(-inf" if self.lower is None else f"[{self.lower:g}"
        high = "inf)" if self.upper is None else f"{self.upper:g}]"
        return f"{low}, {high}"


METRICS: dict[str, dict[str, MetricRange]] = {
    "classification": {
        "accuracy_score": MetricRange(True, 0.0, 1.0),
        "precision_score": MetricRange(True, 0.0, 1.0),
        "recall_score": MetricRange(True, 0.0, 1.0),
        "f1_score": MetricRange(True, 0.0, 1.0),
        "roc_auc": MetricRange(True, 0.0, 1.0),
        "log_loss": MetricRange(False, 0.0, None),
    },
    "regression": {
        "root_mean_squared_error": MetricRange(False, 0.0, None),
        "mean_absolute_error": MetricRange(False, 0.0, None),
        "r2_score": MetricRange(True, None, 1.0),
    },
}
"""The metrics the Train notebook logs per problem type: a copy of ``METRICS`` in
``notebooks/mlops_ml/metrics.py``, which the Pulumi program does not import (it needs
scikit-learn); a test keeps the two equal."""

Location = tuple[str, ...]
"""Where a problem is, relative to the value being validated: ``("thresholds", "roc_auc")``."""


def threshold_problems(
    problem_type: str, thresholds: Mapping[str, tuple[float | None, float]]
) -> list[tuple[Location, str]]:
    """Problems of ``metric -> (threshold, tolerance)`` for ``problem_type``, located by key.

    A metric must be one training logs; a threshold must lie in the metric's range; a
    tolerance must be >= 0 and, for a bounded metric, narrower than its range (a wider one
    accepts any model).
    """
    known = METRICS[problem_type]
    problems: list[tuple[Location, str]] = []
    for name, (threshold, tolerance) in thresholds.items():
        where = ("thresholds", name)
        metric = known.get(name)
        if metric is None:
            other = [p for p, names in METRICS.items() if name in names]
            close = difflib.get_close_matches(name, list(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            if other:
                hint = f" (it is a {other[0]} metric)"
            problems.append(
                (
                    where,
                    f"unknown metric for problem_type '{problem_type}'{hint}; training logs "
                    + ", ".join(sorted(known)),
                )
            )
            continue
        if threshold is not None and not (
            (metric.lower is None or threshold >= metric.lower)
            and (metric.upper is None or threshold <= metric.upper)
        ):
            problems.append(
                (
                    (*where, "threshold"),
                    f"{threshold:g} is outside the range of {name}, {metric.describe()}",
                )
            )
        if tolerance < 0 or not math.isfinite(tolerance):
            problems.append(((*where, "tolerance"), f"expected 0 or more, got {tolerance:g}"))
        elif (
            metric.lower is not None
            and metric.upper is not None
            and tolerance >= metric.upper - metric.lower
        ):
            problems.append(
                (
                    (*where, "tolerance"),
                    f"{tolerance:g} spans the whole range of {name}, {metric.describe()}; "
                    "the champion comparison would accept any model",
                )
            )
    return problems


def raise_problems(title: str, problems: list[tuple[Location, str]]) -> None:
    """Raise the problems as one pydantic ValidationError located at their keys.

    Raised inside a section's model validator, each problem is reported at its full key
    (``mlops:training.validation.thresholds.roc_auc.threshold``), not at the section.
    """
    if problems:
        raise ValidationError.from_exception_data(
            title,
            [
                InitErrorDetails(
                    type=PydanticCustomError("value_error", "{error}", {"error": message}),
                    loc=location,
                    input=None,
                )
                for location, message in problems
            ],
        )
