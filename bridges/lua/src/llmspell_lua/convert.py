"""The one conversion between Lua values and JSON-like Python data.

Lua -> Python:

- ``nil`` and ``JSON.null`` -> ``None``; booleans, strings (must be UTF-8) and floats (finite)
  as they are; integers stay ``int`` and must lie within ±2^53, else ``invalid_value``.
- A table whose keys are exactly ``1..n`` -> ``list``; an empty table marked with
  ``JSON.array{}`` (or any array that came from the host) -> ``[]``; any other empty table ->
  ``{}`` (**an unmarked empty table is an object**); other tables -> ``dict`` with sorted
  keys (integer and float keys become strings; other key types are ``invalid_value``).
  Cycles and nesting deeper than :data:`MAX_DEPTH` are ``invalid_value``.
- Functions become :class:`~llmspell_lua.bridge.LuaCallback` objects where the host accepts
  functions (host-operation arguments), and are ``invalid_value`` elsewhere.

Python -> Lua: ``None`` -> ``nil`` (``JSON.null`` inside lists), lists -> tables marked as arrays,
dicts -> tables (handles ``{"__handle": ...}`` get the methods of their kind). A key whose value is
``None`` is absent from the table (``t.key == nil``, as Lua code expects), and the table
remembers it: converted back, that key is ``None`` again unless the spell gave it a value. So
JSON data from the host round-trips through Lua unchanged.
"""

from __future__ import annotations

import math
import weakref
from typing import TYPE_CHECKING, Any

import lupa.lua54 as lupa

from llmspell.errors import LlmspellError

if TYPE_CHECKING:
    from llmspell_lua.bridge import LuaBridge

#: Deepest nesting of tables/lists converted in either direction.
MAX_DEPTH = 200
#: Integers must fit in ±2^53 (exactly representable as a double, safe in JavaScript too).
MAX_INT = 2**53


def invalid(message: str, **details: Any) -> LlmspellError:
    return LlmspellError("invalid_value", message, details)


def check_int(value: int) -> int:
    if not -MAX_INT <= value <= MAX_INT:
        raise invalid(f"integer {value} is outside ±2^53", value=str(value))
    return value


def check_float(value: float) -> float:
    if not math.isfinite(value):
        raise invalid(f"number {value} is not finite (JSON has no NaN or infinity)")
    return value


class Converter:
    """Converts values for one bridge (it needs the bridge's Lua helpers)."""

    def __init__(self, bridge: LuaBridge) -> None:
        # weakly: the bridge owns its converter (a cycle would leave the Lua runtime to the
        # garbage collector instead of freeing it when the bridge goes)
        self.bridge = weakref.proxy(bridge)
        self.lua = bridge.lua
        self.driver = bridge.driver
        self.null = bridge.driver.null

    # --- Lua -> Python -------------------------------------------------------------------------

    def to_py(self, value: Any, *, functions: bool = False) -> Any:
        return self._py(value, functions, set(), 0)

    def _py(self, value: Any, functions: bool, seen: set[str], depth: int) -> Any:
        kind = type(value)
        if value is None or kind is bool or kind is str:
            return value
        if kind is int:
            return check_int(value)
        if kind is float:
            return check_float(value)
        if kind is bytes:
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                raise invalid("a Lua string is not valid UTF-8") from None
        lua_type = lupa.lua_type(value)
        if lua_type == "table":
            return self._table(value, functions, seen, depth)
        if lua_type == "function":
            lua_type = str(self.driver.typeof(value))  # lupa reports coroutines as functions
            if lua_type == "function" and functions:
                return self.bridge.callback(value)
        what = lua_type or f"Python {kind.__name__}"
        raise invalid(f"a Lua {what} cannot be converted to JSON data", type=what)

    def _table(self, table: Any, functions: bool, seen: set[str], depth: int) -> Any:
        if depth >= MAX_DEPTH:
            raise invalid(f"a table is nested deeper than {MAX_DEPTH} levels")
        shape, ptr, n, nulls = self.driver.classify(table)
        if shape == "null":
            return None
        if ptr in seen:
            raise invalid("a table contains itself (cycles cannot be converted to JSON data)")
        seen.add(ptr)
        try:
            if shape == "array":
                return [self._py(table[i], functions, seen, depth + 1) for i in range(1, n + 1)]
            out: dict[str, Any] = {}
            for key, item in table.items():
                out[self._key(key)] = self._py(item, functions, seen, depth + 1)
            if nulls is not None:  # members that were null when the table came from the host
                for key in nulls.values():
                    out.setdefault(self._key(key), None)
            # Lua's table order is arbitrary (and seeded per runtime): sort for stable output
            return dict(sorted(out.items()))
        finally:
            seen.discard(ptr)

    def _key(self, key: Any) -> str:
        kind = type(key)
        if kind is str:
            return key
        if kind is bytes:
            try:
                return key.decode("utf-8")
            except UnicodeDecodeError:
                raise invalid("a table key is not valid UTF-8") from None
        if kind is int:
            return str(key)
        if kind is float:
            return str(int(key)) if key.is_integer() else repr(key)
        what = lupa.lua_type(key) or kind.__name__
        raise invalid(f"a table key of type {what} cannot be a JSON object key", type=what)

    # --- Python -> Lua -------------------------------------------------------------------------

    def to_lua(self, value: Any) -> Any:
        return self._lua(value, 0)

    def _lua(self, value: Any, depth: int) -> Any:
        if value is None or isinstance(value, bool | str):
            return value
        if isinstance(value, int):
            return check_int(value)
        if isinstance(value, float):
            return check_float(value)
        if depth >= MAX_DEPTH:
            raise invalid(f"a value is nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, list | tuple):
            table = self.driver.new_array()
            for i, item in enumerate(value, 1):
                table[i] = self.null if item is None else self._lua(item, depth + 1)
            return table
        if isinstance(value, dict):
            table = self.lua.table()
            nulls = None
            for key, item in value.items():
                if item is not None:
                    table[str(key)] = self._lua(item, depth + 1)
                elif nulls is None:
                    nulls = [str(key)]
                else:
                    nulls.append(str(key))
            if nulls is not None:
                self.driver.mark_nulls(table, self.lua.table_from(nulls))
            if "__handle" in value and isinstance(value.get("kind"), str):
                self.driver.make_handle(table)
            return table
        to_dict = getattr(value, "to_dict", None)
        if callable(to_dict):
            return self._lua(to_dict(), depth)
        raise invalid(
            f"a Python {type(value).__name__} cannot be passed to Lua",
            type=type(value).__name__,
        )
