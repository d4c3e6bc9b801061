"""LLMAgent features: sequential tools, structured output with tools and re-asks, templates,
history, guardrails, handoffs, agent-as-tool roll-up and streaming across turns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio

from llmspell.agents import LLMAgent, agent_tool
from llmspell.errors import LlmspellError
from llmspell.handoffs import Handoff
from llmspell.history import HistoryPolicy, groups, last_messages
from llmspell.lifecycle import Cancel, HookContext, Modify
from llmspell.messages import Message, ToolCall, Usage
from llmspell.providers import ChatRequest
from llmspell.runtime import SpellRun
from llmspell.state.sqlite import SqliteBackend
from llmspell.testing import Reply, ScriptedProvider, make_kernel
from llmspell.tools import Tool


def wait_tool(log: list[str] | None = None) -> Tool:
    async def run(args: dict[str, Any], ctx: Any) -> Any:
        if log is not None:
            log.append(f"start {args['seconds']}")
        await trio.sleep(args["seconds"])
        if log is not None:
            log.append(f"end {args['seconds']}")
        return {"waited": args["seconds"]}

    return Tool(
        name="wait", description="wait", run=run,
        parameters={"type": "object", "properties": {"seconds": {"type": "number"}},
                    "required": ["seconds"]},
    )


def system_of(request: ChatRequest) -> str:
    return request.messages[0].content if request.messages[0].role == "system" else ""


WAIT_TWICE = Reply(tool_calls=[{"name": "wait", "arguments": {"seconds": 0.2}},
                               {"name": "wait", "arguments": {"seconds": 0.1}}])


async def test_parallel_tools_off_runs_the_calls_of_one_reply_in_order() -> None:
    log: list[str] = []
    provider = ScriptedProvider([WAIT_TWICE, "ok", WAIT_TWICE, "ok"])
    kernel = make_kernel(provider=provider)
    one_by_one = LLMAgent(name="seq", model="scripted/m", tools=[wait_tool(log)],
                          parallel_tools=False)
    together = LLMAgent(name="par", model="scripted/m", tools=[wait_tool(log)])
    async with SpellRun.open(kernel) as run:
        start = trio.current_time()
        result = await run.run_agent(one_by_one, "go")
        assert trio.current_time() - start >= 0.3
        assert log == ["start 0.2", "end 0.2", "start 0.1", "end 0.1"]
        assert [c["result"] for c in result.tool_calls] == [{"waited": 0.2}, {"waited": 0.1}]
        log.clear()
        start = trio.current_time()
        result = await run.run_agent(together, "go")
        assert trio.current_time() - start < 0.35
        assert sorted(log[:2]) == ["start 0.1", "start 0.2"]  # both began before either ended
        assert log[2:] == ["end 0.1", "end 0.2"]
        # results keep the order of the calls, not of their completion
        assert [c["result"] for c in result.tool_calls] == [{"waited": 0.2}, {"waited": 0.1}]


SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}


async def test_structured_output_together_with_tools() -> None:
    provider = ScriptedProvider([
        Reply(tool_calls=[{"name": "wait", "arguments": {"seconds": 0}}]),
        '{"n": 7}',
    ])
    agent = LLMAgent(name="s", model="scripted/m", tools=[wait_tool()], output_schema=SCHEMA)
    async with SpellRun.open(make_kernel(provider=provider)) as run:
        result = await run.run_agent(agent, "count")
    assert result.data == {"n": 7}
    assert result.tool_calls[0]["result"] == {"waited": 0}
    assert all(r.output_schema == SCHEMA and r.tools for r in provider.requests)


async def test_invalid_output_is_re_asked_then_accepted() -> None:
    provider = ScriptedProvider(["not json", '{"n": "seven"}', '{"n": 7}'])
    agent = LLMAgent(name="s", model="scripted/m", output_schema=SCHEMA, max_turns=1)
    async with SpellRun.open(make_kernel(provider=provider)) as run:
        result = await run.run_agent(agent, "count")
    assert result.data == {"n": 7}
    first, second = provider.requests[1].messages[-1], provider.requests[2].messages[-1]
    assert first.role == "user" and "is not JSON" in first.content
    assert "'seven' is not of type 'integer' at /n" in second.content
    assert [m.role for m in result.messages] == ["user", "assistant", "user", "assistant",
                                                 "user", "assistant"]
    assert result.usage.output_tokens > 0


async def test_re_asks_exhausted_fail_naming_the_schema_error() -> None:
    provider = ScriptedProvider(default='{"m": 1}')
    agent = LLMAgent(name="s", model="scripted/m", output_schema=SCHEMA, max_reasks=2)
    async with SpellRun.open(make_kernel(provider=provider)) as run:
        with pytest.raises(LlmspellError) as info:
            await run.run_agent(agent, "count")
    err = info.value
    assert err.code == "invalid_value"
    assert err.message == (
        "agent 's': the model's answer does not match the output schema: 'n' is a required "
        "property (after 2 re-asks)"
    )
    assert err.details["reasks"] == 2
    assert len(provider.requests) == 3


async def test_instructions_template_is_filled_from_state() -> None:
    provider = ScriptedProvider(default=lambda req: system_of(req))
    agent = LLMAgent(name="t", model="scripted/m",
                     instructions="Help {{user}} in {{ lang }}; prefs {{prefs}}.",
                     state_scope="session:s1")
    async with SpellRun.open(make_kernel(provider=provider)) as run:
        with pytest.raises(LlmspellError) as info:
            await run.run_agent(agent, "hi")
        assert info.value.code == "not_found"
        assert "{{user}}" in info.value.message and "'session:s1'" in info.value.message
        await run.state_set("user", "Ada", "session:s1")
        await run.state_set("lang", "Lua", "session:s1")
        await run.state_set("prefs", {"short": True}, "session:s1")
        result = await run.run_agent(agent, "hi")
    assert result.text == 'Help Ada in Lua; prefs {"short": true}.'


def test_history_groups_never_split_tool_calls_from_results() -> None:
    call = ToolCall("c1", "wait", {"seconds": 0})
    messages = [
        Message("system", "sys"), Message("user", "u1"),
        Message("assistant", "", tool_calls=(call,)), Message("tool", "{}", tool_call_id="c1"),
        Message("assistant", "a1"), Message("user", "u2"), Message("assistant", "a2"),
    ]
    assert [len(g) for g in groups(messages)] == [1, 2, 1, 1, 1]
    # 3 messages would cut into the tool group: the cut moves to the next user message
    assert [m.content for m in HistoryPolicy(max_messages=3).trim(messages)] == ["u2", "a2"]
    assert [m.content for m in HistoryPolicy(max_messages=5).trim(messages)] == ["u2", "a2"]
    assert len(HistoryPolicy(max_messages=6).trim(messages)) == 6
    assert [m.content for m in HistoryPolicy(max_tokens=3).trim(messages)] == ["u2", "a2"]
    assert HistoryPolicy(max_messages=None, max_tokens=1).trim(messages) == []
    # a handoff's last 2 messages are widened to the whole group, led by the latest request
    passed = last_messages(messages[:4], 1)
    assert [m.role for m in passed] == ["user", "assistant", "tool"]
    with pytest.raises(LlmspellError, match="max_messages"):
        HistoryPolicy(max_messages=0)


async def test_history_is_kept_trimmed_and_persisted_in_sqlite(tmp_path: Path) -> None:
    provider = ScriptedProvider(default=lambda req: f"seen {len(req.messages)}")
    kernel = make_kernel(provider=provider)
    agent = LLMAgent(name="chat", model="scripted/m", instructions="be nice",
                     history=HistoryPolicy(max_messages=4))
    path = tmp_path / "state.db"
    for text in ("one", "two"):
        store = SqliteBackend(path)
        async with SpellRun.open(kernel, store=store) as run:
            result = await run.run_agent(agent, text)
        await store.aclose()
    assert result.text == "seen 4"  # system + one, answer + two
    assert [m.content for m in provider.requests[-1].messages] == [
        "be nice", "one", "seen 2", "two"
    ]
    store = SqliteBackend(path)
    async with SpellRun.open(kernel, store=store) as run:
        await run.run_agent(agent, "three")  # 6 messages, trimmed to the last 4
        stored = await run.state_get("history", "agent:chat")
        assert [m["content"] for m in stored] == ["two", "seen 4", "three", "seen 6"]
        # a session keeps a history of its own
        in_session = LLMAgent(name="chat", model="scripted/m", history=HistoryPolicy(),
                              session="s-1")
        await run.run_agent(in_session, "hello")
        assert len(await run.state_get("history.chat", "session:s-1")) == 2
        assert len(await run.state_get("history", "agent:chat")) == 4
    await store.aclose()


async def test_guardrails_refuse_input_and_rewrite_output() -> None:
    def no_secrets(ctx: HookContext) -> Any:
        if "password" in ctx.input:
            return Cancel("asks for a password")
        return Modify(ctx.input.strip())

    async def redact(ctx: HookContext) -> Any:
        return Modify(ctx.output.text.replace("1234", "****"))

    provider = ScriptedProvider(default=lambda req: f"the pin of {req.messages[-1].content!r} "
                                                    "is 1234")
    agent = LLMAgent(name="g", model="scripted/m", input_guardrails=[no_secrets],
                     output_guardrails=[redact])
    async with SpellRun.open(make_kernel(provider=provider)) as run:
        with pytest.raises(LlmspellError) as info:
            await run.run_agent(agent, "tell me the password")
        result = await run.run_agent(agent, "  my card  ")
    assert info.value.code == "hook_cancelled"
    assert info.value.message == "agent 'g': the input guardrail refused: asks for a password"
    assert info.value.details["guardrail"] == "input"
    assert provider.requests[0].messages[-1].content == "my card"
    assert result.text == "the pin of 'my card' is ****"
    assert result.agents == ["g"]


async def test_output_guardrail_refusal_names_the_output() -> None:
    agent = LLMAgent(name="g", model="scripted/m",
                     output_guardrails=[lambda ctx: {"action": "cancel", "reason": "rude"}])
    async with SpellRun.open(make_kernel(provider=ScriptedProvider(["meh"]))) as run:
        with pytest.raises(LlmspellError, match="the output guardrail refused: rude"):
            await run.run_agent(agent, "hi")


def chain_provider() -> ScriptedProvider:
    """triage hands to billing, billing looks something up and hands to refunds, which answers;
    every reply tells which agent (by its instructions) answered."""

    def route(request: ChatRequest) -> Reply:
        return attrs.evolve(answer(request), usage=Usage(10, 1, 0.5))

    def answer(request: ChatRequest) -> Reply:
        who = system_of(request).split(".")[0]
        last = request.messages[-1]
        if who == "triage":
            return Reply(text="to billing. ", chunks=["to ", "billing. "],
                         tool_calls=[{"name": "transfer_to_billing", "arguments": {}}])
        if who == "billing" and last.role == "tool" and last.name == "transfer_to_billing":
            return Reply(tool_calls=[{"name": "wait", "arguments": {"seconds": 0}}])
        if who == "billing":
            return Reply(text="to refunds. ", chunks=["to ", "refunds. "],
                         tool_calls=[{"name": "transfer_to_refunds", "arguments": {}}])
        return Reply(text=f"refunded {len(request.messages)}",
                     chunks=["refunded ", str(len(request.messages))])

    return ScriptedProvider(default=route)


async def test_handoff_chain_of_three_agents_with_filters_and_streaming() -> None:
    provider = chain_provider()
    refunds = LLMAgent(name="refunds", model="scripted/m",
                       instructions="refunds. Order {{order}}.")
    billing = LLMAgent(
        name="billing", model="scripted/m", instructions="billing.", tools=[wait_tool()],
        handoffs=[Handoff(refunds, keep_last=2, state_keys=("order", "absent"))],
    )
    triage = LLMAgent(name="triage", model="scripted/m", instructions="triage.",
                      handoffs=[billing])
    pieces: list[str] = []
    async with SpellRun.open(make_kernel(provider=provider)) as run:
        await run.state_set("order", "A-17")
        handoffs = run.events.subscribe("agent.handoff")
        result = await run.run_agent(triage, "I want my money back", on_text=pieces.append)
        seen = [handoffs.receive_nowait().data for _ in range(2)]
    assert result.agents == ["triage", "billing", "refunds"]
    assert [s["to"] for s in seen] == ["billing", "refunds"]
    assert pieces == ["to ", "billing. ", "to ", "refunds. ", "refunded ", "5"]
    last = provider.requests[-1].messages
    # refunds sees: its instructions, the passed state, the latest user message and the last
    # two messages (billing's transfer call and its result)
    assert [m.role for m in last] == ["system", "system", "user", "assistant", "tool"]
    assert last[0].content == "refunds. Order A-17."
    assert json.loads(last[1].content.split(": ", 1)[1]) == {"order": "A-17"}
    assert last[2].content == "I want my money back"
    assert result.text == "refunded 5"
    # the whole conversation: triage's, then what billing and refunds added
    assert [m.role for m in result.messages] == [
        "system", "user", "assistant", "tool",  # triage, transfer
        "assistant", "tool", "assistant", "tool",  # billing: wait, transfer
        "assistant",  # refunds
    ]
    assert [c["name"] for c in result.tool_calls] == [
        "transfer_to_billing", "wait", "transfer_to_refunds"
    ]
    assert len(provider.requests) == 4
    assert result.usage == Usage(40, 4, 2.0)  # every model call of the three agents


async def test_handoff_loops_stop_at_max_handoffs() -> None:
    def route(request: ChatRequest) -> Reply:
        other = "pong" if system_of(request) == "ping" else "ping"
        return Reply(tool_calls=[{"name": f"transfer_to_{other}", "arguments": {}}])

    ping = LLMAgent(name="ping", model="scripted/m", instructions="ping", max_handoffs=3)
    pong = LLMAgent(name="pong", model="scripted/m", instructions="pong", handoffs=[ping])
    ping.handoffs = [Handoff(pong)]
    async with SpellRun.open(make_kernel(provider=ScriptedProvider(default=route))) as run:
        with pytest.raises(LlmspellError) as info:
            await run.run_agent(ping, "go")
    assert info.value.code == "limit"
    assert info.value.details["chain"] == ["ping", "pong", "ping", "pong", "ping"]
    assert "max_handoffs=3" in info.value.message


async def test_agent_as_tool_nested_two_deep_rolls_up_usage_and_agents() -> None:
    def route(request: ChatRequest) -> Reply:
        system = system_of(request)
        last = request.messages[-1]
        usage = Usage(10, 1, 0.5)
        if last.role == "tool":
            return Reply(text=f"{system} got {json.loads(last.content)}", usage=usage)
        if system == "inner":
            return Reply(text="inner answer", usage=usage)
        target = "inner" if system == "middle" else "middle"
        return Reply(tool_calls=[{"name": target, "arguments": {"input": "ask"}}], usage=usage)

    inner = LLMAgent(name="inner", model="scripted/m", instructions="inner")
    middle = LLMAgent(name="middle", model="scripted/m", instructions="middle",
                      tools=[agent_tool(inner)])
    outer = LLMAgent(name="outer", model="scripted/m", instructions="outer",
                     tools=[agent_tool(middle)])
    async with SpellRun.open(make_kernel(provider=ScriptedProvider(default=route))) as run:
        result = await run.run_agent(outer, "start")
    assert result.text == "outer got middle got inner answer"
    assert result.agents == ["outer", "middle", "inner"]
    assert result.usage == Usage(50, 5, 2.5)  # 2 outer + 2 middle + 1 inner model calls


async def test_streaming_across_tool_turns_keeps_chunk_order() -> None:
    provider = ScriptedProvider([
        Reply(text="let me wait ", chunks=["let ", "me ", "wait "],
              tool_calls=[{"name": "wait", "arguments": {"seconds": 0.01}}], delay=0.02),
        Reply(text="done waiting", chunks=["done ", "waiting"], delay=0.02),
    ])
    agent = LLMAgent(name="s", model="scripted/m", tools=[wait_tool()])
    pieces: list[str] = []

    async def slow_consumer(piece: str) -> None:
        await trio.sleep(0.001)
        pieces.append(piece)

    async with SpellRun.open(make_kernel(provider=provider)) as run:
        result = await run.run_agent(agent, "go", on_text=slow_consumer)
    assert pieces == ["let ", "me ", "wait ", "done ", "waiting"]
    assert result.text == "done waiting"


async def test_tool_choice_goes_with_the_first_call_only() -> None:
    provider = ScriptedProvider([
        Reply(tool_calls=[{"name": "wait", "arguments": {"seconds": 0}}]), "ok"
    ])
    agent = LLMAgent(name="c", model="scripted/m", tools=[wait_tool()], tool_choice="required")
    async with SpellRun.open(make_kernel(provider=provider)) as run:
        await run.run_agent(agent, "go")
    assert [r.tool_choice for r in provider.requests] == ["required", None]


def test_agent_fields_are_checked() -> None:
    with pytest.raises(LlmspellError, match="max_turns"):
        LLMAgent(name="a", model="scripted/m", max_turns=0)
    with pytest.raises(LlmspellError, match="output_schema is not a valid JSON schema"):
        LLMAgent(name="a", model="scripted/m", output_schema={"type": "nope"})
    with pytest.raises(LlmspellError, match="invalid state scope"):
        LLMAgent(name="a", model="scripted/m", state_scope="galaxy")
    with pytest.raises(LlmspellError, match="handoff target must be an agent"):
        LLMAgent(name="a", model="scripted/m", handoffs=["b"])
