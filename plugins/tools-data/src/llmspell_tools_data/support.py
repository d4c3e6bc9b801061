"""What every data tool shares: size limits, error constructors, JSON value checks, JSON text
parsing, JSON pointers and running blocking work in a worker thread.

Contracts: every tool bounds its input text by :data:`MAX_TEXT_CHARS` (in its schema), every
JSON value argument by :func:`check_value` (depth, nodes, characters) and every text it produces
by :data:`MAX_OUTPUT_CHARS`. Errors are :class:`~llmspell.errors.LlmspellError` built here, so
messages have one shape: ``"tool 'NAME': argument 'FIELD': what is wrong"``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any, TypeVar

import trio

from llmspell.errors import LlmspellError

#: Longest text argument (CSV, XML, YAML ... documents, diff inputs), in characters.
MAX_TEXT_CHARS = 5_000_000
#: Longest text a tool returns (converted documents, rendered tables, diffs), in characters.
MAX_OUTPUT_CHARS = 5_000_000
#: Deepest nesting of arrays and objects accepted in a JSON value (argument or parsed text).
MAX_DEPTH = 100
#: Most arrays, objects and scalars in one JSON value (guards YAML alias bombs too).
MAX_NODES = 1_000_000
#: Most characters (strings and keys) in one JSON value.
MAX_VALUE_CHARS = MAX_TEXT_CHARS

T = TypeVar("T")


def invalid(
    tool: str, argument: str, problem: str, *, hint: str | None = None, **details: Any
) -> LlmspellError:
    """An ``invalid_args`` error naming ``tool`` and ``argument``."""
    return LlmspellError(
        "invalid_args",
        f"tool {tool!r}: argument {argument!r}: {problem}",
        {"tool": tool, "argument": argument, **details},
        hint=hint,
    )


def too_large(tool: str, problem: str, *, limit: int, hint: str | None = None) -> LlmspellError:
    """A ``tool_error`` with reason ``too_large``: a bounded size was exceeded."""
    return LlmspellError(
        "tool_error",
        f"tool {tool!r}: {problem}",
        {"tool": tool, "reason": "too_large", "limit": limit},
        hint=hint,
    )


async def run_blocking(fn: Callable[[], T]) -> T:
    """Run ``fn()`` in a worker thread; the call is abandoned (the thread finishes on its own,
    its result discarded) when the run is cancelled, so a long parse never blocks cancellation."""
    return await trio.to_thread.run_sync(fn, abandon_on_cancel=True)


def check_output(tool: str, text: str, what: str = "the result") -> str:
    """``text`` if it is at most :data:`MAX_OUTPUT_CHARS` long, else ``too_large``."""
    if len(text) > MAX_OUTPUT_CHARS:
        raise too_large(
            tool,
            f"{what} would be {len(text)} characters long; the limit is {MAX_OUTPUT_CHARS}",
            limit=MAX_OUTPUT_CHARS,
            hint="ask for less (select columns, lower limits, a narrower query)",
        )
    return text


def _at(path: tuple[Any, ...]) -> str:
    """Where ``path`` is, for a message: its JSON pointer (cut at 100 characters) or "the top"."""
    return shorten(pointer(path), 100) if path else "the top"


def pointer(parts: Any) -> str:
    """The JSON pointer (RFC 6901) of a path given as keys and indices; ``""`` is the root."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def check_value(
    value: Any,
    tool: str,
    argument: str,
    *,
    scalars: tuple[type, ...] = (),
    max_depth: int = MAX_DEPTH,
) -> None:
    """Check that ``value`` is JSON data within bounds, else ``invalid_args`` naming
    ``argument`` and the JSON pointer of the offending part.

    JSON data: dicts with string keys, lists, strings, booleans, ``None``, integers and finite
    floats (plus instances of ``scalars``, e.g. dates parsed from YAML/TOML). Bounds:
    ``max_depth`` levels, :data:`MAX_NODES` nodes, :data:`MAX_VALUE_CHARS` characters. The walk
    is iterative, so shared sub-values (YAML aliases) count every time they appear and cycles
    hit the depth limit.
    """
    nodes = 0
    chars = 0
    stack: list[tuple[Any, int, tuple[Any, ...]]] = [(value, 0, ())]
    while stack:
        item, depth, path = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise invalid(
                tool, argument, f"the value has more than {MAX_NODES} elements",
                limit=MAX_NODES,
            )
        if isinstance(item, str):
            chars += len(item)
        elif isinstance(item, dict):
            if depth >= max_depth:
                raise invalid(
                    tool, argument,
                    f"the value is nested more than {max_depth} levels deep "
                    f"(at {_at(path)})",
                    path=pointer(path), limit=max_depth,
                )
            for key, sub in item.items():
                if not isinstance(key, str):
                    raise invalid(
                        tool, argument,
                        f"object key {key!r} at {_at(path)} is not a string",
                        path=pointer(path),
                    )
                chars += len(key)
                stack.append((sub, depth + 1, (*path, key)))
        elif isinstance(item, list):
            if depth >= max_depth:
                raise invalid(
                    tool, argument,
                    f"the value is nested more than {max_depth} levels deep "
                    f"(at {_at(path)})",
                    path=pointer(path), limit=max_depth,
                )
            stack.extend((sub, depth + 1, (*path, i)) for i, sub in enumerate(item))
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise invalid(
                    tool, argument,
                    f"{item} at {_at(path)} is not a JSON number",
                    path=pointer(path),
                )
        elif item is None or isinstance(item, bool | int) or isinstance(item, scalars):
            pass
        else:
            raise invalid(
                tool, argument,
                f"{type(item).__name__} at {_at(path)} is not JSON data",
                path=pointer(path),
            )
        if chars > MAX_VALUE_CHARS:
            raise invalid(
                tool, argument, f"the value holds more than {MAX_VALUE_CHARS} characters",
                limit=MAX_VALUE_CHARS,
            )


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(text: str, tool: str, argument: str) -> Any:
    """Parse JSON ``text`` (strict: no NaN/Infinity) and check the value with
    :func:`check_value`; ``invalid_args`` naming ``argument`` with line and column otherwise."""
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise invalid(
            tool, argument,
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            line=exc.lineno, column=exc.colno,
        ) from None
    except ValueError as exc:  # NaN, Infinity, integers too long to convert
        raise invalid(tool, argument, f"invalid JSON: {exc}") from None
    except RecursionError:
        raise invalid(
            tool, argument, f"invalid JSON: nested more than {MAX_DEPTH} levels deep",
            limit=MAX_DEPTH,
        ) from None
    check_value(value, tool, argument)
    return value


def value_or_text(
    args: dict[str, Any], tool: str, value_arg: str = "data", text_arg: str = "json"
) -> Any:
    """The JSON value given either as ``args[value_arg]`` (any JSON) or as JSON text in
    ``args[text_arg]``; exactly one of them must be present."""
    has_value, has_text = value_arg in args, text_arg in args
    if has_value == has_text:
        raise invalid(
            tool, value_arg,
            f"give exactly one of {value_arg!r} (a JSON value) or {text_arg!r} (JSON text)",
        )
    if has_text:
        return parse_json(args[text_arg], tool, text_arg)
    check_value(args[value_arg], tool, value_arg)
    return args[value_arg]


def dump_json(value: Any) -> str:
    """Compact JSON text of ``value`` (used to measure results and render nested cells)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
