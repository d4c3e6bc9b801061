"""Named registries of components, filled by the registration hooks of plugins."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Generic, TypeVar

from llmspell.errors import LlmspellError, not_found

T = TypeVar("T")

#: Component names: what model APIs accept as function names (letters, digits, ``_``, ``-``).
NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def check_name(kind: str, name: object) -> str:
    """Return ``name`` if it is a valid component name, else raise ``invalid_value``."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise LlmspellError(
            "invalid_value",
            f"invalid {kind} name {name!r}: use 1-64 letters, digits, '_' or '-'",
            {"kind": kind, "name": repr(name)},
        )
    return name


class Registry(Generic[T]):
    """A mapping of unique names to components of one ``kind``, remembering who added each.

    ``add`` refuses a second component under a taken name (``plugin_error`` naming both owners)
    unless ``replace=True``. ``get`` raises ``not_found`` naming the closest known name.
    ``current_owner`` is set by the kernel while it calls one plugin's registration hook, so that
    every component is attributed to the plugin that registered it.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._owners: dict[str, str] = {}
        self.current_owner: str = "api"

    def add(self, name: str, item: T, *, replace: bool = False) -> T:
        check_name(self.kind, name)
        if name in self._items and not replace:
            raise LlmspellError(
                "plugin_error",
                f"{self.kind} {name!r} from {self.current_owner!r} is already registered "
                f"by {self._owners[name]!r}",
                {"kind": self.kind, "name": name, "owner": self._owners[name]},
            )
        self._items[name] = item
        self._owners[name] = self.current_owner
        return item

    def remove(self, name: str) -> T:
        item = self.get(name)
        del self._items[name]
        del self._owners[name]
        return item

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise not_found(self.kind, name, self._items) from None

    def owner(self, name: str) -> str:
        """The plugin (or ``"api"``) that registered ``name``."""
        self.get(name)
        return self._owners[name]

    def owned_by(self, owner: str) -> list[str]:
        return sorted(n for n, o in self._owners.items() if o == owner)

    def names(self) -> list[str]:
        return sorted(self._items)

    def values(self) -> list[T]:
        return [self._items[n] for n in self.names()]

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)
