"""Values crossing the bridge: only JSON, exactly, in both directions."""

from __future__ import annotations

import math

import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import llmspell_tools_core.plugin as tools_core
from llmspell.errors import LlmspellError
from llmspell.runtime import SpellRun
from llmspell.testing import make_kernel
from llmspell_js import JsEngine

MAX = 2**53

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX, max_value=MAX)
    | st.floats(allow_nan=False, allow_infinity=False).filter(
        lambda f: not (f.is_integer() and abs(f) > MAX)  # such a JS number cannot go back
    )
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=20,
)

ROUND_TRIP = """
await State.set("v", args.v);
const stored = await State.get("v");
const echoed = await Task.spawn(async (x) => x, args.v);
export default {direct: args.v, stored, echoed, again: JSON.parse(JSON.stringify(stored))};
"""

KERNEL = make_kernel(plugins=[("tools-core", tools_core)])


def same(a, b) -> bool:
    """Equal as JSON data (JS has one number type: 1.0 comes back as 1, -0.0 as 0)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b and not (isinstance(a, float) and math.isnan(a))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


async def run_spell(source: str, args=None):
    async with SpellRun.open(KERNEL, name="v.js", args=args) as run:
        return await JsEngine(output=lambda _: None).run(source, "v.js", run)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_json_values_round_trip(value):
    out = trio.run(run_spell, ROUND_TRIP, {"v": value})
    for key in ("direct", "stored", "echoed", "again"):
        assert same(out[key], value), (key, out[key], value)


async def test_empty_arrays_and_objects_keep_their_kind(js):
    out = await js("""
        await State.set("e", {a: [], o: {}, n: [[], {}]});
        const v = await State.get("e");
        export default [Array.isArray(v.a), Array.isArray(v.o), v.n.map(Array.isArray), v];
    """)
    assert out.result == [True, False, [True, False], {"a": [], "o": {}, "n": [[], {}]}]


async def test_undefined_becomes_null(js):
    out = await js("""
        await State.set("u", [1, undefined, {a: undefined, b: 2}]);
        export default {v: await State.get("u"), top: undefined};
    """)
    assert out.result == {"v": [1, None, {"a": None, "b": 2}], "top": None}


async def test_large_integer_from_js_is_invalid_value(js):
    out = await js("""
        let code, message;
        try { await State.set("big", {n: 2 ** 60}) }
        catch (e) { code = e.code; message = e.message }
        const ok = await State.set("edge", 2 ** 53).then(() => "ok");
        export default {code, big: message.includes("2^53"), ok, back: await State.get("edge")};
    """)
    assert out.result == {"code": "invalid_value", "big": True, "ok": "ok", "back": 2**53}


async def test_large_integer_result_of_the_spell_is_an_error(js):
    out = await js("export default 2 ** 60;", expect_error=True)
    assert out.error.code == "invalid_value"


async def test_nan_and_infinity_are_invalid_value(js):
    # JSON.stringify would make them null: they are refused, as in every engine
    out = await js("""
        const codes = [];
        for (const v of [NaN, Infinity, -Infinity]) {
            try { await State.set("n", {v: [v]}); codes.push("ok") }
            catch (e) { codes.push(e.code) }
        }
        export default codes;
    """)
    assert out.result == ["invalid_value"] * 3


#: values that JSON.stringify would silently turn into something else -> what the refusal says
NOT_JSON = {
    "new Uint8Array([1, 2, 3])": "binary data (a typed array or DataView) cannot cross to the "
                                 "host: encode it as base64 text",
    "new DataView(new ArrayBuffer(2))": "binary data (a typed array or DataView)",
    "new ArrayBuffer(4)": "an ArrayBuffer cannot cross",
    "new SharedArrayBuffer(4)": "a SharedArrayBuffer cannot cross",
    "new Map([[1, 2]])": "a Map cannot cross to the host: only JSON data can",
    "new Set([1])": "a Set cannot cross",
    "new WeakMap()": "a WeakMap cannot cross",
    "new WeakSet()": "a WeakSet cannot cross",
    "Promise.resolve(1)": "a Promise cannot cross to the host: await it first",
    "Symbol('s')": "Symbol(s) cannot cross",
    "{list: [1, {deep: new Map()}]}": "a Map cannot cross",
}


@pytest.mark.parametrize("value", list(NOT_JSON))
async def test_values_json_would_mangle_are_refused(js, value):
    out = await js(f"""
        let error;
        try {{ await State.set("k", {value}, "spell") }} catch (e) {{ error = [e.code, e.message] }}
        export default [error, await State.get("k", "spell")];
    """)
    [code, message], stored = out.result
    assert (code, stored) == ("invalid_value", None)
    assert NOT_JSON[value] in message


async def test_the_refusal_does_not_run_iterators_a_spell_replaced(js):
    out = await js("""
        Array.prototype[Symbol.iterator] = function* () { throw new Error("hijacked") };
        let r; try { await State.set("k", new Map(), "spell") } catch (e) { r = e.message }
        export default r;
    """)
    assert out.result == "a Map cannot cross to the host: only JSON data can"


async def test_a_spell_result_json_would_mangle_fails_the_spell(js):
    out = await js("export default {bytes: new Uint8Array(2)};", expect_error=True)
    assert out.error.code == "invalid_value"
    assert "base64" in out.error.message


async def test_objects_of_other_kinds_cross_as_json_makes_them(js):
    # what JSON.stringify does to them is standard and loses nothing a spell did not choose
    out = await js("""
        class Point { constructor() { this.x = 1; this.y = 2 } }
        const bare = Object.create(null); bare.a = 1;
        await State.set("k", [new Date(0), new Point(), bare, new Error("e")], "spell");
        export default await State.get("k", "spell");
    """)
    assert out.result == ["1970-01-01T00:00:00.000Z", {"x": 1, "y": 2}, {"a": 1}, {}]


async def test_bigint_is_invalid_value(js):
    out = await js("""
        let code;
        try { await State.set("b", 10n) } catch (e) { code = e.code }
        export default code;
    """)
    assert out.result == "invalid_value"


async def test_large_integer_from_python_is_invalid_value(js):
    out = await js("export default 1;", args={"n": 2**60}, expect_error=True)
    assert out.error.code == "invalid_value"


async def test_host_result_too_large_rejects(js):
    out = await js("""
        let code;
        try { await Tool.call("calculator", {expression: "2 ** 60"}) } catch (e) { code = e.code }
        const small = await Tool.call("calculator", {expression: "2 ** 40"});
        export default {code, small};
    """)
    assert out.result["code"] == "invalid_value"
    assert "1099511627776" in str(out.result["small"])


async def test_non_json_values_from_python_are_invalid_value():
    from llmspell_js.engine import dumps

    for bad in (float("nan"), {"x": object()}, [2**54]):
        try:
            dumps(bad)
        except LlmspellError as err:
            assert err.code == "invalid_value"
        else:
            raise AssertionError(bad)


async def test_handles_cross_as_objects(js, provider):
    out = await js("""
        const a = await Agent.create({name: "h", model: "scripted/x"});
        const again = await Agent.get("h");
        export default {a, json: JSON.parse(JSON.stringify(again)), keys: Object.keys(a)};
    """)
    res = out.result
    assert res["a"]["kind"] == "agent" and res["a"]["name"] == "h" and "__handle" in res["a"]
    assert res["json"]["kind"] == "agent"
    assert res["keys"] == ["kind", "name"]
