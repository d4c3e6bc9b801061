"""Error builders shared by the system tools, so every tool words its failures the same way."""

from __future__ import annotations

from typing import Any

from llmspell.errors import LlmspellError


def invalid_arg(tool: str, argument: str, problem: str, **details: Any) -> LlmspellError:
    """``invalid_args``: ``tool 'NAME': argument 'FIELD': problem``."""
    return LlmspellError(
        "invalid_args",
        f"tool {tool!r}: argument {argument!r}: {problem}",
        {"tool": tool, "argument": argument, **details},
    )


def tool_failed(tool: str, reason: str, problem: str, **details: Any) -> LlmspellError:
    """``tool_error`` with a ``reason`` word in its details."""
    return LlmspellError(
        "tool_error", f"tool {tool!r}: {problem}", {"tool": tool, "reason": reason, **details}
    )


def not_allowed_env(tool: str, argument: str, name: str, allowed: tuple[str, ...]) -> LlmspellError:
    """``permission_denied`` for an environment variable that ``env_names`` does not list.

    Raised before the environment is looked at, so it says nothing about whether the variable
    exists."""
    return LlmspellError(
        "permission_denied",
        f"tool {tool!r}: environment variable {name!r} is not in this run's allowed env_names",
        {"tool": tool, "argument": argument, "name": name, "allowed": list(allowed)},
        hint="list it in the policy's env_names (--allow-env NAME); names match exactly",
    )
