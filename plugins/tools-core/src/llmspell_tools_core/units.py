"""Unit conversion with pint: the ``unit_convert`` tool and :func:`convert`, its working part.

pint is imported, and its unit registry built (about half a second), the first time a
conversion runs, in a worker thread; the registry is then shared by the whole process.

Unit expressions are pint's: names, abbreviations and prefixes (``"km"``, ``"mile"``, ``"degF"``,
``"kWh"``, ``"MB"``, ``"mph"``, ``"µs"``), products and quotients (``"m/s"``, ``"kg m/s^2"``,
``"N*m"``, ``"1/s"``) and powers (``"m**2"``, ``"m^3"``, ``"m²"``). Before pint sees one, an
expression is checked so that parsing stays cheap: numbers may only be exponents (at most
:data:`MAX_UNIT_EXPONENT` in magnitude, not chained: ``"m**2**3"`` is refused) or the ``1`` of
``"1/s"``, and the parsed unit's exponents are bounded the same way.
"""

from __future__ import annotations

import math
import re
import threading
from typing import Any

import trio

from llmspell.errors import LlmspellError, did_you_mean
from llmspell.tools import ToolContext, tool

#: Longest unit expression accepted.
MAX_UNIT_LENGTH = 100
#: Largest magnitude of an exponent in a unit expression and of the parsed unit's exponents.
MAX_UNIT_EXPONENT = 12
#: Largest magnitude of the value to convert.
MAX_VALUE = 1e300
#: Significant digits of a result: floating-point noise of the conversion factors (100 degC is
#: 211.99999999999991 degF before rounding) is rounded away.
SIGNIFICANT_DIGITS = 12

_NUM = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBER = re.compile(rf"(?<![\w.]){_NUM}")
_EXPONENT = re.compile(rf"\s*[+-]?\s*(?:\(\s*[+-]?\s*({_NUM})\s*\)|({_NUM}))")
_POWER = re.compile(r"\*\*")

_lock = threading.Lock()
_registry: Any = None


def registry() -> Any:
    """The process's pint ``UnitRegistry``, built on first use (slow: call it in a thread)."""
    global _registry
    with _lock:
        if _registry is None:
            import pint

            _registry = pint.UnitRegistry()
        return _registry


def _invalid(argument: str, problem: str, hint: str | None = None, **details: Any) -> LlmspellError:
    return LlmspellError(
        "invalid_args",
        f"tool 'unit_convert': argument {argument!r}: {problem}",
        {"tool": "unit_convert", "argument": argument, **details},
        hint=hint,
    )


_HINT = (
    'units are pint names or abbreviations such as "km", "mile", "degF", "kWh", "MB", "mph", '
    'combined as "m/s", "kg*m/s^2" or "m**2"'
)


def check_expression(text: str) -> str | None:
    """What is wrong with the unit expression ``text`` before pint evaluates it (numbers that
    are not small exponents, chained exponents), or ``None``."""
    from pint.util import string_preprocessor

    normalized = string_preprocessor(text)
    exponents: set[tuple[int, int]] = set()
    for power in _POWER.finditer(normalized):
        exponent = _EXPONENT.match(normalized, power.end())
        if exponent is None:
            return "an exponent must be a number (as in m**2, m^-1 or m²)"
        group = 1 if exponent.group(1) is not None else 2
        if abs(float(exponent.group(group))) > MAX_UNIT_EXPONENT:
            return f"exponent {exponent.group(group)} is too large (limit {MAX_UNIT_EXPONENT})"
        if normalized[exponent.end() :].lstrip().startswith("**"):
            return "chained exponents (as in m**2**3) are not allowed"
        exponents.add(exponent.span(group))
    for number in _NUMBER.finditer(normalized):
        if number.span() in exponents:
            continue
        if number.group() == "1" and normalized[number.end() :].lstrip().startswith("/"):
            continue
        return (
            f"number {number.group()!r} is not allowed in a unit (numbers may only be "
            "exponents, as in m**2, or the 1 of 1/s)"
        )
    return None


def _suggestion(ureg: Any, name: str) -> str:
    """``"; did you mean 'x'?"`` for an undefined unit name (prefixed names included), or
    ``""``."""
    import difflib

    names = list(ureg._units)
    candidates = set(names)
    for prefix in ureg._prefixes:
        if len(prefix) >= 3 and name.startswith(prefix) and len(name) > len(prefix):
            rest = difflib.get_close_matches(name[len(prefix) :], names, n=3, cutoff=0.6)
            candidates.update(prefix + r for r in rest)
    hint = did_you_mean(name, candidates)
    return hint if hint.startswith("; did you mean") else ""


def parse_unit(ureg: Any, text: str, argument: str) -> Any:
    """The pint ``Unit`` the expression ``text`` names; ``invalid_args`` naming ``argument``
    when it is refused (see the module docstring), undefined or malformed."""
    import pint

    if not text.strip():
        raise _invalid(argument, "the unit is empty", _HINT)
    problem = check_expression(text)
    if problem is not None:
        raise _invalid(argument, f"{text!r}: {problem}", _HINT)
    try:
        unit = ureg.parse_units(text)
    except pint.UndefinedUnitError as exc:
        names = exc.unit_names if isinstance(exc.unit_names, tuple | list) else [exc.unit_names]
        name = str(names[0]) if names else text
        raise _invalid(
            argument, f"unknown unit {name!r}{_suggestion(ureg, name)}", _HINT, unit=name
        ) from None
    except Exception as exc:  # pint's parser raises assorted types for malformed input
        detail = str(exc) or type(exc).__name__
        raise _invalid(argument, f"cannot read the unit {text!r}: {detail}", _HINT) from None
    large = [e for e in dict(unit._units).values() if abs(e) > MAX_UNIT_EXPONENT]
    if large:
        raise _invalid(
            argument,
            f"{text!r}: exponent {large[0]:g} is too large (limit {MAX_UNIT_EXPONENT})",
            _HINT,
        )
    return unit


def _information(ureg: Any, unit: Any) -> float:
    """The power of bits in a unit: pint counts bits and bytes as dimensionless, this tool
    treats information as a dimension of its own (MB does not convert to percent, nor bit/s to
    Hz)."""
    _, root = ureg.get_root_units(unit)
    return float(dict(root._units).get("bit", 0))


def _power(name: str, exponent: float) -> str:
    return name if exponent == 1 else f"{name} ** {exponent:g}"


def dimensionality(ureg: Any, unit: Any) -> str:
    """The unit's dimensionality as text, dimensions in alphabetical order
    (``"[length] ** 2 * [mass] / [time] ** 2"``, ``"1 / [time]"``, ``"dimensionless"``), with
    ``"[information]"`` for bits and bytes."""
    dims = dict(unit.dimensionality)
    bits = _information(ureg, unit)
    if bits:
        dims["[information]"] = bits
    if not dims:
        return "dimensionless"
    ordered = sorted(dims.items())
    text = " * ".join(_power(k, v) for k, v in ordered if v > 0) or "1"
    return "".join([text, *(f" / {_power(k, -v)}" for k, v in ordered if v < 0)])


def convert(value: float, source: str, target: str) -> dict[str, Any]:
    """Convert ``value`` from the unit expression ``source`` to ``target`` (blocking: builds
    the registry on first use). ``invalid_args`` naming ``from``/``to``/``value`` on failure."""
    import pint

    if not math.isfinite(value):  # NaN passes the schema's bounds
        raise _invalid("value", f"{value!r} is not a finite number")
    ureg = registry()
    from_unit = parse_unit(ureg, source, "from")
    to_unit = parse_unit(ureg, target, "to")
    from_dims, to_dims = dimensionality(ureg, from_unit), dimensionality(ureg, to_unit)
    same = from_unit.dimensionality == to_unit.dimensionality and _information(
        ureg, from_unit
    ) == _information(ureg, to_unit)
    if not same:
        raise _invalid(
            "to",
            f"cannot convert from {str(from_unit)!r} ({from_dims}) to {str(to_unit)!r} "
            f"({to_dims}): the dimensions differ",
            from_dimensionality=from_dims,
            to_dimensionality=to_dims,
        )
    try:
        result = ureg.Quantity(float(value), from_unit).to(to_unit).magnitude
    except pint.DimensionalityError:
        raise _invalid(
            "to",
            f"cannot convert from {str(from_unit)!r} to {str(to_unit)!r}: an absolute "
            "temperature and a temperature difference do not convert into each other",
            hint="use delta_degC, delta_degF or kelvin for temperature differences",
            from_dimensionality=from_dims,
            to_dimensionality=to_dims,
        ) from None
    except (pint.OffsetUnitCalculusError, pint.LogarithmicUnitCalculusError) as exc:
        raise _invalid("from", f"cannot convert {source!r}: {exc}") from None
    magnitude = float(result)
    if not math.isfinite(magnitude):
        raise _invalid("value", f"the result in {str(to_unit)!r} is too large for a number")
    magnitude = float(f"{magnitude:.{SIGNIFICANT_DIGITS}g}")
    return {
        "value": magnitude,
        "from": source,
        "to": target,
        "from_unit": str(from_unit),
        "to_unit": str(to_unit),
        "from_symbol": f"{from_unit:~}",
        "to_symbol": f"{to_unit:~}",
        "input": value,
        "dimensionality": from_dims,
    }


@tool(
    name="unit_convert",
    description="Convert a value from one unit to another (length, mass, time, temperature, "
    "speed, energy, power, pressure, volume, area, data size, ...). Returns {value, from, to, "
    "from_unit, to_unit, from_symbol, to_symbol, input, dimensionality}: the converted value, "
    "the units as given, pint's canonical names and symbols, the input value and the "
    f"dimensionality; the value is rounded to {SIGNIFICANT_DIGITS} significant digits. "
    "Temperatures (degC, degF, kelvin) convert with their offsets; use "
    "delta_degC/delta_degF for differences. Units must have the same dimensions; no currency, "
    "and no conversions that need a context (mass to energy, wavelength to frequency).",
    category="math",
    parameters={
        "type": "object",
        "properties": {
            "value": {
                "type": "number",
                "minimum": -MAX_VALUE,
                "maximum": MAX_VALUE,
                "description": "The value to convert.",
            },
            "from": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_UNIT_LENGTH,
                "description": 'The unit of value: a name or abbreviation ("km", "mile", '
                '"degF", "kWh", "MB", "mph", "psi") or an expression ("m/s", "kg*m/s^2", '
                f'"m**2"; exponents at most {MAX_UNIT_EXPONENT}).',
            },
            "to": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_UNIT_LENGTH,
                "description": "The unit to convert to, with the same dimensions as from.",
            },
        },
        "required": ["value", "from", "to"],
        "additionalProperties": False,
    },
    example={"value": 26.2, "from": "mile", "to": "km"},
)
async def unit_convert(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    return await trio.to_thread.run_sync(convert, args["value"], args["from"], args["to"])
