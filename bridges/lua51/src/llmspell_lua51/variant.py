"""llmspell_lua's bridge and converter, bound to another lupa runtime module.

``llmspell_lua.bridge`` and ``llmspell_lua.convert`` do ``import lupa.lua54 as lupa`` at module
level and use that module everywhere (``LuaRuntime``, ``LuaError``, ``LuaMemoryError``,
``lua_type``). lupa's runtime modules do not share these classes: ``lupa.lua54.lua_type`` of a
``lupa.luajit21`` table is ``None`` and ``except lupa.lua54.LuaError`` does not catch
``lupa.luajit21.LuaError``. So a subclass of ``llmspell_lua.bridge.LuaBridge`` alone cannot run
on another Lua.

Until llmspell_lua grows a hook point for this (see README: "Hook point wanted in
llmspell_lua"), :func:`bind` executes the *unchanged, installed* code of both modules a second
time, in private module objects whose ``import lupa.lua54`` resolves to the chosen runtime module
and whose ``from llmspell_lua.convert import ...`` resolves to the private converter. Nothing is
copied (edits to llmspell_lua are picked up at the next import) and the real ``llmspell_lua``
modules, used by the ``lua`` engine in the same process, are not touched.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.util
import sys
import types
from typing import Any

_BOUND: dict[str, tuple[Any, Any]] = {}


def _exec_module(source: str, name: str, imports: dict[str, Any]) -> types.ModuleType:
    """Execute module ``source`` as a new module ``name`` whose imports of the names in
    ``imports`` return the given objects (the value for ``import a.b as c`` must be an object
    with attribute ``b``; for ``from a.b import x`` the module itself)."""
    spec = importlib.util.find_spec(source)
    if spec is None or spec.loader is None or not hasattr(spec.loader, "get_code"):
        raise ImportError(f"cannot load the code of {source}")
    code = spec.loader.get_code(source)
    real_import = builtins.__import__

    def _import(
        mod: str,
        globals_: Any = None,
        locals_: Any = None,
        fromlist: Any = (),
        level: int = 0,
    ) -> Any:
        if level == 0 and mod in imports:
            return imports[mod]
        return real_import(mod, globals_, locals_, fromlist, level)

    module = types.ModuleType(name)
    module.__file__ = spec.origin
    module.__package__ = name.rpartition(".")[0]
    module.__dict__["__builtins__"] = {**builtins.__dict__, "__import__": _import}
    sys.modules[name] = module  # dataclass/typing lookups by module name work
    exec(code, module.__dict__)
    return module


def bind(runtime: str) -> tuple[Any, Any]:
    """``(bridge, convert)``: private copies of ``llmspell_lua.bridge`` and
    ``llmspell_lua.convert`` running on lupa runtime module ``runtime`` (``"lupa.luajit21"``).
    Cached: one pair per runtime module."""
    if runtime in _BOUND:
        return _BOUND[runtime]
    lupa_module = importlib.import_module(runtime)
    short = runtime.rpartition(".")[2]
    # ``import lupa.lua54 as lupa`` is IMPORT_NAME "lupa.lua54" then attribute "lua54"
    fake_lupa = types.SimpleNamespace(lua54=lupa_module)
    convert = _exec_module(
        "llmspell_lua.convert", f"llmspell_lua51._bound_{short}.convert", {"lupa.lua54": fake_lupa}
    )
    bridge = _exec_module(
        "llmspell_lua.bridge",
        f"llmspell_lua51._bound_{short}.bridge",
        {"lupa.lua54": fake_lupa, "llmspell_lua.convert": convert},
    )
    _BOUND[runtime] = (bridge, convert)
    return bridge, convert
