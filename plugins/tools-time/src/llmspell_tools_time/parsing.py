"""Reading dates and times written in any common way (the ``time_parse`` tool).

:func:`parse_text` tries, in order:

1. with a strptime ``format``: that format only (``"timestamp"`` is never guessed then);
2. a JSON number, or any text when ``unit`` is given: a unix timestamp;
3. ISO 8601 (:meth:`datetime.fromisoformat`: ``2024-03-10T09:30:00+01:00``, ``...Z``,
   ``2024-03-10``, ``20240310T0930``, week dates ``2024-W10-7``);
4. a plain number (``1710063000``, ``-86400.5``): a unix timestamp in ``unit`` (seconds);
5. flexible parsing with :func:`dateutil.parser.parse` ("March 10, 2024 9:30 am",
   "10/03/2024 09:30" with ``dayfirst``, "Sun, 10 Mar 2024 09:30:00 -0400"). Parts that are
   missing come from the current date in the zone (time of day: midnight). Offsets are
   understood (``+01:00``, ``-0400``, ``UTC``, ``GMT``, ``Z``), as are the zone abbreviations
   of :data:`ABBREVIATIONS` (fixed offsets); another abbreviation is refused rather than guessed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from llmspell_tools_time.errors import invalid
from llmspell_tools_time.moments import EPOCH, place
from llmspell_tools_time.zones import fixed_offset

#: Zone abbreviations understood by flexible parsing, as hours east of UTC. Abbreviations are
#: ambiguous in general; these are the usual North American, European and Asia-Pacific ones
#: (``CST`` is US Central, ``IST`` is left out: India, Ireland and Israel all use it).
ABBREVIATIONS: dict[str, float] = {
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "AKST": -9, "AKDT": -8, "HST": -10, "AST": -4, "NST": -3.5, "NDT": -2.5,
    "WET": 0, "WEST": 1, "BST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3, "MSK": 3,
    "JST": 9, "KST": 9, "HKT": 8, "SGT": 8, "AWST": 8, "ACST": 9.5, "ACDT": 10.5,
    "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13,
}  # fmt: skip
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_TIMESTAMP_SCALE = {"s": 1, "ms": 1000}


@attrs.frozen
class Parsed:
    """A parsed time: the moment, how it was read, and whether the text carried an offset."""

    moment: datetime
    parsed_as: str
    offset_in_input: bool


class _UnknownAbbreviation(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _tzinfos(name: str | None, offset: int | None) -> tzinfo | None:
    """dateutil's zone callback: offsets become fixed zones, known abbreviations their offset."""
    if offset is not None:
        return fixed_offset(offset)
    if name is None:
        return None
    hours = ABBREVIATIONS.get(name.upper())
    if hours is None:
        raise _UnknownAbbreviation(name)
    return fixed_offset(int(hours * 3600))


def from_timestamp(value: Decimal, unit: str) -> datetime:
    """The UTC moment ``value`` seconds (``unit`` ``"s"``) or milliseconds (``"ms"``) after the
    unix epoch, to the microsecond; ``OverflowError`` outside years 1 to 9999."""
    microseconds = int((value * 1_000_000 / _TIMESTAMP_SCALE[unit]).to_integral_value())
    return EPOCH + timedelta(microseconds=microseconds)


def _parse_format(text: str, pattern: str, tool: str) -> datetime:
    try:
        return datetime.strptime(text, pattern)
    except ValueError as exc:
        problem = str(exc)
        if problem.startswith(("time data", "unconverted data")) or "out of range" in problem:
            raise invalid(tool, "text", f"{text!r} does not match {pattern!r}: {problem}") from None
        raise invalid(tool, "format", f"invalid strptime pattern: {problem}") from None


def _parse_flexible(
    text: str, zone: tzinfo, dayfirst: bool, yearfirst: bool, tool: str
) -> datetime:
    from dateutil import parser

    today = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    try:
        return parser.parse(
            text, dayfirst=dayfirst, yearfirst=yearfirst, default=today, tzinfos=_tzinfos
        )
    except _UnknownAbbreviation as exc:
        raise invalid(
            tool,
            "text",
            f"unknown time zone abbreviation {exc.name!r}",
            hint="write the offset instead (e.g. '-08:00'), or leave the zone out and pass "
            "'timezone'; known abbreviations: " + ", ".join(sorted(ABBREVIATIONS)),
        ) from None
    except (ValueError, OverflowError, TypeError, LookupError) as exc:
        detail = str(exc).split(":")[0]
        raise invalid(
            tool,
            "text",
            f"cannot read {text!r} as a date/time ({detail})",
            hint="write it as ISO 8601 (2024-03-10T09:30:00+01:00) or pass a strptime 'format'",
        ) from None


def _timestamp(text: str, unit: str, tool: str) -> datetime:
    try:
        value = Decimal(text)
        if not value.is_finite():
            raise InvalidOperation
        return from_timestamp(value, unit)
    except InvalidOperation:
        raise invalid(tool, "text", f"{text!r} is not a unix timestamp (a number)") from None
    except (OverflowError, ValueError):
        raise invalid(
            tool, "text", f"timestamp {text} ({unit}) is outside years 1 to 9999"
        ) from None


def parse_text(
    value: Any,
    *,
    zone: tzinfo | None,
    pattern: str | None = None,
    unit: str | None = None,
    dayfirst: bool = False,
    yearfirst: bool = False,
    tool: str = "time_parse",
) -> Parsed:
    """Read ``value`` (see the module docstring) and place it in ``zone`` (a time without an
    offset is read there, one with an offset converted to it; ``None``: UTC / keep the offset).
    ``invalid_args`` naming ``text`` (or ``format``) when it cannot be read."""
    if isinstance(value, int | float):
        moment = _timestamp(repr(value), unit or "s", tool)
        return Parsed(place(moment, zone, tool, "text"), "timestamp", True)
    text = str(value).strip()
    if not text:
        raise invalid(tool, "text", "the text is empty")
    if pattern is not None:
        moment = _parse_format(text, pattern, tool)
        how = "format"
    elif unit is not None:
        moment, how = _timestamp(text, unit, tool), "timestamp"
    else:
        try:
            moment, how = datetime.fromisoformat(text), "iso8601"
        except ValueError:
            if _PLAIN_NUMBER.fullmatch(text):
                moment, how = _timestamp(text, "s", tool), "timestamp"
            else:
                moment = _parse_flexible(text, zone or UTC, dayfirst, yearfirst, tool)
                how = "flexible"
    had_offset = moment.tzinfo is not None and moment.utcoffset() is not None
    return Parsed(place(moment, zone, tool, "text"), how, had_offset)
