"""Instruction templates: ``{{key}}`` placeholders filled from state.

A placeholder is ``{{key}}`` (spaces inside the braces are allowed: ``{{ key }}``); ``key`` is a
state key, looked up by the caller (an agent looks in its ``state_scope``). String values are
inserted as they are, anything else as JSON. Text without ``{{`` is returned unchanged without
any lookup; a ``{{`` that does not open a well-formed placeholder is left as it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

#: ``{{ key }}``: a key is any run of characters other than braces and white space.
PLACEHOLDER = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")

#: Marks a key that the lookup does not know.
MISSING: Any = object()


def placeholders(template: str) -> list[str]:
    """The keys named in ``template``, in order of first appearance, without repeats."""
    if "{{" not in template:
        return []
    return list(dict.fromkeys(PLACEHOLDER.findall(template)))


def fill(template: str, values: dict[str, Any]) -> str:
    """``template`` with each placeholder replaced by ``values[key]`` (strings as they are,
    other values as JSON). Every key must be in ``values`` (see :func:`render`)."""

    def one(match: re.Match[str]) -> str:
        value = values[match.group(1)]
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    return PLACEHOLDER.sub(one, template)


async def render(
    template: str,
    lookup: Callable[[str], Awaitable[Any]],
    on_missing: Callable[[str], Exception],
) -> str:
    """Fill ``template``, awaiting ``lookup(key)`` once per distinct key; a lookup returning
    :data:`MISSING` raises ``on_missing(key)``."""
    keys = placeholders(template)
    if not keys:
        return template
    values: dict[str, Any] = {}
    for key in keys:
        value = await lookup(key)
        if value is MISSING:
            raise on_missing(key)
        values[key] = value
    return fill(template, values)
