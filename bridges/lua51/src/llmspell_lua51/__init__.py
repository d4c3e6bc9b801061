"""llmspell-lua51: Lua spells on LuaJIT 2.1 (Lua 5.1 dialect), reusing llmspell-lua's bridge."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["RUNTIME", "LuaJITBridge", "LuaJITEngine"]


def __getattr__(name: str) -> Any:
    # imported on use: the plugin entry point imports this package at every llmspell start
    if name in __all__:
        return getattr(importlib.import_module("llmspell_lua51.bridge"), name)
    raise AttributeError(name)
