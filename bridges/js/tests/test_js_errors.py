"""Errors: one shape for host errors in JS, file:line for uncaught ones."""

from __future__ import annotations


async def test_host_error_shape_in_js(js):
    out = await js("""
        let r;
        try { await Tool.call("echo", {text: 5}) }
        catch (e) {
            r = {code: e.code, message: e.message, details: e.details,
                 isError: e instanceof Error, name: e.name};
        }
        export default r;
    """)
    res = out.result
    assert res["code"] == "invalid_args"
    assert "echo" in res["message"]
    assert res["details"]["tool"] == "echo"
    assert res["isError"] is True and res["name"] == "LlmspellError"


async def test_uncaught_host_error_keeps_its_code_and_names_the_line(js):
    out = await js("const a = 1;\n\nawait Tool.call('no_such_tool');\n", expect_error=True)
    assert out.error.code == "not_found"
    assert out.error.message.startswith("spell.js:3: ")
    assert out.error.details["line"] == 3 and out.error.details["file"] == "spell.js"


async def test_uncaught_throw_is_script_error_with_file_and_line(js):
    out = await js(
        "function inner() {\n  throw new TypeError('bad thing');\n}\n"
        "await Task.sleep(0);\ninner();",
        filename="my/spell.js", expect_error=True,
    )
    assert out.error.code == "script_error"
    assert out.error.message == "my/spell.js:2: TypeError: bad thing"
    assert out.error.details["where"] == "my/spell.js:2"


async def test_runtime_type_error(js):
    out = await js("const x = null;\nx.field;", expect_error=True)
    assert out.error.code == "script_error"
    assert out.error.message.startswith("spell.js:2: TypeError:")


async def test_syntax_error_names_file_and_line(js):
    out = await js("const ok = 1;\nconst = 2;\n", expect_error=True)
    assert out.error.code == "script_error"
    assert out.error.message.startswith("spell.js:2: SyntaxError:")


async def test_thrown_non_error_values(js):
    out = await js("throw 'plain text';", expect_error=True)
    assert out.error.code == "script_error" and "plain text" in out.error.message
    out = await js("throw {reason: 1};", expect_error=True)
    assert '{"reason":1}' in out.error.message


async def test_error_with_a_known_code_keeps_it(js):
    out = await js(
        "const e = new Error('custom');\ne.code = 'timeout';\ne.details = {s: 1};\nthrow e;",
        expect_error=True,
    )
    assert out.error.code == "timeout"
    assert out.error.details["s"] == 1 and out.error.details["line"] == 1


async def test_error_in_a_script_tool_reaches_the_caller(js):
    out = await js("""
        await Tool.define({name: "boom", description: "fails", run: () => {
            throw new RangeError("inside the tool");
        }});
        let err;
        try { await Tool.call("boom", {}) } catch (e) { err = [e.code, e.message] }
        export default err;
    """)
    code, message = out.result
    assert code == "script_error"
    assert "spell.js:3" in message and "inside the tool" in message


async def test_error_of_a_spawned_task_is_located_where_thrown(js):
    out = await js(
        "const h = Task.spawn(async () => {\n  await Task.sleep(0);\n"
        "  throw new Error('in task');\n});"
        "\nawait h;\n",
        expect_error=True,
    )
    assert out.error.code == "script_error"
    assert out.error.message == "spell.js:3: Error: in task"


async def test_importing_modules_fails(js):
    out = await js("import fs from 'fs';\nexport default fs;", expect_error=True)
    assert out.error.code == "script_error" and "fs" in out.error.message
    assert out.error.message.startswith("spell.js:1:") and out.error.details["line"] == 1


async def test_failed_dynamic_import_names_its_line(js):
    # QuickJS gives the loader's error no stack: the line is that of the spell's import
    out = await js("await Task.sleep(0);\nconst m = await import('os');\nexport default m;",
                   expect_error=True)
    assert out.error.code == "script_error" and "'os'" in out.error.message
    assert out.error.message.startswith("spell.js:2:") and out.error.details["line"] == 2


async def test_bad_arguments_reject_with_invalid_args(js):
    out = await js("""
        const codes = [];
        for (const p of [Task.sleep(-1), Task.sleep("x"), State.get(), Tool.define({name: "x"}),
                         Hook.on("no_such_point", () => {}), Event.emit("")]) {
            try { await p; codes.push("ok") } catch (e) { codes.push(e.code) }
        }
        let spawnError;
        try { Task.spawn(42) } catch (e) { spawnError = e.code }
        export default {codes, spawnError};
    """)
    codes = out.result["codes"]
    assert codes[:2] == ["invalid_args", "invalid_args"]
    assert codes[3] == "invalid_args" and codes[4] == "not_found"
    assert all(c != "ok" for c in codes[3:])
    assert out.result["spawnError"] == "invalid_args"


async def test_non_functions_where_functions_are_needed(js):
    out = await js("""
        const codes = [];
        for (const p of [Event.on("x.*", 42), Hook.on("before_tool_call", "nope"),
                         Task.timeout(1, null), Tool.define({name: "t", run: 1})]) {
            try { await p; codes.push("ok") } catch (e) { codes.push(e.code + ":" + e.message) }
        }
        export default codes;
    """)
    assert [c.split(":")[0] for c in out.result] == ["invalid_args"] * 4
    assert "must be a function, got a number" in out.result[0]
