"""Bounds and vocabularies of the time tools, kept apart so that building the tool schemas at
start-up imports nothing else (the working modules are imported when a tool first runs)."""

from __future__ import annotations

#: Longest zone argument accepted (the longest IANA name has 32 characters).
MAX_ZONE_LENGTH = 64
#: Longest time argument accepted by the tools that take an ISO 8601 time.
MAX_TIME_LENGTH = 100
#: Longest text ``time_parse`` accepts.
MAX_TEXT_LENGTH = 200
#: Longest strftime/strptime pattern accepted (bounds the output: no directive expands to more
#: than a few dozen characters).
MAX_FORMAT_LENGTH = 200
#: Longest ISO 8601 duration string accepted.
MAX_DURATION_LENGTH = 64
#: Most zones ``time_convert`` converts to in one call.
MAX_TARGET_ZONES = 50
#: Largest magnitude of each duration argument of ``time_add`` (about 10000 years of each).
DURATION_LIMITS: dict[str, int] = {
    "years": 10_000,
    "months": 120_000,
    "weeks": 530_000,
    "days": 3_700_000,
    "business_days": 2_700_000,
    "hours": 88_000_000,
    "minutes": 5_300_000_000,
    "seconds": 320_000_000_000,
}

#: Calendar units of a duration (moved on the wall clock).
CALENDAR_UNITS = ("years", "months", "weeks", "days")
#: Exact units of a duration (elapsed time), in microseconds.
EXACT_UNITS: dict[str, int] = {
    "hours": 3_600_000_000,
    "minutes": 60_000_000,
    "seconds": 1_000_000,
}
#: Exact units of ``time_diff``, in microseconds.
EXACT_DIFF_UNITS: dict[str, int] = {
    "microseconds": 1,
    "milliseconds": 1_000,
    "seconds": 1_000_000,
    "minutes": 60_000_000,
    "hours": 3_600_000_000,
}
#: Calendar units of ``time_diff``: the relativedelta field stepped and the step size.
CALENDAR_DIFF_UNITS: dict[str, tuple[str, int]] = {
    "days": ("days", 1),
    "weeks": ("days", 7),
    "months": ("months", 1),
    "years": ("months", 12),
}
#: Every unit of ``time_diff``.
DIFF_UNITS = (*EXACT_DIFF_UNITS, *CALENDAR_DIFF_UNITS)

#: The named styles of ``time_format``, each with an example of its output.
STYLES: dict[str, str] = {
    "iso": "2024-03-10T09:30:00-04:00 (ISO 8601, fractions of a second when present)",
    "rfc3339": "2024-03-10T13:30:00Z (RFC 3339: 'Z' for UTC, else the offset)",
    "rfc2822": "Sun, 10 Mar 2024 09:30:00 -0400 (e-mail headers)",
    "http": "Sun, 10 Mar 2024 13:30:00 GMT (HTTP dates: always in GMT)",
    "date": "2024-03-10",
    "time": "09:30:00",
}

#: What a time argument accepts, for schema descriptions.
TIME_SYNTAX = (
    'an ISO 8601 date/time such as "2024-03-10T09:30:00+01:00", "2024-03-10T09:30:00Z", '
    '"2024-03-10 09:30" or "2024-03-10", or "now"'
)
