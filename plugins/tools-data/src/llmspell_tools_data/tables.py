"""``table_render``: rows of data as a Markdown, plain-text or HTML table.

Cells: strings as they are, null as empty, booleans as true/false, numbers as JSON writes them,
arrays and objects as compact JSON; each cut at ``max_cell_chars``. Columns whose non-empty
cells are all numbers are right-aligned. Markdown escapes ``|`` and turns line breaks into
``<br>``; HTML escapes ``& < > "``; plain text turns line breaks and tabs into spaces.
"""

from __future__ import annotations

import re
import unicodedata
from functools import partial
from typing import Any

from llmspell.tools import ToolContext, tool
from llmspell_tools_data.support import (
    check_output,
    check_value,
    dump_json,
    invalid,
    run_blocking,
    shorten,
)

#: Most input rows accepted.
MAX_INPUT_ROWS = 100_000
#: Most rows rendered (``max_rows`` may lower it).
MAX_ROWS = 1000
#: Default of ``max_rows``.
DEFAULT_MAX_ROWS = 100
#: Most columns.
MAX_COLUMNS = 100
#: Most characters per cell (``max_cell_chars`` may lower it).
MAX_CELL_CHARS = 10_000
#: Default of ``max_cell_chars``.
DEFAULT_MAX_CELL_CHARS = 200

_TOOL = "table_render"
_BREAKS = re.compile(r"\r\n|\r|\n")


def _cell(value: Any, limit: int) -> str:
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = dump_json(value)
    return shorten(text, limit)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _width(text: str) -> int:
    """Display width: wide East Asian characters take two cells, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * max(width - _width(text), 0)
    return fill + text if right else text + fill


def _columns_and_rows(args: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Column names and rows of raw values, after selection with ``columns``."""
    rows: list[Any] = args["rows"]
    headers: list[str] | None = args.get("headers")
    kinds = {type(r) for r in rows}
    if len(kinds) > 1:
        raise invalid(_TOOL, "rows", "mix objects and arrays; give all rows the same shape")
    as_arrays = list in kinds or (not rows and headers is not None)
    if as_arrays:
        if headers is None:
            raise invalid(_TOOL, "headers", "rows given as arrays need 'headers' (their names)")
        if len(set(headers)) != len(headers):
            raise invalid(_TOOL, "headers", "header names must be unique")
        names = list(headers)
        for i, row in enumerate(rows):
            if len(row) > len(names):
                raise invalid(
                    _TOOL, "rows",
                    f"row {i + 1} has {len(row)} cells but there are {len(names)} headers",
                    index=i,
                )
        table = [[*row, *[None] * (len(names) - len(row))] for row in rows]
    else:
        if headers is not None:
            raise invalid(
                _TOOL, "headers",
                "only for rows given as arrays; choose object keys with 'columns'",
            )
        seen: dict[str, None] = {}
        for row in rows:
            seen.update(dict.fromkeys(row))
        names = list(seen)
        table = [[row.get(n) for n in names] for row in rows]
    selected: list[str] | None = args.get("columns")
    if selected is not None:
        index = {n: i for i, n in enumerate(names)}
        unknown = [c for c in selected if c not in index]
        if unknown and (rows or as_arrays):
            shown = ", ".join(repr(n) for n in names[:20])
            raise invalid(
                _TOOL, "columns", f"unknown column {unknown[0]!r}; the columns are {shown}",
                column=unknown[0],
            )
        table = [[row[index[c]] if c in index else None for c in selected] for row in table]
        names = list(selected)
    if len(names) > MAX_COLUMNS:
        raise invalid(
            _TOOL, "columns" if selected is not None else "rows",
            f"{len(names)} columns; the limit is {MAX_COLUMNS} (choose some with 'columns')",
            limit=MAX_COLUMNS,
        )
    return names, table


def _markdown(names: list[str], cells: list[list[str]], right: list[bool]) -> str:
    def escape(text: str) -> str:
        return _BREAKS.sub("<br>", text.replace("|", "\\|"))

    head = [escape(n) for n in names]
    body = [[escape(c) for c in row] for row in cells]
    widths = [max([3, _width(h), *(_width(r[i]) for r in body)]) for i, h in enumerate(head)]

    def line(values: list[str]) -> str:
        padded = (_pad(v, w, r) for v, w, r in zip(values, widths, right, strict=True))
        return "| " + " | ".join(padded) + " |"

    rule = "| " + " | ".join(
        "-" * (w - 1) + ":" if r else "-" * w for w, r in zip(widths, right, strict=True)
    ) + " |"
    return "\n".join([line(head), rule, *(line(r) for r in body)]) + "\n"


def _text(names: list[str], cells: list[list[str]], right: list[bool]) -> str:
    def flat(text: str) -> str:
        return _BREAKS.sub(" ", text).replace("\t", " ")

    head = [flat(n) for n in names]
    body = [[flat(c) for c in row] for row in cells]
    widths = [max([_width(h), *(_width(r[i]) for r in body)]) for i, h in enumerate(head)]

    def line(values: list[str]) -> str:
        padded = (_pad(v, w, r) for v, w, r in zip(values, widths, right, strict=True))
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(head), rule, *(line(r) for r in body)]) + "\n"


def _html(names: list[str], cells: list[list[str]], right: list[bool]) -> str:
    from html import escape

    def cell(tag: str, text: str, align: bool) -> str:
        style = ' style="text-align: right"' if align else ""
        return f"<{tag}{style}>{escape(text)}</{tag}>"

    out = ["<table>", "  <thead>", "    <tr>"]
    out += [f"      {cell('th', n, r)}" for n, r in zip(names, right, strict=True)]
    out += ["    </tr>", "  </thead>", "  <tbody>"]
    for row in cells:
        out.append("    <tr>")
        out += [f"      {cell('td', c, r)}" for c, r in zip(row, right, strict=True)]
        out.append("    </tr>")
    out += ["  </tbody>", "</table>"]
    return "\n".join(out) + "\n"


_RENDERERS = {"markdown": _markdown, "text": _text, "html": _html}


def _render(args: dict[str, Any]) -> dict[str, Any]:
    check_value(args["rows"], _TOOL, "rows")
    names, table = _columns_and_rows(args)
    max_rows = int(args.get("max_rows", DEFAULT_MAX_ROWS))
    limit = int(args.get("max_cell_chars", DEFAULT_MAX_CELL_CHARS))
    shown = table[:max_rows]
    out = {"rows": len(shown), "total_rows": len(table), "truncated": len(table) > max_rows}
    if not names:
        return {"text": "", **out}
    right = [
        any(row[i] is not None for row in shown)
        and all(row[i] is None or _is_number(row[i]) for row in shown)
        for i in range(len(names))
    ]
    cells = [[_cell(v, limit) for v in row] for row in shown]
    heads = [shorten(n, limit) for n in names]
    text = _RENDERERS[args.get("format", "markdown")](heads, cells, right)
    return {"text": check_output(_TOOL, text), **out}


@tool(
    name="table_render",
    description="Render rows as a table: Markdown (default), aligned plain text or HTML. "
    'Returns {"text", "rows" (rendered), "total_rows", "truncated"}. Rows are objects (columns: '
    "their keys in order of appearance) or arrays with 'headers'; 'columns' picks and orders "
    "columns. Null is an empty cell, nested values compact JSON; numeric columns are "
    "right-aligned; Markdown escapes | and turns line breaks into <br>, HTML escapes markup. "
    f"At most max_rows rows (default {DEFAULT_MAX_ROWS}, limit {MAX_ROWS}), {MAX_COLUMNS} "
    f"columns, cells cut at max_cell_chars (default {DEFAULT_MAX_CELL_CHARS}, limit "
    f"{MAX_CELL_CHARS}).",
    category="data",
    parameters={
        "type": "object",
        "properties": {
            "rows": {
                "type": "array",
                "maxItems": MAX_INPUT_ROWS,
                "items": {"type": ["object", "array"]},
                "description": "The rows: objects ({column: value}) or arrays of values (then "
                f"give 'headers'); at most {MAX_INPUT_ROWS}.",
            },
            "headers": {
                "type": "array",
                "items": {"type": "string"},
                "maxItems": MAX_COLUMNS,
                "description": "Column names for rows given as arrays, in cell order.",
            },
            "columns": {
                "type": "array",
                "items": {"type": "string"},
                "minItems": 1,
                "maxItems": MAX_COLUMNS,
                "description": "The columns to show, in this order (default: all).",
            },
            "format": {
                "type": "string",
                "enum": ["markdown", "text", "html"],
                "default": "markdown",
                "description": "markdown (default), text (aligned columns) or html.",
            },
            "max_rows": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_ROWS,
                "default": DEFAULT_MAX_ROWS,
                "description": f"Most rows to render (1 to {MAX_ROWS}, default "
                f"{DEFAULT_MAX_ROWS}).",
            },
            "max_cell_chars": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_CELL_CHARS,
                "default": DEFAULT_MAX_CELL_CHARS,
                "description": f"Longest cell, longer ones end in … (1 to {MAX_CELL_CHARS}, "
                f"default {DEFAULT_MAX_CELL_CHARS}).",
            },
        },
        "required": ["rows"],
        "additionalProperties": False,
    },
    example={
        "rows": [{"name": "Ann", "age": 34}, {"name": "Bob | Jr", "age": 25}],
        "format": "markdown",
    },
)
async def table_render(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    return await run_blocking(partial(_render, args))
