"""The in-memory state backend: a dict per scope, private to one process."""

from __future__ import annotations

import copy
from typing import Any

import attrs
import trio

from llmspell.state.backend import UpdateFn, closed_error
from llmspell.state.scopes import Scope, check_key, scope_text
from llmspell.state.values import JsonValue, checked_copy, copy_json


@attrs.define(eq=False)
class MemoryBackend:
    """A :class:`~llmspell.state.backend.StateBackend` holding values in dicts.

    Values are deep-copied on the way in and on the way out, so callers never share mutable
    objects with the store. Nothing survives the process. Every method that changes the store
    checkpoints once (trio convention); reads (``get``, ``keys``, ``scopes``) are plain lookups
    that do not yield, which keeps a script's state reads cheap (the engines yield to other tasks
    periodically anyway). Nothing awaits inside a method, so ``update`` is atomic among trio
    tasks. Not thread-safe: use it from one trio run.
    """

    _data: dict[str, dict[str, JsonValue]] = attrs.field(factory=dict, init=False, repr=False)
    _closed: bool = attrs.field(default=False, init=False, repr=False)

    async def _enter(self) -> None:
        await trio.lowlevel.checkpoint()
        self._check_open()

    def _check_open(self) -> None:
        if self._closed:
            raise closed_error("memory")

    async def get(self, scope: str | Scope, key: str, default: Any = None) -> Any:
        """See :meth:`StateBackend.get`."""
        name, key = scope_text(scope), check_key(key)
        if self._closed:
            raise closed_error("memory")
        bucket = self._data.get(name)
        if bucket is None or key not in bucket:
            return default
        return copy_json(bucket[key])

    async def set(self, scope: str | Scope, key: str, value: JsonValue) -> None:
        """See :meth:`StateBackend.set`."""
        name, key = scope_text(scope), check_key(key)
        stored = checked_copy(key, value)
        await self._enter()
        self._data.setdefault(name, {})[key] = stored

    async def delete(self, scope: str | Scope, key: str) -> bool:
        """See :meth:`StateBackend.delete`."""
        name, key = scope_text(scope), check_key(key)
        await self._enter()
        bucket = self._data.get(name)
        if bucket is None or key not in bucket:
            return False
        del bucket[key]
        if not bucket:
            del self._data[name]
        return True

    async def keys(self, scope: str | Scope) -> list[str]:
        """See :meth:`StateBackend.keys`."""
        name = scope_text(scope)
        self._check_open()
        return sorted(self._data.get(name, {}))

    async def clear(self, scope: str | Scope) -> int:
        """See :meth:`StateBackend.clear`."""
        name = scope_text(scope)
        await self._enter()
        return len(self._data.pop(name, {}))

    async def scopes(self) -> list[str]:
        """See :meth:`StateBackend.scopes`."""
        self._check_open()
        return sorted(self._data)

    async def update(self, scope: str | Scope, key: str, fn: UpdateFn, default: Any = None) -> Any:
        """See :meth:`StateBackend.update`; atomic because nothing is awaited inside it."""
        name, key = scope_text(scope), check_key(key)
        await self._enter()
        bucket = self._data.get(name)
        old = copy_json(bucket[key]) if bucket and key in bucket else copy.deepcopy(default)
        new = checked_copy(key, fn(old))
        self._data.setdefault(name, {})[key] = new
        return copy_json(new)

    async def aclose(self) -> None:
        """Drop every value; later calls raise ``state_error``."""
        self._closed = True
        self._data.clear()
        await trio.lowlevel.checkpoint()

    async def __aenter__(self) -> MemoryBackend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
