"""Replacement templates of ``regex_replace``, parsed up front (so a bad template is reported
even when nothing matches) and expanded with a running output-size bound.

Syntax (Python's ``re`` template syntax without octal escapes): ``\\1`` to ``\\99`` and
``\\g<number>`` / ``\\g<name>`` insert a group (``\\g<0>`` the whole match; an unmatched group
inserts nothing); ``\\n \\t \\r \\f \\v \\a \\\\`` are the usual characters; a backslash before
another ASCII letter or a digit ``0`` is an error; before any other character both are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a", "\\": "\\"}


class TemplateError(ValueError):
    """A malformed replacement template; ``position`` is the 0-based offset of the problem."""

    def __init__(self, problem: str, position: int) -> None:
        super().__init__(f"{problem} at position {position}")
        self.problem = problem
        self.position = position


@attrs.frozen
class Replacement:
    """A parsed template: literal strings and group numbers, in order."""

    parts: tuple[str | int, ...]

    @property
    def literal(self) -> str | None:
        """The replacement text if the template references no group."""
        if all(isinstance(p, str) for p in self.parts):
            return "".join(p for p in self.parts if isinstance(p, str))
        return None

    def expand(self, match: Any) -> str:
        """The replacement for ``match`` (a ``regex`` match object)."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            else:
                out.append(match.group(part) or "")
        return "".join(out)


def parse_replacement(template: str, groups: int, names: Mapping[str, int]) -> Replacement:
    """Parse ``template`` for a pattern with ``groups`` groups named by ``names``;
    :class:`TemplateError` if it is malformed or references a group the pattern lacks."""
    parts: list[str | int] = []
    literal: list[str] = []
    i, n = 0, len(template)

    def group(number: int, at: int) -> None:
        if number > groups:
            raise TemplateError(
                f"group {number} does not exist (the pattern has {groups} group"
                f"{'' if groups == 1 else 's'})",
                at,
            )
        if literal:
            parts.append("".join(literal))
            literal.clear()
        parts.append(number)

    while i < n:
        ch = template[i]
        if ch != "\\":
            literal.append(ch)
            i += 1
            continue
        if i + 1 >= n:
            raise TemplateError("a trailing backslash", i)
        nxt = template[i + 1]
        if nxt == "g":
            if i + 2 >= n or template[i + 2] != "<":
                raise TemplateError("missing '<' after \\g", i)
            close = template.find(">", i + 3)
            if close < 0:
                raise TemplateError("missing '>' in \\g<...>", i)
            ref = template[i + 3 : close]
            if not ref:
                raise TemplateError("empty group reference \\g<>", i)
            if ref.isdecimal() and ref.isascii():
                group(int(ref), i)
            elif ref in names:
                group(names[ref], i)
            else:
                raise TemplateError(f"unknown group name {ref!r}", i)
            i = close + 1
        elif "1" <= nxt <= "9":
            j = i + 2
            if j < n and "0" <= template[j] <= "9":
                j += 1
            group(int(template[i + 1 : j]), i)
            i = j
        elif nxt == "0":
            raise TemplateError("octal escapes are not supported; use \\g<0> for the match", i)
        elif nxt in _ESCAPES:
            literal.append(_ESCAPES[nxt])
            i += 2
        elif nxt.isascii() and nxt.isalpha():
            raise TemplateError(f"bad escape \\{nxt}", i)
        else:
            literal.append("\\" + nxt)
            i += 2
    if literal:
        parts.append("".join(literal))
    return Replacement(tuple(parts))
