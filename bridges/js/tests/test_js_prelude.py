"""The prelude as bytecode (``llmspell_js._native``) and the driver's fast paths: every context
gets the same prelude whichever way it was made, and none of the shortcuts is visible to a
spell."""

from __future__ import annotations

import json

import quickjs

from llmspell_js import _native
from llmspell_js import engine as js_engine

# what a spell can see of the prelude: its globals, their keys and the shape of the API
SURVEY = """
JSON.stringify({
  globals: Object.getOwnPropertyNames(globalThis).sort(),
  api: ["Tool", "Agent", "Workflow", "State", "Artifact", "Event", "Hook", "Task", "Log",
        "console"]
    .map((name) => [name, Object.isFrozen(globalThis[name]), Object.keys(globalThis[name])]),
  driver: Object.keys(__llmspell).sort(),
  args: typeof args,
  boot: typeof __llmspell_boot,
})
"""


def _survey(ctx: object, driver: object) -> dict:
    driver("init")("{}")  # type: ignore[operator]
    return json.loads(ctx.eval(SURVEY))  # type: ignore[attr-defined]


def test_the_binding_is_the_one_the_native_loader_was_written_for():
    # if this fails, every context compiles the prelude from source (correct, but slow)
    assert _native.loader() is not None


def test_bytecode_contexts_see_the_same_prelude_as_source():
    from_source = quickjs.Context()
    expected = _survey(from_source, from_source.eval(js_engine.PRELUDE))
    loader = js_engine.PreludeLoader()
    for _ in range(3):  # the first context compiles, the next ones load the bytecode
        ctx, driver, guard = loader.new_context()
        assert isinstance(guard, _native.SliceGuard)
        assert _survey(ctx, driver) == expected
    assert loader.code is not None
    assert expected["boot"] == "undefined"


def test_a_loader_that_cannot_boot_falls_back_to_the_source():
    loader = js_engine.PreludeLoader()
    loader.checked = True  # as if _native.loader() found another binding
    ctx, driver, guard = loader.new_context()
    assert guard is None
    assert _survey(ctx, driver)["args"] == "object"


async def test_results_of_every_kind_settle_their_promises(js):
    # primitives settle without a time limit, objects and errors with one
    out = await js("""
        await State.set("s", "text", "spell");
        await State.set("n", 3, "spell");
        await State.set("f", 2.5, "spell");
        await State.set("b", false, "spell");
        await State.set("o", {a: [1, {}]}, "spell");
        const got = [];
        for (const key of ["s", "n", "f", "b", "o", "missing"]) {
          got.push(await State.get(key, "spell"));
        }
        let code = null;
        try { await Tool.call("no such tool", {}) } catch (e) { code = e.code }
        export default [got, code];
    """)
    assert out.result == [["text", 3, 2.5, False, {"a": [1, {}]}, None], "not_found"]


async def test_replaced_builtins_do_not_reach_the_driver(js):
    # the driver settles plain results without a time limit: nothing a spell can replace may
    # run there, and the spell's own replacements keep working for the spell
    out = await js("""
        Map.prototype.get = () => { throw new Error("Map.prototype.get ran") };
        Set.prototype.has = () => { throw new Error("Set.prototype.has ran") };
        String.prototype.indexOf = () => { throw new Error("indexOf ran") };
        Array.prototype.join = () => { throw new Error("join ran") };
        await State.set("k", "v", "spell");
        const values = [];
        for (let i = 0; i < 3; i++) values.push(await State.get("k", "spell"));
        export default values;
    """)
    assert out.result == ["v", "v", "v"]


async def test_arguments_cross_the_same_with_and_without_the_fast_encoding(js):
    out = await js("""
        const calls = [
          ["a", "b\\"c\\\\d\\n\\u0001", null, undefined, true, 0, -0, 1.5, 2 ** 53, -(2 ** 53)],
          ["\\ud83d\\ude00"],
          [{nested: [undefined, 1], gone: undefined}],
        ];
        const back = [];
        for (const value of calls) {
          await State.set("k", value, "spell");
          back.push(await State.get("k", "spell"));
        }
        let big = null;
        try { await State.set("k", [2 ** 53 + 2], "spell") } catch (e) { big = e.code }
        export default [back, big];
    """)
    back, big = out.result
    assert back[0] == ["a", 'b"c\\d\n\u0001', None, None, True, 0, 0, 1.5, 2**53, -(2**53)]
    assert back[1] == ["\U0001f600"]
    assert back[2] == [{"nested": [None, 1], "gone": None}]
    assert big == "invalid_value"


async def test_host_errors_name_the_line_of_the_call(js):
    out = await js(
        "const wrap = (name) => Tool.call(name, {});\n"
        "await State.set('k', 1, 'spell');\n"
        "let where = null;\n"
        "try { await [0].map(() => wrap('missing'))[0] } catch (e) { where = e.stack }\n"
        "await Tool.call('missing too', {});\n",
        expect_error=True,
    )
    assert out.error.code == "not_found"
    assert out.error.message.startswith("spell.js:5:"), out.error.message
    assert out.error.details["line"] == 5
