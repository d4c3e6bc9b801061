"""Values crossing the bridge: one canonical conversion, round trips, refusals."""

from __future__ import annotations

import math
from typing import Any

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st
from lua_spell_testing import new_spell

from llmspell.errors import LlmspellError

MAX = 2**53

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX, max_value=MAX)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=20,
)


def same(a: Any, b: Any) -> bool:
    """Equality that also checks int vs float and the sign of zero."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


ROUND_TRIP = """
local v = args.value
State.set("v", v, "spell")                         -- Lua -> host -> Lua
local back = State.get("v", "spell")
local text = JSON.stringify(back)                  -- through Python's json
Tool.define{name = "identity", description = "returns v", run = function(a) return a.v end}
local called = Tool.call("identity", {v = v})      -- Lua -> host -> Lua callback -> host -> Lua
return {direct = v, state = back, parsed = JSON.parse(text), callback = called}
"""


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_json_values_round_trip_through_lua(value):
    async def main() -> Any:
        return await new_spell().run(ROUND_TRIP, args={"value": value})

    out = trio.run(main)
    for key in ("direct", "state", "parsed", "callback"):
        assert same(out.get(key), value), (key, out.get(key), value)


async def test_null_members_are_absent_in_lua_and_null_again_on_the_way_back(spell):
    result = await spell.run(
        """
        local v = JSON.parse('{"a": null, "b": 1, "c": {"d": null}, "e": [{"f": null}]}')
        local absent = v.a == nil and v.c.d == nil and next(v.c) == nil
        v.b = nil                                   -- a member the spell removed stays removed
        local given = JSON.parse('{"g": null, "h": null}')
        given.g = 5                                 -- a value given by the spell wins
        local copy = {}
        for k, x in pairs(JSON.parse('{"i": null, "j": 2}')) do copy[k] = x end
        return {absent = absent, v = v, given = given, copy = copy, from_host = args.value}
        """,
        args={"value": {"k": None}},
    )
    assert result == {
        "absent": True,
        "v": {"a": None, "c": {"d": None}, "e": [{"f": None}]},
        "given": {"g": 5, "h": None},
        "copy": {"j": 2},  # a table built by the spell has only what it put there
        "from_host": {"k": None},
    }


async def test_integers_stay_integers_and_floats_stay_floats(spell):
    result = await spell.run(
        """
        local v = JSON.parse('[1, 1.0, 9007199254740992, -0.5]')
        return {math.type(v[1]), math.type(v[2]), math.type(v[3]), v[1], v[2], 2^53 == v[3]}
        """
    )
    assert result == ["integer", "float", "integer", 1, 1.0, True]
    assert type(result[4]) is float


async def test_null_sentinel_keeps_array_length(spell):
    result = await spell.run(
        """
        local v = JSON.parse("[1, null, 3]")
        local w = args.list
        return {#v, JSON.is_null(v[2]), #w, w[2] == JSON.null, tostring(JSON.null), v}
        """,
        args={"list": [None, None, 5]},
    )
    assert result == [3, True, 3, True, "null", [1, None, 3]]


async def test_empty_arrays_and_objects_keep_their_kind(spell):
    result = await spell.run(
        """
        State.set("e", {arr = JSON.parse("[]"), obj = JSON.parse("{}"), plain = {},
                        marked = JSON.array{}})
        local e = State.get("e")
        return {e = e, text = JSON.stringify(e), from_host = args.empty}
        """,
        args={"empty": []},
    )
    assert result == {
        "e": {"arr": [], "obj": {}, "plain": {}, "marked": []},
        "text": '{"arr":[],"marked":[],"obj":{},"plain":{}}',
        "from_host": [],
    }


async def test_tables_with_other_keys_become_objects(spell):
    result = await spell.run(
        """
        local sparse = {}
        sparse[1] = "a"; sparse[3] = "c"
        return {sparse = sparse, mixed = {1, 2, x = 3}, floaty = {[1.5] = true}}
        """
    )
    assert result == {
        "sparse": {"1": "a", "3": "c"},
        "mixed": {"1": 1, "2": 2, "x": 3},
        "floaty": {"1.5": True},
    }


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("math.maxinteger", "outside ±2^53"),
        ("(1 << 53) + 1", "outside ±2^53"),
        ("0/0", "not finite"),
        ("1/0", "not finite"),
        ("'\\xff\\xfe'", "UTF-8"),
        ("(function() local t = {}; t.self = t; return t end)()", "contains itself"),
        ("{[true] = 1}", "key of type"),
        ("print", "function cannot be converted"),
        ("coroutine.create(print)", "cannot be converted"),
    ],
)
async def test_values_that_cannot_cross_are_invalid_value(spell, expr, fragment):
    result = await spell.run(
        f"local ok, err = pcall(State.set, 'k', {expr})\n"
        "return {ok = ok, code = err.code, message = err.message}"
    )
    assert result["ok"] is False and result["code"] == "invalid_value", result
    assert fragment in result["message"]


async def test_large_host_integers_are_refused(spell):
    with pytest.raises(LlmspellError) as info:
        await spell.run("return args.big", args={"big": 2**60})
    assert info.value.code == "invalid_value"


async def test_a_returned_function_is_invalid_value(spell):
    with pytest.raises(LlmspellError) as info:
        await spell.run("return {f = print}")
    assert info.value.code == "invalid_value"
    assert "spell.lua" in info.value.message


async def test_json_parse_and_stringify_errors(spell):
    result = await spell.run(
        """
        local ok1, e1 = pcall(JSON.parse, "{bad")
        local ok2, e2 = pcall(JSON.parse, "NaN")
        local ok3, e3 = pcall(JSON.stringify, {f = print})
        local ok4, e4 = pcall(JSON.parse, 42)
        return {e1.code, e2.code, e3.code, e4.code, e1.message, e3.message}
        """
    )
    assert result[:4] == ["invalid_value", "invalid_value", "invalid_value", "invalid_args"]
    assert "line 1 column 2" in result[4]
    assert "function cannot be converted" in result[5]


async def test_handles_round_trip_as_tables_with_methods(spell):
    result = await spell.run(
        """
        local h = Task.spawn(function() return 1 end)
        local copy = JSON.parse(JSON.stringify(h))    -- a handle again, with its methods
        return {h:wait(), copy.kind, copy:wait()}
        """
    )
    assert result == [1, "task", 1]


async def test_a_non_utf8_argument_fails_only_its_own_request(spell):
    # such a request is read through a table (lupa cannot return the string as it is)
    result = await spell.run(
        """
        State.set("k", "v", "spell")
        local ok, err = pcall(State.get, "\\xff", "spell")
        local ok2, err2 = pcall(Tool.call, "record", {value = "\\xfe"})
        return {ok, err.code, ok2, err2.code, State.get("k", "spell")}
        """
    )
    assert result == [False, "invalid_value", False, "invalid_value", "v"]
    assert spell.recorder.calls == []


async def test_non_utf8_results_and_error_messages_are_llmspell_errors(spell):
    with pytest.raises(LlmspellError) as info:
        await spell.run('return "\\xff"')
    assert info.value.code == "invalid_value" and "UTF-8" in info.value.message
    with pytest.raises(LlmspellError) as info:
        await spell.run('error("bad \\xff byte")')
    assert info.value.code == "script_error"
    assert info.value.message == "spell.lua:1: bad ? byte"
