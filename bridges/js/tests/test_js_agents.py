"""LLM agents from JavaScript spells, with the same semantics as from Lua (see
bridges/lua/tests/test_lua_agents.py): parallel/sequential tools, structured output with
re-asks, handoff chains with filters and streaming, nested agents as tools, history on SQLite,
guardrails, templates and field checks. Spec fields are camelCase here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import trio

from llmspell.providers import ChatRequest
from llmspell.runtime import SpellRun
from llmspell.state.sqlite import SqliteBackend
from llmspell.testing import Reply
from llmspell.tools import Tool
from llmspell_js import JsEngine


def system_of(request: ChatRequest) -> str:
    return request.messages[0].content if request.messages[0].role == "system" else ""


def route(request: ChatRequest) -> Reply:
    """Answers by the first word of the agent's instructions (see the spells below)."""
    who = system_of(request).split(".")[0]
    last = request.messages[-1]
    if who == "triage":
        return Reply(text="to billing. ", tool_calls=[{"name": "transfer_to_billing"}])
    if who == "billing" and last.name == "transfer_to_billing":
        return Reply(tool_calls=[{"name": "nap", "arguments": {"seconds": 0}}])
    if who == "billing":
        return Reply(text="to refunds. ", tool_calls=[{"name": "transfer_to_refunds"}])
    if who == "refunds":
        return Reply(text=f"{system_of(request)} saw {len(request.messages)}")
    if who in ("outer", "middle"):
        if last.role == "tool":
            return Reply(text=f"{who} got {json.loads(last.content)}")
        target = "middle" if who == "outer" else "ask_inner"
        return Reply(tool_calls=[{"name": target, "arguments": {"input": "q"}}])
    if who == "inner":
        return Reply(text="inner answer")
    return Reply(text=f"echo {last.content}")


NAP = """
    await Tool.define({name: "nap", description: "sleep",
                       parameters: {type: "object", properties: {seconds: {type: "number"}}},
                       run: async ({seconds}) => { await Task.sleep(seconds); return seconds }});
"""


def timed_tool(spans: list[tuple[float, float]]) -> Tool:
    """A host tool sleeping ``seconds`` and recording when it ran (engine start-up, which
    differs between engines, stays out of the measure)."""

    async def run(args: dict[str, Any], ctx: Any) -> Any:
        start = trio.current_time()
        await trio.sleep(args["seconds"])
        spans.append((start, trio.current_time()))
        return args["seconds"]

    return Tool(name="timed", description="sleep", run=run,
                parameters={"type": "object", "properties": {"seconds": {"type": "number"}}})


async def test_parallel_tools_on_and_off(js, provider):
    spans: list[tuple[float, float]] = []
    js.kernel.tools.register(timed_tool(spans))
    two = Reply(tool_calls=[{"name": "timed", "arguments": {"seconds": 0.2}},
                            {"name": "timed", "arguments": {"seconds": 0.2}}])
    provider.add(two, "together", two, "one by one")
    source = """
        const a = await Agent.create({name: "a", model: "scripted/x", tools: ["timed"],
                                      parallelTools: args.parallel});
        export default (await a.run("go")).text;
    """
    assert (await js(source, args={"parallel": True})).result == "together"
    assert spans[-1][1] - spans[0][0] < 0.35  # both finished within 0.35 s of the first start
    spans.clear()
    assert (await js(source, args={"parallel": False})).result == "one by one"
    assert spans[1][0] >= spans[0][1]  # the second started after the first ended


async def test_structured_output_with_tools_and_re_asks(js, provider):
    provider.add(
        Reply(tool_calls=[{"name": "nap", "arguments": {"seconds": 0}}]),
        "not json", '{"n": 7}',
        '{"n": "x"}', '{"n": "y"}',
    )
    out = await js(NAP + """
        const s = await Agent.create({name: "s", model: "scripted/x", tools: ["nap"],
          maxReasks: 1,
          outputSchema: {type: "object", properties: {n: {type: "integer"}}, required: ["n"]}});
        const r = await s.run("count");
        let err;
        try { await s.run("count again") } catch (e) { err = e }
        export default {data: r.data, calls: r.tool_calls.length, code: err.code,
                        message: err.message};
    """)
    res = out.result
    assert res["data"] == {"n": 7} and res["calls"] == 1
    assert res["code"] == "invalid_value"
    assert "'y' is not of type 'integer' at /n (after 1 re-ask)" in res["message"]


async def test_handoff_chain_of_three_with_filters_and_streaming(js, provider):
    provider.default = route
    out = await js(NAP + """
        await State.set("order", "A-17");
        const refunds = await Agent.create({name: "refunds", model: "scripted/x",
                                            instructions: "refunds. Order {{order}}."});
        const billing = await Agent.create({name: "billing", model: "scripted/x",
          instructions: "billing.", tools: ["nap"],
          handoffs: [{agent: refunds, keepLast: 2, stateKeys: ["order"]}]});
        const triage = await Agent.create({name: "triage", model: "scripted/x",
                                           instructions: "triage.", handoffs: [billing]});
        const pieces = [];
        const r = await triage.stream("my money back", (p) => { pieces.push(p) });
        export default {agents: r.agents, text: r.text, pieces: pieces.join("|")};
    """)
    res = out.result
    assert res["agents"] == ["triage", "billing", "refunds"]
    assert res["text"] == "refunds. Order A-17. saw 5"
    assert res["pieces"] == "to |billing. |to |refunds. |refunds. |Order |A-17. |saw |5"
    passed = provider.requests[-1].messages
    assert [m.role for m in passed] == ["system", "system", "user", "assistant", "tool"]


async def test_agents_as_tools_nested_two_deep(js, provider):
    provider.default = route
    out = await js("""
        const inner = await Agent.create({name: "inner", model: "scripted/x",
                                          instructions: "inner."});
        await inner.asTool({name: "ask_inner"});
        const middle = await Agent.create({name: "middle", model: "scripted/x",
                                           instructions: "middle.", tools: ["ask_inner"]});
        const outer = await Agent.create({name: "outer", model: "scripted/x",
                                          instructions: "outer.", tools: [middle]});
        const r = await outer.run("start");
        export default {text: r.text, agents: r.agents, tokens: r.usage.input_tokens};
    """)
    res = out.result
    assert res["text"] == "outer got middle got inner answer"
    assert res["agents"] == ["outer", "middle", "inner"]
    assert res["tokens"] == sum(
        max(1, sum(len(m.content) for m in r.messages) // 4) for r in provider.requests
    )


async def run_on(js: Any, store: SqliteBackend, source: str) -> Any:
    async with SpellRun.open(js.kernel, name="spell.js", store=store) as run:
        run.result = await JsEngine(output=lambda _: None).run(source, "spell.js", run)
    return run.result


async def test_history_is_kept_and_trimmed_across_runs_on_sqlite(js, provider, tmp_path: Path):
    provider.default = lambda req: f"seen {len(req.messages)}"
    source = """
        const chat = await Agent.create({name: "chat", model: "scripted/x",
                                         history: {maxMessages: 4}});
        export default (await chat.run(TEXT, SESSION)).text;
    """
    path = tmp_path / "state.db"
    for text, seen in (("one", "seen 1"), ("two", "seen 3"), ("three", "seen 5")):
        store = SqliteBackend(path)
        spell = source.replace("TEXT", json.dumps(text)).replace("SESSION", "undefined")
        assert await run_on(js, store, spell) == seen
        await store.aclose()
    store = SqliteBackend(path)
    stored = await store.get("agent:chat", "history")
    assert [m["content"] for m in stored] == ["two", "seen 3", "three", "seen 5"]
    fresh = source.replace("TEXT", '"hi"').replace("SESSION", '{session: "s-1"}')
    assert await run_on(js, store, fresh) == "seen 1"
    assert len(await store.get("session:s-1", "history.chat")) == 2
    await store.aclose()


async def test_guardrails_refuse_input_and_rewrite_output(js, provider):
    provider.default = lambda req: f"pin for {req.messages[-1].content} is 1234"
    out = await js("""
        const g = await Agent.create({name: "g", model: "scripted/x", guardrails: {
          input: (ctx) => ctx.input.includes("password")
            ? {action: "cancel", reason: "asks for a password"} : undefined,
          output: (ctx) => ({action: "modify", output: ctx.output.text.replace("1234", "****")}),
        }});
        let err;
        try { await g.run("the password please") } catch (e) { err = e }
        export default {code: err.code, message: err.message, guardrail: err.details.guardrail,
                        text: (await g.run("my card")).text};
    """)
    assert out.result == {
        "code": "hook_cancelled",
        "message": "agent 'g': the input guardrail refused: asks for a password",
        "guardrail": "input", "text": "pin for my card is ****",
    }
    assert len(provider.requests) == 1


async def test_template_and_field_errors_name_the_field(js, provider):
    provider.default = lambda req: system_of(req)
    out = await js("""
        const t = await Agent.create({name: "t", model: "scripted/x",
                                      instructions: "Hi {{who}}", stateScope: "spell"});
        let missing;
        try { await t.run("x") } catch (e) { missing = e.code }
        await State.set("who", "Ada", "spell");
        const errors = [];
        for (const spec of [{maxTurns: 0}, {handoffs: ["nope"]}, {guardrails: {input: 3}},
                            {history: {maxMessages: -1}}, {parallelTools: "yes"},
                            {stateScope: "galaxy"}, {outputSchema: {type: "nope"}}]) {
          try { await Agent.create({name: "bad", model: "scripted/x", ...spec}) }
          catch (e) { errors.push(e.code + ": " + e.message) }
        }
        export default {missing, filled: (await t.run("x")).text, errors};
    """)
    res = out.result
    assert res["missing"] == "not_found"
    assert res["filled"] == "Hi Ada"
    fields = ["max_turns", "handoffs[1]", "guardrails.input", "history.max_messages",
              "parallel_tools", "state_scope", "output_schema"]
    assert len(res["errors"]) == len(fields)
    for field, error in zip(fields, res["errors"], strict=True):
        assert error.startswith(f"invalid_args: Agent.create: {field}"), error
