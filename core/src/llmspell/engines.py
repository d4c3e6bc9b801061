"""Script engines: the protocol an engine plugin implements, and finding one for a file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from llmspell.errors import LlmspellError

if TYPE_CHECKING:
    from llmspell.registry import Registry
    from llmspell.runtime import SpellRun

#: Engine packages we know of, to tell a user what to install for a file type.
KNOWN_ENGINE_PACKAGES = {".lua": "llmspell-lua", ".js": "llmspell-js", ".mjs": "llmspell-js"}


@runtime_checkable
class Engine(Protocol):
    """A script engine. ``extensions`` are the file suffixes it runs (``(".lua",)``).

    ``run`` executes ``source`` (named ``filename`` in errors) inside ``run`` and returns the
    spell's result as JSON data; script errors surface as ``LlmspellError`` naming
    ``filename:line``.
    """

    name: str
    extensions: tuple[str, ...]

    async def run(self, source: str, filename: str, run: SpellRun) -> Any: ...


@runtime_checkable
class ReplSession(Protocol):
    """An interactive session of an engine (optional: engines offer it with
    ``engine.repl(session) -> ReplSession``). Globals persist between evaluations."""

    def is_complete(self, source: str) -> bool:
        """False while ``source`` is an unfinished statement that needs more lines."""
        ...

    async def evaluate(self, source: str) -> Any:
        """Run ``source``; return the value of an expression (JSON data) or ``None``. Errors
        are raised as ``LlmspellError`` and leave the session usable."""
        ...


class LazyEngine:
    """An engine known by name and extensions whose implementation is imported on first use,
    so that loading plugins (every ``llmspell`` command does) does not import every engine.

    ``target`` is ``"module:Class"``; the class is instantiated without arguments. Attributes
    other than ``name`` and ``extensions`` (``repl`` ...) come from the loaded engine.
    """

    def __init__(self, name: str, extensions: tuple[str, ...], target: str) -> None:
        self.name = name
        self.extensions = tuple(extensions)
        self._target = target
        self._engine: Any = None

    def load(self) -> Any:
        """The real engine (imported and created on the first call)."""
        if self._engine is None:
            import importlib

            module, _, attr = self._target.partition(":")
            self._engine = getattr(importlib.import_module(module), attr)()
        return self._engine

    async def run(self, source: str, filename: str, run: SpellRun) -> Any:
        return await self.load().run(source, filename, run)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.load(), name)

    def __repr__(self) -> str:
        return f"LazyEngine({self.name!r}, {self._target!r})"


def engine_for(engines: Registry[Any], path: str | Path, *, name: str | None = None) -> Any:
    """The engine named ``name``, or the one that runs files with ``path``'s extension.

    Raises ``engine_error`` naming the extension and the package that provides an engine for it.
    """
    if name is not None:
        return engines.get(name)
    suffix = Path(path).suffix.lower()
    for engine in engines.values():
        if suffix in getattr(engine, "extensions", ()):
            return engine
    package = KNOWN_ENGINE_PACKAGES.get(suffix)
    hint = (
        f"install the engine plugin: llmspell install {package}"
        if package
        else "name an engine with --engine"
    )
    raise LlmspellError(
        "engine_error",
        f"no script engine for {suffix or 'extensionless'!s} files such as {str(path)!r}"
        + (f" (the {package} plugin is not installed)" if package else ""),
        {"extension": suffix, "package": package, "engines": engines.names()},
        hint=hint,
    )
