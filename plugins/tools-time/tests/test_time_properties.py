"""Property tests of the time tools' arithmetic and parsing (called directly: no kernel needed)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmspell.errors import LlmspellError
from llmspell_tools_time.arithmetic import add, difference
from llmspell_tools_time.durations import (
    Duration,
    DurationError,
    add_business_days,
    format_duration,
    parse_duration,
)
from llmspell_tools_time.moments import describe, localize
from llmspell_tools_time.parsing import parse_text

# zones with an hour of daylight saving, a half-hour one (Lord Howe), southern-hemisphere
# summer time, a fixed offset and none at all
ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Kolkata",
]

wall_times = st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(2050, 12, 31))
zones = st.sampled_from(ZONES).map(ZoneInfo)


@st.composite
def moments(draw: st.DrawFn) -> datetime:
    return localize(draw(wall_times), draw(zones))


@settings(max_examples=300, deadline=None)
@given(
    moments(),
    st.integers(-40, 40),
    st.integers(-400, 400),
    st.integers(-(10**11), 10**11),
)
def test_diff_of_an_addition_gives_the_addition_back(
    start: datetime, months: int, days: int, microseconds: int
) -> None:
    end = add(start, Duration(months=months, days=days, microseconds=microseconds))
    assert end.tzinfo is start.tzinfo
    result = difference(start, end, "seconds")
    elapsed = (end.astimezone(UTC) - start.astimezone(UTC)) / timedelta(microseconds=1)
    assert result["seconds"] * 1_000_000 == pytest.approx(elapsed, abs=0.5)
    assert result["sign"] == (elapsed > 0) - (elapsed < 0)
    # adding the breakdown to the earlier time gives the later one exactly
    parts = {k: abs(v) for k, v in result["breakdown"].items()}
    assert all(v == 0 or (v > 0) == (result["sign"] > 0) for v in result["breakdown"].values())
    breakdown = Duration(
        years=parts["years"],
        months=parts["months"],
        days=parts["days"],
        microseconds=round(
            ((parts["hours"] * 60 + parts["minutes"]) * 60 + parts["seconds"]) * 1_000_000
        ),
    )
    first, last = (start, end) if result["sign"] >= 0 else (end, start)
    assert add(first, breakdown).astimezone(UTC) == last.astimezone(UTC)
    assert parts["months"] < 12
    # the ISO form is the breakdown
    iso = result["iso_duration"]
    assert iso.startswith("-") == (result["sign"] < 0)
    assert parse_duration(iso.lstrip("-")) == breakdown


@settings(max_examples=200, deadline=None)
@given(moments(), moments(), st.sampled_from(["days", "weeks", "months", "years"]))
def test_calendar_amounts_bracket_the_end(start: datetime, end: datetime, unit: str) -> None:
    end = end.astimezone(start.tzinfo)
    value = difference(start, end, unit)["value"]
    earlier, later = (start, end) if value >= 0 else (end, start)
    whole = int(abs(value))
    per = {"days": Duration(days=1), "weeks": Duration(weeks=1), "months": Duration(months=1),
           "years": Duration(years=1)}[unit]  # fmt: skip

    def times(n: int) -> Duration:
        return Duration(per.years * n, per.months * n, per.weeks * n, per.days * n)

    assert add(earlier, times(whole)).astimezone(UTC) <= later.astimezone(UTC)
    assert add(earlier, times(whole + 1)).astimezone(UTC) > later.astimezone(UTC)


@given(
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.integers(0, 10**4),
    st.integers(0, 10**4),
    st.integers(0, 10**15),
    st.booleans(),
)
def test_iso_durations_round_trip(
    years: int, months: int, days: int, hours: int, minutes: int, micro: int, negative: bool
) -> None:
    text = format_duration(years, months, days, hours, minutes, micro)
    expected = Duration(
        years=years,
        months=months,
        days=days,
        microseconds=(hours * 60 + minutes) * 60_000_000 + micro,
    )
    if negative:
        text, expected = "-" + text, expected.negated()
    assert parse_duration(text) == expected


@given(st.text(max_size=30))
def test_duration_parser_accepts_or_explains(text: str) -> None:
    try:
        parse_duration(text)
    except DurationError as exc:
        assert exc.problem


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)), st.integers(-60, 60))
def test_business_days(day: date, count: int) -> None:
    start = datetime.combine(day, datetime.min.time())
    result = add_business_days(start, count)
    if count == 0:
        assert result == start
        return
    assert result.weekday() < 5
    assert result.time() == start.time()
    # the weekdays passed (excluding the start, including the result) are exactly |count|
    step = 1 if count > 0 else -1
    passed, current = 0, start
    while current != result:
        current += timedelta(days=step)
        passed += current.weekday() < 5
    assert passed == abs(count)


@settings(max_examples=200, deadline=None)
@given(moments())
def test_iso_text_parses_back_to_the_same_moment(moment: datetime) -> None:
    shape = describe(moment)
    parsed = parse_text(shape["iso"], zone=None)
    assert parsed.parsed_as == "iso8601"
    assert parsed.moment == moment
    assert describe(parsed.moment)["unix_timestamp"] == pytest.approx(moment.timestamp())
    again = parse_text(shape["unix_timestamp"], zone=moment.tzinfo)
    assert again.moment.astimezone(UTC) == moment.astimezone(UTC)


_PIECES = st.sampled_from(
    ["2024", "10", "03", "March", "Sun", "9:30", "pm", "+0530", "UTC", "PST", "T", "Z", "/",
     "-", ":", ".", ",", " ", "99999", "XYZ", "1e9", "W10", "0x1f", "٣", "½"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=40), st.lists(_PIECES, max_size=8).map("".join)))
def test_parse_text_reads_or_names_the_text(text: str) -> None:
    try:
        parsed = parse_text(text, zone=None, dayfirst=True)
    except LlmspellError as err:
        assert err.code == "invalid_args"
        assert err.details["argument"] == "text"
        return
    assert parsed.moment.tzinfo is not None
    describe(parsed.moment)
