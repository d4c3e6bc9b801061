"""The one error shape that reaches users and scripts.

Every failure a user can cause or see is an :class:`LlmspellError` with a ``code`` (a short
snake_case word from :data:`ERROR_CODES`), a one-line ``message`` and JSON-like ``details``. Script
engines turn it into their native error object with the same three fields; the CLI prints the
message and, when present, the ``hint``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: Error codes with a fixed meaning across the kernel, the engines and the plugins.
ERROR_CODES: dict[str, str] = {
    "tool_error": "a tool ran and failed",
    "invalid_args": "arguments do not match a schema",
    "permission_denied": "the security policy refused the operation",
    "timeout": "an operation ran out of time",
    "cancelled": "the operation was cancelled",
    "limit": "a configured limit was reached",
    "provider_error": "a model provider failed or answered with garbage",
    "hook_cancelled": "a lifecycle hook cancelled the operation",
    "not_found": "a named component, key or file does not exist",
    "invalid_value": "a value cannot be represented (not JSON data, integer too large ...)",
    "config_error": "a configuration file or setting is malformed",
    "plugin_error": "a plugin failed to load or misbehaved",
    "engine_error": "a script engine failed or is missing",
    "script_error": "a spell raised an error of its own",
    "state_error": "the state store failed",
    "budget_exceeded": "a cost or token budget of the run was used up",
    "replay_exhausted": "a replayed run asked for more model replies than were recorded",
}


class LlmspellError(Exception):
    """An error with a ``code``, a ``message`` and JSON-like ``details``.

    ``hint`` is an optional second line telling the user what to do about it.
    """

    def __init__(
        self,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details: dict[str, Any] = dict(details or {})
        self.hint = hint

    def to_dict(self) -> dict[str, Any]:
        """The error as JSON data: ``{"code", "message", "details"}``."""
        return {"code": self.code, "message": self.message, "details": self.details}

    def __repr__(self) -> str:
        return f"LlmspellError(code={self.code!r}, message={self.message!r})"


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """A suffix for a not-found message: ``"; did you mean 'x'?"`` or the list of what exists."""
    import difflib  # only when something was not found (start-up time)

    options = sorted(set(candidates))
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    if not options:
        return "; none are registered"
    shown = ", ".join(repr(o) for o in options[:10])
    more = f" and {len(options) - 10} more" if len(options) > 10 else ""
    return f"; known: {shown}{more}"


def not_found(kind: str, name: str, candidates: Iterable[str]) -> LlmspellError:
    """A ``not_found`` error naming what was asked for and what exists."""
    options = sorted(set(candidates))
    return LlmspellError(
        "not_found",
        f"no {kind} {name!r}{did_you_mean(name, options)}",
        {"kind": kind, "name": name, "known": options},
    )
