"""The Anthropic Messages provider against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import trio

from conftest import Answer, WireServer, named_event, sse
from llmspell.agents import LLMAgent
from llmspell.config import parse
from llmspell.errors import LlmspellError
from llmspell.messages import Message, ToolCall
from llmspell.providers import ChatRequest, StreamChunk, ToolSpec
from llmspell.runtime import SpellRun
from llmspell.testing import make_kernel
from llmspell.tools import Tool
from llmspell_providers.anthropic import DEFAULT_MAX_TOKENS, AnthropicProvider
from llmspell_providers.catalog import build_providers
from llmspell_providers.prices import PriceTable

KEY = "sk-ant-test-123"
MODEL = "claude-haiku-4-5"


def provider(wire: WireServer, **settings: Any) -> AnthropicProvider:
    table = {"base_url": wire.url, "backoff_initial": 0.01, "backoff_max": 0.05, **settings}
    config = parse({"providers": {"anthropic": table}})
    built = {p.name: p for p in build_providers(config, PriceTable.load(config),
                                                env={"ANTHROPIC_API_KEY": KEY})}
    found = built["anthropic"]
    assert isinstance(found, AnthropicProvider)
    return found


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def tool_use(call_id: str, name: str, arguments: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": call_id, "name": name, "input": arguments}


def reply(*blocks: dict[str, Any], stop: str | None = None, **extra: Any) -> dict[str, Any]:
    if stop is None:
        stop = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
    return {
        "id": "msg_01", "type": "message", "role": "assistant",
        "model": "claude-haiku-4-5-20251001", "content": list(blocks),
        "stop_reason": stop, "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5}, **extra,
    }


# --- streams ---------------------------------------------------------------------------------


def ev(kind: str, **data: Any) -> str:
    return named_event(kind, {"type": kind, **data})


def start() -> str:
    return ev("message_start", message={
        "id": "msg_01", "type": "message", "role": "assistant", "model": MODEL, "content": [],
        "stop_reason": None, "usage": {"input_tokens": 7, "output_tokens": 1}})


def text_block(index: int, *pieces: str) -> list[str]:
    return [
        ev("content_block_start", index=index, content_block={"type": "text", "text": ""}),
        *[ev("content_block_delta", index=index, delta={"type": "text_delta", "text": p})
          for p in pieces],
        ev("content_block_stop", index=index),
    ]


def tool_start(index: int, call_id: str, name: str) -> str:
    return ev("content_block_start", index=index,
              content_block={"type": "tool_use", "id": call_id, "name": name, "input": {}})


def json_delta(index: int, fragment: str) -> str:
    return ev("content_block_delta", index=index,
              delta={"type": "input_json_delta", "partial_json": fragment})


def tool_block(index: int, call_id: str, name: str, *fragments: str) -> list[str]:
    return [tool_start(index, call_id, name),
            *[json_delta(index, f) for f in fragments],
            ev("content_block_stop", index=index)]


def finish(stop: str = "end_turn", output_tokens: int = 3) -> list[str]:
    return [ev("message_delta", delta={"stop_reason": stop, "stop_sequence": None},
               usage={"output_tokens": output_tokens}),
            ev("message_stop")]


def request(**kw: Any) -> ChatRequest:
    return ChatRequest(model=MODEL, messages=[Message("user", "hi")], **kw)


async def collect(p: AnthropicProvider, req: ChatRequest) -> list[StreamChunk]:
    return [chunk async for chunk in p.stream(req)]


# --- replies ---------------------------------------------------------------------------------


async def test_plain_reply_with_usage_cost_and_request_shape(wire: WireServer) -> None:
    wire.add(Answer(body=reply(text("Hello"), text("!"))))
    p = provider(wire)
    req = ChatRequest(
        model=MODEL,
        messages=[Message("system", "be brief"), Message("user", "hi")],
        temperature=0.0, max_tokens=20, seed=7, stop=["END"],
    )
    response = await p.chat(req)
    assert response.text == "Hello!" and response.finish_reason == "stop"
    assert response.model == "claude-haiku-4-5-20251001"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (10, 5)
    assert response.usage.cost == pytest.approx((10 * 1.0 + 5 * 5.0) / 1e6)
    seen = wire.requests[0]
    assert seen.method == "POST" and seen.path == "/messages"
    assert seen.headers["x-api-key"] == KEY
    assert seen.headers["anthropic-version"] == "2023-06-01"
    assert seen.headers["content-type"] == "application/json"
    assert "authorization" not in seen.headers
    assert seen.body == {
        "model": MODEL, "max_tokens": 20, "system": "be brief",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.0, "stop_sequences": ["END"],
    }  # no seed: the API has none


async def test_max_tokens_is_always_sent(wire: WireServer) -> None:
    wire.add(Answer(body=reply(text("ok"))))
    await provider(wire).chat(request())
    assert wire.requests[0].body["max_tokens"] == DEFAULT_MAX_TOKENS


async def test_roles_alternate_and_tool_results_become_user_blocks(wire: WireServer) -> None:
    wire.add(Answer(body=reply(text("done"))))
    messages = [
        Message("system", "rule one"),
        Message("user", "first"),
        Message("user", "second"),
        Message("assistant", "let me look",
                tool_calls=(ToolCall("t1", "find", {"q": "a"}), ToolCall("t2", "find", {}))),
        Message("tool", '{"hits": 3}', tool_call_id="t1", name="find"),
        Message("tool", '{"error": {"code": "not_found"}}', tool_call_id="t2", name="find"),
        Message("system", "rule two"),
        Message("user", "and now?"),
        Message("assistant", ""),  # empty: left out
        Message("user", "well?"),
    ]
    await provider(wire).chat(ChatRequest(MODEL, messages))
    body = wire.requests[0].body
    assert body["system"] == "rule one\n\nrule two"
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "first"},
                                     {"type": "text", "text": "second"}]},
        {"role": "assistant", "content": [
            {"type": "text", "text": "let me look"},
            {"type": "tool_use", "id": "t1", "name": "find", "input": {"q": "a"}},
            {"type": "tool_use", "id": "t2", "name": "find", "input": {}},
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": '{"hits": 3}'},
            {"type": "tool_result", "tool_use_id": "t2",
             "content": '{"error": {"code": "not_found"}}', "is_error": True},
            {"type": "text", "text": "and now?"},
            {"type": "text", "text": "well?"},
        ]},
    ]


async def test_several_tool_calls_in_one_reply_and_a_forced_tool(wire: WireServer) -> None:
    wire.add(Answer(body=reply(
        text("Adding."),
        tool_use("toolu_a", "add", {"x": 1, "y": 2}),
        tool_use("toolu_b", "add", {"x": 3, "y": 4}),
    )))
    tools = [ToolSpec("add", "adds", {"type": "object", "properties": {"x": {}, "y": {}}})]
    response = await provider(wire).chat(request(tools=tools, tool_choice="add"))
    assert response.tool_calls == (
        ToolCall("toolu_a", "add", {"x": 1, "y": 2}), ToolCall("toolu_b", "add", {"x": 3, "y": 4})
    )
    assert response.text == "Adding." and response.finish_reason == "tool_calls"
    body = wire.requests[0].body
    assert body["tools"] == [{"name": "add", "description": "adds", "input_schema":
                              {"type": "object", "properties": {"x": {}, "y": {}}}}]
    assert body["tool_choice"] == {"type": "tool", "name": "add"}


async def test_tool_choice_mapping(wire: WireServer) -> None:
    tools = [ToolSpec("ping", "pings", {})]
    cases = {None: None, "auto": {"type": "auto"}, "required": {"type": "any"},
             "none": {"type": "none"}}
    p = provider(wire)
    for choice in cases:
        wire.add(Answer(body=reply(text("ok"))))
        await p.chat(request(tools=tools, tool_choice=choice))
    sent = [r.body.get("tool_choice") for r in wire.requests]
    assert sent == list(cases.values())
    # a tool without parameters still gets an object input schema
    assert wire.requests[0].body["tools"][0]["input_schema"] == {"type": "object",
                                                                  "properties": {}}
    wire.add(Answer(body=reply(text("ok"))))
    await p.chat(request(tool_choice="required"))  # no tools: no tool_choice either
    assert "tool_choice" not in wire.requests[-1].body and "tools" not in wire.requests[-1].body


# --- streams ---------------------------------------------------------------------------------


async def test_streamed_reply_arrives_in_order_with_usage(wire: WireServer) -> None:
    wire.add(sse(start(), ev("ping"), *text_block(0, "Hel", "lo ", "there"), ev("ping"),
                 *finish(output_tokens=3)))
    chunks = await collect(provider(wire), request())
    assert [c.text for c in chunks if c.text] == ["Hel", "lo ", "there"]
    last = chunks[-1]
    assert last.finish_reason == "stop" and last.usage is not None
    assert (last.usage.input_tokens, last.usage.output_tokens) == (7, 3)
    assert last.usage.cost == pytest.approx((7 * 1.0 + 3 * 5.0) / 1e6)
    assert wire.requests[0].body["stream"] is True
    assert wire.requests[0].headers["accept"] == "text/event-stream"
    assert wire.requests[0].headers["x-api-key"] == KEY


async def test_streamed_tool_calls_split_across_chunks(wire: WireServer) -> None:
    wire.add(sse(
        start(),
        *text_block(0, "Let me add."),
        tool_start(1, "toolu_1", "add"),
        json_delta(1, ""),
        json_delta(1, '{"x": '),
        json_delta(1, '1, "y": 2}'),
        ev("content_block_stop", index=1),
        *tool_block(2, "toolu_2", "mul", '{"a"', ": 5}"),
        *tool_block(3, "toolu_3", "now"),  # no input at all: no arguments
        *finish("tool_use"),
    ))
    chunks = await collect(provider(wire), request())
    assert "".join(c.text for c in chunks) == "Let me add."
    deltas = [d for c in chunks for d in c.tool_deltas]
    assert [(d.index, d.id, d.name) for d in deltas if d.name] == [
        (0, "toolu_1", "add"), (1, "toolu_2", "mul"), (2, "toolu_3", "now")]
    assert "".join(d.arguments for d in deltas if d.index == 0) == '{"x": 1, "y": 2}'
    assert "".join(d.arguments for d in deltas if d.index == 1) == '{"a": 5}'
    assert chunks[-1].tool_calls == (
        ToolCall("toolu_1", "add", {"x": 1, "y": 2}), ToolCall("toolu_2", "mul", {"a": 5}),
        ToolCall("toolu_3", "now", {}),
    )
    assert chunks[-1].finish_reason == "tool_calls"


async def test_stop_reasons_map_to_finish_reasons(wire: WireServer) -> None:
    p = provider(wire)
    for stop, expected in [("max_tokens", "length"), ("stop_sequence", "stop"),
                           ("refusal", "content_filter"), ("something_new", "stop")]:
        wire.add(Answer(body=reply(text("x"), stop=stop)))
        assert (await p.chat(request())).finish_reason == expected
    wire.add(sse(start(), *text_block(0, "cut sh"), *finish("max_tokens")))
    assert (await collect(p, request()))[-1].finish_reason == "length"


# --- structured output -----------------------------------------------------------------------

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


async def test_structured_output_through_an_agent_is_a_forced_tool(wire: WireServer) -> None:
    wire.add(Answer(body=reply(tool_use("toolu_o", "final_output", {"city": "Paris"}))))
    kernel = make_kernel()
    kernel.providers.add("anthropic", provider(wire))
    agent = LLMAgent(name="geo", model=f"anthropic/{MODEL}", output_schema=SCHEMA)
    async with SpellRun.open(kernel) as run:
        result = await run.run_agent(agent, "capital of France?")
    assert result.data == {"city": "Paris"}
    assert result.text == '{"city": "Paris"}' and result.tool_calls == []
    body = wire.requests[0].body
    [output] = body["tools"]
    assert output["name"] == "final_output" and output["input_schema"] == SCHEMA
    assert "final answer" in output["description"]
    assert body["tool_choice"] == {"type": "tool", "name": "final_output"}
    assert "system" not in body


async def test_structured_output_that_is_not_an_object_is_wrapped(wire: WireServer) -> None:
    schema = {"type": "array", "items": {"type": "integer"}}
    wire.add(Answer(body=reply(tool_use("toolu_o", "final_output", {"value": [1, 2, 3]}))))
    p = provider(wire)
    response = await p.chat(request(output_schema=schema))
    assert json.loads(response.text) == [1, 2, 3] and response.finish_reason == "stop"
    assert response.tool_calls == ()
    assert wire.requests[0].body["tools"][0]["input_schema"] == {
        "type": "object", "properties": {"value": schema}, "required": ["value"]}
    # streamed, the wrapped answer arrives in one piece when its block ends
    wire.add(sse(start(), *tool_block(0, "toolu_o", "final_output", '{"value": [1,', " 2]}"),
                 *finish("tool_use")))
    chunks = await collect(p, request(output_schema=schema))
    assert [c.text for c in chunks if c.text] == ["[1, 2]"]
    assert chunks[-1].tool_calls == () and chunks[-1].finish_reason == "stop"


async def test_streamed_structured_output_streams_as_text(wire: WireServer) -> None:
    wire.add(sse(start(), *tool_block(0, "toolu_o", "final_output", '{"city"', ': "Pa', 'ris"}'),
                 *finish("tool_use")))
    chunks = await collect(provider(wire), request(output_schema=SCHEMA))
    assert [c.text for c in chunks if c.text] == ['{"city"', ': "Pa', 'ris"}']
    assert not any(c.tool_deltas for c in chunks)
    assert chunks[-1].tool_calls == () and chunks[-1].finish_reason == "stop"


async def test_structured_output_alongside_tools(wire: WireServer) -> None:
    """With tools, the model must call some tool (``any``): the real ones first, then the
    output tool with the answer."""
    wire.add(
        Answer(body=reply(tool_use("toolu_1", "lookup", {"country": "France"}))),
        Answer(body=reply(tool_use("toolu_2", "final_output", {"city": "Paris"}))),
    )

    async def lookup(args: dict[str, Any], ctx: Any) -> Any:
        return {"capital": "Paris"}

    tool = Tool(name="lookup", description="finds a capital", run=lookup,
                parameters={"type": "object", "properties": {"country": {"type": "string"}}})
    kernel = make_kernel()
    kernel.providers.add("anthropic", provider(wire))
    agent = LLMAgent(name="geo", model=f"anthropic/{MODEL}", output_schema=SCHEMA,
                     tools=[tool], instructions="Answer in JSON.")
    async with SpellRun.open(kernel) as run:
        result = await run.run_agent(agent, "capital of France?")
    assert result.data == {"city": "Paris"}
    assert [c["name"] for c in result.tool_calls] == ["lookup"]
    first, second = (r.body for r in wire.requests)
    assert [t["name"] for t in first["tools"]] == ["lookup", "final_output"]
    assert first["tool_choice"] == {"type": "any"}
    assert first["system"].startswith("Answer in JSON.\n\n")
    assert "'final_output'" in first["system"]
    assert second["messages"][-1] == {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": '{"capital": "Paris"}'}]}
    # tool_choice "none" with an output schema: the answer, at once
    wire.add(Answer(body=reply(tool_use("toolu_3", "final_output", {"city": "Rome"}))))
    tools = [ToolSpec("lookup", "finds", {})]
    response = await provider(wire).chat(request(tools=tools, tool_choice="none",
                                                 output_schema=SCHEMA))
    assert response.text == '{"city": "Rome"}'
    assert wire.requests[-1].body["tool_choice"] == {"type": "tool", "name": "final_output"}


async def test_the_output_tool_never_shadows_a_real_tool(wire: WireServer) -> None:
    wire.add(Answer(body=reply(tool_use("toolu_1", "final_output", {"x": 1}))))
    tools = [ToolSpec("final_output", "a user tool of that name", {})]
    response = await provider(wire).chat(request(tools=tools, output_schema=SCHEMA))
    assert response.tool_calls == (ToolCall("toolu_1", "final_output", {"x": 1}),)
    assert [t["name"] for t in wire.requests[0].body["tools"]] == ["final_output",
                                                                   "final_output_1"]


# --- an agent --------------------------------------------------------------------------------


async def test_an_agent_tool_loop_over_the_wire(wire: WireServer) -> None:
    wire.add(
        Answer(body=reply(tool_use("toolu_t1", "double", {"n": 21}))),
        Answer(body=reply(text("42"))),
    )

    async def double(args: dict[str, Any], ctx: Any) -> Any:
        return {"result": args["n"] * 2}

    tool = Tool(name="double", description="doubles n", run=double,
                parameters={"type": "object", "properties": {"n": {"type": "integer"}}})
    kernel = make_kernel()
    kernel.providers.add("anthropic", provider(wire))
    agent = LLMAgent(name="calc", model=f"anthropic/{MODEL}", tools=[tool],
                     instructions="Use tools.")
    async with SpellRun.open(kernel) as run:
        result = await run.run_agent(agent, "double 21")
    assert result.text == "42"
    second = wire.requests[1].body
    assert second["system"] == "Use tools."
    assert second["messages"] == [
        {"role": "user", "content": "double 21"},
        {"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_t1", "name": "double", "input": {"n": 21}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_t1", "content": '{"result": 42}'}]},
    ]
    assert result.usage.input_tokens == 20
    assert result.usage.cost == pytest.approx(2 * (10 * 1.0 + 5 * 5.0) / 1e6)


async def test_an_agent_streams_over_the_wire(wire: WireServer) -> None:
    wire.add(
        sse(start(), *tool_block(0, "toolu_t1", "double", '{"n"', ": 4}"), *finish("tool_use")),
        sse(start(), *text_block(0, "it is ", "8"), *finish()),
    )

    async def double(args: dict[str, Any], ctx: Any) -> Any:
        return args["n"] * 2

    tool = Tool(name="double", description="doubles n", run=double,
                parameters={"type": "object", "properties": {"n": {"type": "integer"}}})
    kernel = make_kernel()
    kernel.providers.add("anthropic", provider(wire))
    agent = LLMAgent(name="calc", model=f"anthropic/{MODEL}", tools=[tool])
    pieces: list[str] = []
    async with SpellRun.open(kernel) as run:
        result = await agent.stream("double 4", run, pieces.append)
    assert result.text == "it is 8" and pieces == ["it is ", "8"]
    assert wire.requests[1].body["messages"][-1]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_t1", "content": "8"}]


# --- failures --------------------------------------------------------------------------------


def api_error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


async def test_429_with_retry_after_is_waited_out_then_succeeds(wire: WireServer) -> None:
    wire.add(
        Answer(429, api_error("rate_limit_error", "slow down"), headers={"retry-after": "0.2"}),
        Answer(body=reply(text("finally"))),
    )
    started = time.monotonic()
    response = await provider(wire).chat(request())
    assert response.text == "finally"
    assert time.monotonic() - started >= 0.2
    assert len(wire.requests) == 2


async def test_overloaded_is_retried_for_streams_too(wire: WireServer) -> None:
    wire.add(
        Answer(529, api_error("overloaded_error", "Overloaded"),
               headers={"retry-after-ms": "200"}),
        sse(start(), *text_block(0, "ok"), *finish()),
    )
    started = time.monotonic()
    chunks = await collect(provider(wire), request())
    assert "".join(c.text for c in chunks) == "ok"
    assert time.monotonic() - started >= 0.2


async def test_500s_exhaust_the_retries(wire: WireServer) -> None:
    wire.add(*[Answer(500, api_error("api_error", "internal trouble")) for _ in range(3)])
    with pytest.raises(LlmspellError) as info:
        await provider(wire, max_retries=2).chat(request())
    err = info.value
    assert err.code == "provider_error"
    assert err.details["status"] == 500 and err.details["attempts"] == 3
    assert err.message == "anthropic 500: internal trouble (after 3 attempts)"
    assert len(wire.requests) == 3


async def test_client_errors_carry_the_providers_message(wire: WireServer) -> None:
    wire.add(Answer(400, api_error("invalid_request_error", "max_tokens: Field required")))
    with pytest.raises(LlmspellError) as info:
        await provider(wire).chat(request())
    assert info.value.message == "anthropic 400: max_tokens: Field required"
    assert len(wire.requests) == 1


async def test_a_slow_server_hits_the_timeout(wire: WireServer) -> None:
    wire.add(Answer(body=reply(text("late")), delay=1.0))
    with pytest.raises(LlmspellError) as info:
        await provider(wire, timeout=0.2, max_retries=0).chat(request())
    assert info.value.details["reason"] == "timeout"


async def test_a_stream_cut_midway_is_a_provider_error(wire: WireServer) -> None:
    answer = sse(start(), *text_block(0, "partial ", "answ", "er"), *finish())
    answer.cut_after = 4  # message_start, block start, two deltas
    wire.add(answer)
    seen: list[str] = []
    with pytest.raises(LlmspellError) as info:
        async for chunk in provider(wire).stream(request()):
            seen.append(chunk.text)
    assert seen == ["partial ", "answ"]
    assert info.value.code == "provider_error"
    assert info.value.details["reason"] in ("transport", "incomplete")


async def test_a_stream_without_message_stop_is_incomplete(wire: WireServer) -> None:
    wire.add(sse(start(), *text_block(0, "half"),
                 ev("message_delta", delta={"stop_reason": "end_turn"},
                    usage={"output_tokens": 1})))
    with pytest.raises(LlmspellError) as info:
        await collect(provider(wire), request())
    assert info.value.details["reason"] == "incomplete"


async def test_an_error_event_in_a_stream_is_a_provider_error(wire: WireServer) -> None:
    wire.add(sse(start(), *text_block(0, "par"),
                 named_event("error", api_error("overloaded_error", "Overloaded"))))
    seen: list[str] = []
    with pytest.raises(LlmspellError) as info:
        async for chunk in provider(wire).stream(request()):
            seen.append(chunk.text)
    assert seen == ["par"]
    assert info.value.code == "provider_error"
    assert info.value.details["reason"] == "stream_error"
    assert info.value.message == "anthropic: error in the stream: overloaded_error: Overloaded"


async def test_malformed_replies_are_clear_errors(wire: WireServer) -> None:
    p = provider(wire)
    wire.add(Answer(raw=b"{this is not json"))
    with pytest.raises(LlmspellError, match=r"malformed JSON.*this is not json"):
        await p.chat(request())
    wire.add(Answer(body={"type": "message", "role": "assistant"}))
    with pytest.raises(LlmspellError, match="malformed reply: no content"):
        await p.chat(request())
    wire.add(Answer(body=reply({"type": "tool_use", "id": "x", "input": {}})))  # no name
    with pytest.raises(LlmspellError, match="malformed reply: KeyError"):
        await p.chat(request())
    wire.add(sse(start(), "event: content_block_start\ndata: {broken"))
    with pytest.raises(LlmspellError, match="malformed JSON in a stream event"):
        await collect(p, request())
    wire.add(sse(start(), *tool_block(0, "x", "f", '{"a": '), *finish("tool_use")))
    with pytest.raises(LlmspellError, match="arguments of tool call 'f' are not JSON"):
        await collect(p, request())
    wire.add(sse(start(), json_delta(3, "{}"), *finish()))
    with pytest.raises(LlmspellError, match="a delta for block 3 that never started"):
        await collect(p, request())


async def test_a_missing_key_fails_before_connecting(wire: WireServer) -> None:
    config = parse({"providers": {"anthropic": {"base_url": wire.url}}})
    [p] = [x for x in build_providers(config, PriceTable.load(config), env={})
           if x.name == "anthropic"]
    assert not p.status().usable and p.status().detail == "ANTHROPIC_API_KEY is not set"
    with pytest.raises(LlmspellError) as info:
        await p.chat(request())
    assert info.value.code == "config_error" and "ANTHROPIC_API_KEY" in info.value.message
    assert wire.requests == []


async def test_cancelling_a_stream_closes_its_connection(wire: WireServer) -> None:
    answer = sse(start(), *text_block(0, *[f"{i} " for i in range(50)]), *finish())
    answer.event_delay = 0.05
    wire.add(answer)
    got: list[str] = []
    with trio.move_on_after(5):
        async for chunk in provider(wire).stream(request()):
            got.append(chunk.text)
            if len(got) == 2:
                break
    assert got == ["0 ", "1 "]
    await trio.to_thread.run_sync(wire.wait_closed, 3.0)
    assert wire.open_connections == 0


async def test_probe_lists_the_models_with_the_key_header(wire: WireServer) -> None:
    wire.add(Answer(body={"data": [{"id": MODEL, "type": "model"}]}))
    status = await provider(wire).probe()
    assert status.usable
    seen = wire.requests[0]
    assert (seen.method, seen.path) == ("GET", "/models")
    assert seen.headers["x-api-key"] == KEY and seen.headers["anthropic-version"] == "2023-06-01"


def test_the_key_never_appears_in_reprs_or_status(wire: WireServer) -> None:
    p = provider(wire)
    assert KEY not in repr(p) and KEY not in repr(p.client) and KEY not in str(p.status())
    assert p.status().detail == "ANTHROPIC_API_KEY is set"


def test_the_builtin_provider() -> None:
    config = parse({})
    built = {p.name: p for p in build_providers(config, PriceTable.load(config), env={})}
    p = built["anthropic"]
    assert isinstance(p, AnthropicProvider)
    assert p.spec.http.base_url == "https://api.anthropic.com/v1"
    assert p.default_model == MODEL and p.default_rank == 90 and MODEL in p.models()
    table = PriceTable.load(config)
    for model in p.models():
        assert table.lookup(f"anthropic/{model}") is not None, model
    assert table.lookup("anthropic/claude-haiku-4-5-20251001") == table.lookup(
        f"anthropic/{MODEL}")
