"""Where a value sits inside a declarative spec (a workflow file, a script's ``Workflow.*`` table),
so that every error about a malformed entry names the file (or operation) and the key path.

Positions in lists count from 1 (``steps[1]`` is the first step), the way Lua counts and the way
people count ``[[steps]]`` tables in a file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from llmspell.errors import LlmspellError, did_you_mean

_CAMEL = re.compile(r"[A-Z]")


def snake(name: str) -> str:
    """``maxIterations`` -> ``max_iterations`` (names already in snake_case are unchanged)."""
    return _CAMEL.sub(lambda m: "_" + m.group(0).lower(), name)


@attrs.define(frozen=True)
class Where:
    """A location: ``root`` names the file or the operation, ``path`` the key inside it.

    ``code`` is the error code of problems found here (``config_error`` for files,
    ``invalid_args`` for host operations); with ``camel`` the option tables may use camelCase
    keys (JS spells), which :meth:`options` turns into snake_case.
    """

    root: str
    path: str = ""
    code: str = "invalid_args"
    file: str | None = None
    camel: bool = False

    def key(self, name: str) -> Where:
        """The location of ``name`` inside this table."""
        return attrs.evolve(self, path=f"{self.path}.{name}" if self.path else name)

    def item(self, position: int) -> Where:
        """The location of the list item at 0-based ``position`` (shown counting from 1)."""
        return attrs.evolve(self, path=f"{self.path}[{position + 1}]")

    def error(self, problem: str, *, hint: str | None = None) -> LlmspellError:
        """An error (of this location's ``code``) saying ``problem`` about the value here."""
        at = f" {self.path}" if self.path else ""
        return LlmspellError(
            self.code,
            f"{self.root}:{at} {problem}",
            {"key": self.path or None, "file": self.file},
            hint=hint,
        )

    # --- checked access ------------------------------------------------------------------------

    def table(self, value: Any) -> dict[str, Any]:
        """``value`` as a table (an object/dict), else an error."""
        if not isinstance(value, Mapping):
            raise self.error(f"must be a table/object, got {describe(value)}")
        return dict(value)

    def options(self, value: Any, known: Iterable[str]) -> dict[str, Any]:
        """``value`` as a table whose keys are all in ``known`` (camelCase accepted when
        ``camel``); an unknown key is an error naming it, with a did-you-mean."""
        data = self.table(value)
        if self.camel:
            data = {snake(k) if isinstance(k, str) else k: v for k, v in data.items()}
        allowed = tuple(known)
        for key in data:
            if key not in allowed:
                raise self.key(str(key)).error(
                    "is not a known key" + did_you_mean(str(key), allowed)
                )
        return data

    def text(self, value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise self.error(f"must be a non-empty string, got {describe(value)}")
        return value

    def number(self, value: Any, *, minimum: float = 0.0, strict: bool = False) -> float:
        """A number ``>= minimum`` (``> minimum`` when ``strict``)."""
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise self.error(f"must be a number, got {describe(value)}")
        if value < minimum or (strict and value == minimum):
            relation = "greater than" if strict else "at least"
            raise self.error(f"must be {relation} {minimum:g}, got {value!r}")
        return float(value)

    def integer(self, value: Any, *, minimum: int = 1) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise self.error(f"must be an integer, got {describe(value)}")
        if value < minimum:
            raise self.error(f"must be at least {minimum}, got {value!r}")
        return int(value)

    def boolean(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.error(f"must be true or false, got {describe(value)}")
        return value

    def choice(self, value: Any, choices: Iterable[str]) -> str:
        options = tuple(choices)
        if value not in options:
            shown = ", ".join(repr(c) for c in options)
            raise self.error(f"must be one of {shown}, got {describe(value)}")
        return str(value)

    def array(self, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise self.error(f"must be a list, got {describe(value)}")
        return value


def describe(value: Any) -> str:
    """A short description of a value for error messages."""
    if callable(value):
        return "a function"
    if isinstance(value, Mapping):
        kind = value.get("kind") if "__handle" in value else None
        return f"a {kind} handle" if kind else "a table"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
