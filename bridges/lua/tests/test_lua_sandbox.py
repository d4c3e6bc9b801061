"""The sandbox: what a spell can and cannot reach."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "name",
    [
        "io",
        "debug",
        "package",
        "require",
        "dofile",
        "loadfile",
        "python",
        "module",
        "setfenv",
        "loadstring",
        "jit",
        "ffi",
    ],
)
async def test_dangerous_globals_are_absent(spell, name):
    assert await spell.run(f"return {name} == nil and _G.{name} == nil") is True


async def test_os_has_only_time_clock_date(spell):
    result = await spell.run(
        """
        local names = {}
        for k in pairs(os) do names[#names + 1] = k end
        table.sort(names)
        return {names = names, execute = os.execute == nil, getenv = os.getenv == nil,
                t = math.type(os.time()), c = type(os.clock()), d = type(os.date("%Y"))}
        """
    )
    assert result == {
        "names": ["clock", "date", "time"],
        "execute": True,
        "getenv": True,
        "t": "integer",
        "c": "number",
        "d": "string",
    }


async def test_no_bytecode(spell):
    result = await spell.run(
        """
        local f = function() return 1 end
        local dump_missing = string.dump == nil and ("").dump == nil
          and getmetatable("").__index.dump == nil
        local bytecode = "\\27Lua\\84\\0\\25\\147\\13\\10\\26\\10"
        local f1, e1 = load(bytecode)
        local ok2, e2 = pcall(load, "return 1", "x", "b")
        local ok3, e3 = pcall(load, "return 1", "x", "bt")
        return {dump_missing, f1 == nil, tostring(e1), ok2, ok3, load("return 41 + 1")()}
        """
    )
    assert result[0] is True and result[1] is True
    assert "binary" in result[2]
    assert result[3] is False and result[4] is False
    assert result[5] == 42


async def test_loaded_chunks_run_in_the_sandbox(spell):
    result = await spell.run(
        """
        local f = load("return io, os.execute, Tool ~= nil, x")
        local io_, exec, tool = f()
        local g = load("x = 5; return x", "chunk", "t", {})
        return {io_ == nil, exec == nil, tool, g()}
        """
    )
    assert result == [True, True, True, 5]


async def test_collectgarbage_is_restricted(spell):
    result = await spell.run(
        """
        local ok, err = pcall(collectgarbage, "stop")
        return {ok, type(collectgarbage("count")), string.find(err, "not allowed") ~= nil}
        """
    )
    assert result == [False, "number", True]


async def test_gc_metamethods_are_refused(spell):
    result = await spell.run(
        "local ok, err = pcall(setmetatable, {}, {__gc = function() end})\n"
        "return {ok, setmetatable({}, {__index = {a = 1}}).a}"
    )
    assert result == [False, 1]


async def test_no_python_objects_are_reachable(spell):
    result = await spell.run(
        """
        local found = {}
        local seen = {}
        local function walk(t, path, depth)
          if seen[t] or depth > 6 then return end
          seen[t] = true
          for k, v in pairs(t) do
            local tv = type(v)
            if tv == "userdata" then found[#found + 1] = path .. "." .. tostring(k) end
            if tv == "table" then walk(v, path .. "." .. tostring(k), depth + 1) end
          end
          local mt = getmetatable(t)
          if type(mt) == "table" then walk(mt, path .. "<mt>", depth + 1) end
        end
        walk(_G, "_G", 0)
        walk(getmetatable(""), "string_mt", 0)
        local h = Task.spawn(function() end)
        walk(h, "handle", 0)
        return found
        """
    )
    assert result == {} or result == []


async def test_host_errors_never_carry_python_objects(spell):
    result = await spell.run(
        """
        local ok, err = pcall(Tool.call, "fail", {})
        local kinds = {}
        for k, v in pairs(err) do kinds[#kinds + 1] = k .. ":" .. type(v) end
        table.sort(kinds)
        return kinds
        """
    )
    assert result == ["code:string", "details:table", "message:string"]


async def test_python_escape_attempts_fail(spell):
    result = await spell.run(
        """
        local attempts = {
          function() return python.eval("1") end,
          function() return python.builtins.open end,
          function() return _G.python end,
          function() return require("python") end,
          function() return package.loaded end,
          function() return debug.getregistry() end,
        }
        local out = {}
        for i, f in ipairs(attempts) do
          local ok, v = pcall(f)
          out[i] = ok and v == nil or not ok
        end
        return out
        """
    )
    assert result == [True] * 6


async def test_json_null_is_read_only(spell):
    result = await spell.run(
        "local ok = pcall(function() JSON.null.x = 1 end)\nreturn {ok, getmetatable(JSON.null)}"
    )
    assert result == [False, "JSON.null"]


async def test_each_spell_gets_a_fresh_runtime(spell):
    await spell.run("string.upper = nil; shared = 1")
    assert await spell.run("return {string.upper('a'), shared == nil}") == ["A", True]
