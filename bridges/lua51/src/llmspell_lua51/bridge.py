"""The ``lua51`` engine: llmspell_lua's bridge and prelude on LuaJIT 2.1 (the Lua 5.1 dialect).

Everything that makes a spell run (driver, conversion, errors, limits, sandbox, the prelude) is
llmspell_lua's code, bound to another lupa runtime module by :mod:`llmspell_lua51.variant`. What
this package adds:

- :data:`RUNTIME`: the first of :data:`RUNTIME_CANDIDATES` that this lupa build ships.
- ``compat.lua``, run before the prelude in the same chunk: the Lua 5.4 library pieces the prelude
  (and portable spells) use and LuaJIT lacks.
- :class:`LuaJITBridge`: turns LuaJIT's JIT compiler off for runs whose limits rely on the count
  hook (``cpu_seconds``, ``wall_seconds``, ``max_depth``; all three are set by default), because
  compiled code never runs the hook (see README, "Count hooks and the JIT"), and removes the
  ``jit`` library from the runtime's globals.
"""

from __future__ import annotations

import importlib
from importlib import resources
from typing import Any

from llmspell_lua51 import variant

#: lupa runtime modules this engine can use, best first. Plain Lua 5.1 (``lupa.lua51``) is not
#: among them: it cannot yield across ``pcall`` or metamethods, which the bridge relies on
#: (``pcall(Tool.call, ...)`` yields a host request from inside ``pcall``).
RUNTIME_CANDIDATES = ("lupa.luajit21", "lupa.luajit20", "lupa.lua52")


def _pick_runtime() -> str:
    for name in RUNTIME_CANDIDATES:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
        return name
    raise ImportError(
        "llmspell-lua51 needs a lupa build with one of " + ", ".join(RUNTIME_CANDIDATES)
    )


#: The lupa runtime module the engine runs on.
RUNTIME = _pick_runtime()
lupa: Any = importlib.import_module(RUNTIME)

COMPAT = resources.files("llmspell_lua51").joinpath("compat.lua").read_text(encoding="utf-8")

_bridge, _convert = variant.bind(RUNTIME)

#: Memory the runtime may use past ``memory_bytes`` once that limit was hit (for clean-up only).
MEMORY_HEADROOM = 4 * 1024 * 1024


def wrap_prelude(prelude: str) -> str:
    """One chunk: the compatibility shim, then llmspell_lua's ``prelude`` (unchanged, as the
    body of a function so its top-level ``return`` is that function's), returning the prelude's
    ``setup(config)``. ``string.format("%p")`` exists only while the prelude's top level
    captures its library functions."""
    return (
        "local __llmspell_compat = (function()\n"
        + COMPAT
        + "\nend)()\n__llmspell_compat.internal()\n"
        + "local __llmspell_setup = (function()\n"
        + prelude
        + "\nend)()\n__llmspell_compat.restore()\nreturn __llmspell_setup\n"
    )


#: llmspell_lua's prelude as installed, unchanged
PRELUDE_54 = _bridge.PRELUDE
_bridge.PRELUDE = wrap_prelude(PRELUDE_54)


_BaseBridge: Any = _bridge.LuaBridge
_BaseEngine: Any = _bridge.LuaEngine
_BaseRepl: Any = _bridge.LuaRepl


class LuaJITBridge(_BaseBridge):
    """llmspell_lua's ``LuaBridge`` on :data:`RUNTIME`."""

    #: Keep the JIT compiler on even when a limit relies on the count hook. Compiled loops then
    #: never run the hook: a busy loop is not stopped by ``cpu_seconds``/``wall_seconds`` and
    #: hangs the host's trio thread. Only for trusted spells (and the test showing the finding).
    jit_with_limits = False
    _headroom = False

    def _setup(self) -> None:
        super()._setup()
        limits = self.limits
        hooked = bool(limits.cpu_seconds or limits.max_depth or limits.wall_seconds)
        self.jit_on = not hooked or self.jit_with_limits
        set_jit = self.lua.eval(
            "function(on) if jit then if not on then jit.off() end end jit = nil end"
        )
        set_jit(self.jit_on)

    def hit_limit(self, name: str) -> Any:
        """As in llmspell_lua, and after running out of memory give the runtime
        :data:`MEMORY_HEADROOM` bytes more. LuaJIT has no emergency garbage collection: the
        memory stays full (the dead coroutine still holds it) and the next lupa API call that
        allocates outside a protected call (looking up ``driver.drop`` to drop that coroutine)
        is a LuaJIT PANIC that exits the whole process. No spell code runs after a limit, so the
        headroom only serves the driver's clean-up."""
        if name == "memory_bytes" and self.limits.memory_bytes and not self._headroom:
            self._headroom = True
            self.lua.set_max_memory(int(self.limits.memory_bytes) + MEMORY_HEADROOM)
        return super().hit_limit(name)


# the bound module's engine and REPL (and the REPL's reset after a limit) create the bridge by
# this global name: make them create ours
_bridge.LuaBridge = LuaJITBridge


class LuaJITRepl(_BaseRepl):
    """llmspell_lua's REPL on :data:`RUNTIME`. LuaJIT quotes the end of input in syntax errors
    (``'end' expected near '<eof>'``, Lua 5.4: ``near <eof>``), which the 5.4 REPL's test for an
    unfinished statement does not recognise."""

    def is_complete(self, source: str) -> bool:
        _, message = self._load(source)
        return message is None or not message.rstrip("'").endswith("<eof>")


class LuaJITEngine(_BaseEngine):
    """The ``lua51`` engine: Lua spells on LuaJIT 2.1 (Lua 5.1 language plus LuaJIT's 5.2
    extensions such as ``goto``), same API, bridge, sandbox and limits as ``lua``."""

    name = "lua51"
    extensions = (".lua",)
    #: Not the engine for ``.lua`` files by default (``lua`` is). Core does not read this yet:
    #: ``engine_for`` takes the first engine in name order (see README).
    default_for_extensions = False
    runtime = RUNTIME

    def repl(self, session: Any) -> LuaJITRepl:
        """An interactive session on a new sandboxed LuaJIT runtime (``llmspell repl``)."""
        return LuaJITRepl(session)

    @property
    def lua_version(self) -> str:
        rt = lupa.LuaRuntime(register_eval=False, register_builtins=False)
        return str(rt.lua_implementation)


LuaJITCallback = _bridge.LuaCallback
Converter = _convert.Converter
