"""The sandbox: nothing beyond ECMAScript builtins and the spell API."""

from __future__ import annotations

ECMASCRIPT = {
    "Object", "Function", "Array", "Number", "parseFloat", "parseInt", "Infinity", "NaN",
    "undefined", "Boolean", "String", "Symbol", "Date", "Promise", "RegExp", "Error",
    "AggregateError", "EvalError", "RangeError", "ReferenceError", "SyntaxError", "TypeError",
    "URIError", "InternalError", "SuppressedError", "globalThis", "JSON", "Math", "Intl",
    "ArrayBuffer", "Atomics", "Uint8Array", "Int8Array", "Uint16Array", "Int16Array",
    "Uint32Array", "Int32Array", "Float16Array", "Float32Array", "Float64Array",
    "Uint8ClampedArray", "BigUint64Array", "BigInt64Array", "DataView", "Map", "BigInt", "Set",
    "WeakMap", "WeakSet", "Proxy", "Reflect", "FinalizationRegistry", "WeakRef", "decodeURI",
    "decodeURIComponent", "encodeURI", "encodeURIComponent", "escape", "unescape", "eval",
    "isFinite", "isNaN", "SharedArrayBuffer", "Iterator", "DisposableStack",
    "AsyncDisposableStack",
}
SPELL_API = {"Tool", "Agent", "Workflow", "State", "Event", "Hook", "Task", "Log", "print",
             "console", "args", "__llmspell"}


async def test_only_ecmascript_and_the_spell_api_are_global(js):
    out = await js("export default Object.getOwnPropertyNames(globalThis);")
    extra = set(out.result) - ECMASCRIPT - SPELL_API
    assert not extra, extra


async def test_no_host_modules_or_io(js):
    out = await js("""
        const names = ["std", "os", "require", "process", "performance", "setTimeout", "fetch",
                       "XMLHttpRequest", "scriptArgs", "Deno", "Bun", "atob", "btoa",
                       "queueMicrotask", "DOMException", "python", "quickjs"];
        const present = names.filter((n) => typeof globalThis[n] !== "undefined");
        const imports = [];
        for (const m of ["std", "os", "qjs:std", "qjs:os", "qjs:bjson", "fs"]) {
            try { await import(m); imports.push(m) } catch (e) { }
        }
        export default {present, imports};
    """)
    assert out.result == {"present": [], "imports": []}


async def test_static_import_of_a_host_module_fails(js):
    out = await js("import * as std from 'qjs:std';\nstd.exit(1);", expect_error=True)
    assert out.error.code == "script_error"


async def test_the_driver_cannot_be_replaced(js):
    out = await js("""
        let replaced = true;
        try { globalThis.__llmspell = {}; } catch (e) { replaced = false }
        export default {replaced, same: typeof globalThis.__llmspell.take,
                        r: await Tool.call("echo", {text: "ok"})};
    """)
    assert out.result == {"replaced": False, "same": "function", "r": "ok"}


async def test_replacing_json_does_not_break_the_bridge(js):
    out = await js("""
        JSON.stringify = () => "garbage";
        JSON.parse = () => 42;
        export default await Tool.call("echo", {text: "still works"});
    """)
    assert out.result == "still works"


async def test_each_run_has_a_fresh_context(js):
    await js("globalThis.leak = 'secret'; Object.prototype.polluted = 1;")
    out = await js("export default [typeof globalThis.leak, ({}).polluted === undefined];")
    assert out.result == ["undefined", True]
