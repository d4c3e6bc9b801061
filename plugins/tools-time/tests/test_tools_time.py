"""Tests of llmspell-tools-time through the real kernel path: entry point -> Kernel -> SpellRun."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.runtime import SpellRun
from llmspell.security import SecurityPolicy

TOOL_NAMES = ["time_add", "time_convert", "time_diff", "time_format", "time_now", "time_parse"]
NY = "America/New_York"


@pytest.fixture(scope="module")
def kernel() -> Kernel:
    # env={}: load every entry point, whatever LLMSPELL_* the developer has set
    return Kernel.load(env={})


async def call(kernel: Kernel, name: str, args: Any, policy: SecurityPolicy | None = None) -> Any:
    async with SpellRun.open(kernel, policy=policy) as run:
        return await run.call_tool(name, args)


async def call_error(
    kernel: Kernel, name: str, args: Any, policy: SecurityPolicy | None = None
) -> LlmspellError:
    with pytest.raises(LlmspellError) as info:
        await call(kernel, name, args, policy)
    return info.value


def assert_invalid(err: LlmspellError, tool: str, argument: str, *fragments: str) -> None:
    assert err.code == "invalid_args", err.message
    assert err.message.startswith(f"tool {tool!r}: argument {argument!r}: "), err.message
    assert err.details["tool"] == tool
    assert err.details["argument"] == argument
    for fragment in fragments:
        assert fragment in err.message, err.message


def moment(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


# --- registration ---------------------------------------------------------------------------


def test_plugin_is_loaded_through_its_entry_point(kernel: Kernel) -> None:
    assert "tools-time" in kernel.plugins
    info = kernel.plugins["tools-time"]
    assert info.package == "llmspell-tools-time"
    assert "llmspell_register_tools" in info.hooks
    assert not [f for f in kernel.failures if f.name == "tools-time"]
    for name in TOOL_NAMES:
        assert kernel.tools.owner(name) == "tools-time"
    assert kernel.components("tools-time") == {"tools": TOOL_NAMES}
    kernel.check_pending()


def test_plugin_can_be_disabled() -> None:
    kernel = Kernel.load(env={"LLMSPELL_DISABLE_PLUGINS": "tools-time"})
    assert "tools-time" not in kernel.plugins
    for name in TOOL_NAMES:
        assert name not in kernel.tools


@pytest.mark.parametrize("name", TOOL_NAMES)
def test_tool_spec_is_complete(kernel: Kernel, name: str) -> None:
    tool = kernel.tools.get(name)
    tool.check_schema()
    spec = tool.spec()
    assert spec["description"]
    assert (
        spec["description"]
        .split(". ")[0]
        .startswith(("Return", "Parse", "Format", "Convert", "Add", "Compute"))
    )
    assert spec["category"] == "time"
    assert spec["permissions"] == []
    assert spec["requires_approval"] is False
    params = spec["parameters"]
    assert params["type"] == "object"
    assert params["additionalProperties"] is False
    assert isinstance(params["required"], list)
    for prop, schema in params["properties"].items():
        assert schema.get("description"), f"{name}.{prop} has no description"
        if "default" in schema:  # every default is itself a valid value
            assert tool.validate({**spec["example"], prop: schema["default"]})
    assert tool.validate(spec["example"]) == spec["example"]


@pytest.mark.parametrize("name", TOOL_NAMES)
async def test_tool_example_runs_with_the_default_policy(kernel: Kernel, name: str) -> None:
    example = kernel.tools.get(name).example
    result = await call(kernel, name, example, SecurityPolicy())
    assert isinstance(result, dict) and result


def test_importing_the_plugin_is_cheap() -> None:
    code = (
        "import sys, llmspell_tools_time.plugin\n"
        "heavy = [m for m in ('dateutil', 'zoneinfo', 'decimal', 'email.utils') "
        "if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""


# --- time zones (shared by every tool) ------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "label", "offset"),
    [
        ("UTC", "UTC", "+00:00"),
        ("Asia/Kolkata", "Asia/Kolkata", "+05:30"),
        ("asia/kolkata", "Asia/Kolkata", "+05:30"),  # any case
        ("Asia/Kathmandu", "Asia/Kathmandu", "+05:45"),
        ("+05:30", "UTC+05:30", "+05:30"),
        ("-0800", "UTC-08:00", "-08:00"),
        ("+02", "UTC+02:00", "+02:00"),
        ("UTC+01:00", "UTC+01:00", "+01:00"),
        ("Z", "UTC", "+00:00"),
        ("Etc/GMT+5", "Etc/GMT+5", "-05:00"),  # POSIX sign inside the IANA name
    ],
)
async def test_zone_arguments(kernel: Kernel, zone: str, label: str, offset: str) -> None:
    result = await call(kernel, "time_convert", {"time": "2024-01-15T12:00:00Z", "to": zone})
    converted = result["results"][0]
    assert converted["timezone"] == label
    assert converted["utc_offset"] == offset
    assert converted["unix_timestamp"] == 1705320000


@pytest.mark.parametrize(
    ("zone", "fragment"),
    [
        ("Europe/Pari", "did you mean 'Europe/Paris'?"),
        ("New York", "did you mean 'America/New_York'?"),
        ("tokyo", "did you mean 'Asia/Tokyo'?"),
        ("Mars/Olympus_Mons", "unknown time zone 'Mars/Olympus_Mons'"),
        ("+25:00", "unknown time zone '+25:00'"),
        ("../../etc/passwd", "unknown time zone"),
        ("/etc/localtime", "unknown time zone"),
        ("localtime", "unknown time zone"),
        ("America", "unknown time zone"),  # a directory of the database
    ],
)
async def test_unknown_zone_is_invalid_args_with_a_suggestion(
    kernel: Kernel, zone: str, fragment: str
) -> None:
    err = await call_error(kernel, "time_now", {"timezone": zone})
    assert_invalid(err, "time_now", "timezone", fragment)
    assert err.hint and "IANA" in err.hint


@pytest.mark.parametrize(
    ("name", "args", "argument"),
    [
        ("time_parse", {"text": "2024-03-10", "timezone": "Nowhere/City"}, "timezone"),
        ("time_format", {"time": "2024-03-10", "timezone": "Nowhere/City"}, "timezone"),
        ("time_convert", {"time": "2024-03-10", "timezone": "Nowhere/City", "to": "UTC"},
         "timezone"),
        ("time_convert", {"time": "2024-03-10", "to": "Nowhere/City"}, "to"),
        ("time_convert", {"time": "2024-03-10", "to": ["UTC", "Nowhere/City"]}, "to/1"),
        ("time_add", {"time": "2024-03-10", "timezone": "Nowhere/City", "days": 1}, "timezone"),
        ("time_diff", {"start": "2024-03-10", "end": "now", "timezone": "Nowhere/City"},
         "timezone"),
    ],
)  # fmt: skip
async def test_every_zone_argument_is_checked(
    kernel: Kernel, name: str, args: dict[str, Any], argument: str
) -> None:
    err = await call_error(kernel, name, args)
    assert_invalid(err, name, argument, "unknown time zone 'Nowhere/City'")


# --- time_now -------------------------------------------------------------------------------


@pytest.mark.parametrize("zone", [None, "UTC", "Asia/Kolkata", NY, "+05:45"])
async def test_time_now_lies_between_two_clock_readings(kernel: Kernel, zone: str | None) -> None:
    args = {} if zone is None else {"timezone": zone}
    before = datetime.now(UTC)
    result = await call(kernel, "time_now", args)
    after = datetime.now(UTC)
    now = moment(result["iso"])
    assert before <= now <= after
    assert before.timestamp() <= result["unix_timestamp"] <= after.timestamp()
    assert result["timezone"] == (
        zone if zone not in (None, "+05:45") else "UTC" if zone is None else "UTC+05:45"
    )
    # the components describe the same moment as the ISO text
    assert (result["year"], result["month"], result["day"]) == (now.year, now.month, now.day)
    assert (result["hour"], result["minute"], result["second"], result["microsecond"]) == (
        now.hour,
        now.minute,
        now.second,
        now.microsecond,
    )
    assert result["utc_offset_seconds"] == now.utcoffset().total_seconds()  # type: ignore[union-attr]
    assert result["weekday"] == now.strftime("%A")
    assert (result["iso_year"], result["iso_week"], result["iso_weekday"]) == tuple(
        now.isocalendar()
    )
    assert result["day_of_year"] == now.timetuple().tm_yday
    assert "formatted" not in result


async def test_time_now_in_kolkata_has_its_fixed_offset(kernel: Kernel) -> None:
    result = await call(kernel, "time_now", {"timezone": "Asia/Kolkata"})
    assert result["utc_offset"] == "+05:30"
    assert result["utc_offset_seconds"] == 19800
    assert result["abbreviation"] == "IST"
    assert result["dst"] is False
    assert result["iso"].endswith("+05:30")


async def test_time_now_formats(kernel: Kernel) -> None:
    result = await call(kernel, "time_now", {"timezone": NY, "format": "%Y-%m-%d %H:%M %Z|%%"})
    expected = (
        f"{result['year']:04d}-{result['month']:02d}-{result['day']:02d} "
        f"{result['hour']:02d}:{result['minute']:02d} {result['abbreviation']}|%"
    )
    assert result["formatted"] == expected
    assert result["abbreviation"] in ("EST", "EDT")


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        ({"timezone": ""}, "timezone", "should be non-empty"),
        ({"timezone": "x" * 65}, "timezone", "is too long"),
        ({"timezone": 5}, "timezone", "is not of type 'string'"),
        ({"format": "a\x00b"}, "format", "NUL character"),
        ({"format": "%Y" * 101}, "format", "is too long"),
        ({"zone": "UTC"}, None, "'zone' was unexpected"),
    ],
)
async def test_time_now_invalid_args(
    kernel: Kernel, args: dict[str, Any], argument: str | None, fragment: str
) -> None:
    err = await call_error(kernel, "time_now", args)
    assert err.code == "invalid_args"
    assert err.details.get("argument") == argument
    if argument:
        assert f"argument {argument!r}" in err.message
    assert fragment in err.message


# --- time_parse -----------------------------------------------------------------------------

PARSE_CASES: list[tuple[dict[str, Any], str, str, bool]] = [
    # (arguments, expected ISO, parsed_as, offset_in_input)
    ({"text": "2024-03-10T09:30:00+01:00"}, "2024-03-10T09:30:00+01:00", "iso8601", True),
    ({"text": "2024-03-10T09:30:00Z"}, "2024-03-10T09:30:00+00:00", "iso8601", True),
    ({"text": " 2024-03-10T09:30:00.250Z "}, "2024-03-10T09:30:00.250000+00:00", "iso8601", True),
    ({"text": "2024-03-10 09:30", "timezone": "Europe/Paris"},
     "2024-03-10T09:30:00+01:00", "iso8601", False),
    ({"text": "2024-03-10T09:30:00+01:00", "timezone": "Asia/Tokyo"},
     "2024-03-10T17:30:00+09:00", "iso8601", True),
    ({"text": "2024-03-10"}, "2024-03-10T00:00:00+00:00", "iso8601", False),
    ({"text": "2024-W10-7"}, "2024-03-10T00:00:00+00:00", "iso8601", False),
    ({"text": "20240310T0930"}, "2024-03-10T09:30:00+00:00", "iso8601", False),
    ({"text": "20240310"}, "2024-03-10T00:00:00+00:00", "iso8601", False),
    ({"text": "1710063000"}, "2024-03-10T09:30:00+00:00", "timestamp", True),
    ({"text": "1710063000.5"}, "2024-03-10T09:30:00.500000+00:00", "timestamp", True),
    ({"text": "-86400"}, "1969-12-31T00:00:00+00:00", "timestamp", True),
    ({"text": 1710063000}, "2024-03-10T09:30:00+00:00", "timestamp", True),
    ({"text": 1710063000123, "unit": "ms"}, "2024-03-10T09:30:00.123000+00:00", "timestamp", True),
    ({"text": "1710063000123", "unit": "ms"},
     "2024-03-10T09:30:00.123000+00:00", "timestamp", True),
    ({"text": "20240310", "unit": "s"}, "1970-08-23T06:18:30+00:00", "timestamp", True),
    ({"text": 1710063000, "timezone": NY}, "2024-03-10T05:30:00-04:00", "timestamp", True),
    ({"text": "March 10, 2024 9:30 pm", "timezone": NY},
     "2024-03-10T21:30:00-04:00", "flexible", False),
    ({"text": "10/03/2024 09:30"}, "2024-10-03T09:30:00+00:00", "flexible", False),
    ({"text": "10/03/2024 09:30", "dayfirst": True},
     "2024-03-10T09:30:00+00:00", "flexible", False),
    ({"text": "24/03/10", "yearfirst": True}, "2024-03-10T00:00:00+00:00", "flexible", False),
    ({"text": "Sun, 10 Mar 2024 09:30:00 -0400"},
     "2024-03-10T09:30:00-04:00", "flexible", True),
    ({"text": "Sun, 10 Mar 2024 09:30:00 PST"}, "2024-03-10T09:30:00-08:00", "flexible", True),
    ({"text": "10 Mar 2024 09:30 CEST"}, "2024-03-10T09:30:00+02:00", "flexible", True),
    ({"text": "10 Mar 2024 09:30 UTC", "timezone": NY},
     "2024-03-10T05:30:00-04:00", "flexible", True),
    ({"text": "10.03.2024 09:30", "format": "%d.%m.%Y %H:%M"},
     "2024-03-10T09:30:00+00:00", "format", False),
    ({"text": "10.03.2024 09:30 +0530", "format": "%d.%m.%Y %H:%M %z"},
     "2024-03-10T09:30:00+05:30", "format", True),
    # daylight saving: a nonexistent wall time moves forward by the gap, an ambiguous one is
    # the earlier moment
    ({"text": "2024-03-10 02:30", "timezone": NY}, "2024-03-10T03:30:00-04:00", "iso8601", False),
    ({"text": "2024-11-03 01:30", "timezone": NY}, "2024-11-03T01:30:00-04:00", "iso8601", False),
    ({"text": "2024-11-03 01:30 -0500", "format": "%Y-%m-%d %H:%M %z", "timezone": NY},
     "2024-11-03T01:30:00-05:00", "format", True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "iso", "parsed_as", "offset_in_input"),
    PARSE_CASES,
    ids=[str(case[0]["text"])[:40] for case in PARSE_CASES],
)
async def test_time_parse(
    kernel: Kernel, args: dict[str, Any], iso: str, parsed_as: str, offset_in_input: bool
) -> None:
    result = await call(kernel, "time_parse", args)
    assert result["iso"] == iso
    assert result["parsed_as"] == parsed_as
    assert result["offset_in_input"] is offset_in_input
    assert result["unix_timestamp"] == pytest.approx(moment(iso).timestamp(), abs=1e-6)


async def test_time_parse_result_shape(kernel: Kernel) -> None:
    result = await call(kernel, "time_parse", {"text": "2024-03-10T09:30:05", "timezone": NY})
    assert result == {
        "iso": "2024-03-10T09:30:05-04:00",
        "timezone": NY,
        "abbreviation": "EDT",
        "utc_offset": "-04:00",
        "utc_offset_seconds": -14400,
        "dst": True,
        "year": 2024,
        "month": 3,
        "day": 10,
        "hour": 9,
        "minute": 30,
        "second": 5,
        "microsecond": 0,
        "weekday": "Sunday",
        "iso_weekday": 7,
        "iso_week": 10,
        "iso_year": 2024,
        "day_of_year": 70,
        "unix_timestamp": 1710077405,
        "parsed_as": "iso8601",
        "offset_in_input": False,
    }


async def test_time_parse_fills_a_missing_date_with_today(kernel: Kernel) -> None:
    before = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    result = await call(kernel, "time_parse", {"text": "9:30 pm", "timezone": "Asia/Tokyo"})
    after = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    parsed = moment(result["iso"])
    assert parsed.date() in (before, after)
    assert (parsed.hour, parsed.minute, result["timezone"]) == (21, 30, "Asia/Tokyo")


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        ({"text": "blah"}, "text", "cannot read 'blah' as a date/time"),
        ({"text": "2024-02-30"}, "text", "cannot read '2024-02-30'"),
        ({"text": "   "}, "text", "the text is empty"),
        ({"text": "Sun, 10 Mar 2024 09:30:00 XYZ"}, "text",
         "unknown time zone abbreviation 'XYZ'"),
        ({"text": "99999999999999"}, "text", "outside years 1 to 9999"),
        ({"text": 1e300}, "text", "outside years 1 to 9999"),
        ({"text": "tomorrow", "unit": "s"}, "text", "is not a unix timestamp"),
        ({"text": "2024-03-10", "format": "%d.%m.%Y"}, "text", "does not match '%d.%m.%Y'"),
        ({"text": "10.03.2024 extra", "format": "%d.%m.%Y"}, "text", "does not match"),
        ({"text": "10.03.2024", "format": "%d.%m.%Y %Q"}, "format", "bad directive"),
        ({"text": "10.03.2024", "format": "%d.%m.%Y", "unit": "s"}, "unit", "either"),
        ({"text": ""}, "text", "should be non-empty"),
        ({"text": "x" * 201}, "text", "is too long"),
        ({"text": True}, "text", "is not of type 'string', 'number'"),
        ({"text": "1", "unit": "us"}, "unit", "is not one of ['s', 'ms']"),
        ({"text": "1", "dayfirst": "yes"}, "dayfirst", "is not of type 'boolean'"),
    ],
)  # fmt: skip
async def test_time_parse_invalid_args(
    kernel: Kernel, args: dict[str, Any], argument: str, fragment: str
) -> None:
    err = await call_error(kernel, "time_parse", args)
    assert err.code == "invalid_args"
    assert err.details["argument"] == argument
    assert f"argument {argument!r}" in err.message
    assert fragment in err.message


async def test_time_parse_requires_text(kernel: Kernel) -> None:
    err = await call_error(kernel, "time_parse", {"timezone": "UTC"})
    assert err.code == "invalid_args"
    assert "'text' is a required property" in err.message


# --- time_format ----------------------------------------------------------------------------

FORMAT_CASES: list[tuple[dict[str, Any], str]] = [
    ({"style": "iso"}, "2024-03-10T09:30:05-04:00"),
    ({}, "2024-03-10T09:30:05-04:00"),
    ({"style": "rfc3339"}, "2024-03-10T09:30:05-04:00"),
    ({"style": "rfc2822"}, "Sun, 10 Mar 2024 09:30:05 -0400"),
    ({"style": "http"}, "Sun, 10 Mar 2024 13:30:05 GMT"),
    ({"style": "date"}, "2024-03-10"),
    ({"style": "time"}, "09:30:05"),
    ({"format": "%A %d %B %Y, %H:%M %Z"}, "Sunday 10 March 2024, 09:30 EDT"),
    ({"format": "%d/%m/%y %I:%M %p (%z) week %V"}, "10/03/24 09:30 AM (-0400) week 10"),
    ({"format": "%s|%%s"}, "1710077405|%s"),  # the unix timestamp, whatever the machine's zone
]


@pytest.mark.parametrize(("extra", "expected"), FORMAT_CASES)
async def test_time_format(kernel: Kernel, extra: dict[str, Any], expected: str) -> None:
    args = {"time": "2024-03-10T13:30:05Z", "timezone": NY, **extra}
    result = await call(kernel, "time_format", args)
    assert result == {"formatted": expected, "iso": "2024-03-10T09:30:05-04:00", "timezone": NY}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"time": "2024-03-10T13:30:05Z", "style": "rfc3339"}, "2024-03-10T13:30:05Z"),
        ({"time": "2024-03-10T13:30:05.5+00:00", "style": "rfc3339"},
         "2024-03-10T13:30:05.500000Z"),
        ({"time": "2024-03-10T13:30:05+01:00"}, "2024-03-10T13:30:05+01:00"),  # keeps its offset
        ({"time": "2024-03-10T13:30:05"}, "2024-03-10T13:30:05+00:00"),  # UTC by default
        ({"time": "2024-03-10T13:30:05", "timezone": "Asia/Tokyo"}, "2024-03-10T13:30:05+09:00"),
        ({"time": "2024-03-10T13:30:05+01:00", "style": "http"}, "Sun, 10 Mar 2024 12:30:05 GMT"),
        ({"time": "2024-03-10", "format": "%j"}, "070"),
    ],
)  # fmt: skip
async def test_time_format_zones(kernel: Kernel, args: dict[str, Any], expected: str) -> None:
    assert (await call(kernel, "time_format", args))["formatted"] == expected


async def test_time_format_now(kernel: Kernel) -> None:
    before = datetime.now(UTC)
    result = await call(kernel, "time_format", {"time": "now", "style": "iso"})
    after = datetime.now(UTC)
    assert before <= moment(result["formatted"]) <= after


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        ({"time": "yesterday"}, "time", "'yesterday' is not an ISO 8601 date/time"),
        ({"time": "2024-13-01"}, "time", "(month must be in 1..12)"),
        ({"time": "2024-03-10", "style": "iso", "format": "%Y"}, "style", "either"),
        ({"time": "2024-03-10", "format": "\x00"}, "format", "NUL character"),
        ({"time": "2024-03-10", "style": "long"}, "style", "is not one of"),
        ({"time": ""}, "time", "should be non-empty"),
        ({"time": "2024-03-10" * 20}, "time", "is too long"),
    ],
)
async def test_time_format_invalid_args(
    kernel: Kernel, args: dict[str, Any], argument: str, fragment: str
) -> None:
    err = await call_error(kernel, "time_format", args)
    assert err.code == "invalid_args"
    assert err.details["argument"] == argument
    assert f"argument {argument!r}" in err.message
    assert fragment in err.message


async def test_time_format_hints_at_time_parse(kernel: Kernel) -> None:
    err = await call_error(kernel, "time_format", {"time": "March 10"})
    assert err.hint and "time_parse" in err.hint


# --- time_convert ---------------------------------------------------------------------------


async def test_time_convert_to_several_zones(kernel: Kernel) -> None:
    result = await call(
        kernel,
        "time_convert",
        {
            "time": "2024-03-10T09:00:00",
            "timezone": NY,
            "to": ["Europe/London", "Asia/Tokyo", "Asia/Kathmandu", "UTC", "-03:00"],
        },
    )
    assert result["source"]["iso"] == "2024-03-10T09:00:00-04:00"
    assert result["source"]["timezone"] == NY
    assert [r["iso"] for r in result["results"]] == [
        "2024-03-10T13:00:00+00:00",
        "2024-03-10T22:00:00+09:00",
        "2024-03-10T18:45:00+05:45",
        "2024-03-10T13:00:00+00:00",
        "2024-03-10T10:00:00-03:00",
    ]
    assert [r["timezone"] for r in result["results"]] == [
        "Europe/London",
        "Asia/Tokyo",
        "Asia/Kathmandu",
        "UTC",
        "UTC-03:00",
    ]
    assert {r["unix_timestamp"] for r in result["results"]} == {1710075600}


async def test_time_convert_one_zone_and_a_time_with_an_offset(kernel: Kernel) -> None:
    result = await call(
        kernel, "time_convert", {"time": "2024-07-01T12:00:00+02:00", "to": "America/Los_Angeles"}
    )
    assert result["source"]["iso"] == "2024-07-01T12:00:00+02:00"
    assert result["source"]["timezone"] == "UTC+02:00"
    (converted,) = result["results"]
    assert converted["iso"] == "2024-07-01T03:00:00-07:00"
    assert (converted["abbreviation"], converted["dst"]) == ("PDT", True)


async def test_time_convert_across_the_date_line(kernel: Kernel) -> None:
    result = await call(
        kernel,
        "time_convert",
        {"time": "2024-12-31T23:30:00", "timezone": "Pacific/Honolulu", "to": "Pacific/Kiritimati"},
    )
    assert result["results"][0]["iso"] == "2025-01-01T23:30:00+14:00"
    assert result["results"][0]["iso_year"] == 2025


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        ({"time": "noon", "to": "UTC"}, "time", "is not an ISO 8601 date/time"),
        ({"time": "2024-03-10", "to": []}, "to", "should be non-empty"),
        ({"time": "2024-03-10", "to": ["UTC"] * 51}, "to", "is too long"),
        ({"time": "2024-03-10", "to": [5]}, "to/0", "is not of type 'string'"),
        ({"time": "0001-01-01T00:30:00", "to": "America/New_York"}, "time",
         "outside the supported range"),
    ],
)  # fmt: skip
async def test_time_convert_invalid_args(
    kernel: Kernel, args: dict[str, Any], argument: str, fragment: str
) -> None:
    err = await call_error(kernel, "time_convert", args)
    assert err.code == "invalid_args"
    assert err.details["argument"] == argument
    assert fragment in err.message


async def test_time_convert_requires_to(kernel: Kernel) -> None:
    err = await call_error(kernel, "time_convert", {"time": "2024-03-10"})
    assert err.code == "invalid_args"
    assert "'to' is a required property" in err.message


# --- time_add -------------------------------------------------------------------------------

ADD_CASES: list[tuple[dict[str, Any], str]] = [
    # calendar units: month-end clamping
    ({"time": "2024-01-31T09:00:00", "months": 1}, "2024-02-29T09:00:00+00:00"),
    ({"time": "2023-01-31T09:00:00", "months": 1}, "2023-02-28T09:00:00+00:00"),
    ({"time": "2024-03-31T09:00:00", "months": -1}, "2024-02-29T09:00:00+00:00"),
    ({"time": "2024-02-29", "years": 1}, "2025-02-28T00:00:00+00:00"),
    ({"time": "2024-02-29", "years": 4}, "2028-02-29T00:00:00+00:00"),
    ({"time": "2024-01-31", "months": 1, "days": 1}, "2024-03-01T00:00:00+00:00"),
    ({"time": "2024-03-10", "weeks": 2, "days": -3}, "2024-03-21T00:00:00+00:00"),
    ({"time": "2024-12-31T23:59:59Z", "seconds": 1}, "2025-01-01T00:00:00+00:00"),
    ({"time": "2024-03-10T00:00:00Z", "seconds": 0.1}, "2024-03-10T00:00:00.100000+00:00"),
    ({"time": "2024-03-10T00:00:00Z", "minutes": -90.5}, "2024-03-09T22:29:30+00:00"),
    ({"time": "2024-03-10T00:00:00+05:30", "hours": 1.25}, "2024-03-10T01:15:00+05:30"),
    # ISO 8601 durations, alone and added to the other arguments
    ({"time": "2024-01-31T09:00:00", "duration": "P1M2DT3H"}, "2024-03-02T12:00:00+00:00"),
    ({"time": "2024-01-01", "duration": "P1Y2M10DT2H30M"}, "2025-03-11T02:30:00+00:00"),
    ({"time": "2024-01-01", "duration": "-P1W"}, "2023-12-25T00:00:00+00:00"),
    ({"time": "2024-01-01", "duration": "PT1.5H"}, "2024-01-01T01:30:00+00:00"),
    ({"time": "2024-01-01", "duration": "pt0,5s"}, "2024-01-01T00:00:00.500000+00:00"),
    ({"time": "2024-01-01", "duration": "P1W2D"}, "2024-01-10T00:00:00+00:00"),
    ({"time": "2024-01-01", "duration": "PT36H"}, "2024-01-02T12:00:00+00:00"),
    ({"time": "2024-01-01", "duration": "P1D", "days": 1, "hours": -1},
     "2024-01-02T23:00:00+00:00"),
    ({"time": "2024-01-01", "duration": "+P0D"}, "2024-01-01T00:00:00+00:00"),
    # business days (Monday to Friday)
    ({"time": "2024-03-08T17:00:00", "business_days": 1}, "2024-03-11T17:00:00+00:00"),  # Fri
    ({"time": "2024-03-09T10:00:00", "business_days": 1}, "2024-03-11T10:00:00+00:00"),  # Sat
    ({"time": "2024-03-10T10:00:00", "business_days": -1}, "2024-03-08T10:00:00+00:00"),  # Sun
    ({"time": "2024-03-09T10:00:00", "business_days": 5}, "2024-03-15T10:00:00+00:00"),  # Sat
    ({"time": "2024-03-06", "business_days": 5}, "2024-03-13T00:00:00+00:00"),  # Wed
    ({"time": "2024-03-11", "business_days": 10}, "2024-03-25T00:00:00+00:00"),  # Mon
    ({"time": "2024-03-08", "business_days": -5}, "2024-03-01T00:00:00+00:00"),  # Fri
    ({"time": "2024-03-11", "business_days": -1}, "2024-03-08T00:00:00+00:00"),  # Mon
    ({"time": "2024-03-09", "business_days": 0}, "2024-03-09T00:00:00+00:00"),  # Sat stays
    ({"time": "2024-03-08T16:00:00", "business_days": 1, "hours": 2},
     "2024-03-11T18:00:00+00:00"),
    ({"time": "2024-01-31", "months": 1, "business_days": 1}, "2024-03-01T00:00:00+00:00"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "iso"), ADD_CASES)
async def test_time_add(kernel: Kernel, args: dict[str, Any], iso: str) -> None:
    result = await call(kernel, "time_add", args)
    assert result["iso"] == iso
    start = moment(result["start"])
    assert result["elapsed_seconds"] == pytest.approx((moment(iso) - start).total_seconds())


async def test_time_add_one_day_vs_24_hours_across_spring_forward(kernel: Kernel) -> None:
    # New York sprang forward on 2024-03-10 at 02:00 (EST -05:00 -> EDT -04:00)
    base = {"time": "2024-03-09T12:00:00", "timezone": NY}
    day = await call(kernel, "time_add", {**base, "days": 1})
    hours = await call(kernel, "time_add", {**base, "hours": 24})
    assert day["start"] == hours["start"] == "2024-03-09T12:00:00-05:00"
    assert (day["iso"], day["elapsed_seconds"]) == ("2024-03-10T12:00:00-04:00", 23 * 3600)
    assert (hours["iso"], hours["elapsed_seconds"]) == ("2024-03-10T13:00:00-04:00", 24 * 3600)
    assert (day["abbreviation"], day["dst"]) == ("EDT", True)


async def test_time_add_one_day_vs_24_hours_across_fall_back(kernel: Kernel) -> None:
    base = {"time": "2024-11-02T12:00:00", "timezone": NY}
    day = await call(kernel, "time_add", {**base, "days": 1})
    hours = await call(kernel, "time_add", {**base, "hours": 24})
    assert (day["iso"], day["elapsed_seconds"]) == ("2024-11-03T12:00:00-05:00", 25 * 3600)
    assert (hours["iso"], hours["elapsed_seconds"]) == ("2024-11-03T11:00:00-05:00", 24 * 3600)


@pytest.mark.parametrize(
    ("args", "iso"),
    [
        # lands in the spring-forward gap: moved forward by the gap
        ({"time": "2024-03-09T02:30:00", "days": 1}, "2024-03-10T03:30:00-04:00"),
        # lands on the repeated hour of fall-back: the earlier (summer-time) moment
        ({"time": "2024-11-02T01:30:00", "days": 1}, "2024-11-03T01:30:00-04:00"),
        # exact time walks through the repeated hour
        ({"time": "2024-11-03T01:30:00-04:00", "hours": 1}, "2024-11-03T01:30:00-05:00"),
        ({"time": "2024-03-10T01:59:59", "seconds": 1}, "2024-03-10T03:00:00-04:00"),
        # a time with an offset is converted to the zone first
        ({"time": "2024-03-09T17:00:00Z", "days": 1}, "2024-03-10T12:00:00-04:00"),
    ],
)
async def test_time_add_daylight_saving_rules(
    kernel: Kernel, args: dict[str, Any], iso: str
) -> None:
    result = await call(kernel, "time_add", {**args, "timezone": NY})
    assert result["iso"] == iso


async def test_time_add_from_now(kernel: Kernel) -> None:
    before = datetime.now(UTC)
    result = await call(kernel, "time_add", {"time": "now", "hours": 1})
    after = datetime.now(UTC)
    assert before + timedelta(hours=1) <= moment(result["iso"]) <= after + timedelta(hours=1)
    assert result["elapsed_seconds"] == 3600


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        ({"time": "2024-01-01", "duration": "1 day"}, "duration", "is not an ISO 8601 duration"),
        ({"time": "2024-01-01", "duration": "P"}, "duration", "is too short"),
        ({"time": "2024-01-01", "duration": "PT"}, "duration", "no components"),
        ({"time": "2024-01-01", "duration": "P1DT"}, "duration", "'T' must be followed"),
        ({"time": "2024-01-01", "duration": "P1H"}, "duration", "is not an ISO 8601 duration"),
        ({"time": "2024-01-01", "duration": "P1.5M"}, "duration", "months must be whole"),
        ({"time": "2024-01-01", "duration": "P-1D"}, "duration", "is not an ISO 8601 duration"),
        ({"time": "9999-12-31", "days": 1}, "days", "outside the supported range"),
        ({"time": "0001-01-01", "duration": "-PT1S"}, "duration", "outside the supported range"),
        ({"time": "2024-01-01", "years": 8000}, "years", "outside the supported range"),
        ({"time": "2024-01-01", "months": 1.5}, "months", "is not of type 'integer'"),
        ({"time": "2024-01-01", "years": 10001}, "years", "greater than the maximum"),
        ({"time": "2024-01-01", "business_days": 0.5}, "business_days", "not of type 'integer'"),
        ({"time": "someday", "days": 1}, "time", "is not an ISO 8601 date/time"),
        ({"time": "2024-01-01", "hours": "1"}, "hours", "is not of type 'number'"),
    ],
)
async def test_time_add_invalid_args(
    kernel: Kernel, args: dict[str, Any], argument: str, fragment: str
) -> None:
    err = await call_error(kernel, "time_add", args)
    assert err.code == "invalid_args"
    assert err.details["argument"] == argument
    assert f"argument {argument!r}" in err.message
    assert fragment in err.message


# --- time_diff ------------------------------------------------------------------------------


async def test_time_diff_example(kernel: Kernel) -> None:
    result = await call(
        kernel,
        "time_diff",
        {"start": "2024-01-15T08:00:00Z", "end": "2024-03-10T17:30:00Z", "unit": "days"},
    )
    assert result == {
        "seconds": 4786200,
        "sign": 1,
        "breakdown": {"years": 0, "months": 1, "days": 24, "hours": 9, "minutes": 30,
                      "seconds": 0},
        "iso_duration": "P1M24DT9H30M",
        "value": 55 + 9.5 / 24,
        "unit": "days",
        "start": "2024-01-15T08:00:00+00:00",
        "end": "2024-03-10T17:30:00+00:00",
        "timezone": "UTC",
    }  # fmt: skip


async def test_time_diff_across_spring_forward(kernel: Kernel) -> None:
    args = {"start": "2024-03-09T12:00:00", "end": "2024-03-10T12:00:00", "timezone": NY}
    days = await call(kernel, "time_diff", {**args, "unit": "days"})
    hours = await call(kernel, "time_diff", {**args, "unit": "hours"})
    assert days["seconds"] == hours["seconds"] == 23 * 3600
    assert days["value"] == 1  # a calendar day
    assert hours["value"] == 23  # exact hours
    assert days["breakdown"] == {
        "years": 0, "months": 0, "days": 1, "hours": 0, "minutes": 0, "seconds": 0
    }  # fmt: skip
    assert days["iso_duration"] == "P1D"
    assert (days["start"], days["end"]) == (
        "2024-03-09T12:00:00-05:00",
        "2024-03-10T12:00:00-04:00",
    )


async def test_time_diff_negative(kernel: Kernel) -> None:
    result = await call(
        kernel,
        "time_diff",
        {"start": "2024-03-01T00:00:00", "end": "2023-01-31T00:00:00", "unit": "months"},
    )
    assert result["sign"] == -1
    assert result["seconds"] == -(365 + 30) * 86400
    assert result["breakdown"] == {
        "years": -1, "months": -1, "days": -1, "hours": 0, "minutes": 0, "seconds": 0
    }  # fmt: skip
    assert result["iso_duration"] == "-P1Y1M1D"
    # 2023-01-31 + 13 months = 2024-02-29; one day of the 31 to 2024-03-31 remains
    assert result["value"] == pytest.approx(-(13 + 1 / 31))


@pytest.mark.parametrize(
    ("args", "value", "iso_duration"),
    [
        ({"start": "2024-03-10", "end": "2024-03-10"}, 0, "PT0S"),
        ({"start": "2024-01-31", "end": "2024-02-29", "unit": "months"}, 1, "P1M"),
        ({"start": "2020-02-29", "end": "2024-02-29", "unit": "years"}, 4, "P4Y"),
        ({"start": "2020-02-29", "end": "2021-02-28", "unit": "years"}, 1, "P1Y"),
        ({"start": "2024-01-01", "end": "2024-07-01", "unit": "years"}, 182 / 366, "P6M"),
        ({"start": "2024-03-04", "end": "2024-03-15T12:00:00", "unit": "weeks"}, 11.5 / 7,
         "P11DT12H"),
        ({"start": "2024-03-10T00:00:00Z", "end": "2024-03-10T01:00:00+01:00"}, 0, "PT0S"),
        ({"start": "2024-03-10T00:00:00", "end": "2024-03-10T00:00:01.5", "unit": "milliseconds"},
         1500, "PT1.5S"),
        ({"start": "2024-03-10T00:00:00", "end": "2024-03-10T00:00:00.000001",
          "unit": "microseconds"}, 1, "PT0.000001S"),
        ({"start": "2024-03-10T00:00:00", "end": "2024-03-10T02:15:00", "unit": "minutes"}, 135,
         "PT2H15M"),
        ({"start": "2024-03-10T00:00:00", "end": "2024-03-10T00:00:30", "unit": "minutes"}, 0.5,
         "PT30S"),
    ],
)  # fmt: skip
async def test_time_diff_units(
    kernel: Kernel, args: dict[str, Any], value: float, iso_duration: str
) -> None:
    result = await call(kernel, "time_diff", args)
    assert result["value"] == pytest.approx(value, rel=1e-12)
    assert result["iso_duration"] == iso_duration


async def test_time_diff_reads_a_naive_end_in_the_zone_of_the_start(kernel: Kernel) -> None:
    result = await call(
        kernel, "time_diff", {"start": "2024-03-10T09:00:00+05:30", "end": "2024-03-10T10:00:00"}
    )
    assert result["seconds"] == 3600
    assert result["end"] == "2024-03-10T10:00:00+05:30"
    assert result["timezone"] == "UTC+05:30"


async def test_time_diff_to_now(kernel: Kernel) -> None:
    before = datetime.now(UTC)
    result = await call(kernel, "time_diff", {"start": "2000-01-01T00:00:00Z", "end": "now"})
    after = datetime.now(UTC)
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    assert (before - epoch).total_seconds() <= result["seconds"] <= (after - epoch).total_seconds()
    assert result["sign"] == 1
    assert result["breakdown"]["years"] >= 24


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        ({"start": "last week", "end": "now"}, "start", "is not an ISO 8601 date/time"),
        ({"start": "2024-01-01", "end": "2024-01-32"}, "end", "day is out of range"),
        ({"start": "2024-01-01", "end": "now", "unit": "fortnights"}, "unit", "is not one of"),
        ({"start": "0001-01-01", "end": "9999-12-31", "unit": "years"}, "end",
         "outside the supported range"),
    ],
)  # fmt: skip
async def test_time_diff_invalid_args(
    kernel: Kernel, args: dict[str, Any], argument: str, fragment: str
) -> None:
    err = await call_error(kernel, "time_diff", args)
    assert err.code == "invalid_args"
    assert err.details["argument"] == argument
    assert fragment in err.message


async def test_time_diff_requires_both_times(kernel: Kernel) -> None:
    err = await call_error(kernel, "time_diff", {"start": "2024-01-01"})
    assert err.code == "invalid_args"
    assert "'end' is a required property" in err.message


async def test_time_add_refuses_nan(kernel: Kernel) -> None:
    # JSON parsers such as Python's accept NaN, and NaN passes minimum/maximum
    err = await call_error(kernel, "time_add", {"time": "2024-01-01", "hours": float("nan")})
    assert_invalid(err, "time_add", "hours", "is not a finite number")


async def test_time_parse_refuses_nan(kernel: Kernel) -> None:
    err = await call_error(kernel, "time_parse", {"text": float("nan")})
    assert_invalid(err, "time_parse", "text", "is not a unix timestamp")
