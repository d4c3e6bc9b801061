"""``csv_query`` (select, filter, sort, page) and ``csv_stats`` (per-column statistics) over CSV
text given as an argument. Parsing rules are those of :mod:`llmspell_tools_data.csv_data`."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from llmspell.tools import ToolContext, tool
from llmspell_tools_data.csv_data import (
    MAX_COLUMNS,
    MAX_FIELD_CHARS,
    MAX_ROWS,
    BoundedCounter,
    CsvError,
    Table,
    number,
    parse_csv,
    to_number,
    write_csv,
)
from llmspell_tools_data.support import (
    MAX_TEXT_CHARS,
    check_output,
    dump_json,
    invalid,
    run_blocking,
)

#: Most rows ``csv_query`` returns (``limit`` may lower it).
MAX_RESULT_ROWS = 10_000
#: Default of ``limit``.
DEFAULT_LIMIT = 100
#: Most conditions in ``where`` and keys in ``sort``.
MAX_CONDITIONS = 50
#: Most distinct values ``csv_stats`` tracks per column (``max_distinct`` may lower it).
MAX_DISTINCT = 100_000
#: Default of ``max_distinct``.
DEFAULT_MAX_DISTINCT = 10_000
#: Most top values per column.
MAX_TOP = 100

OPS = ("eq", "ne", "lt", "le", "gt", "ge", "contains", "startswith", "endswith", "in", "empty")
_ORDER = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}

_CSV_PROPERTIES: dict[str, Any] = {
    "csv": {
        "type": "string",
        "maxLength": MAX_TEXT_CHARS,
        "description": f"The CSV text; its first row is the header (at most {MAX_TEXT_CHARS} "
        f"characters, {MAX_ROWS} rows, {MAX_COLUMNS} columns, {MAX_FIELD_CHARS} characters per "
        "cell).",
    },
    "delimiter": {
        "type": "string",
        "minLength": 1,
        "maxLength": 1,
        "description": "The field delimiter; detected among comma, semicolon, tab and pipe "
        "when omitted.",
    },
}


def _table(args: dict[str, Any], tool_name: str) -> Table:
    delimiter = args.get("delimiter")
    if delimiter is not None and delimiter in "\"\r\n":
        raise invalid(tool_name, "delimiter", f"{delimiter!r} cannot be a CSV delimiter")
    try:
        return parse_csv(args["csv"], delimiter)
    except CsvError as exc:
        raise invalid(tool_name, "csv", exc.problem, line=exc.line) from None


def _column_index(
    table: Table, name: Any, tool_name: str, argument: str, where: str = ""
) -> int:
    try:
        return table.columns.index(name)
    except ValueError:
        shown = ", ".join(repr(c) for c in table.columns[:20])
        more = f" and {len(table.columns) - 20} more" if len(table.columns) > 20 else ""
        raise invalid(
            tool_name, argument, f"{where}unknown column {name!r}; the columns are {shown}{more}",
            column=name,
        ) from None


def _select(table: Table, args: dict[str, Any], tool_name: str) -> list[int]:
    names = args.get("columns")
    if names is None:
        return list(range(len(table.columns)))
    return [_column_index(table, n, tool_name, "columns") for n in names]


# --- csv_query: conditions ------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return dump_json(value)


def _equals(cell: str, value: Any, fold: Callable[[str], str]) -> bool:
    a, b = number(cell), to_number(value)
    if a is not None and b is not None:
        return a == b
    if b is not None and not isinstance(value, str):
        return False  # a JSON number never equals a non-numeric cell
    return fold(cell) == fold(_text(value))


def _condition(table: Table, i: int, cond: dict[str, Any]) -> Callable[[list[str]], bool]:
    """A predicate over a row for condition number ``i`` (0-based) of ``where``."""
    where = f"condition {i + 1}: "
    col = _column_index(table, cond["column"], "csv_query", "where", where)
    op: str = cond["op"]
    fold: Callable[[str], str] = str.casefold if cond.get("ignore_case", False) else str
    has_value = "value" in cond
    value = cond.get("value")

    def bad(problem: str) -> Exception:
        return invalid("csv_query", "where", where + problem, index=i)

    if op == "empty":
        if has_value and not isinstance(value, bool):
            raise bad("op 'empty' takes a boolean value (true: the cell is empty, the default)")
        want = value if has_value else True
        return lambda row: (not row[col].strip()) == want
    if not has_value:
        raise bad(f"op {op!r} needs a 'value'")
    if op == "in":
        if not isinstance(value, list):
            raise bad("op 'in' takes an array of values")
        return lambda row: any(_equals(row[col], v, fold) for v in value)
    if isinstance(value, list):
        raise bad(f"op {op!r} takes a single value, not an array (use op 'in')")
    if op in ("eq", "ne"):
        negate = op == "ne"
        return lambda row: _equals(row[col], value, fold) != negate
    if op in _ORDER:
        compare = _ORDER[op]
        target = to_number(value)
        is_number = not isinstance(value, str | bool)

        def ordered(row: list[str]) -> bool:
            cell = row[col]
            n = number(cell)
            if n is not None and target is not None:
                return bool(compare(n, target))
            if is_number:
                return False  # ordering against a number never matches a non-numeric cell
            return bool(compare(fold(cell), fold(_text(value))))

        return ordered
    needle = fold(_text(value))
    if op == "contains":
        return lambda row: needle in fold(row[col])
    if op == "startswith":
        return lambda row: fold(row[col]).startswith(needle)
    return lambda row: fold(row[col]).endswith(needle)


def _sort_key(col: int, descending: bool) -> Callable[[list[str]], tuple[int, Any]]:
    """Numbers (numerically), then text, then empty cells last, in either direction."""
    groups = (2, 1, 0) if descending else (0, 1, 2)

    def key(row: list[str]) -> tuple[int, Any]:
        cell = row[col]
        if not cell.strip():
            return (groups[2], "")
        n = number(cell)
        if n is not None:
            return (groups[0], n)
        return (groups[1], cell)

    return key


def _query(args: dict[str, Any]) -> dict[str, Any]:
    table = _table(args, "csv_query")
    selected = _select(table, args, "csv_query")
    predicates = [_condition(table, i, c) for i, c in enumerate(args.get("where", []))]
    sort_keys = [
        (_column_index(table, s["column"], "csv_query", "sort"), s.get("order", "asc") == "desc")
        for s in args.get("sort", [])
    ]
    match_any = args.get("match", "all") == "any"
    if not predicates:
        rows = list(table.rows)
    elif match_any:
        rows = [r for r in table.rows if any(p(r) for p in predicates)]
    else:
        rows = [r for r in table.rows if all(p(r) for p in predicates)]
    for col, descending in reversed(sort_keys):
        rows.sort(key=_sort_key(col, descending), reverse=descending)
    offset = int(args.get("offset", 0))
    limit = int(args.get("limit", DEFAULT_LIMIT))
    page = rows[offset : offset + limit]
    columns = [table.columns[i] for i in selected]
    out: dict[str, Any] = {
        "columns": columns,
        "total_rows": len(table.rows),
        "matched": len(rows),
        "returned": len(page),
        "truncated": offset + limit < len(rows),
        "delimiter": table.delimiter,
    }
    cells = [[row[i] for i in selected] for row in page]
    if args.get("format", "objects") == "csv":
        out["csv"] = check_output("csv_query", write_csv(columns, cells, table.delimiter))
    else:
        out["rows"] = [dict(zip(columns, r, strict=True)) for r in cells]
        check_output("csv_query", dump_json(out["rows"]))
    return out


_CONDITION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "column": {"type": "string", "description": "The column's header name."},
        "op": {
            "type": "string",
            "enum": list(OPS),
            "description": "eq, ne, lt, le, gt, ge (numeric when both sides are numbers), "
            "contains, startswith, endswith (text), in (value is an array), empty (value true "
            "or false, default true).",
        },
        "value": {
            "type": ["string", "number", "boolean", "array"],
            "items": {"type": ["string", "number", "boolean"]},
            "maxItems": 1000,
            "description": "What to compare with; an array for 'in'.",
        },
        "ignore_case": {
            "type": "boolean",
            "default": False,
            "description": "Compare text case-insensitively (default false).",
        },
    },
    "required": ["column", "op"],
    "additionalProperties": False,
}


@tool(
    name="csv_query",
    description="Query CSV text: filter rows with conditions, sort, select columns and page "
    'through the result. Returns {"columns", "rows": [{column: cell}] (or "csv": text with '
    'format "csv"), "total_rows", "matched", "returned", "truncated", "delimiter"}; cells stay '
    "strings. The first row is the header; the delimiter is detected unless given. Conditions "
    "compare numerically when both sides are numbers (an ordering against a number never "
    "matches a non-numeric cell), else as text. Sorting puts numbers before text and empty "
    f"cells last. At most {MAX_RESULT_ROWS} rows per call (default limit {DEFAULT_LIMIT}); the "
    f"CSV at most {MAX_TEXT_CHARS} characters and {MAX_ROWS} rows.",
    category="data",
    parameters={
        "type": "object",
        "properties": {
            **_CSV_PROPERTIES,
            "columns": {
                "type": "array",
                "items": {"type": "string"},
                "minItems": 1,
                "maxItems": MAX_COLUMNS,
                "description": "The columns to return, in this order (default: all).",
            },
            "where": {
                "type": "array",
                "items": _CONDITION_SCHEMA,
                "maxItems": MAX_CONDITIONS,
                "description": 'Row conditions, e.g. [{"column": "age", "op": "gt", "value": '
                '30}]; combined as set by \'match\'.',
            },
            "match": {
                "type": "string",
                "enum": ["all", "any"],
                "default": "all",
                "description": "Keep rows matching all conditions (default) or any of them.",
            },
            "sort": {
                "type": "array",
                "maxItems": MAX_CONDITIONS,
                "items": {
                    "type": "object",
                    "properties": {
                        "column": {"type": "string", "description": "The column to sort by."},
                        "order": {
                            "type": "string",
                            "enum": ["asc", "desc"],
                            "default": "asc",
                            "description": "asc (default) or desc.",
                        },
                    },
                    "required": ["column"],
                    "additionalProperties": False,
                },
                "description": "Sort keys, most significant first.",
            },
            "offset": {
                "type": "integer",
                "minimum": 0,
                "default": 0,
                "description": "Matching rows to skip before returning any (default 0).",
            },
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_RESULT_ROWS,
                "default": DEFAULT_LIMIT,
                "description": f"Most rows to return (1 to {MAX_RESULT_ROWS}, default "
                f"{DEFAULT_LIMIT}).",
            },
            "format": {
                "type": "string",
                "enum": ["objects", "csv"],
                "default": "objects",
                "description": "'objects' (a list of {column: cell}) or 'csv' (CSV text with "
                "a header, in the input's delimiter).",
            },
        },
        "required": ["csv"],
        "additionalProperties": False,
    },
    example={
        "csv": "name,age,city\nAnn,34,Oslo\nBob,25,Rome\nCid,41,Oslo\n",
        "where": [{"column": "city", "op": "eq", "value": "Oslo"}],
        "sort": [{"column": "age", "order": "desc"}],
        "columns": ["name", "age"],
    },
)
async def csv_query(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    return await run_blocking(partial(_query, args))


# --- csv_stats ------------------------------------------------------------------------------

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ].*)?")
_BOOLEANS = {"true", "false"}


def _date_value(text: str) -> datetime | None:
    """``text`` as a datetime when it is an ISO 8601 date or date-time (aware ones in UTC,
    naive ones taken as UTC), else ``None``."""
    if not _DATE.fullmatch(text):
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return None
        parsed = datetime(day.year, day.month, day.day)
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _number_stats(values: list[int | float]) -> dict[str, Any]:
    import statistics

    out: dict[str, Any] = {"min": min(values), "max": max(values)}
    for name, fn, least in (
        ("mean", statistics.fmean, 1),
        ("median", statistics.median, 1),
        ("stdev", statistics.stdev, 2),
    ):
        try:
            value = fn(values) if len(values) >= least else None
        except (OverflowError, ValueError):
            value = None
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        out[name] = value
    return out


def _column_stats(table: Table, col: int, top: int, max_distinct: int) -> dict[str, Any]:
    values = [row[col].strip() for row in table.rows]
    present = [v for v in values if v]
    counter = BoundedCounter(max_distinct)
    for v in present:
        counter.add(v)
    stats: dict[str, Any] = {
        "name": table.columns[col],
        "type": "empty",
        "count": len(present),
        "empty": len(values) - len(present),
        "distinct": len(counter.counts),
        "distinct_capped": counter.capped,
        "min": None,
        "max": None,
        "mean": None,
        "median": None,
        "stdev": None,
        "top": counter.top(top),
    }
    if not present:
        return stats
    numbers = [number(v) for v in present]
    if all(n is not None for n in numbers):
        nums: list[int | float] = [n for n in numbers if n is not None]
        stats["type"] = "integer" if all(isinstance(n, int) for n in nums) else "number"
        stats.update(_number_stats(nums))
    elif all(v.lower() in _BOOLEANS for v in present):
        stats["type"] = "boolean"
    else:
        dates = [_date_value(v) for v in present]
        if all(d is not None for d in dates):
            stats["type"] = "date"
            pairs = [(d, v) for d, v in zip(dates, present, strict=True) if d is not None]
            stats["min"] = min(pairs, key=lambda p: p[0])[1]
            stats["max"] = max(pairs, key=lambda p: p[0])[1]
        else:
            stats["type"] = "text"
    return stats


def _stats(args: dict[str, Any]) -> dict[str, Any]:
    table = _table(args, "csv_stats")
    selected = _select(table, args, "csv_stats")
    top = int(args.get("top", 5))
    max_distinct = int(args.get("max_distinct", DEFAULT_MAX_DISTINCT))
    return {
        "rows": len(table.rows),
        "delimiter": table.delimiter,
        "columns": [_column_stats(table, i, top, max_distinct) for i in selected],
    }


@tool(
    name="csv_stats",
    description="Summarize each column of CSV text. Returns {\"rows\", \"delimiter\", "
    '"columns": [{"name", "type", "count", "empty", "distinct", "distinct_capped", "min", '
    '"max", "mean", "median", "stdev", "top": [{"value", "count"}]}]}. type is integer, number, '
    "boolean (true/false), date (ISO 8601), text or empty, inferred from the non-empty cells; "
    "count is non-empty cells, empty the empty ones; min/max/mean/median/stdev (sample) are "
    "for numeric columns (min/max also for dates, as written), null otherwise. Distinct values "
    f"are tracked up to max_distinct per column (default {DEFAULT_MAX_DISTINCT}, limit "
    f"{MAX_DISTINCT}; beyond it distinct and top are lower bounds). The CSV: first row is the "
    f"header, at most {MAX_TEXT_CHARS} characters and {MAX_ROWS} rows.",
    category="data",
    parameters={
        "type": "object",
        "properties": {
            **_CSV_PROPERTIES,
            "columns": {
                "type": "array",
                "items": {"type": "string"},
                "minItems": 1,
                "maxItems": MAX_COLUMNS,
                "description": "The columns to summarize, in this order (default: all).",
            },
            "top": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_TOP,
                "default": 5,
                "description": f"How many most frequent values to list per column (0 to "
                f"{MAX_TOP}, default 5).",
            },
            "max_distinct": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_DISTINCT,
                "default": DEFAULT_MAX_DISTINCT,
                "description": f"Most distinct values tracked per column (1 to {MAX_DISTINCT}, "
                f"default {DEFAULT_MAX_DISTINCT}).",
            },
        },
        "required": ["csv"],
        "additionalProperties": False,
    },
    example={"csv": "name,age,joined\nAnn,34,2021-03-01\nBob,25,2023-11-15\nCid,41,\n"},
)
async def csv_stats(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    return await run_blocking(partial(_stats, args))

