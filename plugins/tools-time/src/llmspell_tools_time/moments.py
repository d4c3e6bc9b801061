"""Moments: the time arguments of the tools, the daylight-saving rule, and the result shape.

Every tool works with aware datetimes. A wall-clock time (one without an offset) becomes a moment
through :func:`localize`, which settles the two daylight-saving cases the same way as
JavaScript's Temporal ("compatible") and java.time:

- an **ambiguous** wall time, which happens twice when clocks fall back (01:30 on the first
  Sunday of November in New York), is the *earlier* moment (``fold=0``, still on summer time);
- a **nonexistent** wall time, skipped when clocks spring forward (02:30 on the second Sunday of
  March in New York), is moved *forward* by the length of the gap (03:30 summer time).

Comparisons and differences of moments always go through UTC (:func:`utc`): Python compares two
datetimes with the *same* zone object by their wall clocks, which is wrong across a change.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from llmspell_tools_time.errors import invalid
from llmspell_tools_time.zones import format_offset, zone_label

#: Unix epoch.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ISO_HINT = "give an ISO 8601 date/time or 'now'; use time_parse for other formats"


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC (for comparing and subtracting moments)."""
    return moment.astimezone(UTC)


def localize(wall: datetime, zone: tzinfo) -> datetime:
    """The moment at the wall-clock time of ``wall`` (its own zone, if any, is ignored) in
    ``zone``: ambiguous times are the earlier moment, nonexistent ones move forward by the gap.
    ``OverflowError`` at the edges of years 1 and 9999."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)


def elapsed_microseconds(start: datetime, end: datetime) -> int:
    """Exact elapsed time from ``start`` to ``end`` in microseconds (negative if earlier)."""
    delta = utc(end) - utc(start)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def number(microseconds: int, per_unit: int = 1_000_000) -> int | float:
    """``microseconds / per_unit`` as JSON number: an ``int`` when exact, else a ``float``."""
    whole, rest = divmod(microseconds, per_unit)
    return whole if rest == 0 else microseconds / per_unit


def place(moment: datetime, zone: tzinfo | None, tool: str, argument: str) -> datetime:
    """A parsed time as a moment: a wall-clock time is read in ``zone`` (UTC if ``None``); a
    time with an offset is converted to ``zone`` when one is given, else keeps its offset."""
    try:
        if moment.tzinfo is None or moment.utcoffset() is None:
            return localize(moment, zone or UTC)
        return moment.astimezone(zone) if zone is not None else moment
    except OverflowError:
        raise invalid(
            tool, argument, "the time is outside the supported range (years 1 to 9999)"
        ) from None


def read_time(value: str, zone: tzinfo | None, tool: str, argument: str) -> datetime:
    """The moment a time argument names: ``"now"`` or ISO 8601 (see :data:`TIME_SYNTAX`),
    placed in ``zone`` by :func:`place`; ``invalid_args`` naming ``argument`` otherwise."""
    text = value.strip()
    if text.casefold() == "now":
        return datetime.now(zone or UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        detail = str(exc)
        why = "" if detail.startswith("Invalid isoformat") else f" ({detail})"
        raise invalid(
            tool,
            argument,
            f"{value!r} is not an ISO 8601 date/time{why}",
            hint=_ISO_HINT,
        ) from None
    return place(moment, zone, tool, argument)


def describe(moment: datetime) -> dict[str, Any]:
    """The result shape shared by the time tools: ISO 8601 text, the zone, the components,
    the ISO week and the unix timestamp (seconds; an integer when the time is whole seconds)."""
    iso_year, iso_week, iso_weekday = moment.isocalendar()
    offset = moment.utcoffset() or timedelta()
    dst = moment.dst()
    return {
        "iso": moment.isoformat(),
        "timezone": zone_label(moment.tzinfo),
        "abbreviation": moment.tzname(),
        "utc_offset": format_offset(offset),
        "utc_offset_seconds": int(offset.total_seconds()),
        "dst": bool(dst),
        "year": moment.year,
        "month": moment.month,
        "day": moment.day,
        "hour": moment.hour,
        "minute": moment.minute,
        "second": moment.second,
        "microsecond": moment.microsecond,
        "weekday": WEEKDAYS[moment.weekday()],
        "iso_weekday": iso_weekday,
        "iso_week": iso_week,
        "iso_year": iso_year,
        "day_of_year": moment.timetuple().tm_yday,
        "unix_timestamp": number(elapsed_microseconds(EPOCH, moment)),
    }
