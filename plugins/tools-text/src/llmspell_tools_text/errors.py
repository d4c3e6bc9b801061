"""Constructors of the errors the text tools raise (all :class:`LlmspellError`)."""

from __future__ import annotations

from typing import Any

from llmspell.errors import LlmspellError


def invalid_arg(
    tool: str, argument: str, problem: str, *, hint: str | None = None, **details: Any
) -> LlmspellError:
    """``invalid_args``: ``"tool 'NAME': argument 'FIELD': problem"``."""
    return LlmspellError(
        "invalid_args",
        f"tool {tool!r}: argument {argument!r}: {problem}",
        {"tool": tool, "argument": argument, **details},
        hint=hint,
    )


def too_large(tool: str, problem: str, limit: int, **details: Any) -> LlmspellError:
    """``tool_error`` with reason ``too_large``: an output or value passed its bound."""
    return LlmspellError(
        "tool_error",
        f"tool {tool!r}: {problem} (limit {limit:,})",
        {"tool": tool, "reason": "too_large", "limit": limit, **details},
    )


def timed_out(tool: str, problem: str, seconds: float, **details: Any) -> LlmspellError:
    """``timeout``: the tool's time guard fired after ``seconds``."""
    return LlmspellError(
        "timeout",
        f"tool {tool!r}: {problem} (time guard {seconds:g} s)",
        {"tool": tool, "reason": "timeout", "timeout_seconds": seconds, **details},
    )


def failed(tool: str, reason: str, problem: str, **details: Any) -> LlmspellError:
    """``tool_error`` with a ``reason`` word."""
    return LlmspellError(
        "tool_error", f"tool {tool!r}: {problem}", {"tool": tool, "reason": reason, **details}
    )
