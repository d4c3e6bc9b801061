"""The sandbox: nothing beyond ECMAScript builtins and the spell API."""

from __future__ import annotations

import pytest

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
SPELL_API = {"Tool", "Agent", "Workflow", "State", "Artifact", "Event", "Hook", "Task", "Log",
             "print", "console", "args", "__llmspell"}


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


# --- escape attempts: each refused with a clear error, or shown harmless ------------------------

ALLOWED = sorted(ECMASCRIPT | SPELL_API)
NO_LOADER = "ReferenceError: could not load module"
REFUSED = "the driver belongs to the host; a spell cannot call it"


def _result(value):
    """Harmless: the attempt ran and reached nothing (its result shows what it saw)."""
    return ("result", value)


def _refused(value):
    """Refused with a clear error, which the spell caught and returned (texts or flags)."""
    return ("refused", value)


def _error(code, text):
    return ("error", code, text)


#: name -> (source, expected outcome[, a spell run first on the same host]); an outcome is
#: _error (the spell failed with that code and message), _refused (the attempt raised a clear
#: error, caught by the spell) or _result (harmless: it ran and reached nothing)
ESCAPES = {
    "dynamic import of quickjs modules": ("""
        const out = [];
        for (const m of ["std", "os", "qjs:std", "qjs:os", "qjs:bjson"]) {
            try { await import(m); out.push(`${m}: loaded`) } catch (e) { out.push(String(e)) }
        }
        export default out;
    """, _refused([f"{NO_LOADER} '{m}'" for m in ["std", "os", "qjs:std", "qjs:os", "qjs:bjson"]])),
    "dynamic import of a file": ("""
        const out = [];
        for (const m of ["/etc/passwd", "./spell.js", "file:///etc/hosts"]) {
            try { await import(m); out.push(`${m}: loaded`) }
            catch (e) { out.push(String(e).startsWith("ReferenceError: could not load module")) }
        }
        export default out;
    """, _refused([True, True, True])),
    "static import of a host module": (
        "import * as os from 'qjs:os';\nos.exec(['true']);",
        _error("script_error", "could not load module 'qjs:os'"),
    ),
    "require": ("""
        let r; try { r = require("fs") } catch (e) { r = String(e) }
        export default r;
    """, _refused("ReferenceError: require is not defined")),
    "Function('return this') reaches only the sandbox global": (f"""
        const g = Function("return this")();
        const allowed = new Set({ALLOWED!r});
        export default {{same: g === globalThis,
                        extra: Object.getOwnPropertyNames(g).filter((k) => !allowed.has(k)),
                        symbols: Object.getOwnPropertySymbols(g).map(String)}};
    """, _result({"same": True, "extra": [], "symbols": ["Symbol(Symbol.toStringTag)"]})),
    "Function constructor of a host API function": ("""
        const F = Tool.call.constructor;
        export default [F === Function,
                        F("return [typeof outbox, typeof pending, typeof request, "
                          + "typeof driver]")()];
    """, _result([True, ["undefined"] * 4])),
    "eval of the bridge internals": ("""
        const names = "[typeof outbox, typeof pending, typeof fns, typeof request, typeof driver]";
        export default [eval(names), (0, eval)(names)];
    """, _result([["undefined"] * 5] * 2)),
    "std, os and the other quickjs globals": ("""
        export default ["std", "os", "scriptArgs", "bjson", "Worker", "setTimeout", "fetch",
                        "process", "performance", "queueMicrotask"]
            .map((n) => typeof globalThis[n]);
    """, _result(["undefined"] * 10)),
    "WebAssembly": ("export default typeof WebAssembly;", _result("undefined")),
    "Atomics.wait on shared memory cannot block the host thread": ("""
        const cell = new Int32Array(new SharedArrayBuffer(4));
        let r; try { r = Atomics.wait(cell, 0, 0, 60000) } catch (e) { r = String(e) }
        export default r;
    """, _refused("TypeError: cannot block in this thread")),
    "replacing or deleting the driver global": ("""
        const out = [];
        try { globalThis.__llmspell = {take: () => ""}; out.push("assigned") }
        catch (e) { out.push(e.name) }
        try { out.push(delete globalThis.__llmspell) } catch (e) { out.push(e.name) }
        try { Object.defineProperty(globalThis, "__llmspell", {value: 1}); out.push("redefined") }
        catch (e) { out.push(e.name) }
        try { __llmspell.take = () => ""; out.push("patched") } catch (e) { out.push(e.name) }
        out.push(await Tool.call("echo", {text: "bridge ok"}));
        export default out;
    """, _refused(["TypeError", "TypeError", "TypeError", "TypeError", "bridge ok"])),
    "forging a settlement": ("""
        const p = Tool.call("echo", {text: "from the host"});
        let r;
        try { __llmspell.settle(1, true, '"forged"'); r = "settled" } catch (e) { r = e.message }
        export default [r, await p];
    """, _refused([f"__llmspell.settle: {REFUSED}", "from the host"])),
    "stealing the outbox or forging a request": ("""
        const p = State.set("k", "v", "spell");
        const out = [];
        for (const name of ["take", "invoke", "main", "evaluate", "kill", "release", "init"]) {
            try { __llmspell[name](1, 0, "[]"); out.push(`${name} ran`) }
            catch (e) { out.push(e.message) }
        }
        await p;
        out.push(await State.get("k", "spell"));
        export default out;
    """, _refused([f"__llmspell.{n}: {REFUSED}"
                  for n in ["take", "invoke", "main", "evaluate", "kill", "release", "init"]]
                 + ["v"])),
    "stack frames' functions through Error.prepareStackTrace": ("""
        let r; try { Error.prepareStackTrace = (e, frames) => frames.map((f) => f.getFunction()) }
        catch (e) { r = String(e) }
        await Tool.call("echo", {text: "x"});
        export default [r, typeof new Error().stack];
    """, _refused(["TypeError: 'prepareStackTrace' is read-only", "string"])),
    "the caller of a function the driver calls": ("""
        export default await Task.spawn(Function("return typeof arguments.callee.caller"));
    """, _result("undefined")),
    "Object.prototype.then pollution": ("""
        Object.prototype.then = function (resolve) { resolve("polluted") };
        const seen = await Tool.info("echo");
        delete Object.prototype.then;
        export default [seen, await Tool.call("echo", {text: "host unaffected"})];
    """, _result(["polluted", "host unaffected"])),
    "Array.prototype.toJSON pollution of a request": ("""
        Array.prototype.toJSON = function () { return "ab" };
        let r; try { r = await State.get("k", "spell") } catch (e) { r = `${e.code}: ${e.message}` }
        delete Array.prototype.toJSON;
        export default r;
    """, _refused("invalid_args: state.get: the arguments must be a list, got a string")),
    "replacing JSON.stringify, JSON.parse and Promise": ("""
        JSON.stringify = () => "[]"; JSON.parse = () => ({forged: true});
        globalThis.Promise = function () { throw new Error("no promises") };
        await State.set("k", {a: [1, 2]}, "spell");
        export default [await State.get("k", "spell"), await Task.spawn(async () => 7)];
    """, _result([{"a": [1, 2]}, 7])),
    "replacing Promise.prototype.then": ("""
        Promise.prototype.then = function () { throw new Error("hijacked") };
        const t = Task.spawn(async (x) => x * 2, 21);
        export default [await Tool.call("echo", {text: "ok"}), await t];
    """, _result(["ok", 42])),
    "a forged handle": ("""
        let r; try { await Hook.off({__handle: 1, kind: "hook"}) } catch (e) { r = e.code }
        let s; try { await Workflow.sequential({steps: [{__handle: 2, kind: "agent"}]}) }
        catch (e) { s = e.code }
        export default [r, s];
    """, _refused(["invalid_args", "invalid_args"])),
    "a forged task reference": ("""
        let r; try { await Task.all([{__llmspell_task: 1}]) } catch (e) { r = e.message }
        export default r;
    """, _refused("the function's result: unknown task")),
    "a forged function reference": ("""
        const flow = await Workflow.sequential({name: "w", steps: [{__llmspell_fn: 4242}]});
        let r; try { await flow.run("x") } catch (e) { r = e.message }
        export default r;
    """, _refused("script function 4242 was released")),
    "a value JSON cannot express in the outbox": (
        "export default Symbol('x');",
        _error("invalid_value", "Symbol(x) cannot cross to the host"),
    ),
    "fetch to the cloud metadata service": ("""
        let r; try { await fetch("http://169.254.169.254/latest/meta-data/") }
        catch (e) { r = String(e) }
        export default r;
    """, _refused("ReferenceError: fetch is not defined")),
    "std.loadFile of /etc/passwd": ("""
        let r; try { r = std.loadFile("/etc/passwd") } catch (e) { r = String(e) }
        export default r;
    """, _refused("ReferenceError: std is not defined")),
    "os.exec of a shell": ("""
        let r; try { r = os.exec(["sh", "-c", "id"]) } catch (e) { r = String(e) }
        export default r;
    """, _refused("ReferenceError: os is not defined")),
    "a Worker thread": ("""
        let r; try { r = new Worker("evil.js") } catch (e) { r = String(e) }
        export default r;
    """, _refused("ReferenceError: Worker is not defined")),
    "process.env": ("""
        let r; try { r = process.env.HOME } catch (e) { r = String(e) }
        export default r;
    """, _refused("ReferenceError: process is not defined")),
    "WebAssembly code": ("""
        let r; try { r = await WebAssembly.instantiate(new Uint8Array([0, 97, 115, 109])) }
        catch (e) { r = String(e) }
        export default r;
    """, _refused("ReferenceError: WebAssembly is not defined")),
    "setTimeout with a string of code": ("""
        let r; try { r = setTimeout("globalThis.x = 1", 0) } catch (e) { r = String(e) }
        export default r;
    """, _refused("ReferenceError: setTimeout is not defined")),
    "replacing a host API function": ("""
        let r; try { Tool.call = () => "forged" } catch (e) { r = String(e) }
        export default [r, await Tool.call("echo", {text: "real"})];
    """, _refused(["TypeError: 'call' is read-only", "real"])),
    "redefining a host API property": ("""
        let r; try { Object.defineProperty(State, "get", {value: () => "forged"}) }
        catch (e) { r = String(e) }
        export default r;
    """, _refused("TypeError: property is not configurable")),
    "swapping the prototype of a host API object": ("""
        let r; try { Object.setPrototypeOf(Tool, {call: () => "forged"}) }
        catch (e) { r = String(e) }
        export default r;
    """, _refused("TypeError: object is not extensible")),
    "another run's globals and prototypes": (
        "export default [typeof secret, ({}).leak, [].leak, typeof Tool.leak];",
        _result(["undefined", None, None, "undefined"]),
        "globalThis.secret = 's3'; Object.prototype.leak = 1; Array.prototype.leak = 2;"
        "try { Tool.leak = 3 } catch (e) {} export default 1;",
    ),
}


@pytest.mark.parametrize("case", list(ESCAPES), ids=list(ESCAPES))
async def test_escape_attempts_are_refused_or_harmless(js, case):
    source, expected, *before = ESCAPES[case]
    for setup in before:
        await js(setup)
    if expected[0] in ("result", "refused"):
        out = await js(source)
        result = out.result
        if isinstance(expected[1], str) and isinstance(result, str):
            assert expected[1] in result, result
        else:
            assert result == expected[1]
    else:
        out = await js(source, expect_error=True)
        assert out.error.code == expected[1], out.error
        assert expected[2] in out.error.message
    # nothing leaks into the host or the next run
    after = await js("export default [typeof secret, ({}).leak, typeof Error.prepareStackTrace];")
    assert after.result == ["undefined", None, "undefined"]


def test_the_table_has_enough_escape_attempts_refused_with_an_error():
    refused = [name for name, (_, outcome, *_) in ESCAPES.items() if outcome[0] != "result"]
    assert len(refused) >= 15, refused
