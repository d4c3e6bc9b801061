"""The :class:`StateBackend` protocol every state store implements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from llmspell.errors import LlmspellError
from llmspell.state.scopes import Scope
from llmspell.state.values import JsonValue

#: The function given to :meth:`StateBackend.update`: old value (or the default) -> new value.
UpdateFn = Callable[[Any], Any]


@runtime_checkable
class StateBackend(Protocol):
    """A scoped key-value store of JSON data.

    Contracts shared by every backend:

    * ``scope`` is a :class:`~llmspell.state.scopes.Scope` or its text (``"spell"``,
      ``"global"``, ``"session:<id>"``, ``"agent:<name>"``, ``"workflow:<name>"``); a bad scope
      raises ``invalid_value`` before anything is read or written. Scopes are isolated: the same
      key in two scopes is two entries.
    * keys are checked with :func:`~llmspell.state.scopes.check_key`, values with
      :func:`~llmspell.state.values.checked_copy`; both raise ``invalid_value`` naming the key
      (and, for values, the JSON path of the offending part).
    * a value read back equals the value written and has the same types all the way down (an
      ``int`` stays an ``int``, ``[]`` stays a list and ``{}`` a dict). Callers always get their
      own copy: mutating a returned value never changes what is stored, and mutating a value
      after ``set`` never changes it either.
    * failures of the storage itself raise ``state_error``; so does any call after ``aclose``.
    """

    async def get(self, scope: str | Scope, key: str, default: Any = None) -> Any:
        """The value stored under ``key`` in ``scope``, or ``default`` (returned as is)."""
        ...

    async def set(self, scope: str | Scope, key: str, value: JsonValue) -> None:
        """Store ``value`` under ``key`` in ``scope``, replacing any previous value."""
        ...

    async def delete(self, scope: str | Scope, key: str) -> bool:
        """Remove ``key`` from ``scope``; ``True`` if it existed."""
        ...

    async def keys(self, scope: str | Scope) -> list[str]:
        """The bare key names in ``scope``, sorted by code point."""
        ...

    async def clear(self, scope: str | Scope) -> int:
        """Remove every key of ``scope`` (and only of it); the number of keys removed."""
        ...

    async def scopes(self) -> list[str]:
        """The canonical texts of the scopes that hold at least one key, sorted."""
        ...

    async def update(self, scope: str | Scope, key: str, fn: UpdateFn, default: Any = None) -> Any:
        """Atomically replace the value with ``fn(old)``; return the new value.

        ``fn`` is called once with a private copy of the stored value (or of ``default`` when
        the key is missing) and returns the new value, which is checked like a ``set``. No other
        writer (task, thread or, for persistent backends, process) can write the key between
        the read and the write, so concurrent updates are never lost. If ``fn`` raises, or the
        new value is invalid, or the caller is cancelled, nothing is written and the error
        propagates. ``fn`` must be quick and must not call the backend (it would deadlock).
        """
        ...

    async def aclose(self) -> None:
        """Release the backend's resources. Idempotent; later calls raise ``state_error``."""
        ...


def closed_error(backend: str) -> LlmspellError:
    """The ``state_error`` raised by a backend used after :meth:`StateBackend.aclose`."""
    return LlmspellError(
        "state_error",
        f"the {backend} state backend is closed",
        {"backend": backend},
        hint="open a new backend; a closed one cannot be reused",
    )
