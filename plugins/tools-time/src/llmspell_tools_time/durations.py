"""Durations: ISO 8601 duration strings, the two kinds of units, and business days.

A :class:`Duration` has a *calendar* part (years, months, weeks, days), applied to the wall
clock with :class:`dateutil.relativedelta.relativedelta` (so a month from January 31 is the last
day of February, and a day is 23 or 25 hours across a daylight-saving change), and an *exact*
part in microseconds (hours, minutes, seconds), which is elapsed time.

The ISO 8601 duration grammar accepted by :func:`parse_duration` (case-insensitive)::

    duration  = [sign] "P" [n "Y"] [n "M"] [n "W"] [n "D"] ["T" [n "H"] [n "M"] [n "S"]]
    sign      = "+" | "-"                 (applies to every component: "-P1D" is minus one day)
    n         = digits [("." | ",") digits]

At least one component is required, and "T" must be followed by one. Fractions are allowed for
hours, minutes and seconds only (a fraction of a month has no fixed length). Weeks may be
combined with the other components.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import attrs

from llmspell_tools_time.limits import CALENDAR_UNITS, EXACT_UNITS

if TYPE_CHECKING:
    from dateutil.relativedelta import relativedelta

_NUMBER = r"\d+(?:[.,]\d+)?"
_DURATION = re.compile(
    rf"""(?P<sign>[+-])?P
    (?:(?P<years>{_NUMBER})Y)?
    (?:(?P<months>{_NUMBER})M)?
    (?:(?P<weeks>{_NUMBER})W)?
    (?:(?P<days>{_NUMBER})D)?
    (?P<time>T
        (?:(?P<hours>{_NUMBER})H)?
        (?:(?P<minutes>{_NUMBER})M)?
        (?:(?P<seconds>{_NUMBER})S)?
    )?""",
    re.VERBOSE | re.IGNORECASE,
)


class DurationError(ValueError):
    """An ISO 8601 duration string that does not follow the grammar (``problem`` says how)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def to_microseconds(value: Any, unit: str) -> int:
    """``value`` (a number, or the decimal text of one) of an exact unit in whole microseconds,
    computed in decimal (``0.1`` second is exactly 100000 microseconds)."""
    text = value.replace(",", ".") if isinstance(value, str) else repr(value)
    try:
        amount = Decimal(text) * EXACT_UNITS[unit]
    except InvalidOperation:
        raise DurationError(f"{value!r} is not a number") from None
    if not amount.is_finite():
        raise DurationError(f"{value!r} is not a finite number")
    return int(amount.to_integral_value(rounding=ROUND_HALF_EVEN))


@attrs.frozen
class Duration:
    """A calendar part (wall clock) and an exact part (elapsed microseconds)."""

    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0
    microseconds: int = 0

    @property
    def has_calendar(self) -> bool:
        return bool(self.years or self.months or self.weeks or self.days)

    def __add__(self, other: Duration) -> Duration:
        return Duration(
            self.years + other.years,
            self.months + other.months,
            self.weeks + other.weeks,
            self.days + other.days,
            self.microseconds + other.microseconds,
        )

    def negated(self) -> Duration:
        return Duration(-self.years, -self.months, -self.weeks, -self.days, -self.microseconds)

    def calendar(self) -> relativedelta:
        """The calendar part as a ``relativedelta``: years and months first (the day clamped
        to the end of a shorter month), then weeks and days."""
        from dateutil.relativedelta import relativedelta

        return relativedelta(years=self.years, months=self.months, days=self.weeks * 7 + self.days)


def parse_duration(text: str) -> Duration:
    """The :class:`Duration` an ISO 8601 duration string stands for (grammar in the module
    docstring); :class:`DurationError` if it does not follow it."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise DurationError(
            f"{text!r} is not an ISO 8601 duration such as 'P1Y2M10DT2H30M', 'PT90M' or '-P1W'"
        )
    parts = {k: v for k, v in match.groupdict().items() if v is not None and k not in ("sign",)}
    parts.pop("time", None)
    if not parts:
        raise DurationError(f"{text!r} has no components (e.g. 'P1D' or 'PT1H')")
    if match.group("time") is not None and not any(u in parts for u in EXACT_UNITS):
        raise DurationError(f"{text!r}: 'T' must be followed by hours, minutes or seconds")
    calendar: dict[str, int] = {}
    for unit in CALENDAR_UNITS:
        if unit in parts:
            if not parts[unit].isdigit():
                raise DurationError(
                    f"{text!r}: {unit} must be whole numbers (fractions are allowed for "
                    "hours, minutes and seconds only)"
                )
            calendar[unit] = int(parts[unit])
    exact = sum(to_microseconds(parts[u], u) for u in EXACT_UNITS if u in parts)
    duration = Duration(microseconds=exact, **calendar)
    return duration.negated() if match.group("sign") == "-" else duration


def format_duration(
    years: int, months: int, days: int, hours: int, minutes: int, microseconds: int
) -> str:
    """An ISO 8601 duration for non-negative components, e.g. ``"P1Y2M3DT4H5M6.5S"``;
    ``"PT0S"`` when all are zero."""
    date = "".join(f"{v}{u}" for v, u in ((years, "Y"), (months, "M"), (days, "D")) if v)
    seconds = ""
    if microseconds:
        whole, rest = divmod(microseconds, 1_000_000)
        seconds = f"{whole}.{rest:06d}".rstrip("0") if rest else str(whole)
        seconds += "S"
    clock = "".join(f"{v}{u}" for v, u in ((hours, "H"), (minutes, "M")) if v) + seconds
    if not date and not clock:
        return "PT0S"
    return "P" + date + ("T" + clock if clock else "")


def add_business_days(wall: datetime, count: int) -> datetime:
    """``wall`` moved by ``count`` business days (Monday to Friday; no holidays), keeping the
    time of day: steps of one day in the direction of the sign, counting only weekdays. From a
    weekend day the count starts at the adjacent weekday behind it, so Saturday + 1 is Monday and
    Sunday - 1 is Friday; ``count`` 0 leaves ``wall`` unchanged (even on a weekend)."""
    if count == 0:
        return wall
    step = 1 if count > 0 else -1
    weekday = wall.weekday()
    if weekday >= 5:
        wall += timedelta(days=4 - weekday) if step > 0 else timedelta(days=7 - weekday)
    weeks, rest = divmod(abs(count), 5)
    wall += timedelta(days=7 * weeks * step)
    while rest:
        wall += timedelta(days=step)
        if wall.weekday() < 5:
            rest -= 1
    return wall
