"""The ``invalid_args`` error of the time tools, in the shape every llmspell tool uses."""

from __future__ import annotations

from typing import Any

from llmspell.errors import LlmspellError


def invalid(
    tool: str, argument: str, problem: str, *, hint: str | None = None, **details: Any
) -> LlmspellError:
    """``invalid_args``: ``"tool 'NAME': argument 'FIELD': problem"`` with details naming both."""
    return LlmspellError(
        "invalid_args",
        f"tool {tool!r}: argument {argument!r}: {problem}",
        {"tool": tool, "argument": argument, **details},
        hint=hint,
    )
