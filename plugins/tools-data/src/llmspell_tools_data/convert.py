"""``data_convert``: JSON, YAML, TOML and CSV text into one another (or into a JSON value).

Pipeline: parse the input (``text`` in format ``from``, or the JSON value ``data``) into plain
data, check it fits the target format, dump it. YAML is read with ``yaml.safe_load`` and written
with ``yaml.SafeDumper`` (what ``yaml.safe_dump`` uses; see :func:`_yaml_dumper`): no Python
object tags either way. Dates and times parsed from YAML or TOML stay
dates for YAML and TOML output and become ISO 8601 strings elsewhere.
"""

from __future__ import annotations

import functools
import json
import math
import re
from datetime import date, datetime, time
from functools import partial
from typing import Any

from llmspell.tools import ToolContext, tool
from llmspell_tools_data.csv_data import CsvError, parse_csv, write_csv
from llmspell_tools_data.support import (
    MAX_DEPTH,
    MAX_NODES,
    MAX_OUTPUT_CHARS,
    MAX_TEXT_CHARS,
    MAX_VALUE_CHARS,
    check_output,
    check_value,
    invalid,
    parse_json,
    pointer,
    run_blocking,
    shorten,
    too_large,
)

FORMATS = ("json", "yaml", "toml", "csv")
#: Longest YAML text read or (estimated from the data's JSON size) written, in characters:
#: PyYAML's safe loader and dumper are pure Python, several seconds per million characters.
MAX_YAML_CHARS = 1_000_000
#: Range of integers TOML can hold (64-bit signed).
TOML_INT_MIN, TOML_INT_MAX = -(2**63), 2**63 - 1

_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")
_DATES = (datetime, date, time)
#: Targets that cannot hold NaN or infinities (YAML and TOML can), by the name in messages.
_FINITE = {"json": "JSON", "data": "JSON", "csv": "CSV"}
_TOOL = "data_convert"


class _Unfit(Exception):
    """The value cannot be written in the target format; ``problem`` says why, at ``path``."""

    def __init__(self, problem: str, path: tuple[Any, ...] = ()) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path = path


# --- parsing --------------------------------------------------------------------------------


def _position_error(kind: str, problem: str, line: int | None, column: int | None) -> Exception:
    where = f" at line {line}, column {column}" if line is not None else ""
    return invalid(_TOOL, "text", f"invalid {kind}{where}: {problem}", line=line, column=column)


def _parse_yaml(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or "malformed YAML"
        raise _position_error(
            "YAML", problem, mark.line + 1 if mark else None, mark.column + 1 if mark else None
        ) from None
    except yaml.YAMLError as exc:
        raise _position_error("YAML", str(exc), None, None) from None
    except RecursionError:
        raise invalid(
            _TOOL, "text", f"the YAML is nested more than {MAX_DEPTH} levels deep"
        ) from None


def _parse_toml(text: str) -> Any:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _TOML_POSITION.search(message)
        if found:
            line, column = int(found[1]), int(found[2])
        else:  # "(at end of document)"
            line = text.count("\n") + 1
            column = len(text) - (text.rfind("\n") + 1) + 1
        problem = re.sub(r"\s*\(at [^)]*\)$", "", message)
        raise _position_error("TOML", problem, line, column) from None
    except RecursionError:
        raise invalid(
            _TOOL, "text", f"the TOML is nested more than {MAX_DEPTH} levels deep"
        ) from None


def _parse_csv(text: str, delimiter: str | None) -> list[dict[str, str]]:
    try:
        table = parse_csv(text, delimiter)
    except CsvError as exc:
        raise invalid(_TOOL, "text", exc.problem, line=exc.line) from None
    return [dict(zip(table.columns, row, strict=True)) for row in table.rows]


def _key(key: Any) -> str:
    """A mapping key as a string, the way JSON writes scalars (YAML allows other keys)."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool) or key is None:
        return json.dumps(key)
    if isinstance(key, int | float):
        return repr(key) if isinstance(key, float) else str(key)
    if isinstance(key, _DATES):
        return key.isoformat()
    raise _Unfit(f"a key of type {type(key).__name__} cannot be converted to a string")


def _plain(value: Any) -> Any:
    """A copy of parsed ``value`` as JSON-like data (string keys; dates and non-finite floats
    allowed), bounded in depth, nodes and characters; :class:`_Unfit` for anything else.
    Shared sub-values (YAML aliases) are copied, so each occurrence counts."""
    budget = {"nodes": 0, "chars": 0}

    def copy(item: Any, depth: int, path: tuple[Any, ...]) -> Any:
        budget["nodes"] += 1
        if budget["nodes"] > MAX_NODES:
            raise _Unfit(f"the value has more than {MAX_NODES} elements (YAML aliases count "
                         "each time they are used)")
        if isinstance(item, str):
            budget["chars"] += len(item)
            if budget["chars"] > MAX_VALUE_CHARS:
                raise _Unfit(f"the value holds more than {MAX_VALUE_CHARS} characters")
            return item
        if item is None or isinstance(item, bool | int | float | datetime | date | time):
            return item
        if isinstance(item, dict | list) and depth >= MAX_DEPTH:
            raise _Unfit(f"the value is nested more than {MAX_DEPTH} levels deep", path)
        if isinstance(item, dict):
            out = {}
            for k, v in item.items():
                key = _key(k)
                budget["chars"] += len(key)
                out[key] = copy(v, depth + 1, (*path, key))
            return out
        if isinstance(item, list):
            return [copy(v, depth + 1, (*path, i)) for i, v in enumerate(item)]
        raise _Unfit(f"a value of type {type(item).__name__} is not data", path)

    return copy(value, 0, ())


def _load(args: dict[str, Any]) -> Any:
    """The input as plain data: ``data`` (a JSON value) or ``text`` parsed as ``from``."""
    has_data, has_text = "data" in args, "text" in args
    if has_data == has_text:
        raise invalid(_TOOL, "text", "give exactly one of 'text' (with 'from') or 'data'")
    if has_data:
        check_value(args["data"], _TOOL, "data")
        return args["data"]
    source = args.get("from")
    if source is None:
        raise invalid(_TOOL, "from", "say which format 'text' is in: json, yaml, toml or csv")
    text: str = args["text"]
    if source == "yaml" and len(text) > MAX_YAML_CHARS:
        raise invalid(
            _TOOL, "text",
            f"the YAML text is {len(text)} characters long; the limit for YAML is "
            f"{MAX_YAML_CHARS}",
            limit=MAX_YAML_CHARS,
        )
    if source == "json":
        return parse_json(text, _TOOL, "text")
    if source == "csv":
        return _parse_csv(text, args.get("delimiter"))
    parsed = _parse_yaml(text) if source == "yaml" else _parse_toml(text)
    try:
        return _plain(parsed)
    except _Unfit as exc:
        where = f" (at {shorten(pointer(exc.path), 100)})" if exc.path else ""
        raise invalid(_TOOL, "text", exc.problem + where, path=pointer(exc.path)) from None


# --- fitting and dumping --------------------------------------------------------------------


def _fit(value: Any, target: str) -> Any:
    """``value`` made fit for ``target`` (``json``, ``yaml``, ``toml``, ``csv``, ``data``):
    dates become ISO strings where the format has none, time-of-day values become strings for
    YAML; :class:`_Unfit` where the format cannot hold a value (null in TOML, NaN in JSON ...).
    """

    def walk(item: Any, path: tuple[Any, ...]) -> Any:
        if isinstance(item, dict):
            return {k: walk(v, (*path, k)) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v, (*path, i)) for i, v in enumerate(item)]
        if item is None and target == "toml":
            raise _Unfit("TOML cannot hold null; remove it or use another format", path)
        if isinstance(item, float) and not math.isfinite(item) and target in _FINITE:
            raise _Unfit(f"{item} is not a number {_FINITE[target]} can hold", path)
        if (
            target == "toml"
            and isinstance(item, int)
            and not isinstance(item, bool)
            and not TOML_INT_MIN <= item <= TOML_INT_MAX
        ):
            raise _Unfit(
                f"TOML integers are 64-bit; {shorten(str(item), 40)} is out of range", path
            )
        if isinstance(item, _DATES):
            if target == "toml" or (target == "yaml" and not isinstance(item, time)):
                return item
            return item.isoformat()
        return item

    if target == "toml" and not isinstance(value, dict):
        raise _Unfit(
            f"TOML needs a table (an object) at the top level, not {_type_name(value)}"
        )
    return walk(value, ())


def _type_name(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    return "a number"


def _csv_cell(value: Any, path: tuple[Any, ...]) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    raise _Unfit("CSV cells hold scalars; nested arrays and objects cannot be written", path)


def _dump_csv(value: Any, delimiter: str, sort_keys: bool) -> str:
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise _Unfit("CSV needs an array of flat objects (one object per row)")
    columns: dict[str, None] = {}
    for row in value:
        columns.update(dict.fromkeys(row))
    names = sorted(columns) if sort_keys else list(columns)
    if not names:
        return ""
    rows = [[_csv_cell(row.get(n), (i, n)) for n in names] for i, row in enumerate(value)]
    return write_csv(names, rows, delimiter)


def _dump(value: Any, target: str, indent: int, sort_keys: bool, delimiter: str) -> str:
    if target == "json":
        if indent == 0:
            return json.dumps(value, ensure_ascii=False, sort_keys=sort_keys,
                              separators=(",", ":"), allow_nan=False)
        return json.dumps(value, ensure_ascii=False, sort_keys=sort_keys, indent=indent,
                          allow_nan=False)
    if target == "yaml":
        import yaml

        estimate = len(json.dumps(value, ensure_ascii=False, default=str))
        if estimate > MAX_YAML_CHARS:
            raise too_large(
                _TOOL,
                f"the YAML would be about {estimate} characters long; the limit for YAML is "
                f"{MAX_YAML_CHARS}",
                limit=MAX_YAML_CHARS,
            )
        return yaml.dump(
            value, Dumper=_yaml_dumper(), indent=max(indent, 2), sort_keys=sort_keys,
            allow_unicode=True, default_flow_style=False, width=120,
        )
    if target == "toml":
        import tomli_w

        return tomli_w.dumps(_sorted(value) if sort_keys else value, indent=indent)
    return _dump_csv(value, delimiter, sort_keys)


@functools.cache
def _yaml_dumper() -> Any:
    """``yaml.SafeDumper`` (what ``yaml.safe_dump`` uses) with one fix: strings holding the line
    separators U+0085, U+2028 or U+2029 are written double-quoted (escaped), because PyYAML's
    single-quoted style turns U+0085 into a space when read back."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def represent_str(dumper: Any, text: str) -> Any:
        style = '"' if any(c in text for c in "\x85\u2028\u2029") else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)

    Dumper.add_representer(str, represent_str)
    return Dumper


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _convert(args: dict[str, Any]) -> dict[str, Any]:
    target: str = args["to"]
    value = _load(args)
    try:
        fitted = _fit(value, target)
        if target == "data":
            return {"format": "data", "data": fitted}
        text = _dump(
            fitted, target, int(args.get("indent", 2)), bool(args.get("sort_keys", False)),
            args.get("delimiter") or ",",
        )
    except _Unfit as exc:
        where = f" (at {shorten(pointer(exc.path), 100)})" if exc.path else ""
        raise invalid(
            _TOOL, "to",
            f"cannot {'return the data' if target == 'data' else 'write ' + target.upper()}: "
            f"{exc.problem}{where}",
            path=pointer(exc.path),
        ) from None
    return {"format": target, "text": check_output(_TOOL, text)}


@tool(
    name="data_convert",
    description="Convert data between JSON, YAML, TOML and CSV text, or parse such text into a "
    'JSON value (to "data"). Returns {"format", "text"} (or {"format": "data", "data": value}). '
    "Input is 'text' in format 'from', or a JSON value in 'data'. CSV is read as a list of "
    "objects with string values (first row = header) and written only from a list of flat "
    "objects (columns: every key, in order of appearance). TOML needs an object at the top "
    "level and cannot hold null; JSON cannot hold NaN/Infinity; YAML uses safe loading only. "
    "Dates from YAML/TOML become ISO strings in JSON/CSV. Syntax errors give line and column. "
    f"Input at most {MAX_TEXT_CHARS} characters, output at most {MAX_OUTPUT_CHARS}; YAML read "
    f"or written at most {MAX_YAML_CHARS}.",
    category="data",
    parameters={
        "type": "object",
        "properties": {
            "text": {
                "type": "string",
                "maxLength": MAX_TEXT_CHARS,
                "description": f"The text to convert, in format 'from' (at most "
                f"{MAX_TEXT_CHARS} characters). Give this or 'data'.",
            },
            "data": {
                "description": "A JSON value to write in format 'to' (instead of 'text').",
            },
            "from": {
                "type": "string",
                "enum": list(FORMATS),
                "description": "The format of 'text': json, yaml, toml or csv.",
            },
            "to": {
                "type": "string",
                "enum": [*FORMATS, "data"],
                "description": "The format to produce: json, yaml, toml, csv, or data (the "
                "parsed value itself).",
            },
            "indent": {
                "type": "integer",
                "minimum": 0,
                "maximum": 8,
                "default": 2,
                "description": "Spaces per level: JSON (0 = one compact line), YAML (at least "
                "2), TOML (in multi-line arrays). Default 2.",
            },
            "sort_keys": {
                "type": "boolean",
                "default": False,
                "description": "Sort object keys (and CSV columns) alphabetically; default "
                "false keeps their order.",
            },
            "delimiter": {
                "type": "string",
                "minLength": 1,
                "maxLength": 1,
                "description": "CSV field delimiter: for reading (detected when omitted) and "
                "writing (default comma).",
            },
        },
        "required": ["to"],
        "additionalProperties": False,
    },
    example={"text": "name: Ann\ntags: [a, b]\nage: 34\n", "from": "yaml", "to": "json"},
)
async def data_convert(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    delimiter = args.get("delimiter")
    if delimiter is not None and delimiter in "\"\r\n":
        raise invalid(_TOOL, "delimiter", f"{delimiter!r} cannot be a CSV delimiter")
    return await run_blocking(partial(_convert, args))
