"""Validation of Quartz cron expressions, the schedule syntax of Databricks jobs.

Databricks passes ``quartz_cron_expression`` to the Quartz scheduler, which differs from Unix
cron: a leading seconds field, an optional trailing year, 1-7 (SUN-SAT) for the day of week,
and exactly one of day-of-month / day-of-week set to ``?``. A malformed expression is only
rejected by the Jobs API at ``pulumi up`` time, after other resources already changed; checking
it here moves that failure before anything is declared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
