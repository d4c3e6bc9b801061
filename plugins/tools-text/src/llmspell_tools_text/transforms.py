"""The operations of ``text_transform``: pure functions ``(text, params) -> str`` (``split``
returns a list), each with the parameters it accepts. Heavy modules (``regex``, ``slugify``,
``textwrap``) are imported inside the operations that need them."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

import attrs

from llmspell_tools_text.limits import MAX_OUTPUT_CHARS, MAX_SPLITS


class OperationError(ValueError):
    """An operation's parameters do not fit the text; ``param`` names the parameter."""

    def __init__(self, problem: str, param: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.param = param


class OutputTooLong(ValueError):
    """An operation would make the text longer than :data:`MAX_OUTPUT_CHARS`."""


@attrs.frozen
class Operation:
    """One operation: what it does (for the schema), its function and its parameters."""

    name: str
    summary: str
    run: Callable[[str, dict[str, Any]], Any]
    params: frozenset[str] = frozenset()


# --- case ------------------------------------------------------------------------------------

_WORD = re.compile(r"\w+(?:['\u2019]\w+)*")
#: Words of an identifier: "HTTPServerError2x getID2" -> HTTP, Server, Error2x, get, ID2.
_IDENTIFIER_WORDS = (
    r"\p{Lu}+(?=\p{Lu}[\p{Ll}\p{M}])|\p{Lu}?[\p{Ll}\p{Lm}\p{Lo}\p{M}\p{N}]+|\p{Lu}+\p{N}*"
    r"|\p{Lt}[\p{Ll}\p{M}]*|\p{N}+"
)


def _words(text: str) -> list[str]:
    import regex

    return [m.group() for m in regex.finditer(_IDENTIFIER_WORDS, text)]


def _title(text: str, _: dict[str, Any]) -> str:
    return _WORD.sub(lambda m: m.group()[:1].upper() + m.group()[1:].lower(), text)


def _snake(text: str, _: dict[str, Any]) -> str:
    return "_".join(w.lower() for w in _words(text))


def _kebab(text: str, _: dict[str, Any]) -> str:
    return "-".join(w.lower() for w in _words(text))


def _constant(text: str, _: dict[str, Any]) -> str:
    return "_".join(w.upper() for w in _words(text))


def _pascal(text: str, _: dict[str, Any]) -> str:
    return "".join(w[:1].upper() + w[1:].lower() for w in _words(text))


def _camel(text: str, params: dict[str, Any]) -> str:
    pascal = _pascal(text, params)
    words = _words(text)
    if not words:
        return ""
    return words[0].lower() + pascal[len(words[0]) :]


# --- whitespace and layout -------------------------------------------------------------------


def _strip(text: str, params: dict[str, Any]) -> str:
    chars = params.get("chars")
    side = params.get("side", "both")
    if side == "left":
        return text.lstrip(chars)
    if side == "right":
        return text.rstrip(chars)
    return text.strip(chars)


def _collapse(text: str, _: dict[str, Any]) -> str:
    return " ".join(text.split())


def _wrap(text: str, params: dict[str, Any]) -> str:
    import textwrap

    width = int(params.get("width", 70))
    paragraphs = re.split(r"\n[ \t\r\f\v]*\n\s*", text.strip())
    return "\n\n".join(textwrap.fill(p, width=width) for p in paragraphs)


def _dedent(text: str, _: dict[str, Any]) -> str:
    import textwrap

    return textwrap.dedent(text)


def _indent(text: str, params: dict[str, Any]) -> str:
    import textwrap

    prefix = params.get("prefix", "    ")
    lines = text.count("\n") + 1
    if len(text) + lines * len(prefix) > MAX_OUTPUT_CHARS:
        raise OutputTooLong("the indented text would be too long")
    return textwrap.indent(text, prefix)


def _truncate(text: str, params: dict[str, Any]) -> str:
    if "length" not in params:
        raise OperationError("needs 'length', the longest result", "length")
    length = int(params["length"])
    ellipsis = params.get("ellipsis", "…")
    if len(text) <= length:
        return text
    if len(ellipsis) > length:
        raise OperationError(
            f"the ellipsis ({len(ellipsis)} characters) is longer than length {length}",
            "ellipsis",
        )
    keep = length - len(ellipsis)
    cut = text[:keep]
    if params.get("whole_words") and keep < len(text) and not text[keep].isspace():
        space = max(cut.rfind(c) for c in (" ", "\n", "\t"))
        if space > 0:
            cut = cut[:space]
    return cut.rstrip() + ellipsis


# --- characters -------------------------------------------------------------------------------


def _reverse(text: str, _: dict[str, Any]) -> str:
    import regex

    return "".join(reversed(regex.findall(r"\X", text)))


def _normalize(text: str, params: dict[str, Any]) -> str:
    return unicodedata.normalize(params.get("form", "NFC"), text)


def _remove_accents(text: str, _: dict[str, Any]) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def _slugify(text: str, params: dict[str, Any]) -> str:
    from slugify import slugify

    return str(
        slugify(
            text,
            separator=params.get("separator", "-"),
            max_length=int(params.get("max_length", 0)),
            word_boundary=bool(params.get("max_length")),
        )
    )


def _replace(text: str, params: dict[str, Any]) -> str:
    old = params.get("old")
    if not old:
        raise OperationError("needs a non-empty 'old' text to replace", "old")
    new = params.get("new", "")
    count = int(params.get("count", 0)) or -1
    hits = text.count(old)
    if count >= 0:
        hits = min(hits, count)
    if len(text) + hits * (len(new) - len(old)) > MAX_OUTPUT_CHARS:
        raise OutputTooLong("the replaced text would be too long")
    return text.replace(old, new, count)


def _split(text: str, params: dict[str, Any]) -> dict[str, Any]:
    separator = params.get("separator")
    limit = int(params.get("max_splits", 0))
    parts = text.split(separator, limit or MAX_SPLITS)
    truncated = False
    if not limit and len(parts) > MAX_SPLITS:
        rest = parts[-1]
        truncated = (separator in rest) if separator else len(rest.split(None, 1)) > 1
    return {"parts": parts, "count": len(parts), "truncated": truncated}


def _simple(fn: Callable[[str], str]) -> Callable[[str, dict[str, Any]], str]:
    return lambda text, _: fn(text)


_OPERATIONS = [
    Operation("upper", "UPPER CASE", _simple(str.upper)),
    Operation("lower", "lower case", _simple(str.lower)),
    Operation("casefold", "aggressive lower case for caseless comparison", _simple(str.casefold)),
    Operation("title", "Every Word Capitalised (apostrophes stay inside words)", _title),
    Operation("capitalize", "First letter upper, the rest lower", _simple(str.capitalize)),
    Operation("swapcase", "swap upper and lower case", _simple(str.swapcase)),
    Operation(
        "strip",
        "remove whitespace (or the characters in 'chars') from both ends, or only 'side' "
        "left/right",
        _strip,
        frozenset({"chars", "side"}),
    ),
    Operation(
        "collapse_whitespace", "every run of whitespace becomes one space; ends trimmed", _collapse
    ),
    Operation(
        "slugify",
        "URL slug: ASCII, lower case, words joined by 'separator' (default '-'), at most "
        "'max_length' characters cut at a word boundary (0 = no limit)",
        _slugify,
        frozenset({"separator", "max_length"}),
    ),
    Operation("snake_case", "identifier words joined by '_' in lower case", _snake),
    Operation("camel_case", "identifierWordsLikeThis", _camel),
    Operation("pascal_case", "IdentifierWordsLikeThis", _pascal),
    Operation("kebab_case", "identifier words joined by '-' in lower case", _kebab),
    Operation("constant_case", "IDENTIFIER_WORDS_LIKE_THIS", _constant),
    Operation(
        "truncate",
        "cut to at most 'length' characters (required) including 'ellipsis' (default '…'); "
        "'whole_words' cuts at a space",
        _truncate,
        frozenset({"length", "ellipsis", "whole_words"}),
    ),
    Operation("reverse", "reverse the characters (accents stay on their letters)", _reverse),
    Operation(
        "normalize",
        "Unicode normalization 'form' NFC (default), NFD, NFKC or NFKD",
        _normalize,
        frozenset({"form"}),
    ),
    Operation(
        "remove_accents",
        "drop combining accents: 'Crème brûlée' -> 'Creme brulee'",
        _remove_accents,
    ),
    Operation(
        "wrap",
        "re-wrap each paragraph to lines of at most 'width' characters (default 70)",
        _wrap,
        frozenset({"width"}),
    ),
    Operation("dedent", "remove the indentation common to all lines", _dedent),
    Operation(
        "indent",
        "prefix every non-blank line with 'prefix' (default four spaces)",
        _indent,
        frozenset({"prefix"}),
    ),
    Operation(
        "replace",
        "replace the literal text 'old' with 'new' (default ''), at most 'count' times (0 = all)",
        _replace,
        frozenset({"old", "new", "count"}),
    ),
    Operation(
        "split",
        "split into a list at 'separator' (default: runs of whitespace), at most "
        "'max_splits' times (0 = all); must be the last operation",
        _split,
        frozenset({"separator", "max_splits"}),
    ),
]

#: Every operation by name, in the order of the documentation.
OPERATIONS: dict[str, Operation] = {op.name: op for op in _OPERATIONS}
