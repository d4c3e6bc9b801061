"""Tests of ``unit_convert`` (llmspell-tools-core) through the real kernel path, and of its
working part :func:`llmspell_tools_core.units.convert`."""

from __future__ import annotations

import math
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.runtime import SpellRun
from llmspell.security import SecurityPolicy
from llmspell_tools_core.units import MAX_UNIT_EXPONENT, convert, registry


@pytest.fixture(scope="module")
def kernel() -> Kernel:
    return Kernel.load(env={})


async def call(kernel: Kernel, args: Any, policy: SecurityPolicy | None = None) -> Any:
    async with SpellRun.open(kernel, policy=policy) as run:
        return await run.call_tool("unit_convert", args)


async def call_error(kernel: Kernel, args: Any) -> LlmspellError:
    with pytest.raises(LlmspellError) as info:
        await call(kernel, args)
    return info.value


# --- registration ---------------------------------------------------------------------------


def test_unit_convert_is_registered_by_tools_core(kernel: Kernel) -> None:
    assert kernel.tools.owner("unit_convert") == "tools-core"
    tool = kernel.tools.get("unit_convert")
    tool.check_schema()
    spec = tool.spec()
    assert spec["category"] == "math"
    assert spec["permissions"] == []
    assert spec["requires_approval"] is False
    assert spec["description"].startswith("Convert a value from one unit to another")
    assert spec["parameters"]["required"] == ["value", "from", "to"]
    assert tool.validate(spec["example"]) == spec["example"]


async def test_example_runs_with_the_default_policy(kernel: Kernel) -> None:
    example = kernel.tools.get("unit_convert").example
    result = await call(kernel, example, SecurityPolicy())
    assert result["value"] == 42.1648128


def test_importing_the_plugin_does_not_import_pint() -> None:
    code = "import sys, llmspell_tools_core.plugin; print('pint' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False"


def test_the_registry_is_built_once() -> None:
    assert registry() is registry()


# --- conversions ----------------------------------------------------------------------------

CASES: list[tuple[float, str, str, float]] = [
    (26.2, "mile", "km", 42.1648128),
    (3, "km", "m", 3000.0),
    (1, "inch", "cm", 2.54),
    (1, "nmi", "m", 1852.0),
    (1, "lb", "kg", 0.45359237),
    (1, "hour", "s", 3600.0),
    (100, "degC", "degF", 212.0),
    (-40, "degF", "degC", -40.0),
    (98.6, "degF", "degC", 37.0),
    (0, "degC", "K", 273.15),
    (300, "kelvin", "degC", 26.85),
    (20, "°C", "degF", 68.0),
    (5, "delta_degC", "delta_degF", 9.0),
    (1, "kWh", "J", 3_600_000.0),
    (1, "MB", "KiB", 976.5625),
    (1, "GiB", "MB", 1073.741824),
    (1, "byte", "bit", 8.0),
    (60, "mph", "km/h", 96.56064),
    (36, "kilometers per hour", "m/s", 10.0),
    (1, "m^3", "L", 1000.0),
    (1, "m²", "cm**2", 10_000.0),
    (1, "atm", "psi", 14.6959487755),
    (1, "kg*m/s^2", "N", 1.0),
    (1, "1/s", "Hz", 1.0),
    (90, "degree", "rad", 1.57079632679),
    (50, "percent", "dimensionless", 0.5),
    (-2.5, "m", "mm", -2500.0),
    (0, "km", "mile", 0.0),
]


@pytest.mark.parametrize(("value", "source", "target", "expected"), CASES)
async def test_unit_convert(
    kernel: Kernel, value: float, source: str, target: str, expected: float
) -> None:
    result = await call(kernel, {"value": value, "from": source, "to": target})
    assert result["value"] == expected
    assert (result["from"], result["to"], result["input"]) == (source, target, value)


async def test_unit_convert_result_shape(kernel: Kernel) -> None:
    result = await call(kernel, {"value": 60, "from": "mph", "to": "km/h"})
    assert result == {
        "value": 96.56064,
        "from": "mph",
        "to": "km/h",
        "from_unit": "mile_per_hour",
        "to_unit": "kilometer / hour",
        "from_symbol": "mph",
        "to_symbol": "km / h",
        "input": 60,
        "dimensionality": "[length] / [time]",
    }


@pytest.mark.parametrize(
    ("source", "name", "dimensionality"),
    [
        ("km", "kilometer", "[length]"),
        ("degF", "degree_Fahrenheit", "[temperature]"),
        ("kWh", "kilowatt_hour", "[length] ** 2 * [mass] / [time] ** 2"),
        ("Hz", "hertz", "1 / [time]"),
        ("rad", "radian", "dimensionless"),
        ("bit/s", "bit / second", "[information] / [time]"),
        ("MB", "megabyte", "[information]"),
        ("mph", "mile_per_hour", "[length] / [time]"),
        ("µs", "microsecond", "[time]"),
    ],
)
def test_canonical_names(source: str, name: str, dimensionality: str) -> None:
    result = convert(1, source, source)
    assert result["from_unit"] == result["to_unit"] == name
    assert result["dimensionality"] == dimensionality
    assert result["value"] == 1.0


# --- refusals -------------------------------------------------------------------------------


async def test_incompatible_dimensions_name_to_and_both_dimensionalities(kernel: Kernel) -> None:
    err = await call_error(kernel, {"value": 1, "from": "km", "to": "kg"})
    assert err.code == "invalid_args"
    assert err.message == (
        "tool 'unit_convert': argument 'to': cannot convert from 'kilometer' ([length]) to "
        "'kilogram' ([mass]): the dimensions differ"
    )
    assert err.details == {
        "tool": "unit_convert",
        "argument": "to",
        "from_dimensionality": "[length]",
        "to_dimensionality": "[mass]",
    }


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        ({"value": 1, "from": "MB", "to": "percent"}, "to",
         "'megabyte' ([information]) to 'percent' (dimensionless)"),
        ({"value": 1, "from": "m/s", "to": "1/s"}, "to", "([length] / [time])"),
        ({"value": 1, "from": "degC", "to": "delta_degF"}, "to",
         "an absolute temperature and a temperature difference"),
        ({"value": 1, "from": "kilometr", "to": "m"}, "from",
         "unknown unit 'kilometr'; did you mean 'kilometre'?"),
        ({"value": 1, "from": "m", "to": "metr"}, "to", "unknown unit 'metr'; did you mean"),
        ({"value": 1, "from": "m", "to": "zzqx"}, "to", "unknown unit 'zzqx'"),
        ({"value": 1, "from": "m**2**3", "to": "m"}, "from", "chained exponents"),
        ({"value": 1, "from": "9**9**9**9", "to": "m"}, "from", "chained exponents"),
        ({"value": 1, "from": "m", "to": "m**99"}, "to",
         f"exponent 99 is too large (limit {MAX_UNIT_EXPONENT})"),
        ({"value": 1, "from": "m⁹⁹", "to": "m"}, "from", "exponent 99 is too large"),
        ({"value": 1, "from": "((m**12)**12)**12", "to": "m"}, "from",
         "exponent 1728 is too large"),
        ({"value": 1, "from": "m**(1+1)", "to": "m"}, "from", "an exponent must be a number"),
        ({"value": 1, "from": "m**", "to": "m"}, "from", "an exponent must be a number"),
        ({"value": 1, "from": "2 m", "to": "m"}, "from", "number '2' is not allowed in a unit"),
        ({"value": 1, "from": "L/100km", "to": "L/km"}, "from", "number '100' is not allowed"),
        ({"value": 1, "from": "1e3 m", "to": "m"}, "from", "number '1e3' is not allowed"),
        ({"value": 1, "from": "   ", "to": "m"}, "from", "the unit is empty"),
        ({"value": 1, "from": "m*(", "to": "m"}, "from", "cannot read the unit"),
        ({"value": 1e300, "from": "parsec", "to": "mm"}, "value", "too large for a number"),
        ({"value": 1e301, "from": "m", "to": "mm"}, "value", "greater than the maximum"),
        ({"value": "1", "from": "m", "to": "mm"}, "value", "is not of type 'number'"),
        ({"value": 1, "from": "", "to": "mm"}, "from", "should be non-empty"),
        ({"value": 1, "from": "m", "to": "m" * 101}, "to", "is too long"),
    ],
)  # fmt: skip
async def test_unit_convert_invalid_args(
    kernel: Kernel, args: dict[str, Any], argument: str, fragment: str
) -> None:
    err = await call_error(kernel, args)
    assert err.code == "invalid_args"
    assert err.message.startswith(f"tool 'unit_convert': argument {argument!r}: ")
    assert err.details["argument"] == argument
    assert fragment in err.message


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"from": "m", "to": "km"}, "'value' is a required property"),
        ({"value": 1, "from": "m"}, "'to' is a required property"),
        ({"value": 1, "from": "m", "to": "km", "precision": 3}, "'precision' was unexpected"),
    ],
)
async def test_unit_convert_schema_errors(
    kernel: Kernel, args: dict[str, Any], fragment: str
) -> None:
    err = await call_error(kernel, args)
    assert err.code == "invalid_args"
    assert fragment in err.message


# --- round trips ----------------------------------------------------------------------------

PAIRS = [
    ("km", "mile"),
    ("m", "ft"),
    ("kg", "lb"),
    ("g", "oz"),
    ("s", "day"),
    ("degC", "degF"),
    ("degC", "K"),
    ("degF", "kelvin"),
    ("delta_degC", "delta_degF"),
    ("kWh", "BTU"),
    ("J", "cal"),
    ("MB", "GiB"),
    ("bit", "kB"),
    ("mph", "m/s"),
    ("knot", "km/h"),
    ("L", "gallon"),
    ("m**2", "acre"),
    ("psi", "bar"),
    ("W", "hp"),
    ("degree", "rad"),
]
#: Offset units: the round trip loses precision relative to the offset (273.15 K), not to x.
OFFSET_UNITS = {"degC", "degF", "K", "kelvin"}


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(PAIRS),
    st.one_of(  # normal floats: subnormal ones (below 1e-308) have too few digits to round-trip
        st.just(0.0),
        st.floats(min_value=1e-200, max_value=1e9),
        st.floats(min_value=-1e9, max_value=-1e-200),
    ),
    st.booleans(),
)
def test_round_trip(pair: tuple[str, str], value: float, backwards: bool) -> None:
    a, b = reversed(pair) if backwards else pair
    there = convert(value, a, b)
    back = convert(there["value"], b, a)
    absolute = 1e-6 if {a, b} & OFFSET_UNITS else 0.0
    assert back["value"] == pytest.approx(value, rel=1e-9, abs=absolute)
    assert there["dimensionality"] == back["dimensionality"]
    assert math.isfinite(there["value"])


async def test_unit_convert_refuses_nan(kernel: Kernel) -> None:
    # JSON parsers such as Python's accept NaN, and NaN passes minimum/maximum
    err = await call_error(kernel, {"value": float("nan"), "from": "m", "to": "km"})
    assert err.code == "invalid_args"
    assert err.message == "tool 'unit_convert': argument 'value': nan is not a finite number"
