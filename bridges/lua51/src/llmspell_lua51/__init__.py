"""llmspell-lua51: Lua spells on LuaJIT 2.1 (Lua 5.1 dialect), reusing llmspell-lua's bridge."""

from __future__ import annotations

from llmspell_lua51.bridge import RUNTIME, LuaJITBridge, LuaJITEngine

__all__ = ["RUNTIME", "LuaJITBridge", "LuaJITEngine"]
