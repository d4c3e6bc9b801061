"""``env_read``: read allowlisted environment variables of the host process."""

from __future__ import annotations

import os
from typing import Any

from llmspell.tools import ToolContext, tool
from llmspell_tools_system.errors import not_allowed_env

#: Most variable names one ``env_read`` call may ask for.
MAX_NAMES = 64
#: Longest variable name accepted.
MAX_NAME_CHARS = 256
#: Longest value returned; a longer value is cut and its name listed in ``truncated``.
MAX_VALUE_CHARS = 65536


@tool(
    name="env_read",
    description="Read environment variables of the host process that the security policy "
    "allows (its env_names, matched exactly and case-sensitively; no wildcards). Returns "
    '{"values": {NAME: value or the default}, "missing": [names not set], '
    '"truncated": [names whose value was cut]}. A name the policy does not list refuses the '
    "whole call (permission_denied) before anything is read, so nothing is revealed about "
    f"variables outside the allowlist. At most {MAX_NAMES} names per call; values longer than "
    f"{MAX_VALUE_CHARS} characters are cut.",
    category="system",
    permissions={"env"},
    parameters={
        "type": "object",
        "properties": {
            "names": {
                "type": "array",
                "description": "The variable names to read, each one listed in the policy's "
                f"env_names (exact, case-sensitive; 1 to {MAX_NAMES} names).",
                "items": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_CHARS},
                "minItems": 1,
                "maxItems": MAX_NAMES,
                "uniqueItems": True,
            },
            "default": {
                "type": ["string", "null"],
                "description": "The value given for a variable that is not set (default null).",
                "maxLength": MAX_VALUE_CHARS,
                "default": None,
            },
        },
        "required": ["names"],
        "additionalProperties": False,
    },
    example={"names": ["LANG"], "default": ""},
)
async def env_read(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    names: list[str] = args["names"]
    default: str | None = args.get("default")
    allowed: tuple[str, ...] = tuple(ctx.policy.env_names)
    for name in names:  # every name is checked before any is read
        if name not in allowed:
            raise not_allowed_env("env_read", "names", name, allowed)
    values: dict[str, str | None] = {}
    missing: list[str] = []
    truncated: list[str] = []
    for name in names:
        value = os.environ.get(name)
        if value is None:
            missing.append(name)
            values[name] = default
            continue
        if len(value) > MAX_VALUE_CHARS:
            value = value[:MAX_VALUE_CHARS]
            truncated.append(name)
        values[name] = value
    return {"values": values, "missing": missing, "truncated": truncated}
