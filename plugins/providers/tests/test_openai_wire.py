"""The OpenAI-compatible provider against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import trio

from conftest import Answer, WireServer, sse
from llmspell.agents import LLMAgent
from llmspell.config import Config, parse
from llmspell.errors import LlmspellError
from llmspell.messages import Message, ToolCall
from llmspell.providers import ChatRequest, StreamChunk, ToolSpec
from llmspell.runtime import SpellRun
from llmspell.testing import make_kernel
from llmspell.tools import Tool
from llmspell_providers.catalog import build_providers, build_specs
from llmspell_providers.openai import OpenAIProvider
from llmspell_providers.prices import PriceTable

KEY = "sk-test-123"


def provider(wire: WireServer, **settings: Any) -> OpenAIProvider:
    table = {"base_url": wire.url, "backoff_initial": 0.01, "backoff_max": 0.05, **settings}
    config = parse({"providers": {"openai": table}})
    built = {p.name: p for p in build_providers(config, PriceTable.load(config),
                                                env={"OPENAI_API_KEY": KEY})}
    found = built["openai"]
    assert isinstance(found, OpenAIProvider)
    return found


def completion(text: str = "", calls: list[dict[str, Any]] = (), **extra: Any) -> dict[str, Any]:  # type: ignore[assignment]
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = [
            {"id": c["id"], "type": "function",
             "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])}}
            for c in calls
        ]
    return {
        "id": "chatcmpl-1",
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": message,
                     "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        **extra,
    }


def delta(content: str | None = None, tool_calls: Any = None, finish: str | None = None) -> dict:
    d: dict[str, Any] = {}
    if content is not None:
        d["content"] = content
    if tool_calls is not None:
        d["tool_calls"] = tool_calls
    return {"choices": [{"index": 0, "delta": d, "finish_reason": finish}]}


USAGE_EVENT = {"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 3}}


def request(**kw: Any) -> ChatRequest:
    return ChatRequest(model="gpt-4o-mini", messages=[Message("user", "hi")], **kw)


async def collect(p: OpenAIProvider, req: ChatRequest) -> list[StreamChunk]:
    return [chunk async for chunk in p.stream(req)]


async def test_plain_reply_with_usage_and_cost(wire: WireServer) -> None:
    wire.add(Answer(body=completion("Hello!")))
    p = provider(wire)
    req = ChatRequest(
        model="gpt-4o-mini",
        messages=[Message("system", "be brief"), Message("user", "hi")],
        temperature=0.0, max_tokens=20, seed=7,
    )
    response = await p.chat(req)
    assert response.text == "Hello!" and response.finish_reason == "stop"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (10, 5)
    assert response.usage.cost == pytest.approx((10 * 0.15 + 5 * 0.60) / 1e6)
    seen = wire.requests[0]
    assert seen.path == "/chat/completions"
    assert seen.headers["authorization"] == f"Bearer {KEY}"
    assert seen.body["messages"] == [
        {"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}
    ]
    assert (seen.body["temperature"], seen.body["max_tokens"], seen.body["seed"]) == (0.0, 20, 7)
    assert "stream" not in seen.body


async def test_streamed_reply_arrives_in_order_with_usage(wire: WireServer) -> None:
    wire.add(sse(delta("Hel"), delta("lo "), delta("there"), delta(finish="stop"),
                 USAGE_EVENT, "[DONE]"))
    chunks = await collect(provider(wire), request())
    assert [c.text for c in chunks if c.text] == ["Hel", "lo ", "there"]
    last = chunks[-1]
    assert last.finish_reason == "stop" and last.usage is not None
    assert (last.usage.input_tokens, last.usage.output_tokens) == (7, 3)
    body = wire.requests[0].body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert wire.requests[0].headers["accept"] == "text/event-stream"


async def test_several_tool_calls_in_one_reply(wire: WireServer) -> None:
    wire.add(Answer(body=completion(calls=[
        {"id": "a", "name": "add", "arguments": {"x": 1, "y": 2}},
        {"id": "b", "name": "add", "arguments": {"x": 3, "y": 4}},
    ])))
    tools = [ToolSpec("add", "adds", {"type": "object", "properties": {}})]
    response = await provider(wire).chat(request(tools=tools, tool_choice="add"))
    assert response.tool_calls == (
        ToolCall("a", "add", {"x": 1, "y": 2}), ToolCall("b", "add", {"x": 3, "y": 4})
    )
    assert response.finish_reason == "tool_calls"
    assert wire.requests[0].body["tools"] == [
        {"type": "function", "function": {"name": "add", "description": "adds",
                                          "parameters": {"type": "object", "properties": {}}}}
    ]
    assert wire.requests[0].body["tool_choice"] == {"type": "function",
                                                    "function": {"name": "add"}}


async def test_streamed_tool_calls_split_across_chunks(wire: WireServer) -> None:
    wire.add(sse(
        delta(tool_calls=[{"index": 0, "id": "c1", "type": "function",
                           "function": {"name": "add", "arguments": ""}}]),
        delta(tool_calls=[{"index": 0, "function": {"arguments": '{"x": '}}]),
        delta(tool_calls=[{"index": 1, "id": "c2", "type": "function",
                           "function": {"name": "mul", "arguments": '{"a"'}}]),
        delta(tool_calls=[{"index": 0, "function": {"arguments": '1, "y": 2}'}}]),
        delta(tool_calls=[{"index": 1, "function": {"arguments": ': 5}'}}]),
        delta(finish="tool_calls"),
        USAGE_EVENT,
        "[DONE]",
    ))
    chunks = await collect(provider(wire), request())
    fragments = [d.arguments for c in chunks for d in c.tool_deltas if d.index == 0]
    assert "".join(fragments) == '{"x": 1, "y": 2}'
    assert chunks[-1].tool_calls == (
        ToolCall("c1", "add", {"x": 1, "y": 2}), ToolCall("c2", "mul", {"a": 5})
    )
    assert chunks[-1].finish_reason == "tool_calls"


async def test_structured_output_through_an_agent(wire: WireServer) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}},
              "required": ["city"]}
    wire.add(Answer(body=completion('{"city": "Paris"}')))
    kernel = make_kernel()
    kernel.providers.add("openai", provider(wire))
    agent = LLMAgent(name="geo", model="openai/gpt-4o-mini", output_schema=schema)
    async with SpellRun.open(kernel) as run:
        result = await run.run_agent(agent, "capital of France?")
    assert result.data == {"city": "Paris"}
    assert wire.requests[0].body["response_format"] == {
        "type": "json_schema", "json_schema": {"name": "output", "schema": schema}
    }


async def test_an_agent_tool_loop_over_the_wire(wire: WireServer) -> None:
    wire.add(
        Answer(body=completion(calls=[{"id": "t1", "name": "double", "arguments": {"n": 21}}])),
        Answer(body=completion("42")),
    )

    async def double(args: dict[str, Any], ctx: Any) -> Any:
        return {"result": args["n"] * 2}

    tool = Tool(name="double", description="doubles n", run=double,
                parameters={"type": "object", "properties": {"n": {"type": "integer"}}})
    kernel = make_kernel()
    kernel.providers.add("openai", provider(wire))
    agent = LLMAgent(name="calc", model="openai/gpt-4o-mini", tools=[tool])
    async with SpellRun.open(kernel) as run:
        result = await run.run_agent(agent, "double 21")
    assert result.text == "42"
    second = wire.requests[1].body["messages"]
    assert second[-2]["tool_calls"][0]["function"]["name"] == "double"
    assert second[-1] == {"role": "tool", "tool_call_id": "t1", "content": '{"result": 42}'}
    assert result.usage.cost is not None and result.usage.input_tokens == 20


async def test_429_with_retry_after_is_waited_out_then_succeeds(wire: WireServer) -> None:
    wire.add(
        Answer(429, {"error": {"message": "slow down"}}, headers={"retry-after-ms": "200"}),
        Answer(body=completion("finally")),
    )
    started = time.monotonic()
    response = await provider(wire).chat(request())
    assert response.text == "finally"
    assert time.monotonic() - started >= 0.2
    assert len(wire.requests) == 2


async def test_retry_after_in_seconds_is_honoured_for_streams_too(wire: WireServer) -> None:
    wire.add(
        Answer(503, {"error": {"message": "overloaded"}}, headers={"retry-after": "0.2"}),
        sse(delta("ok"), delta(finish="stop"), "[DONE]"),
    )
    started = time.monotonic()
    chunks = await collect(provider(wire), request())
    assert "".join(c.text for c in chunks) == "ok"
    assert time.monotonic() - started >= 0.2


async def test_500s_exhaust_the_retries(wire: WireServer) -> None:
    wire.add(*[Answer(500, {"error": {"message": "internal trouble"}}) for _ in range(3)])
    with pytest.raises(LlmspellError) as info:
        await provider(wire, max_retries=2).chat(request())
    err = info.value
    assert err.code == "provider_error"
    assert err.details["status"] == 500 and err.details["attempts"] == 3
    assert "internal trouble" in err.message and "after 3 attempts" in err.message
    assert len(wire.requests) == 3


async def test_a_retry_after_beyond_the_maximum_fails_at_once(wire: WireServer) -> None:
    wire.add(Answer(429, {"error": {"message": "quota"}}, headers={"retry-after": "3600"}))
    with pytest.raises(LlmspellError) as info:
        await provider(wire).chat(request())
    assert info.value.details["retry_after"] == 3600 and len(wire.requests) == 1


async def test_client_errors_are_not_retried_and_carry_the_providers_message(
    wire: WireServer,
) -> None:
    wire.add(Answer(400, {"error": {"message": "model 'nope' does not exist",
                                    "type": "invalid_request_error"}}))
    with pytest.raises(LlmspellError) as info:
        await provider(wire).chat(request())
    assert info.value.message == "openai 400: model 'nope' does not exist"
    assert len(wire.requests) == 1


async def test_a_slow_server_hits_the_timeout(wire: WireServer) -> None:
    wire.add(Answer(body=completion("late"), delay=1.0))
    with pytest.raises(LlmspellError) as info:
        await provider(wire, timeout=0.2, max_retries=0).chat(request())
    assert info.value.details["reason"] == "timeout"
    assert "timed out after 0.2 s" in info.value.message


async def test_a_stream_cut_midway_is_a_provider_error(wire: WireServer) -> None:
    answer = sse(delta("partial "), delta("answ"), delta("er"), delta(finish="stop"), "[DONE]")
    answer.cut_after = 2
    wire.add(answer)
    seen: list[str] = []
    with pytest.raises(LlmspellError) as info:
        async for chunk in provider(wire).stream(request()):
            seen.append(chunk.text)
    assert seen == ["partial ", "answ"]
    assert info.value.code == "provider_error"
    assert info.value.details["reason"] in ("transport", "incomplete")


async def test_a_stream_that_ends_without_finishing_is_incomplete(wire: WireServer) -> None:
    wire.add(sse(delta("half")))
    with pytest.raises(LlmspellError) as info:
        await collect(provider(wire), request())
    assert info.value.details["reason"] == "incomplete"


async def test_malformed_json_is_a_clear_error(wire: WireServer) -> None:
    wire.add(Answer(raw=b"{this is not json"))
    with pytest.raises(LlmspellError) as info:
        await provider(wire).chat(request())
    assert "malformed JSON" in info.value.message and "{this is not json" in info.value.message
    wire.add(Answer(body={"choices": []}))
    with pytest.raises(LlmspellError, match="malformed reply: no choices"):
        await provider(wire).chat(request())
    wire.add(sse("{broken", "[DONE]"))
    with pytest.raises(LlmspellError, match="malformed JSON in a stream event"):
        await collect(provider(wire), request())
    wire.add(Answer(body=completion(calls=[{"id": "x", "name": "f", "arguments": {}}])))
    wire.answers[-1].body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] = "{"
    with pytest.raises(LlmspellError, match="arguments of tool call 'f' are not JSON"):
        await provider(wire).chat(request())


async def test_a_missing_key_fails_before_connecting(wire: WireServer) -> None:
    config = parse({"providers": {"openai": {"base_url": wire.url}}})
    [p] = [x for x in build_providers(config, PriceTable.load(config), env={})
           if x.name == "openai"]
    assert not p.status().usable and p.status().detail == "OPENAI_API_KEY is not set"
    with pytest.raises(LlmspellError) as info:
        await p.chat(request())
    assert info.value.code == "config_error" and "OPENAI_API_KEY" in info.value.message
    assert wire.requests == []


async def test_cancelling_a_stream_closes_its_connection(wire: WireServer) -> None:
    answer = sse(*[delta(f"{i} ") for i in range(50)], delta(finish="stop"), "[DONE]")
    answer.event_delay = 0.05
    wire.add(answer)
    p = provider(wire)
    got: list[str] = []
    with trio.move_on_after(5):
        async for chunk in p.stream(request()):
            got.append(chunk.text)
            if len(got) == 2:
                break
    assert got == ["0 ", "1 "]
    await trio.to_thread.run_sync(wire.wait_closed, 3.0)
    assert wire.open_connections == 0


async def test_cancelling_a_waiting_call_closes_its_connection(wire: WireServer) -> None:
    wire.add(Answer(body=completion("late"), delay=0.5))
    with trio.move_on_after(0.1) as scope:
        await provider(wire).chat(request())
    assert scope.cancelled_caught
    await trio.to_thread.run_sync(wire.wait_closed, 3.0)
    assert wire.open_connections == 0


async def test_requests_of_one_run_share_a_connection(wire: WireServer) -> None:
    wire.add(*[Answer(body=completion(str(i))) for i in range(3)])
    p = provider(wire)
    for _ in range(3):
        await p.chat(request())
    assert wire.connections == 1


async def test_a_config_provider_of_the_openai_protocol(wire: WireServer) -> None:
    config = parse({"providers": {"myvllm": {"protocol": "openai", "base_url": wire.url,
                                             "models": ["qwen"], "free": True}}})
    built = {p.name: p for p in build_providers(config, PriceTable.load(config), env={})}
    wire.add(Answer(body=completion("hi from vllm")))
    response = await built["myvllm"].chat(ChatRequest("qwen", [Message("user", "hi")]))
    assert response.text == "hi from vllm" and response.usage.cost == 0.0
    assert "authorization" not in wire.requests[0].headers
    assert built["myvllm"].models() == ["qwen"]


def test_config_errors_name_the_key() -> None:
    cases = [
        ({"openai": {"timeout": -1}}, "providers.openai.timeout"),
        ({"openai": {"base_url": "ftp://x"}}, "providers.openai.base_url"),
        ({"openai": {"max_retrys": 1}}, "providers.openai.max_retrys"),
        ({"mine": {"base_url": "http://x"}}, "providers.mine.protocol"),
        ({"opneai": {"timeout": 5}}, "providers.opneai.protocol"),
        ({"mine": {"protocol": "opnai", "base_url": "http://x"}}, "providers.mine.protocol"),
        ({"mine": {"protocol": "openai"}}, "providers.mine.base_url"),
    ]
    for tables, key in cases:
        config = parse({"providers": tables})
        with pytest.raises(LlmspellError) as info:
            build_providers(config, PriceTable.load(config))
        assert info.value.code == "config_error" and info.value.details["key"] == key, tables


def test_tables_of_other_plugins_providers_are_left_to_them() -> None:
    config = parse({"providers": {"local": {"n_ctx": 2048}, "myplugin": {"colour": "blue"}}})
    names = [spec.name for spec in build_specs(config)]
    assert "local" not in names and "myplugin" not in names


def test_the_key_never_appears_in_reprs_or_status(wire: WireServer) -> None:
    p = provider(wire)
    assert KEY not in repr(p) and KEY not in repr(p.client) and KEY not in str(p.status())


def test_dated_model_names_take_the_price_of_their_family() -> None:
    table = PriceTable.load(Config())
    assert table.lookup("openai/gpt-4o-mini-2024-07-18") == table.lookup("openai/gpt-4o-mini")
    assert table.lookup("openai/gpt-4o-2024-08-06") == table.lookup("openai/gpt-4o")
    assert table.lookup("openai/gpt-4oz") is None
    custom = PriceTable.load(parse({"prices": {"openai/gpt-4o": {"input": 1.0}}}))
    assert custom.lookup("openai/gpt-4o").input == 1.0  # type: ignore[union-attr]
