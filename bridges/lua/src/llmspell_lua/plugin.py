"""Entry point of the ``lua`` engine plugin (``[project.entry-points.llmspell] lua = ...``)."""

from __future__ import annotations

from typing import Any

from llmspell.engines import LazyEngine
from llmspell.lifecycle import hookimpl


@hookimpl
def llmspell_register_engines(registry: Any) -> None:
    """Register the ``lua`` engine for ``.lua`` files (imported when first used)."""
    registry.add("lua", LazyEngine("lua", (".lua",), "llmspell_lua.bridge:LuaEngine"))
