"""``json_diff``: the structural difference of two JSON values, as changes or an RFC 6902 patch.

Contract of :func:`diff`: applying its changes in order to ``old`` (add = insert/set, remove =
delete, replace = set; paths are JSON pointers resolved against the value as changed so far)
gives ``new``. Objects are compared key by key, arrays index by index (no move detection: an
insertion at the front of an array shows as replacements plus an add at the end). Numbers are
equal when numerically equal (1 == 1.0) but booleans are never numbers.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from llmspell.tools import ToolContext, tool
from llmspell_tools_data.support import (
    check_output,
    check_value,
    dump_json,
    pointer,
    run_blocking,
)

#: Most changes ``json_diff`` lists (``max_changes`` may lower it).
MAX_CHANGES = 10_000
#: Default of ``max_changes``.
DEFAULT_MAX_CHANGES = 1000


class _Full(Exception):
    """Raised inside the walk when ``limit`` changes were collected and one more was found."""


def _kind(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def equal(a: Any, b: Any) -> bool:
    """JSON equality: numbers compare numerically, booleans and null only to themselves."""
    if _kind(a) != _kind(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def diff(old: Any, new: Any, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """The changes turning ``old`` into ``new`` (at most ``limit``) and whether more exist.

    Each change is ``{"op": "add", "path", "new"}``, ``{"op": "remove", "path", "old"}`` or
    ``{"op": "replace", "path", "old", "new"}``. Surplus array items are removed from the end
    backwards, so every path is valid when the changes are applied in order.
    """
    changes: list[dict[str, Any]] = []

    def emit(change: dict[str, Any]) -> None:
        if len(changes) == limit:
            raise _Full
        changes.append(change)

    def walk(a: Any, b: Any, path: tuple[Any, ...]) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for key in a:
                if key not in b:
                    emit({"op": "remove", "path": pointer((*path, key)), "old": a[key]})
            for key in a:
                if key in b:
                    walk(a[key], b[key], (*path, key))
            for key in b:
                if key not in a:
                    emit({"op": "add", "path": pointer((*path, key)), "new": b[key]})
        elif isinstance(a, list) and isinstance(b, list):
            for i in range(min(len(a), len(b))):
                walk(a[i], b[i], (*path, i))
            for i in range(len(a) - 1, len(b) - 1, -1):
                emit({"op": "remove", "path": pointer((*path, i)), "old": a[i]})
            for i in range(len(a), len(b)):
                emit({"op": "add", "path": pointer((*path, i)), "new": b[i]})
        elif not equal(a, b):
            emit({"op": "replace", "path": pointer(path), "old": a, "new": b})

    try:
        walk(old, new, ())
    except _Full:
        return changes, True
    return changes, False


def as_patch(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The changes as RFC 6902 operations (``add``/``remove``/``replace`` with ``value``)."""
    patch = []
    for change in changes:
        op: dict[str, Any] = {"op": change["op"], "path": change["path"]}
        if "new" in change:
            op["value"] = change["new"]
        patch.append(op)
    return patch


def _run(args: dict[str, Any]) -> dict[str, Any]:
    old, new = args["old"], args["new"]
    check_value(old, "json_diff", "old")
    check_value(new, "json_diff", "new")
    limit = int(args.get("max_changes", DEFAULT_MAX_CHANGES))
    changes, truncated = diff(old, new, limit)
    out: dict[str, Any] = {"equal": not changes, "truncated": truncated, "count": len(changes)}
    if args.get("format", "changes") == "patch":
        out["patch"] = as_patch(changes)
    else:
        out["changes"] = changes
    check_output("json_diff", dump_json(out))
    return out


@tool(
    name="json_diff",
    description="Compare two JSON values structurally and return "
    '{"equal": bool, "changes": [{"op": "add"|"remove"|"replace", "path", "old", "new"}], '
    '"count", "truncated"} where path is a JSON pointer ("" is the whole value), or with '
    'format "patch" {"equal", "patch": [RFC 6902 operations], "count", "truncated"}. Applying '
    "the changes in order to 'old' gives 'new'. Objects are compared by key, arrays index by "
    "index (an item inserted at the front shows as replacements plus an add at the end; no "
    "moves are detected); 1 equals 1.0. At most max_changes changes (default "
    f"{DEFAULT_MAX_CHANGES}, limit {MAX_CHANGES}).",
    category="data",
    parameters={
        "type": "object",
        "properties": {
            "old": {"description": "The first JSON value (any JSON)."},
            "new": {"description": "The second JSON value (any JSON)."},
            "format": {
                "type": "string",
                "enum": ["changes", "patch"],
                "default": "changes",
                "description": "'changes' (with old and new values) or 'patch' (RFC 6902 JSON "
                "Patch operations that turn old into new).",
            },
            "max_changes": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_CHANGES,
                "default": DEFAULT_MAX_CHANGES,
                "description": f"Most changes to list (1 to {MAX_CHANGES}, default "
                f"{DEFAULT_MAX_CHANGES}); 'truncated' tells whether there were more.",
            },
        },
        "required": ["old", "new"],
        "additionalProperties": False,
    },
    example={
        "old": {"name": "Ann", "tags": ["a", "b"], "age": 34},
        "new": {"name": "Ann", "tags": ["a"], "age": 35, "city": "Oslo"},
    },
)
async def json_diff(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    return await run_blocking(partial(_run, args))
