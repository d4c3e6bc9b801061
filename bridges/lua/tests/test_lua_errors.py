"""Error shape in Lua and errors leaving the spell (code, message naming file:line)."""

from __future__ import annotations

import pytest

from llmspell.errors import LlmspellError


async def test_host_errors_are_tables_with_code_message_details(spell):
    result = await spell.run(
        """
        local ok, err = pcall(Tool.call, "add", {a = "x"})
        return {ok = ok, code = err.code, has_message = type(err.message) == "string",
                details = type(err.details), text = tostring(err)}
        """
    )
    assert result["ok"] is False
    assert result["code"] == "invalid_args"
    assert result["has_message"] is True and result["details"] == "table"
    assert result["text"].startswith("invalid_args: ")


async def test_tool_failure_is_tool_error_with_details(spell):
    result = await spell.run(
        """
        local ok, err = pcall(Tool.call, "fail", {})
        return {err.code, err.details.tool, err.details.type}
        """
    )
    assert result == ["tool_error", "fail", "ValueError"]


async def test_error_can_be_rethrown_and_caught_by_xpcall(spell):
    result = await spell.run(
        """
        local ok, msg = xpcall(function() Tool.call("nope") end,
                               function(e) return "handled " .. e.code end)
        local ok2, again = pcall(function()
          local _, e = pcall(Tool.call, "nope")
          error(e)
        end)
        return {msg, again.code}
        """
    )
    assert result == ["handled not_found", "not_found"]


async def test_uncaught_host_error_keeps_its_code_and_names_file_and_line(spell):
    with pytest.raises(LlmspellError) as info:
        await spell.run('local x = 1\n\nTool.call("nope", {})\n', filename="demo.lua")
    err = info.value
    assert err.code == "not_found"
    assert err.message.startswith("demo.lua:3: no tool 'nope'")
    assert err.details["file"] == "demo.lua" and err.details["line"] == 3


async def test_uncaught_error_string_is_script_error(spell):
    with pytest.raises(LlmspellError) as info:
        await spell.run('local x = 1\nerror("boom")\n')
    assert info.value.code == "script_error"
    assert info.value.message == "spell.lua:2: boom"
    assert info.value.details["line"] == 2


async def test_runtime_error_names_file_and_line(spell):
    with pytest.raises(LlmspellError) as info:
        await spell.run("local t = nil\n\nreturn t.x\n", filename="dir/r.lua")
    assert info.value.code == "script_error"
    assert info.value.message.startswith("dir/r.lua:3: attempt to index a nil value")


async def test_error_with_level_zero_and_non_string_values_still_name_the_file(spell):
    with pytest.raises(LlmspellError) as info:
        await spell.run('\nerror("plain", 0)\n')
    assert info.value.message == "spell.lua:2: plain"
    with pytest.raises(LlmspellError) as info:
        await spell.run("error({1, 2})")
    assert info.value.code == "script_error"
    assert info.value.message.startswith("spell.lua:1: error object: table")


async def test_script_error_tables_with_a_code(spell):
    with pytest.raises(LlmspellError) as info:
        await spell.run('error({code = "my_code", message = "custom", details = {n = 1}})')
    assert info.value.code == "script_error"
    assert info.value.message == "spell.lua:1: custom"
    assert info.value.details == {"n": 1, "error_code": "my_code", "file": "spell.lua", "line": 1}
    with pytest.raises(LlmspellError) as info:
        await spell.run('\nerror({code = "timeout", message = "too slow"})')
    assert info.value.code == "timeout"
    assert info.value.message == "spell.lua:2: too slow"


async def test_syntax_error_names_file_and_line(spell):
    with pytest.raises(LlmspellError) as info:
        await spell.run("local a = 1\nlocal b = = 2\n", filename="bad.lua")
    assert info.value.code == "script_error"
    assert info.value.message.startswith("bad.lua:2:")
    assert info.value.details["line"] == 2 and info.value.details["syntax"] is True


async def test_long_file_names_are_shown_in_full(spell):
    name = "a/" + "very-long-directory-name/" * 4 + "spell.lua"
    with pytest.raises(LlmspellError) as info:
        await spell.run("\nerror('x')", filename=name)
    assert info.value.message == f"{name}:2: x"


async def test_error_in_a_script_tool_reaches_the_caller(spell):
    result = await spell.run(
        """
        Tool.define{name = "broken", description = "b", run = function(args)
          error("inside the tool")
        end}
        local ok, err = pcall(Tool.call, "broken", {})
        return {err.code, err.message}
        """
    )
    assert result[0] == "script_error"
    assert result[1] == "spell.lua:3: inside the tool"


async def test_shebang_line_is_ignored(spell):
    assert await spell.run("#!/usr/bin/env llmspell\nreturn 1") == 1


async def test_hint_survives_the_round_trip(spell, monkeypatch):
    monkeypatch.delenv("LLMSPELL_MODEL", raising=False)
    with pytest.raises(LlmspellError) as info:
        await spell.run('local ok, e = pcall(Agent.create, {name = "a"})\nerror(e)')
    assert info.value.code == "config_error"
    assert info.value.hint is not None


async def test_hostile_error_objects_run_no_code_outside_the_limits(spell):
    source = (
        "local evil = function() while true do end end\n"
        "error(setmetatable({}, {__index = evil, __tostring = evil, __name = 'Evil'}))\n"
    )
    with pytest.raises(LlmspellError) as info:
        await spell.run(source)
    assert info.value.code == "script_error"
    assert info.value.message == "spell.lua:2: error object: Evil"
