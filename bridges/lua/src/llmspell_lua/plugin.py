"""Entry point of the ``lua`` engine plugin (``[project.entry-points.llmspell] lua = ...``)."""

from __future__ import annotations

from typing import Any

from llmspell.lifecycle import hookimpl
from llmspell_lua.bridge import LuaEngine


@hookimpl
def llmspell_register_engines(registry: Any) -> None:
    """Register the ``lua`` engine for ``.lua`` files."""
    registry.add("lua", LuaEngine())
