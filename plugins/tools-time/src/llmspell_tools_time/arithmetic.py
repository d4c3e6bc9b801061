"""Date arithmetic: adding durations to moments and measuring the time between two moments.

Calendar units (years, months, weeks, days, business days) move the wall clock of the moment's
own zone and then settle daylight-saving cases with :func:`~llmspell_tools_time.moments.localize`;
exact units (hours, minutes, seconds) add elapsed time. So in New York, 2024-03-09 12:00 plus one
day is 2024-03-10 12:00 (23 hours later: clocks sprang forward that night) while plus 24 hours is
2024-03-10 13:00.

Functions here raise ``OverflowError`` or ``ValueError`` when a result leaves years 1 to 9999;
the tools turn that into ``invalid_args``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from llmspell_tools_time.durations import Duration, add_business_days, format_duration
from llmspell_tools_time.limits import CALENDAR_DIFF_UNITS, EXACT_DIFF_UNITS
from llmspell_tools_time.moments import elapsed_microseconds, localize, number, utc


def add(start: datetime, duration: Duration, business_days: int = 0) -> datetime:
    """``start`` plus ``duration`` and ``business_days``: first the calendar part on the wall
    clock (years and months, then weeks and days), then the business days, then the daylight-
    saving rule, then the exact part as elapsed time. The result is in ``start``'s zone."""
    zone = start.tzinfo
    assert zone is not None
    result = start
    if duration.has_calendar or business_days:
        wall = start + duration.calendar() if duration.has_calendar else start
        wall = add_business_days(wall, business_days)
        result = localize(wall, zone)
    if duration.microseconds:
        result = (utc(result) + timedelta(microseconds=duration.microseconds)).astimezone(zone)
    return result


def _stepper(start: datetime, field: str, size: int, **base: int) -> Callable[[int], datetime]:
    """``k -> start + base + k * size`` units of ``field``, on ``start``'s wall clock and then
    localized, exactly as :func:`add` computes it (``k = 0`` without ``base`` is ``start``)."""
    from dateutil.relativedelta import relativedelta

    zone = start.tzinfo
    assert zone is not None

    def step(k: int) -> datetime:
        if k == 0 and not any(base.values()):
            return start
        return localize(start + relativedelta(**{**base, field: k * size}), zone)

    return step


def _count(step: Callable[[int], datetime], end: datetime, guess: int) -> tuple[int, int, int]:
    """The largest ``n >= 0`` with ``step(n) <= end`` (``step(0) <= end`` is assumed), the
    microseconds from ``step(n)`` to ``end`` and those from ``step(n)`` to ``step(n + 1)``."""
    target = utc(end)
    n = max(guess, 0)
    while n > 0 and utc(step(n)) > target:
        n -= 1
    while utc(step(n + 1)) <= target:
        n += 1
    here = step(n)
    return n, elapsed_microseconds(here, end), elapsed_microseconds(here, step(n + 1))


def _wall_guess(start: datetime, end: datetime, field: str, size: int) -> int:
    wall_end = end.astimezone(start.tzinfo)
    if field == "months":
        months = (wall_end.year - start.year) * 12 + wall_end.month - start.month
        return months // size
    return (wall_end.date() - start.date()).days // size


def _forward_breakdown(start: datetime, end: datetime) -> dict[str, int]:
    """For ``start <= end``: the most months, then the most days, that :func:`add` can add to
    ``start`` without passing ``end``, then the rest as exact time (so adding the breakdown
    to ``start`` gives ``end`` back)."""
    months, _, _ = _count(_stepper(start, "months", 1), end, _wall_guess(start, end, "months", 1))
    step_days = _stepper(start, "days", 1, months=months)
    anchor = step_days(0)
    days, rest, _ = _count(step_days, end, _wall_guess(anchor, end, "days", 1))
    hours, rest = divmod(rest, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    return {
        "years": months // 12,
        "months": months % 12,
        "days": days,
        "hours": hours,
        "minutes": minutes,
        "microseconds": rest,
    }


def _forward_amount(start: datetime, end: datetime, unit: str) -> int | float:
    """``end - start`` (``start <= end``) in a calendar unit: the whole units plus the passed
    fraction of the next one."""
    field, size = CALENDAR_DIFF_UNITS[unit]
    whole, done, length = _count(
        _stepper(start, field, size), end, _wall_guess(start, end, field, size)
    )
    return whole if done == 0 or length <= 0 else whole + done / length


def difference(start: datetime, end: datetime, unit: str) -> dict[str, Any]:
    """How far ``end`` is from ``start``: exact seconds, the sign, a calendar breakdown on
    ``start``'s wall clock (every component carries the sign), its ISO 8601 form, and the
    amount in ``unit``. Units up to hours are exact elapsed time; days, weeks, months and years
    count whole calendar units on the wall clock plus the passed fraction of the next one (so
    a day across a daylight-saving change is still one day)."""
    total = elapsed_microseconds(start, end)
    sign = (total > 0) - (total < 0)
    first, last = (start, end) if sign >= 0 else (end.astimezone(start.tzinfo), start)
    parts = _forward_breakdown(first, last)
    iso = format_duration(**parts)
    if unit in EXACT_DIFF_UNITS:
        value = number(total, EXACT_DIFF_UNITS[unit])
    else:
        value = sign * _forward_amount(first, last, unit)
    breakdown: dict[str, int | float] = {
        name: sign * parts[name] for name in ("years", "months", "days", "hours", "minutes")
    }
    breakdown["seconds"] = sign * number(parts["microseconds"])
    return {
        "seconds": number(total),
        "sign": sign,
        "breakdown": breakdown,
        "iso_duration": ("-" if sign < 0 else "") + iso,
        "value": value,
        "unit": unit,
    }
