"""llmspell-lua: the Lua 5.4 script engine of llmspell (lupa), sandboxed and limited."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["LuaBridge", "LuaCallback", "LuaEngine"]


def __getattr__(name: str) -> Any:
    # imported on use: the plugin entry point imports this package at every llmspell start
    if name in __all__:
        return getattr(importlib.import_module("llmspell_lua.bridge"), name)
    raise AttributeError(name)
