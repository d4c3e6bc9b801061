"""The lua51 engine: found through its entry point, not the default for .lua files, runs spells
on LuaJIT 2.1 with the compatibility shim, and its documented findings hold."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap
import time

import pytest

from llmspell.engines import engine_for
from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell_lua51.bridge import RUNTIME, LuaJITBridge, LuaJITEngine


def test_entry_point_registers_the_engine() -> None:
    [ep] = [e for e in importlib.metadata.entry_points(group="llmspell") if e.name == "lua51"]
    assert ep.value == "llmspell_lua51.plugin"
    kernel = Kernel.load()
    engine = kernel.engines.get("lua51")
    assert isinstance(engine.load(), LuaJITEngine)
    assert engine.name == "lua51" and engine.extensions == (".lua",)
    assert kernel.engines.owner("lua51") == "lua51"


def test_lua_stays_the_engine_for_lua_files() -> None:
    kernel = Kernel.load()
    assert engine_for(kernel.engines, "x.lua").name == "lua"
    assert engine_for(kernel.engines, "x.lua", name="lua51").name == "lua51"


def test_runs_on_luajit_21() -> None:
    assert RUNTIME == "lupa.luajit21"
    assert LuaJITEngine().lua_version.startswith("LuaJIT 2.1")


async def test_a_simple_spell_runs(spell) -> None:
    result = await spell(
        """
        local v = JSON.parse('{"a": [1, 2, 3]}')
        Task.sleep(0)
        return {version = _VERSION, sum = v.a[1] + v.a[2] + v.a[3], s = JSON.stringify({x = 1})}
        """
    )
    assert result == {"version": "Lua 5.1", "sum": 6, "s": '{"x":1}'}


async def test_tasks_overlap_in_time(spell) -> None:
    started = time.monotonic()
    result = await spell(
        "return Task.all{function() Task.sleep(0.2) return 1 end,"
        " function() Task.sleep(0.2) return 2 end}"
    )
    assert result == [1, 2]
    assert time.monotonic() - started < 0.35


async def test_the_shim_provides_54_library_pieces(spell) -> None:
    result = await spell(
        """
        local co = coroutine.create(function() coroutine.yield() end)
        coroutine.resume(co)
        return {
          math.type(1), math.type(1.5), math.type("1"), table.pack(1, nil, 3).n,
          select("#", table.unpack({1, 2, 3})), rawlen({1, 2}), utf8.len("héllo ☃"),
          utf8.char(233, 9731), {utf8.codepoint("é☃", 1, -1)}, utf8.offset("é☃", 2),
          coroutine.close(co), coroutine.status(co), (pcall(utf8.codepoint, "\\255")),
          math.type("1") == nil,
        }
        """
    )
    # math.type("1") is nil: the list has a hole there (it ends the list early in Lua)
    assert result == {
        "1": "integer",
        "2": "float",
        "4": 3,
        "5": 3,
        "6": 2,
        "7": 7,
        "8": "é☃",
        "9": [233, 9731],
        "10": 3,
        "11": True,
        "12": "dead",
        "13": False,
        "14": True,
    }


async def test_luajit_has_goto_but_not_54_syntax(spell) -> None:
    assert (
        await spell(
            "local s = 0 for i = 1, 3 do if i == 2 then goto c end s = s + i ::c:: end return s"
        )
        == 4
    )
    for source in ("return 7 // 2", "return 1 << 3", "local x <close> = nil"):
        with pytest.raises(LlmspellError) as info:
            await spell(source)
        assert info.value.code == "script_error" and info.value.details["syntax"]


async def test_numbers_are_doubles(spell) -> None:
    # one number type: an integral float comes back as an int, math.type calls it an integer
    assert await spell("return {1.0, math.type(1.0), 2^53 + 1 == 2^53}") == [1, "integer", True]
    assert type(await spell("return 1.0")) is int


async def test_the_sandbox_holds(spell) -> None:
    result = await spell(
        """
        return {type(jit), type(ffi), type(require), type(io), type(debug), type(python),
                type(string.dump), type(getfenv), type(setfenv), type(newproxy), type(package),
                (pcall(load, "\\27LJ", "x", "b"))}
        """
    )
    assert result == ["nil"] * 11 + [False]


def _run_isolated(source: str, limits: str) -> subprocess.CompletedProcess[str]:
    """Run a spell in a child process (a crash of the engine must not take the tests down)."""
    code = textwrap.dedent(
        f"""
        import trio
        from conftest import run_spell
        from llmspell.errors import LlmspellError
        try:
            print(trio.run(lambda: run_spell({source!r}, {limits})))
        except LlmspellError as err:
            print(err.code, err.details.get("limit"))
        print("alive")
        """
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=__file__.rsplit("/", 1)[0],
    )


def test_nested_coroutines_are_a_depth_limit_not_a_crash() -> None:
    # without the shim's nesting bound LuaJIT overflows the C stack: SIGSEGV
    out = _run_isolated("local function f() return coroutine.wrap(f)() end f()", "")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["limit", "max_depth", "alive"]


def test_running_out_of_memory_does_not_panic() -> None:
    # without the headroom after the limit, LuaJIT PANICs (exit status 1) in the clean-up
    out = _run_isolated(
        "local t = {} for i = 1, 1e9 do t[i] = {i} end", "memory_bytes=16 * 1024 * 1024"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["limit", "memory_bytes", "alive"]


HOT_LOOP = "local x = 0 for i = 1, 3e8 do x = x + i % 7 end return x > 0"


async def test_cpu_limit_stops_a_hot_loop_with_the_jit_off(spell) -> None:
    with pytest.raises(LlmspellError) as info:
        await spell(HOT_LOOP, cpu_seconds=0.1)
    assert info.value.code == "limit" and info.value.details["limit"] == "cpu_seconds"


class _JitBridge(LuaJITBridge):
    jit_with_limits = True


async def test_finding_count_hooks_do_not_fire_in_compiled_loops(spell, monkeypatch) -> None:
    """With the JIT on, the same loop runs to its end far past its CPU budget: the count hook
    never runs inside the compiled trace (an endless loop would never end)."""
    import llmspell_lua51.bridge as mod

    monkeypatch.setattr(mod._bridge, "LuaBridge", _JitBridge)
    started = time.process_time()
    assert await spell(HOT_LOOP, cpu_seconds=0.01) is True
    assert time.process_time() - started > 0.05  # five times the budget, at least


async def test_repl_runs_on_luajit() -> None:
    from llmspell.runtime import SpellRun
    from llmspell.scripting.session import ScriptSession
    from llmspell.testing import make_kernel
    from llmspell_lua51 import plugin

    kernel = make_kernel(plugins=[("lua51", plugin)])
    async with SpellRun.open(kernel, name="repl") as run:
        repl = LuaJITEngine().repl(ScriptSession(run, "repl"))
        assert isinstance(repl.bridge, LuaJITBridge)
        await repl.evaluate("x = 41")
        assert await repl.evaluate("x + 1") == 42
        assert await repl.evaluate("_VERSION") == "Lua 5.1"
        assert not repl.is_complete("for i = 1, 2 do")
