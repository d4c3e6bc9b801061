"""Every global of the spell API works from JavaScript (real QuickJS, trio, scripted model)."""

from __future__ import annotations

import logging

from llmspell.messages import ToolCall
from llmspell.testing import Reply


async def test_print_and_console_log(js):
    out = await js("""
        print("a", 1, true, null, undefined, [1, {b: 2}]);
        console.log("via console", {x: []});
        print();
    """)
    assert out.output == ['a 1 true null undefined [1,{"b":2}]', 'via console {"x":[]}', ""]


async def test_export_default_is_the_result(js):
    out = await js("await Task.sleep(0); export default {answer: 42, list: [], obj: {}};")
    assert out.result == {"answer": 42, "list": [], "obj": {}}


async def test_no_export_default_is_null(js):
    assert (await js("const x = 1;")).result is None


async def test_export_default_promise_is_awaited(js):
    out = await js("export default Task.sleep(0.01).then(() => 'later');")
    assert out.result == "later"


async def test_args_and_json(js):
    out = await js(
        "export default {topic: args.topic, n: args._.length, j: JSON.parse(JSON.stringify(args))}",
        args={"topic": "rust", "_": ["a", "b"]},
    )
    assert out.result == {"topic": "rust", "n": 2, "j": {"topic": "rust", "_": ["a", "b"]}}


async def test_log_goes_to_logging_and_events(js, caplog):
    caplog.set_level(logging.DEBUG, logger="llmspell.spell")
    out = await js("""
        const seen = [];
        await Event.on("log.*", (ev) => { seen.push(ev.topic + ":" + ev.data.message) });
        Log.info("hello", {k: 1});
        Log.warn("careful");
        Log.debug("dbg");
        Log.error("bad");
        console.error("via", "console");
        await Task.sleep(0.02);
        export default seen;
    """)
    assert out.result == [
        "log.info:hello",
        "log.warn:careful",
        "log.debug:dbg",
        "log.error:bad",
        "log.error:via console",
    ]
    messages = [r.getMessage() for r in caplog.records if r.name == "llmspell.spell"]
    assert "hello {'k': 1}" in messages and "careful" in messages
    assert out.output == []  # logs never reach stdout


async def test_tool_call_list_info(js):
    out = await js("""
        const r = await Tool.call("calculator", {expression: "2 + 3 * 4"});
        const names = (await Tool.list()).map((t) => t.name);
        const info = await Tool.info("echo");
        const util = (await Tool.list("utility")).map((t) => t.name);
        export default {r, names, info: info.name, util};
    """)
    assert out.result["r"] in (14, 14.0, {"result": 14}) or "14" in str(out.result["r"])
    assert {"echo", "calculator", "sleep"} <= set(out.result["names"])
    assert out.result["info"] == "echo"
    assert "echo" in out.result["util"]


async def test_tool_define_called_from_spell(js):
    out = await js("""
        const spec = await Tool.define({
            name: "shout", description: "upper-case",
            parameters: {type: "object", properties: {text: {type: "string"}}, required: ["text"]},
            run: async ({text}) => { await Task.sleep(0); return text.toUpperCase() },
        });
        export default {name: spec.name, r: await Tool.call("shout", {text: "hi"})};
    """)
    assert out.result == {"name": "shout", "r": "HI"}


async def test_tool_define_called_by_an_agent(js, provider):
    """A script tool runs while the module waits on agent.run (a callback during a wait)."""
    provider.add(Reply(tool_calls=[ToolCall("c1", "add", {"a": 2, "b": 3})]), "5 it is")
    out = await js("""
        const calls = [];
        await Tool.define({
            name: "add", description: "add two integers",
            parameters: {type: "object", properties: {a: {type: "integer"}, b: {type: "integer"}},
                         required: ["a", "b"]},
            run: async ({a, b}) => { calls.push([a, b]); await Task.sleep(0.01); return a + b },
        });
        const agent = await Agent.create({name: "calc", model: "scripted/x", tools: ["add"],
                                          maxTurns: 3});
        const r = await agent.run("add 2 and 3");
        export default {text: r.text, calls, tool_calls: r.tool_calls};
    """)
    assert out.result["text"] == "5 it is"
    assert out.result["calls"] == [[2, 3]]
    assert out.result["tool_calls"][0]["result"] == 5
    # the tool's result went back to the model
    assert "5" in provider.requests[1].messages[-1].content


async def test_agent_get_list_as_tool(js, provider):
    provider.add("inner answer", "outer answer")
    out = await js("""
        const inner = await Agent.create({name: "inner", model: "scripted/x",
                                          instructions: "be brief"});
        const same = await Agent.get("inner");
        const names = await Agent.list();
        const spec = await inner.asTool({name: "ask_inner", description: "ask"});
        const r = await Tool.call("ask_inner", {input: "q"});
        const outer = await Agent.create({name: "outer", model: "scripted/x"});
        const r2 = await outer.run("hello");
        export default {kind: same.kind, name: same.name, names, tool: spec.name,
                        r: typeof r === "string" ? r : r.text, r2: r2.text, usage: r2.usage};
    """)
    res = out.result
    assert res["kind"] == "agent" and res["name"] == "inner"
    assert res["names"] == ["inner"]
    assert res["tool"] == "ask_inner"
    assert "inner answer" in str(res["r"])
    assert res["r2"] == "outer answer"
    assert set(res["usage"]) >= {"input_tokens", "output_tokens"}


async def test_agent_create_unknown_field_rejects(js):
    out = await js("""
        let r;
        try { await Agent.create({name: "a", model: "scripted/x", colour: "red"}) }
        catch (e) { r = [e.code, e.message.includes("colour"), e instanceof Error] }
        export default r;
    """)
    assert out.result == ["invalid_args", True, True]


async def test_workflow_sequential(js, provider):
    provider.add("drafted")
    out = await js("""
        const writer = await Agent.create({name: "writer", model: "scripted/x"});
        async function shout(value) { await Task.sleep(0); return {upper: value.toUpperCase()} }
        const seen = [];
        const flow = await Workflow.sequential({name: "pipeline", steps: [
            writer, shout, (v) => { seen.push(v); return "x" },
            {tool: "echo", args: {text: "fixed"}},
        ]});
        const r = await flow.run("topic");
        export default {kind: flow.kind, name: flow.name, text: r.text, seen};
    """)
    assert out.result["kind"] == "workflow" and out.result["name"] == "pipeline"
    assert out.result["text"] == "fixed"
    assert out.result["seen"] == [{"upper": "DRAFTED"}]


async def test_state(js):
    out = await js("""
        await State.set("k", {list: [], obj: {}, n: 1});
        await State.set("s", "spell value", "spell");
        const v = await State.get("k");
        const missing = await State.get("nope");
        const keys = await State.keys();
        const spellKeys = await State.keys("spell");
        const existed = await State.delete("k");
        const after = await State.get("k");
        export default {v, missing, keys, spellKeys, existed, after,
                        isArray: Array.isArray(v.list)};
    """)
    assert out.result == {
        "v": {"list": [], "obj": {}, "n": 1},
        "missing": None,
        "keys": ["k"],
        "spellKeys": ["s"],
        "existed": True,
        "after": None,
        "isArray": True,
    }


async def test_event_emit_on_off_wait(js):
    out = await js("""
        const got = [];
        const sub = await Event.on("job.*", async (ev) => {
            await Task.sleep(0);
            got.push([ev.topic, ev.data]);
        });
        const waiter = Event.wait("job.done", 1);
        await Event.emit("job.start", {n: 1});
        await Event.emit("job.done", {n: 2});
        const waited = await waiter;
        await Task.sleep(0.02);
        await sub.off();
        await Event.emit("job.late", {n: 3});
        await Task.sleep(0.02);
        let timeout;
        try { await Event.wait("never.happens", 0.05) } catch (e) { timeout = e.code }
        export default {got, waited: [waited.topic, waited.data], timeout, kind: sub.kind};
    """)
    assert out.result == {
        "got": [["job.start", {"n": 1}], ["job.done", {"n": 2}]],
        "waited": ["job.done", {"n": 2}],
        "timeout": "timeout",
        "kind": "subscription",
    }


async def test_hook_modifies_a_tool_call(js):
    out = await js("""
        const seen = [];
        const h = await Hook.on("beforeToolCall", async (ctx) => {
            seen.push(ctx.point + ":" + ctx.name);
            await Task.sleep(0);
            if (ctx.name === "echo") return {action: "modify", input: {text: ctx.input.text + "!"}};
        });
        const a = await Tool.call("echo", {text: "hi"});
        await Hook.off(h);
        const b = await Tool.call("echo", {text: "hi"});
        export default {a, b, seen};
    """)
    assert out.result == {"a": "hi!", "b": "hi", "seen": ["before_tool_call:echo"]}


async def test_hook_skip_and_cancel(js):
    out = await js("""
        await Hook.on("before_tool_call", (ctx) =>
            ctx.input.text === "skip" ? {action: "skip", result: "skipped"}
            : ctx.input.text === "stop" ? {action: "cancel", reason: "no"} : undefined);
        const a = await Tool.call("echo", {text: "skip"});
        let code;
        try { await Tool.call("echo", {text: "stop"}) } catch (e) { code = e.code }
        export default {a, code};
    """)
    assert out.result == {"a": "skipped", "code": "hook_cancelled"}


async def test_handlers_are_removed_when_the_spell_ends(js):
    await js('await Hook.on("before_tool_call", () => ({action: "cancel"}));')
    out = await js('export default await Tool.call("echo", {text: "free"})')
    assert out.result == "free"


async def test_print_unicode(js):
    out = await js(r'print("héllo ✓ 🎉"); print("lone \ud800 surrogate");')
    assert out.output[0] == "héllo ✓ 🎉"
    assert out.output[1].startswith("lone ") and "\ud800" not in out.output[1]


async def test_failing_event_handler_fails_the_spell(js):
    out = await js("""
        await Event.on("x", (ev) => {
            throw new Error("handler broke");
        });
        await Event.emit("x", 1);
        await Task.sleep(0.1);
    """, expect_error=True)
    assert out.error.code == "script_error"
    assert "spell.js:3" in out.error.message and "handler broke" in out.error.message


async def test_events_still_buffered_at_the_end_reach_their_handler(js):
    out = await js("""
        await Event.on("x", async (ev) => { await Task.sleep(0.01); print("got " + ev.data) });
        for (let i = 0; i < 5; i++) Event.emit("x", i);
    """)
    assert out.output == [f"got {i}" for i in range(5)]


async def test_parallel_conditional_and_loop_workflows(js):
    out = await js("""
        const fan = await Workflow.parallel({
          name: "fan",
          branches: {
            a: async (x) => { await Task.sleep(0.2); return x + "-a"; },
            b: async (x) => { await Task.sleep(0.2); return x + "-b"; },
          },
          maxConcurrency: 2,
        });
        const router = await Workflow.conditional({
          branches: [{when: (n) => n > 10, step: () => "big"}],
          default: () => "small",
        });
        const doubled = await Workflow.loop({body: (n) => n * 2, until: (n) => n >= 100});
        export default {
          both: (await fan.run("in")).data,
          big: (await router.run(20)).data,
          small: (await router.run(1)).data,
          doubled: (await doubled.run(3)).data,
        };
    """)
    assert out.result == {
        "both": {"a": "in-a", "b": "in-b"},
        "big": "big",
        "small": "small",
        "doubled": 192,
    }


async def test_agent_stream_calls_back_with_text_pieces(js, provider):
    provider.add(Reply(text="one two three"))
    out = await js("""
        const agent = await Agent.create({name: "s", model: "scripted/x"});
        const pieces = [];
        const result = await agent.stream("count", (piece) => { pieces.push(piece) });
        export default {pieces, text: result.text};
    """)
    assert out.result == {"pieces": ["one ", "two ", "three"], "text": "one two three"}
