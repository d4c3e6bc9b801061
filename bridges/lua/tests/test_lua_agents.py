"""LLM agents from Lua spells: parallel/sequential tools, structured output with re-asks,
handoff chains with filters and streaming, nested agents as tools, history on SQLite,
guardrails, templates and field checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import trio

from llmspell.providers import ChatRequest
from llmspell.runtime import SpellRun
from llmspell.scripting.session import ScriptSession
from llmspell.state.sqlite import SqliteBackend
from llmspell.testing import Reply
from llmspell.tools import Tool
from llmspell_lua.bridge import LuaEngine


def system_of(request: ChatRequest) -> str:
    return request.messages[0].content if request.messages[0].role == "system" else ""


def route(request: ChatRequest) -> Reply:
    """Answers by the first word of the agent's instructions (see the spells below)."""
    who = system_of(request).split(".")[0]
    last = request.messages[-1]
    if who == "triage":
        return Reply(text="to billing. ", tool_calls=[{"name": "transfer_to_billing"}])
    if who == "billing" and last.name == "transfer_to_billing":
        return Reply(tool_calls=[{"name": "slow", "arguments": {"seconds": 0}}])
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


def timed_tool(spans: list[tuple[float, float]]) -> Tool:
    """A host tool sleeping ``seconds`` and recording when it ran."""

    async def run(args: dict[str, Any], ctx: Any) -> Any:
        start = trio.current_time()
        await trio.sleep(args["seconds"])
        spans.append((start, trio.current_time()))
        return args["seconds"]

    return Tool(name="timed", description="sleep", run=run,
                parameters={"type": "object", "properties": {"seconds": {"type": "number"}}})


async def test_parallel_tools_on_and_off(spell):
    spans: list[tuple[float, float]] = []
    spell.kernel.tools.register(timed_tool(spans))
    two = Reply(tool_calls=[{"name": "timed", "arguments": {"seconds": 0.2}},
                            {"name": "timed", "arguments": {"seconds": 0.2}}])
    spell.provider.add(two, "together", two, "one by one")
    source = """
        local a = Agent.create{name = "a", model = "scripted/x", tools = {"timed"},
                               parallel_tools = args.parallel}
        return a:run("go").text
    """
    assert await spell.run(source, args={"parallel": True}) == "together"
    assert spans[-1][1] - spans[0][0] < 0.35  # both finished within 0.35 s of the first start
    spans.clear()
    assert await spell.run(source, args={"parallel": False}) == "one by one"
    assert spans[1][0] >= spans[0][1]  # the second started after the first ended


async def test_structured_output_with_tools_and_re_asks(spell):
    spell.provider.add(
        Reply(tool_calls=[{"name": "slow", "arguments": {"seconds": 0}}]),
        "not json", '{"n": 7}',  # re-asked once, then accepted
        '{"n": "x"}', '{"n": "y"}',  # re-asked once, then the limit
    )
    result = await spell.run("""
        local s = Agent.create{name = "s", model = "scripted/x", tools = {"slow"}, max_reasks = 1,
          output_schema = {type = "object", properties = {n = {type = "integer"}},
                           required = {"n"}}}
        local r = s:run("count")
        local ok, err = pcall(s.run, s, "count again")
        return {data = r.data, calls = #r.tool_calls, ok = ok, code = err.code,
                message = err.message}
    """)
    assert result["data"] == {"n": 7} and result["calls"] == 1
    assert result["ok"] is False and result["code"] == "invalid_value"
    assert "'y' is not of type 'integer' at /n (after 1 re-ask)" in result["message"]
    reask = spell.provider.requests[2].messages[-1]
    assert reask.role == "user" and "is not JSON" in reask.content


async def test_handoff_chain_of_three_with_filters_and_streaming(spell):
    spell.provider.default = route
    result = await spell.run("""
        State.set("order", "A-17")
        local refunds = Agent.create{name = "refunds", model = "scripted/x",
                                     instructions = "refunds. Order {{order}}."}
        local billing = Agent.create{name = "billing", model = "scripted/x",
          instructions = "billing.", tools = {"slow"},
          handoffs = {{agent = refunds, keep_last = 2, state_keys = {"order"}}}}
        local triage = Agent.create{name = "triage", model = "scripted/x",
                                    instructions = "triage.", handoffs = {billing}}
        local pieces = {}
        local r = triage:stream("my money back", function(p) pieces[#pieces + 1] = p end)
        return {agents = r.agents, text = r.text, pieces = table.concat(pieces, "|")}
    """)
    assert result["agents"] == ["triage", "billing", "refunds"]
    # system, passed state, latest user message, billing's transfer call and its result
    assert result["text"] == "refunds. Order A-17. saw 5"
    assert result["pieces"] == "to |billing. |to |refunds. |refunds. |Order |A-17. |saw |5"
    passed = spell.provider.requests[-1].messages
    assert [m.role for m in passed] == ["system", "system", "user", "assistant", "tool"]
    assert '"order": "A-17"' in passed[1].content


async def test_agents_as_tools_nested_two_deep(spell):
    spell.provider.default = route
    result = await spell.run("""
        local inner = Agent.create{name = "inner", model = "scripted/x", instructions = "inner."}
        inner:as_tool{name = "ask_inner"}
        local middle = Agent.create{name = "middle", model = "scripted/x",
                                    instructions = "middle.", tools = {"ask_inner"}}
        local outer = Agent.create{name = "outer", model = "scripted/x",
                                   instructions = "outer.", tools = {middle}}
        local r = outer:run("start")
        return {text = r.text, agents = r.agents, calls = #r.tool_calls,
                tokens = r.usage.input_tokens}
    """)
    assert result["text"] == "outer got middle got inner answer"
    assert result["agents"] == ["outer", "middle", "inner"]
    assert result["calls"] == 1
    assert result["tokens"] == sum(  # every model call of the three agents
        max(1, sum(len(m.content) for m in r.messages) // 4) for r in spell.provider.requests
    )


async def run_on(spell: Any, store: SqliteBackend, source: str) -> Any:
    async with SpellRun.open(spell.kernel, name="spell.lua", store=store) as run:
        session = ScriptSession(run, "spell.lua", output=spell.output.append)
        run.result = await LuaEngine().run_session(source, session)
    return run.result


async def test_history_is_kept_and_trimmed_across_runs_on_sqlite(spell, tmp_path: Path):
    spell.provider.default = lambda req: f"seen {len(req.messages)}"
    source = """
        local chat = Agent.create{name = "chat", model = "scripted/x",
                                  history = {max_messages = 4}}
        local r = chat:run(args.text, {session = args.session})
        return r.text
    """
    path = tmp_path / "state.db"
    for text, seen in (("one", "seen 1"), ("two", "seen 3"), ("three", "seen 5")):
        store = SqliteBackend(path)
        assert await run_on(spell, store, source.replace("args.text", repr(text))
                            .replace("args.session", "nil")) == seen
        await store.aclose()
    store = SqliteBackend(path)
    stored = await store.get("agent:chat", "history")
    assert [m["content"] for m in stored] == ["two", "seen 3", "three", "seen 5"]
    fresh = source.replace("args.text", "'hi'").replace("args.session", "'s-1'")
    assert await run_on(spell, store, fresh) == "seen 1"  # a session has its own history
    assert len(await store.get("session:s-1", "history.chat")) == 2
    await store.aclose()


async def test_guardrails_refuse_input_and_rewrite_output(spell):
    spell.provider.default = lambda req: f"pin for {req.messages[-1].content} is 1234"
    result = await spell.run("""
        local g = Agent.create{name = "g", model = "scripted/x", guardrails = {
          input = function(ctx)
            if ctx.input:find("password") then
              return {action = "cancel", reason = "asks for a password"}
            end
          end,
          output = function(ctx)
            return {action = "modify", output = (ctx.output.text:gsub("1234", "****"))}
          end,
        }}
        local ok, err = pcall(g.run, g, "the password please")
        return {ok = ok, code = err.code, message = err.message,
                guardrail = err.details.guardrail, text = g:run("my card").text}
    """)
    assert result == {
        "ok": False, "code": "hook_cancelled",
        "message": "agent 'g': the input guardrail refused: asks for a password",
        "guardrail": "input", "text": "pin for my card is ****",
    }
    assert len(spell.provider.requests) == 1


async def test_template_and_field_errors_name_the_field(spell):
    spell.provider.default = lambda req: system_of(req)
    result = await spell.run("""
        local t = Agent.create{name = "t", model = "scripted/x",
                               instructions = "Hi {{who}}", state_scope = "spell"}
        local ok, missing = pcall(t.run, t, "x")
        State.set("who", "Ada", "spell")
        local errors = {}
        for _, spec in ipairs({
          {max_turns = 0}, {handoffs = {"nope"}}, {guardrails = {input = 3}},
          {history = {max_messages = -1}}, {parallel_tools = "yes"}, {state_scope = "galaxy"},
          {output_schema = {type = "nope"}},
        }) do
          spec.name, spec.model = "bad", "scripted/x"
          local ok2, err = pcall(Agent.create, spec)
          errors[#errors + 1] = err.code .. ": " .. err.message
        end
        return {missing = missing.code, filled = t:run("x").text, errors = errors}
    """)
    assert result["missing"] == "not_found"
    assert result["filled"] == "Hi Ada"
    fields = ["max_turns", "handoffs[1]", "guardrails.input", "history.max_messages",
              "parallel_tools", "state_scope", "output_schema"]
    for field, error in zip(fields, result["errors"], strict=True):
        assert error.startswith(f"invalid_args: Agent.create: {field}"), error
