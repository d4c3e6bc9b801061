"""llmspell-lua: the Lua 5.4 script engine of llmspell (lupa), sandboxed and limited."""

from __future__ import annotations

from llmspell_lua.bridge import LuaBridge, LuaCallback, LuaEngine

__all__ = ["LuaBridge", "LuaCallback", "LuaEngine"]
