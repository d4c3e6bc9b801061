"""The tools of ``llmspell-tools-time``: ``time_now``, ``time_parse``, ``time_format``,
``time_convert``, ``time_add`` and ``time_diff`` (category ``time``, no permissions).

Shared conventions (see :mod:`~llmspell_tools_time.zones` and
:mod:`~llmspell_tools_time.moments`):

- a zone argument is an IANA name (``"Europe/Paris"``), ``"UTC"`` or a fixed offset
  (``"+05:30"``); an unknown one is ``invalid_args`` with a suggestion;
- a time argument is ISO 8601 or ``"now"``; without an offset it is wall-clock time in the
  ``timezone`` argument (UTC if absent); with one, it is converted to ``timezone`` if given;
- ambiguous wall times are the earlier moment, nonexistent ones move forward by the gap;
- results describe a moment with :func:`~llmspell_tools_time.moments.describe`.
"""

from __future__ import annotations

from typing import Any

from llmspell.tools import Tool, ToolContext, tool
from llmspell_tools_time.limits import (
    CALENDAR_UNITS,
    DIFF_UNITS,
    DURATION_LIMITS,
    EXACT_UNITS,
    MAX_DURATION_LENGTH,
    MAX_FORMAT_LENGTH,
    MAX_TARGET_ZONES,
    MAX_TEXT_LENGTH,
    MAX_TIME_LENGTH,
    MAX_ZONE_LENGTH,
    STYLES,
    TIME_SYNTAX,
)

# The working modules (zoneinfo, decimal, dateutil ...) are imported inside the tools: loading
# the plugin only builds the schemas.

_SHAPE = (
    'an object with iso (ISO 8601 text), timezone, abbreviation, utc_offset ("+05:30"), '
    "utc_offset_seconds, dst, year, month, day, hour, minute, second, microsecond, weekday "
    '("Monday"), iso_weekday (1-7), iso_week, iso_year, day_of_year and unix_timestamp '
    "(seconds; an integer for whole seconds)"
)
_ZONE_SYNTAX = 'an IANA name such as "Europe/Paris", "UTC", or a fixed offset such as "+05:30"'
_DST_RULE = (
    "A wall-clock time that happens twice when clocks fall back is the earlier one; one that "
    "does not exist when clocks spring forward moves forward by the gap."
)


def _zone_property(description: str, default: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_ZONE_LENGTH,
        "description": description,
    }
    if default is not None:
        schema["default"] = default
    return schema


def _time_property(description: str) -> dict[str, Any]:
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_TIME_LENGTH,
        "description": f"{description}: {TIME_SYNTAX}.",
    }


_INPUT_ZONE = _zone_property(
    f"Time zone ({_ZONE_SYNTAX}). A time without an offset is wall-clock time in this zone; a "
    "time with an offset is converted to it. Default: UTC for times without an offset, else "
    "the time's own offset."
)
_FORMAT: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_FORMAT_LENGTH,
    "description": 'A strftime pattern, e.g. "%Y-%m-%d %H:%M" or "%A %d %B %Y" (English names; '
    f"at most {MAX_FORMAT_LENGTH} characters).",
}


# --- time_now -------------------------------------------------------------------------------


@tool(
    name="time_now",
    description="Return the current date and time in a time zone (default UTC). Returns "
    f"{_SHAPE}, plus formatted when a strftime format is given. Uses the machine's clock.",
    category="time",
    parameters={
        "type": "object",
        "properties": {
            "timezone": _zone_property(f"Time zone: {_ZONE_SYNTAX}.", "UTC"),
            "format": _FORMAT,
        },
        "required": [],
        "additionalProperties": False,
    },
    example={"timezone": "Europe/Paris", "format": "%A %d %B %Y, %H:%M"},
)
async def time_now(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    from datetime import datetime

    from llmspell_tools_time.formatting import strftime
    from llmspell_tools_time.moments import describe
    from llmspell_tools_time.zones import resolve_zone

    zone = await resolve_zone(args.get("timezone", "UTC"), "time_now", "timezone")
    moment = datetime.now(zone)
    result = describe(moment)
    if "format" in args:
        result["formatted"] = strftime(moment, args["format"], "time_now")
    return result


# --- time_parse -----------------------------------------------------------------------------


@tool(
    name="time_parse",
    description="Parse a date/time written as text, or a unix timestamp, into a precise time. "
    "Tries ISO 8601 first, then a plain number as a unix timestamp (seconds, or milliseconds "
    'with unit "ms"), then flexible parsing ("March 10, 2024 9:30 am", "10/03/2024" with '
    'dayfirst, "Sun, 10 Mar 2024 09:30:00 -0400", offsets and common abbreviations such as '
    "EST or CET); with format, only that strptime pattern. Missing date parts are today's, a "
    f"missing time is midnight. Returns {_SHAPE}, plus parsed_as (iso8601, timestamp, "
    "flexible or format) and offset_in_input (false when the timezone argument was assumed). "
    + _DST_RULE,
    category="time",
    parameters={
        "type": "object",
        "properties": {
            "text": {
                "type": ["string", "number"],
                "minLength": 1,
                "maxLength": MAX_TEXT_LENGTH,
                "description": 'The date/time text, e.g. "2024-03-10T09:30:00+01:00", '
                '"March 10 2024 9:30am", "10/03/2024 09:30", or a unix timestamp '
                f"(number or numeric text; at most {MAX_TEXT_LENGTH} characters). An 8-digit "
                "text is read as an ISO date (YYYYMMDD) unless unit is given.",
            },
            "timezone": _zone_property(
                f"Time zone ({_ZONE_SYNTAX}) of a text without an offset, and the zone of the "
                "result when given. Default: UTC for texts without an offset; a text with an "
                "offset keeps it."
            ),
            "format": {
                **_FORMAT,
                "description": "A strptime pattern the text must match exactly, e.g. "
                '"%d.%m.%Y %H:%M" (use %z for offsets). Without it the text is parsed '
                "flexibly.",
            },
            "dayfirst": {
                "type": "boolean",
                "default": False,
                "description": "Flexible parsing: read 01/02/2024 as 1 February (day first).",
            },
            "yearfirst": {
                "type": "boolean",
                "default": False,
                "description": "Flexible parsing: read 24/01/02 as 2024-01-02 (year first).",
            },
            "unit": {
                "type": "string",
                "enum": ["s", "ms"],
                "default": "s",
                "description": "Unit of a unix timestamp: seconds (s) or milliseconds (ms). "
                "When given, the text must be a timestamp.",
            },
        },
        "required": ["text"],
        "additionalProperties": False,
    },
    example={"text": "March 10, 2024 9:30 pm", "timezone": "America/New_York"},
)
async def time_parse(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    from llmspell_tools_time.errors import invalid
    from llmspell_tools_time.moments import describe
    from llmspell_tools_time.parsing import parse_text
    from llmspell_tools_time.zones import optional_zone

    zone = await optional_zone(args, "time_parse", "timezone")
    if "format" in args and "unit" in args:
        raise invalid("time_parse", "unit", "give either a strptime format or a timestamp unit")
    parsed = parse_text(
        args["text"],
        zone=zone,
        pattern=args.get("format"),
        unit=args.get("unit"),
        dayfirst=bool(args.get("dayfirst", False)),
        yearfirst=bool(args.get("yearfirst", False)),
    )
    result = describe(parsed.moment)
    result["parsed_as"] = parsed.parsed_as
    result["offset_in_input"] = parsed.offset_in_input
    return result


# --- time_format ----------------------------------------------------------------------------

_STYLE_LIST = "; ".join(f"{name}: {example}" for name, example in STYLES.items())


@tool(
    name="time_format",
    description="Format a date/time as text with a strftime pattern or a named style, in a "
    f"time zone. Styles: {_STYLE_LIST}. Returns {{formatted, iso, timezone}}. Names of days "
    "and months are English.",
    category="time",
    parameters={
        "type": "object",
        "properties": {
            "time": _time_property("The time to format"),
            "format": {**_FORMAT, "description": _FORMAT["description"] + " Replaces style."},
            "style": {
                "type": "string",
                "enum": list(STYLES),
                "default": "iso",
                "description": "A named style: " + _STYLE_LIST + ".",
            },
            "timezone": _INPUT_ZONE,
        },
        "required": ["time"],
        "additionalProperties": False,
    },
    example={"time": "2024-03-10T13:30:00Z", "style": "rfc2822", "timezone": "America/New_York"},
)
async def time_format(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    from llmspell_tools_time.errors import invalid
    from llmspell_tools_time.formatting import format_style, strftime
    from llmspell_tools_time.moments import read_time
    from llmspell_tools_time.zones import optional_zone, zone_label

    if "format" in args and "style" in args:
        raise invalid("time_format", "style", "give either a strftime format or a style")
    zone = await optional_zone(args, "time_format", "timezone")
    moment = read_time(args["time"], zone, "time_format", "time")
    if "format" in args:
        text = strftime(moment, args["format"], "time_format")
    else:
        text = format_style(moment, args.get("style", "iso"))
    return {"formatted": text, "iso": moment.isoformat(), "timezone": zone_label(moment.tzinfo)}


# --- time_convert ---------------------------------------------------------------------------


@tool(
    name="time_convert",
    description="Convert a date/time to one or several time zones (the same moment on other "
    f"wall clocks). Returns {{source, results}}: the time in its own zone and a list with one "
    f"entry per target zone, in order, each {_SHAPE}. At most {MAX_TARGET_ZONES} zones. "
    + _DST_RULE,
    category="time",
    parameters={
        "type": "object",
        "properties": {
            "time": _time_property("The time to convert"),
            "timezone": _zone_property(
                f"Time zone of a time without an offset ({_ZONE_SYNTAX}; default UTC). A time "
                "with an offset is shown in this zone in source."
            ),
            "to": {
                "type": ["string", "array"],
                "minLength": 1,
                "maxLength": MAX_ZONE_LENGTH,
                "items": {"type": "string", "minLength": 1, "maxLength": MAX_ZONE_LENGTH},
                "minItems": 1,
                "maxItems": MAX_TARGET_ZONES,
                "description": f"The target zone, or a list of up to {MAX_TARGET_ZONES}: "
                f"{_ZONE_SYNTAX}.",
            },
        },
        "required": ["time", "to"],
        "additionalProperties": False,
    },
    example={
        "time": "2024-03-10T09:00:00",
        "timezone": "America/New_York",
        "to": ["Europe/London", "Asia/Tokyo"],
    },
)
async def time_convert(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    from llmspell_tools_time.errors import invalid
    from llmspell_tools_time.moments import describe, read_time
    from llmspell_tools_time.zones import optional_zone, resolve_zone

    zone = await optional_zone(args, "time_convert", "timezone")
    targets = args["to"] if isinstance(args["to"], list) else [args["to"]]
    zones = []
    for index, name in enumerate(targets):
        where = "to" if isinstance(args["to"], str) else f"to/{index}"
        zones.append(await resolve_zone(name, "time_convert", where))
    moment = read_time(args["time"], zone, "time_convert", "time")
    results = []
    for index, target in enumerate(zones):
        try:
            results.append(describe(moment.astimezone(target)))
        except OverflowError:
            raise invalid(
                "time_convert",
                "time",
                f"the time is outside the supported range (years 1 to 9999) in zone "
                f"{targets[index]!r}",
            ) from None
    return {"source": describe(moment), "results": results}


# --- time_add -------------------------------------------------------------------------------

_UNIT_ORDER = ("duration", *CALENDAR_UNITS, "business_days", *EXACT_UNITS)


def _duration_property(unit: str) -> dict[str, Any]:
    limit = DURATION_LIMITS[unit]
    kind = "integer" if unit in CALENDAR_UNITS or unit == "business_days" else "number"
    what = {
        "years": "Years to add (calendar: the day is clamped to the end of a shorter month).",
        "months": "Months to add (calendar: January 31 + 1 month is the last day of February).",
        "weeks": "Weeks to add (calendar: 7 days on the wall clock).",
        "days": "Days to add (calendar: same wall-clock time, 23 or 25 hours across a "
        "daylight-saving change).",
        "business_days": "Business days to add (Monday to Friday, no holidays; Saturday + 1 is "
        "Monday, Sunday - 1 is Friday; the time of day is kept). Applied after the calendar "
        "units.",
        "hours": "Hours to add (exact elapsed time; fractions allowed).",
        "minutes": "Minutes to add (exact elapsed time; fractions allowed).",
        "seconds": "Seconds to add (exact elapsed time; fractions allowed, microsecond precision).",
    }[unit]
    return {
        "type": kind,
        "minimum": -limit,
        "maximum": limit,
        "default": 0,
        "description": f"{what} Negative to subtract.",
    }


@tool(
    name="time_add",
    description="Add a duration to (or subtract it from) a date/time. Calendar units (years, "
    "months, weeks, days, business_days) move the wall clock of the time's zone: one day later "
    "is the same clock time even across a daylight-saving change, and January 31 + 1 month is "
    "the end of February; exact units (hours, minutes, seconds) add elapsed time. An ISO 8601 "
    'duration ("P1M2DT3H", "-PT90M") is split the same way and added to the other '
    "arguments. Order: years and months, weeks and days, business days, then exact time. "
    f"Returns {_SHAPE} for the result, plus start (ISO 8601) and elapsed_seconds. " + _DST_RULE,
    category="time",
    parameters={
        "type": "object",
        "properties": {
            "time": _time_property("The start time"),
            "timezone": _INPUT_ZONE,
            "duration": {
                "type": "string",
                "minLength": 2,
                "maxLength": MAX_DURATION_LENGTH,
                "description": "An ISO 8601 duration: [-]P[nY][nM][nW][nD][T[nH][nM][nS]], e.g. "
                '"P1Y2M10DT2H30M", "PT1.5H", "-P1W" (fractions for H, M, S only).',
            },
            **{unit: _duration_property(unit) for unit in DURATION_LIMITS},
        },
        "required": ["time"],
        "additionalProperties": False,
    },
    example={"time": "2024-01-31T09:00:00", "timezone": "Europe/Paris", "months": 1, "hours": 2},
)
async def time_add(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    from llmspell_tools_time.arithmetic import add
    from llmspell_tools_time.durations import (
        Duration,
        DurationError,
        parse_duration,
        to_microseconds,
    )
    from llmspell_tools_time.errors import invalid
    from llmspell_tools_time.moments import describe, elapsed_microseconds, number, read_time
    from llmspell_tools_time.zones import optional_zone

    zone = await optional_zone(args, "time_add", "timezone")
    start = read_time(args["time"], zone, "time_add", "time")
    duration = Duration()
    if "duration" in args:
        try:
            duration = parse_duration(args["duration"])
        except DurationError as exc:
            raise invalid(
                "time_add",
                "duration",
                exc.problem,
                hint="ISO 8601 durations look like P1Y2M10DT2H30M, PT45M or -P1D",
            ) from None
    calendar = {unit: int(args.get(unit, 0)) for unit in CALENDAR_UNITS}
    exact = 0
    for unit in EXACT_UNITS:
        try:
            exact += to_microseconds(args.get(unit, 0), unit)
        except DurationError as exc:  # NaN passes the schema's bounds
            raise invalid("time_add", unit, exc.problem) from None
    duration = duration + Duration(microseconds=exact, **calendar)
    business_days = int(args.get("business_days", 0))
    try:
        result = add(start, duration, business_days)
    except (OverflowError, ValueError):
        culprit = next((u for u in _UNIT_ORDER if args.get(u)), "time")
        raise invalid(
            "time_add", culprit, "the result is outside the supported range (years 1 to 9999)"
        ) from None
    shape = describe(result)
    shape["start"] = start.isoformat()
    shape["elapsed_seconds"] = number(elapsed_microseconds(start, result))
    return shape


# --- time_diff ------------------------------------------------------------------------------


@tool(
    name="time_diff",
    description="Compute the time between two dates/times (end minus start). Returns seconds "
    "(exact elapsed time, negative when end is earlier), sign (1, 0 or -1), breakdown {years, "
    "months, days, hours, minutes, seconds} (calendar years, months and days on the wall clock "
    "of the zone, the rest exact; every component carries the sign), iso_duration "
    '("P1Y2M3DT4H", "-P1D"), value in the requested unit, unit, start, end and timezone. '
    "Units up to hours are exact; days, weeks, months and years count calendar units plus the "
    "passed fraction of the next one (a day across a daylight-saving change is still 1 day).",
    category="time",
    parameters={
        "type": "object",
        "properties": {
            "start": _time_property("The start time"),
            "end": _time_property("The end time"),
            "timezone": _zone_property(
                f"Time zone ({_ZONE_SYNTAX}) of times without an offset and of the calendar "
                "breakdown; times with an offset are converted to it. Default: the start's own "
                "offset (an end without one is read there too), or UTC."
            ),
            "unit": {
                "type": "string",
                "enum": list(DIFF_UNITS),
                "default": "seconds",
                "description": "Unit of value: " + ", ".join(DIFF_UNITS) + " (default seconds).",
            },
        },
        "required": ["start", "end"],
        "additionalProperties": False,
    },
    example={"start": "2024-01-15T08:00:00Z", "end": "2024-03-10T17:30:00Z", "unit": "days"},
)
async def time_diff(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    from datetime import UTC

    from llmspell_tools_time.arithmetic import difference
    from llmspell_tools_time.errors import invalid
    from llmspell_tools_time.moments import read_time
    from llmspell_tools_time.zones import optional_zone, zone_label

    zone = await optional_zone(args, "time_diff", "timezone")
    start = read_time(args["start"], zone, "time_diff", "start")
    end = read_time(args["end"], zone or start.tzinfo or UTC, "time_diff", "end")
    unit = args.get("unit", "seconds")
    try:
        result = difference(start, end, unit)
    except (OverflowError, ValueError):
        raise invalid(
            "time_diff",
            "end",
            "the difference reaches outside the supported range (years 1 to 9999)",
        ) from None
    result["start"] = start.isoformat()
    result["end"] = end.isoformat()
    result["timezone"] = zone_label(start.tzinfo)
    return result


#: Every tool of this package, in registration order.
TOOLS: tuple[Tool, ...] = (time_now, time_parse, time_format, time_convert, time_add, time_diff)
