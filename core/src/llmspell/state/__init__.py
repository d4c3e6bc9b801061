"""Scoped key-value state of JSON data with pluggable backends (in-memory and SQLite).

Pure storage: lifecycle hooks and ``state.changed`` events are added by the runtime around a
:class:`StateBackend`. See ``docs/state.md``.
"""

from llmspell.state.backend import StateBackend, UpdateFn
from llmspell.state.memory import MemoryBackend
from llmspell.state.scopes import (
    MAX_KEY_LENGTH,
    VALID_SCOPE_FORMS,
    Scope,
    check_key,
    parse_scope,
    scope_text,
)
from llmspell.state.sqlite import SqliteBackend, default_state_path
from llmspell.state.values import MAX_DEPTH, JsonValue, checked_copy

__all__ = [
    "MAX_DEPTH",
    "MAX_KEY_LENGTH",
    "VALID_SCOPE_FORMS",
    "JsonValue",
    "MemoryBackend",
    "Scope",
    "SqliteBackend",
    "StateBackend",
    "UpdateFn",
    "check_key",
    "checked_copy",
    "default_state_path",
    "parse_scope",
    "scope_text",
]
