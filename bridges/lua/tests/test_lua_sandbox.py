"""The sandbox: what a spell can and cannot reach."""

from __future__ import annotations

import re

import pytest

from llmspell.errors import LlmspellError


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


#: the header of a Lua 5.4 binary chunk (what string.dump would have produced)
BYTECODE = r'"\27Lua\84\0\25\147\13\10\26\10\4\8\8\120\86\0\0\0\0\0\0\0\0\0\0\0\40\119\64\1"'
#: (id, spell, error code, regex the message must match): each attempt run uncaught
ESCAPES = [
    (
        "io.open",
        'return io.open("/etc/passwd")',
        "script_error",
        r"attempt to index a nil value \(global 'io'\)",
    ),
    (
        "io.popen via _G",
        'return _G.io.popen("id")',
        "script_error",
        r"attempt to index a nil value \(field 'io'\)",
    ),
    (
        "os.execute",
        'return os.execute("id")',
        "script_error",
        r"attempt to call a nil value \(field 'execute'\)",
    ),
    (
        "os.getenv",
        'return os.getenv("HOME")',
        "script_error",
        r"attempt to call a nil value \(field 'getenv'\)",
    ),
    (
        "os.remove",
        'return os.remove("/tmp/x")',
        "script_error",
        r"attempt to call a nil value \(field 'remove'\)",
    ),
    (
        "require",
        'return require("os")',
        "script_error",
        r"attempt to call a nil value \(global 'require'\)",
    ),
    (
        "dofile",
        'return dofile("/etc/passwd")',
        "script_error",
        r"attempt to call a nil value \(global 'dofile'\)",
    ),
    (
        "loadfile",
        'return loadfile("/etc/passwd")',
        "script_error",
        r"attempt to call a nil value \(global 'loadfile'\)",
    ),
    (
        "load mode b",
        'return load("return 1", "x", "b")',
        "script_error",
        r'load: only text chunks are allowed \(mode "t"\), not b',
    ),
    (
        "load binary chunk",
        f"return assert(load({BYTECODE}))",
        "script_error",
        r"attempt to load a binary chunk \(mode is 't'\)",
    ),
    (
        "load binary with env",
        f"return assert(load({BYTECODE}, 'x', 't', {{}}))",
        "script_error",
        r"attempt to load a binary chunk",
    ),
    (
        "string.dump",
        "return string.dump(print)",
        "script_error",
        r"attempt to call a nil value \(field 'dump'\)",
    ),
    (
        "string.dump method",
        'return ("").dump(print)',
        "script_error",
        r"attempt to call a nil value \(field 'dump'\)",
    ),
    (
        "string metatable dump",
        'return getmetatable("").__index.dump(print)',
        "script_error",
        r"attempt to call a nil value \(field 'dump'\)",
    ),
    (
        "python.eval",
        'return python.eval("1")',
        "script_error",
        r"attempt to index a nil value \(global 'python'\)",
    ),
    (
        "python.builtins",
        "return python.builtins.open",
        "script_error",
        r"attempt to index a nil value \(global 'python'\)",
    ),
    (
        "rawget python",
        'return rawget(_G, "python").eval("1")',
        "script_error",
        r"attempt to index a nil value",
    ),
    (
        "handle __class__",
        "local h = Task.spawn(function() end) return h.__class__.__mro__",
        "script_error",
        r"attempt to index a nil value \(field '__class__'\)",
    ),
    (
        "handle method __globals__",
        "local h = Task.spawn(function() end) return h.wait.__globals__",
        "script_error",
        r"attempt to index a function value \(field 'wait'\)",
    ),
    (
        "callback table via metatable",
        "local h = Task.spawn(function() end) return getmetatable(h).__index.wait.__globals__",
        "script_error",
        r"attempt to index a function value \(field 'wait'\)",
    ),
    (
        "host error __class__",
        'local ok, e = pcall(Tool.call, "fail", {}) return e.__class__.__init__',
        "script_error",
        r"attempt to index a nil value \(field '__class__'\)",
    ),
    (
        "host result __globals__",
        "local r = Tool.list() return r.__globals__.os",
        "script_error",
        r"attempt to index a nil value \(field '__globals__'\)",
    ),
    (
        "prelude function __globals__",
        "return Tool.call.__globals__",
        "script_error",
        r"attempt to index a function value \(field 'call'\)",
    ),
    (
        "debug.getregistry",
        "return debug.getregistry()",
        "script_error",
        r"attempt to index a nil value \(global 'debug'\)",
    ),
    (
        "debug.sethook",
        "return debug.sethook()",
        "script_error",
        r"attempt to index a nil value \(global 'debug'\)",
    ),
    (
        "package.loaded",
        "return package.loaded.os",
        "script_error",
        r"attempt to index a nil value \(global 'package'\)",
    ),
    (
        "collectgarbage stop",
        'return collectgarbage("stop")',
        "script_error",
        r"collectgarbage: option 'stop' is not allowed in spells",
    ),
    (
        "collectgarbage generational",
        'return collectgarbage("generational")',
        "script_error",
        r"option 'generational' is not allowed",
    ),
    (
        "__gc finalizer",
        "return setmetatable({}, {__gc = function() while true do end end})",
        "script_error",
        r"__gc metamethods are not allowed",
    ),
    ("JSON.null field", "JSON.null.x = 1", "script_error", r"JSON.null is read-only"),
    (
        "JSON.null metatable",
        "return setmetatable(JSON.null, {})",
        "script_error",
        r"cannot change a protected metatable",
    ),
    (
        "load nil env",
        'return load("return io", "x", "t", nil)()',
        "script_error",
        r"attempt to index a nil value \(upvalue '_ENV'\)",
    ),
    (
        "load custom env _G",
        'return load("return _G.io.open", "x", "t", {})()',
        "script_error",
        r"attempt to index a nil value \(global '_G'\)",
    ),
    (
        "load custom env getmetatable",
        "return load(\"return getmetatable('').__index.dump(print)\", 'x', 't',"
        " {getmetatable = getmetatable})()",
        "script_error",
        r"attempt to call a nil value \(field 'dump'\)",
    ),
    (
        "_ENV replacement",
        "local _ENV = setmetatable({}, {__index = _G}) return io.open",
        "script_error",
        r"attempt to index a nil value \(global 'io'\)",
    ),
    (
        "forged bridge request",
        'coroutine.yield({__bridge = {}, op = "state.get", args = {n = 1, "k"}})',
        "script_error",
        r"coroutine.yield was called outside a coroutine",
    ),
]


@pytest.mark.parametrize(
    ("source", "code", "message"),
    [pytest.param(s, c, m, id=i) for i, s, c, m in ESCAPES],
)
async def test_escape_attempts_are_refused_with_a_clear_error(spell, source, code, message):
    with pytest.raises(LlmspellError) as info:
        await spell.run(source)
    err = info.value
    assert err.code == code, err
    assert re.search(message, err.message), err.message
    assert err.message.startswith("spell.lua"), err.message
    # nothing leaked: the next spell on the same kernel sees a clean sandbox
    assert await spell.run("return io == nil and python == nil and debug == nil") is True


async def test_replacing_prelude_internals_does_not_affect_the_host(spell):
    result = await spell.run(
        """
        local T, S, J, Tl, pc = Task, State, JSON, Tool, pcall
        local real_null = JSON.null
        local ok_def = Tool.define{name = "echo", description = "e",
          run = function(args) return {got = args.x, list = JSON.parse("[1, null, 3]")} end}
        -- vandalise everything the spell can reach
        Tool = nil
        JSON.null = "fake null"
        JSON.is_null = function() return false end
        coroutine.resume = function() error("hijacked resume") end
        coroutine.wrap = function() error("hijacked wrap") end
        coroutine.create = function() error("hijacked create") end
        getmetatable("").__index = {}
        setmetatable(_G, {__index = function(_, k) error("hooked global " .. tostring(k)) end,
                          __newindex = function() error("no new globals") end})
        -- the host still works, tasks and script tools included
        local h = T.spawn(function() S.set("k", {1, real_null, 3}, "spell") return "spawned" end)
        local r = Tl.call("echo", {x = 7})
        local spawned = h:wait()
        local back = S.get("k", "spell")
        return {spawned, r.got, rawequal(r.list[2], real_null), #r.list,
                rawequal(back[2], real_null), J.stringify(back), T.all{function() return 1 end}[1]}
        """
    )
    assert result == ["spawned", 7, True, 3, True, "[1,null,3]", 1]


async def test_a_forged_bridge_request_is_not_forwarded(spell):
    # only requests carrying the prelude's private token reach the driver
    result = await spell.run(
        """
        local co = coroutine.wrap(function()
          coroutine.yield({__bridge = {}, op = "print", args = {n = 1, "forged"}})
          return "end"
        end)
        local first = co()
        return {first.op, co()}
        """
    )
    assert result == ["print", "end"]
    assert spell.output == []
