"""State values: JSON data only, checked and copied on the way in, encoded for storage."""

from __future__ import annotations

import json
import math
import re
from typing import TypeAlias

from llmspell.errors import LlmspellError

#: What a state value may be: JSON data built from these Python types (exact types only).
JsonValue: TypeAlias = bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"] | None

#: Deepest nesting of lists/dicts accepted in a value.
MAX_DEPTH = 128

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"  # compiled on first use (error messages only)
_HINT = "state values are JSON data: None, bool, int, finite float, str, list, dict with str keys"


def _a(name: str) -> str:
    return f"an {name}" if name[:1].lower() in "aeiou" else f"a {name}"


def _invalid(key: str, path: str, problem: str, type_name: str) -> LlmspellError:
    return LlmspellError(
        "invalid_value",
        f"state value for {key!r} at {path} {problem}",
        {"key": key, "path": path, "type": type_name},
        hint=_HINT,
    )


def _child_path(path: str, name: str) -> str:
    if re.fullmatch(_IDENT, name):
        return f"{path}.{name}"
    return f"{path}[{json.dumps(name, ensure_ascii=False)}]"


def _check_str(key: str, path: str, text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        problem = "is a str with a lone surrogate, not valid Unicode"
        raise _invalid(key, path, problem, "str") from None


def _copy(key: str, value: object, path: str, depth: int, active: set[int]) -> JsonValue:
    kind = type(value)
    if value is None or kind is bool:
        return value  # type: ignore[return-value]
    if kind is int:
        assert isinstance(value, int)
        if value.bit_length() > 10_000:
            try:
                str(value)
            except ValueError:
                raise _invalid(
                    key, path, "is an int too large to write as decimal text", "int"
                ) from None
        return value
    if kind is float:
        assert isinstance(value, float)
        if not math.isfinite(value):
            raise _invalid(key, path, f"is a non-finite float ({value}), not JSON data", "float")
        return value
    if kind is str:
        assert isinstance(value, str)
        _check_str(key, path, value)
        return value
    if kind is list or kind is dict:
        if depth >= MAX_DEPTH:
            raise _invalid(key, path, f"is nested deeper than {MAX_DEPTH} levels", kind.__name__)
        if id(value) in active:
            raise _invalid(
                key, path, f"is {_a(kind.__name__)} that contains itself (a cycle)", kind.__name__
            )
        active.add(id(value))
        try:
            if isinstance(value, list):
                return [
                    _copy(key, item, f"{path}[{i}]", depth + 1, active)
                    for i, item in enumerate(value)
                ]
            assert isinstance(value, dict)
            out: dict[str, JsonValue] = {}
            for name, item in value.items():
                if type(name) is not str:
                    raise _invalid(
                        key,
                        path,
                        f"has the key {name!r} of type {type(name).__name__}; "
                        "JSON object keys must be str",
                        type(name).__name__,
                    )
                child = _child_path(path, name)
                _check_str(key, child, name)
                out[name] = _copy(key, item, child, depth + 1, active)
            return out
        finally:
            active.discard(id(value))
    name = kind.__name__
    raise _invalid(key, path, f"is {_a(name)}, not JSON data", name)


def checked_copy(key: str, value: object) -> JsonValue:
    """Return a deep copy of ``value`` if it is JSON data, else raise ``invalid_value``.

    JSON data is ``None``, ``bool``, ``int``, finite ``float``, ``str`` (valid Unicode), ``list``
    and ``dict`` with ``str`` keys, nested at most :data:`MAX_DEPTH` levels, of exactly these
    types (a ``tuple`` or an ``IntEnum`` would not come back as the same type, so they are
    refused). The error names ``key`` and the JSON path of the offending part, e.g.
    ``state value for 'cfg' at $.items[2] is a set, not JSON data``.
    """
    return _copy(key, value, "$", 0, set())


def copy_json(value: JsonValue) -> JsonValue:
    """A deep copy of already-checked JSON data (lists and dicts copied, scalars shared)."""
    if type(value) is list:
        return [copy_json(item) for item in value]
    if type(value) is dict:
        return {name: copy_json(item) for name, item in value.items()}
    return value


def encode_json(value: JsonValue) -> str:
    """Compact JSON text of checked data; ints stay ints and floats keep a fraction or exponent."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def decode_json(text: str) -> JsonValue:
    """Parse JSON text written by :func:`encode_json` (raises ``ValueError`` if malformed)."""
    return json.loads(text)
