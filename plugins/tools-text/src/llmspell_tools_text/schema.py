"""Pieces of JSON schema shared by the text tools."""

from __future__ import annotations

from typing import Any

from llmspell_tools_text.limits import MAX_TEXT_CHARS


def text_property(description: str, max_length: int = MAX_TEXT_CHARS) -> dict[str, Any]:
    """A string property bounded to ``max_length`` characters."""
    return {"type": "string", "maxLength": max_length, "description": description}


def flag(description: str, default: bool = False) -> dict[str, Any]:
    """A boolean property with a default."""
    return {"type": "boolean", "default": default, "description": description}


def obj(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """An argument object schema: no unknown properties."""
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
