"""The Gemini provider against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import trio

from conftest import Answer, WireServer, sse
from llmspell.agents import LLMAgent
from llmspell.config import parse
from llmspell.errors import LlmspellError
from llmspell.messages import Message, ToolCall
from llmspell.providers import ChatRequest, ProviderRegistry, StreamChunk, ToolSpec
from llmspell.runtime import SpellRun
from llmspell.testing import make_kernel
from llmspell.tools import Tool
from llmspell_providers.catalog import build_providers
from llmspell_providers.gemini import SKIP_SIGNATURE, GeminiProvider, gemini_schema
from llmspell_providers.prices import PriceTable

KEY = "AIza-test-123"
MODEL = "gemini-2.5-flash"
PATH = f"/models/{MODEL}:generateContent"
STREAM_PATH = f"/models/{MODEL}:streamGenerateContent?alt=sse"


def provider(wire: WireServer, env: dict[str, str] | None = None,
             **settings: Any) -> GeminiProvider:
    table = {"base_url": wire.url, "backoff_initial": 0.01, "backoff_max": 0.05, **settings}
    config = parse({"providers": {"gemini": table}})
    built = {p.name: p for p in build_providers(
        config, PriceTable.load(config), env={"GEMINI_API_KEY": KEY} if env is None else env)}
    found = built["gemini"]
    assert isinstance(found, GeminiProvider)
    return found


def call(name: str, args: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"functionCall": {"name": name, "args": args}, **extra}


def reply(*parts: Any, finish: str | None = "STOP", usage: bool = True,
          **extra: Any) -> dict[str, Any]:
    candidate: dict[str, Any] = {
        "content": {"role": "model",
                    "parts": [{"text": p} if isinstance(p, str) else p for p in parts]},
        "index": 0,
    }
    if finish:
        candidate["finishReason"] = finish
    out: dict[str, Any] = {"candidates": [candidate], "modelVersion": MODEL, **extra}
    if usage:
        out["usageMetadata"] = {"promptTokenCount": 10, "candidatesTokenCount": 5,
                                "totalTokenCount": 15}
    return out


def request(**kw: Any) -> ChatRequest:
    return ChatRequest(model=MODEL, messages=[Message("user", "hi")], **kw)


async def collect(p: GeminiProvider, req: ChatRequest) -> list[StreamChunk]:
    return [chunk async for chunk in p.stream(req)]


# --- replies ---------------------------------------------------------------------------------


async def test_plain_reply_with_usage_cost_and_request_shape(wire: WireServer) -> None:
    answer = reply("Hel", {"text": "thinking...", "thought": True}, "lo!")
    answer["usageMetadata"]["thoughtsTokenCount"] = 4
    wire.add(Answer(body=answer))
    p = provider(wire)
    req = ChatRequest(
        model=MODEL,
        messages=[Message("system", "be brief"), Message("user", "hi")],
        temperature=0.0, max_tokens=20, seed=7, stop=["END"],
    )
    response = await p.chat(req)
    assert response.text == "Hello!" and response.finish_reason == "stop"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (10, 9)
    assert response.usage.cost == pytest.approx((10 * 0.30 + 9 * 2.50) / 1e6)
    seen = wire.requests[0]
    assert (seen.method, seen.path) == ("POST", PATH)
    assert seen.headers["x-goog-api-key"] == KEY and "authorization" not in seen.headers
    assert KEY not in seen.path
    assert seen.body == {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "systemInstruction": {"parts": [{"text": "be brief"}]},
        "generationConfig": {"temperature": 0.0, "maxOutputTokens": 20, "seed": 7,
                             "stopSequences": ["END"]},
    }


async def test_roles_merge_and_tool_results_are_function_responses(wire: WireServer) -> None:
    wire.add(Answer(body=reply("done")))
    messages = [
        Message("system", "rule one"),
        Message("user", "first"),
        Message("user", "second"),
        Message("assistant", "looking",
                tool_calls=(ToolCall("call_0", "find", {"q": "a"}),
                            ToolCall("call_1", "count", {}))),
        Message("tool", '{"hits": 3}', tool_call_id="call_0", name="find"),
        Message("tool", "7", tool_call_id="call_1"),  # no name: found by its call id
        Message("tool", "plain words", tool_call_id="x", name="echo"),
        Message("system", "rule two"),
        Message("user", "and now?"),
    ]
    await provider(wire).chat(ChatRequest(MODEL, messages))
    body = wire.requests[0].body
    assert body["systemInstruction"] == {"parts": [{"text": "rule one\n\nrule two"}]}
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "first"}, {"text": "second"}]},
        {"role": "model", "parts": [
            {"text": "looking"},
            {"functionCall": {"name": "find", "args": {"q": "a"}}},
            {"functionCall": {"name": "count", "args": {}}},
        ]},
        {"role": "user", "parts": [
            {"functionResponse": {"name": "find", "response": {"hits": 3}}},
            {"functionResponse": {"name": "count", "response": {"result": 7}}},
            {"functionResponse": {"id": "x", "name": "echo",
                                  "response": {"result": "plain words"}}},
            {"text": "and now?"},
        ]},
    ]


async def test_a_tool_result_that_names_no_tool_is_refused(wire: WireServer) -> None:
    messages = [Message("user", "hi"), Message("tool", "1", tool_call_id="nobody")]
    with pytest.raises(LlmspellError) as info:
        await provider(wire).chat(ChatRequest(MODEL, messages))
    assert info.value.code == "invalid_value" and "'nobody'" in info.value.message
    assert wire.requests == []


async def test_several_function_calls_in_one_reply_and_a_forced_tool(wire: WireServer) -> None:
    wire.add(Answer(body=reply("Adding.", call("add", {"x": 1, "y": 2}),
                               call("add", {"x": 3, "y": 4}))))
    params = {"type": "object", "additionalProperties": False,
              "$schema": "https://json-schema.org/draft/2020-12/schema",
              "properties": {"x": {"type": "integer"}, "y": {"type": ["number", "null"]}},
              "required": ["x"]}
    tools = [ToolSpec("add", "adds", params), ToolSpec("now", "the time", {})]
    response = await provider(wire).chat(request(tools=tools, tool_choice="add"))
    assert response.tool_calls == (
        ToolCall("call_0", "add", {"x": 1, "y": 2}), ToolCall("call_1", "add", {"x": 3, "y": 4})
    )
    assert response.text == "Adding." and response.finish_reason == "tool_calls"
    body = wire.requests[0].body
    assert body["tools"] == [{"functionDeclarations": [
        {"name": "add", "description": "adds", "parameters": {
            "type": "OBJECT",
            "properties": {"x": {"type": "INTEGER"}, "y": {"type": "NUMBER", "nullable": True}},
            "required": ["x"]}},
        {"name": "now", "description": "the time"},  # no parameters at all
    ]}]
    assert body["toolConfig"] == {"functionCallingConfig": {
        "mode": "ANY", "allowedFunctionNames": ["add"]}}


async def test_tool_choice_mapping(wire: WireServer) -> None:
    tools = [ToolSpec("ping", "pings", {})]
    cases = {None: None, "auto": {"mode": "AUTO"}, "required": {"mode": "ANY"},
             "none": {"mode": "NONE"}}
    p = provider(wire)
    for choice in cases:
        wire.add(Answer(body=reply("ok")))
        await p.chat(request(tools=tools, tool_choice=choice))
    sent = [(r.body.get("toolConfig") or {}).get("functionCallingConfig") for r in wire.requests]
    assert sent == list(cases.values())
    wire.add(Answer(body=reply("ok")))
    await p.chat(request(tool_choice="required"))  # no tools: no toolConfig either
    assert "toolConfig" not in wire.requests[-1].body and "tools" not in wire.requests[-1].body


async def test_finish_reasons(wire: WireServer) -> None:
    p = provider(wire)
    for raw, expected in [("MAX_TOKENS", "length"), ("SAFETY", "content_filter"),
                          ("RECITATION", "content_filter"), ("OTHER", "stop"),
                          ("SOMETHING_NEW", "stop")]:
        wire.add(Answer(body=reply("x", finish=raw)))
        assert (await p.chat(request())).finish_reason == expected, raw
    wire.add(Answer(body={"promptFeedback": {"blockReason": "SAFETY"},
                          "usageMetadata": {"promptTokenCount": 3}}))
    blocked = await p.chat(request())
    assert (blocked.text, blocked.finish_reason, blocked.usage.input_tokens) == (
        "", "content_filter", 3)
    wire.add(Answer(body=reply(finish="MALFORMED_FUNCTION_CALL",
                               usage=False)))
    wire.answers[-1].body["candidates"][0]["finishMessage"] = "bad call: print(x"
    with pytest.raises(LlmspellError) as info:
        await p.chat(request(tools=[ToolSpec("f", "f", {})]))
    assert info.value.code == "provider_error"
    assert "MALFORMED_FUNCTION_CALL" in info.value.message and "print(x" in info.value.message


# --- streams ---------------------------------------------------------------------------------


async def test_streamed_reply_arrives_in_order_with_usage(wire: WireServer) -> None:
    wire.add(sse(reply("Hel", finish=None, usage=False), reply("lo ", finish=None, usage=False),
                 reply("there", finish="STOP")))
    chunks = await collect(provider(wire), request())
    assert [c.text for c in chunks if c.text] == ["Hel", "lo ", "there"]
    last = chunks[-1]
    assert last.finish_reason == "stop" and last.usage is not None
    assert (last.usage.input_tokens, last.usage.output_tokens) == (10, 5)
    assert last.usage.cost == pytest.approx((10 * 0.30 + 5 * 2.50) / 1e6)
    seen = wire.requests[0]
    assert seen.path == STREAM_PATH and KEY not in seen.path
    assert seen.headers["accept"] == "text/event-stream"
    assert seen.headers["x-goog-api-key"] == KEY
    assert "stream" not in seen.body


async def test_streamed_function_calls_across_chunks(wire: WireServer) -> None:
    wire.add(sse(
        reply("Let me add.", finish=None, usage=False),
        reply(call("add", {"x": 1, "y": 2}), finish=None, usage=False),
        reply(call("mul", {"a": 5}), call("now", {}), finish="STOP"),
    ))
    chunks = await collect(provider(wire), request())
    assert "".join(c.text for c in chunks) == "Let me add."
    deltas = [d for c in chunks for d in c.tool_deltas]
    assert [(d.index, d.id, d.name, json.loads(d.arguments)) for d in deltas] == [
        (0, "call_0", "add", {"x": 1, "y": 2}), (1, "call_1", "mul", {"a": 5}),
        (2, "call_2", "now", {})]
    assert chunks[-1].tool_calls == (
        ToolCall("call_0", "add", {"x": 1, "y": 2}), ToolCall("call_1", "mul", {"a": 5}),
        ToolCall("call_2", "now", {}),
    )
    assert chunks[-1].finish_reason == "tool_calls"


async def test_ids_given_by_the_api_are_kept_and_echoed(wire: WireServer) -> None:
    wire.add(Answer(body=reply({"functionCall": {"id": "fc-77", "name": "add",
                                                 "args": {"x": 1}}})))
    p = provider(wire)
    response = await p.chat(request(tools=[ToolSpec("add", "adds", {})]))
    assert response.tool_calls == (ToolCall("fc-77", "add", {"x": 1}),)
    wire.add(Answer(body=reply("1")))
    await p.chat(ChatRequest(MODEL, [Message("user", "hi"), response.message,
                                     Message("tool", "1", tool_call_id="fc-77", name="add")]))
    contents = wire.requests[-1].body["contents"]
    assert contents[1]["parts"] == [{"functionCall": {"name": "add", "args": {"x": 1},
                                                      "id": "fc-77"}}]
    assert contents[2]["parts"] == [{"functionResponse": {"name": "add",
                                                          "response": {"result": 1},
                                                          "id": "fc-77"}}]


# --- thought signatures ----------------------------------------------------------------------


async def test_thought_signatures_go_back_with_their_calls(wire: WireServer) -> None:
    wire.add(Answer(body=reply(call("add", {"x": 1}, thoughtSignature="sig-A"),
                               call("add", {"x": 2}))))
    p = provider(wire)
    tools = [ToolSpec("add", "adds", {})]
    first = await p.chat(request(tools=tools))
    signed, plain = first.tool_calls
    assert signed.id.startswith("call_0_") and len(signed.id) == len("call_0_") + 12
    assert plain.id == "call_1"
    wire.add(Answer(body=reply("3")))
    messages = [Message("user", "hi"), first.message,
                Message("tool", "1", tool_call_id=signed.id, name="add"),
                Message("tool", "2", tool_call_id=plain.id, name="add")]
    await p.chat(ChatRequest(MODEL, messages, tools=tools))
    parts = wire.requests[-1].body["contents"][1]["parts"]
    assert parts == [
        {"functionCall": {"name": "add", "args": {"x": 1}}, "thoughtSignature": "sig-A"},
        {"functionCall": {"name": "add", "args": {"x": 2}}},
    ]
    assert "id" not in wire.requests[-1].body["contents"][2]["parts"][0]["functionResponse"]


async def test_unknown_signatures_get_the_sentinel_on_gemini_3(wire: WireServer) -> None:
    history = [Message("user", "hi"),
               Message("assistant", "", tool_calls=(ToolCall("call_0", "f", {}),
                                                    ToolCall("call_1", "f", {}))),
               Message("tool", "1", tool_call_id="call_0", name="f"),
               Message("tool", "2", tool_call_id="call_1", name="f")]
    p = provider(wire)
    for model, expected in [("gemini-3-pro-preview", SKIP_SIGNATURE),
                            ("gemini-flash-latest", SKIP_SIGNATURE),
                            ("gemini-2.5-flash", None), ("gemma-3-27b-it", None)]:
        wire.add(Answer(body=reply("ok")))
        await p.chat(ChatRequest(model, history))
        first, second = wire.requests[-1].body["contents"][1]["parts"]
        assert first.get("thoughtSignature") == expected, model
        assert "thoughtSignature" not in second
        assert wire.requests[-1].path == f"/models/{model}:generateContent"


async def test_streamed_calls_keep_their_signatures(wire: WireServer) -> None:
    wire.add(sse(reply(call("f", {"n": 1}, thoughtSignature="sig-S"), finish="STOP")))
    p = provider(wire)
    chunks = await collect(p, request(tools=[ToolSpec("f", "f", {})]))
    [tool_call] = chunks[-1].tool_calls
    wire.add(Answer(body=reply("ok")))
    await p.chat(ChatRequest("gemini-3-pro-preview", [
        Message("user", "hi"), Message("assistant", "", tool_calls=(tool_call,)),
        Message("tool", "1", tool_call_id=tool_call.id, name="f")]))
    part = wire.requests[-1].body["contents"][1]["parts"][0]
    assert part["thoughtSignature"] == "sig-S"


# --- structured output -----------------------------------------------------------------------

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
          "additionalProperties": False}


async def test_structured_output_through_an_agent_uses_the_json_mode(wire: WireServer) -> None:
    wire.add(Answer(body=reply('{"city": "Paris"}')))
    kernel = make_kernel()
    kernel.providers.add("gemini", provider(wire))
    agent = LLMAgent(name="geo", model=f"gemini/{MODEL}", output_schema=SCHEMA)
    async with SpellRun.open(kernel) as run:
        result = await run.run_agent(agent, "capital of France?")
    assert result.data == {"city": "Paris"}
    body = wire.requests[0].body
    assert body["generationConfig"] == {
        "responseMimeType": "application/json",
        "responseSchema": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}},
                           "required": ["city"]},
    }
    assert "tools" not in body


async def test_structured_output_alongside_tools_goes_through_an_output_function(
    wire: WireServer,
) -> None:
    wire.add(
        Answer(body=reply(call("lookup", {"country": "France"}))),
        Answer(body=reply(call("final_output", {"city": "Paris"}))),
    )

    async def lookup(args: dict[str, Any], ctx: Any) -> Any:
        return "Paris"

    tool = Tool(name="lookup", description="finds a capital", run=lookup,
                parameters={"type": "object", "properties": {"country": {"type": "string"}}})
    kernel = make_kernel()
    kernel.providers.add("gemini", provider(wire))
    agent = LLMAgent(name="geo", model=f"gemini/{MODEL}", output_schema=SCHEMA, tools=[tool])
    async with SpellRun.open(kernel) as run:
        result = await run.run_agent(agent, "capital of France?")
    assert result.data == {"city": "Paris"} and result.text == '{"city": "Paris"}'
    assert [c["name"] for c in result.tool_calls] == ["lookup"]
    first, second = (r.body for r in wire.requests)
    assert [d["name"] for d in first["tools"][0]["functionDeclarations"]] == [
        "lookup", "final_output"]
    assert first["tools"][0]["functionDeclarations"][1]["parameters"] == {
        "type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]}
    assert first["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    assert "generationConfig" not in first  # no JSON mode next to function calling
    assert "'final_output'" in first["systemInstruction"]["parts"][0]["text"]
    assert second["contents"][-1] == {"role": "user", "parts": [
        {"functionResponse": {"name": "lookup", "response": {"result": "Paris"}}}]}


async def test_a_non_object_output_through_the_output_function_is_unwrapped(
    wire: WireServer,
) -> None:
    schema = {"type": "array", "items": {"type": "integer"}}
    wire.add(sse(reply(call("final_output", {"value": [1, 2]}), finish="STOP")))
    tools = [ToolSpec("f", "f", {})]
    chunks = await collect(provider(wire), request(tools=tools, output_schema=schema,
                                                   tool_choice="none"))
    assert "".join(c.text for c in chunks) == "[1, 2]"
    assert chunks[-1].tool_calls == () and chunks[-1].finish_reason == "stop"
    body = wire.requests[0].body
    assert body["toolConfig"] == {"functionCallingConfig": {
        "mode": "ANY", "allowedFunctionNames": ["final_output"]}}
    assert body["tools"][0]["functionDeclarations"][1]["parameters"] == {
        "type": "OBJECT", "properties": {"value": {"type": "ARRAY", "items": {"type": "INTEGER"}}},
        "required": ["value"]}


def test_schemas_are_reduced_to_what_gemini_accepts() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": {
            "point": {"type": "object", "properties": {"x": {"type": "number"}},
                      "additionalProperties": False},
            "tree": {"type": "object", "properties": {"kids": {
                "type": "array", "items": {"$ref": "#/$defs/tree"}}}},
        },
        "type": "object",
        "properties": {
            "where": {"$ref": "#/$defs/point", "description": "a place"},
            "tree": {"$ref": "#/$defs/tree"},
            "kind": {"const": "fixed"},
            "size": {"enum": [1, 2, 3], "type": "integer", "default": 1},
            "mood": {"enum": ["ok", "bad", None]},
            "when": {"type": "string", "format": "date-time"},
            "mail": {"type": "string", "format": "email", "pattern": "@"},
            "maybe": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "either": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            "both": {"allOf": [{"properties": {"a": {"type": "string"}}, "required": ["a"]},
                               {"properties": {"b": {"type": "string"}}}]},
            "free": {"type": "object", "patternProperties": {".*": {}}},
            "count": {"type": "integer", "minimum": 0, "format": "int64", "examples": [3]},
        },
        "required": ["where", "ghost"],
    }
    assert gemini_schema(schema) == {
        "type": "OBJECT",
        "properties": {
            "where": {"type": "OBJECT", "description": "a place",
                      "properties": {"x": {"type": "NUMBER"}}},
            "tree": {"type": "OBJECT", "properties": {"kids": {
                "type": "ARRAY", "items": {"type": "OBJECT"}}}},
            "kind": {"type": "STRING", "enum": ["fixed"]},
            "size": {"type": "INTEGER"},
            "mood": {"type": "STRING", "enum": ["ok", "bad"], "nullable": True},
            "when": {"type": "STRING", "format": "date-time"},
            "mail": {"type": "STRING", "pattern": "@"},
            "maybe": {"type": "STRING", "nullable": True},
            "either": {"anyOf": [{"type": "STRING"}, {"type": "INTEGER"}]},
            "both": {"type": "OBJECT", "properties": {"a": {"type": "STRING"},
                                                      "b": {"type": "STRING"}},
                     "required": ["a"]},
            "free": {"type": "OBJECT"},
            "count": {"type": "INTEGER", "minimum": 0, "format": "int64"},
        },
        "required": ["where"],
    }


# --- an agent --------------------------------------------------------------------------------


async def test_an_agent_tool_loop_over_the_wire(wire: WireServer) -> None:
    wire.add(
        Answer(body=reply(call("double", {"n": 21}, thoughtSignature="sig-1"))),
        Answer(body=reply("42")),
    )

    async def double(args: dict[str, Any], ctx: Any) -> Any:
        return {"result": args["n"] * 2}

    tool = Tool(name="double", description="doubles n", run=double,
                parameters={"type": "object", "properties": {"n": {"type": "integer"}}})
    kernel = make_kernel()
    kernel.providers.add("gemini", provider(wire))
    agent = LLMAgent(name="calc", model=f"gemini/{MODEL}", tools=[tool],
                     instructions="Use tools.")
    async with SpellRun.open(kernel) as run:
        result = await run.run_agent(agent, "double 21")
    assert result.text == "42"
    second = wire.requests[1].body
    assert second["systemInstruction"] == {"parts": [{"text": "Use tools."}]}
    assert second["contents"] == [
        {"role": "user", "parts": [{"text": "double 21"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "double", "args": {"n": 21}},
                                     "thoughtSignature": "sig-1"}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "double",
                                                         "response": {"result": 42}}}]},
    ]
    assert result.usage.input_tokens == 20
    assert result.usage.cost == pytest.approx(2 * (10 * 0.30 + 5 * 2.50) / 1e6)


async def test_an_agent_streams_over_the_wire(wire: WireServer) -> None:
    wire.add(
        sse(reply(call("double", {"n": 4}), finish="STOP")),
        sse(reply("it is ", finish=None, usage=False), reply("8")),
    )

    async def double(args: dict[str, Any], ctx: Any) -> Any:
        return args["n"] * 2

    tool = Tool(name="double", description="doubles n", run=double,
                parameters={"type": "object", "properties": {"n": {"type": "integer"}}})
    kernel = make_kernel()
    kernel.providers.add("gemini", provider(wire))
    agent = LLMAgent(name="calc", model=f"gemini/{MODEL}", tools=[tool])
    pieces: list[str] = []
    async with SpellRun.open(kernel) as run:
        result = await agent.stream("double 4", run, pieces.append)
    assert result.text == "it is 8" and pieces == ["it is ", "8"]
    assert wire.requests[1].body["contents"][-1]["parts"] == [
        {"functionResponse": {"name": "double", "response": {"result": 8}}}]


# --- failures --------------------------------------------------------------------------------


def api_error(code: int, status: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


async def test_429_with_retry_after_is_waited_out_then_succeeds(wire: WireServer) -> None:
    wire.add(
        Answer(429, api_error(429, "RESOURCE_EXHAUSTED", "quota"),
               headers={"retry-after": "0.2"}),
        Answer(body=reply("finally")),
    )
    started = time.monotonic()
    response = await provider(wire).chat(request())
    assert response.text == "finally"
    assert time.monotonic() - started >= 0.2
    assert len(wire.requests) == 2


async def test_retry_after_is_honoured_for_streams_too(wire: WireServer) -> None:
    wire.add(
        Answer(503, api_error(503, "UNAVAILABLE", "overloaded"),
               headers={"retry-after-ms": "200"}),
        sse(reply("ok")),
    )
    started = time.monotonic()
    chunks = await collect(provider(wire), request())
    assert "".join(c.text for c in chunks) == "ok"
    assert time.monotonic() - started >= 0.2


async def test_500s_exhaust_the_retries(wire: WireServer) -> None:
    wire.add(*[Answer(500, api_error(500, "INTERNAL", "internal trouble")) for _ in range(3)])
    with pytest.raises(LlmspellError) as info:
        await provider(wire, max_retries=2).chat(request())
    err = info.value
    assert err.code == "provider_error"
    assert err.details["status"] == 500 and err.details["attempts"] == 3
    assert err.message == "gemini 500: internal trouble (after 3 attempts)"
    assert len(wire.requests) == 3


async def test_client_errors_carry_the_providers_message(wire: WireServer) -> None:
    wire.add(Answer(400, api_error(400, "INVALID_ARGUMENT", "API key not valid.")))
    with pytest.raises(LlmspellError) as info:
        await provider(wire).chat(request())
    assert info.value.message == "gemini 400: API key not valid."
    assert len(wire.requests) == 1


async def test_a_slow_server_hits_the_timeout(wire: WireServer) -> None:
    wire.add(Answer(body=reply("late"), delay=1.0))
    with pytest.raises(LlmspellError) as info:
        await provider(wire, timeout=0.2, max_retries=0).chat(request())
    assert info.value.details["reason"] == "timeout"


async def test_a_stream_cut_midway_is_a_provider_error(wire: WireServer) -> None:
    answer = sse(*[reply(p, finish=None, usage=False) for p in ("partial ", "answ", "er")],
                 reply("", finish="STOP"))
    answer.cut_after = 2
    wire.add(answer)
    seen: list[str] = []
    with pytest.raises(LlmspellError) as info:
        async for chunk in provider(wire).stream(request()):
            seen.append(chunk.text)
    assert seen == ["partial ", "answ"]
    assert info.value.code == "provider_error"
    assert info.value.details["reason"] in ("transport", "incomplete")


async def test_a_stream_that_ends_without_a_finish_reason_is_incomplete(
    wire: WireServer,
) -> None:
    wire.add(sse(reply("half", finish=None)))
    with pytest.raises(LlmspellError) as info:
        await collect(provider(wire), request())
    assert info.value.details["reason"] == "incomplete"


async def test_an_error_event_in_a_stream_is_a_provider_error(wire: WireServer) -> None:
    wire.add(sse(reply("par", finish=None, usage=False),
                 api_error(503, "UNAVAILABLE", "The model is overloaded.")))
    seen: list[str] = []
    with pytest.raises(LlmspellError) as info:
        async for chunk in provider(wire).stream(request()):
            seen.append(chunk.text)
    assert seen == ["par"]
    assert info.value.details["reason"] == "stream_error"
    assert info.value.message == "gemini: error in the stream: The model is overloaded."


async def test_malformed_replies_are_clear_errors(wire: WireServer) -> None:
    p = provider(wire)
    wire.add(Answer(raw=b"{this is not json"))
    with pytest.raises(LlmspellError, match=r"malformed JSON.*this is not json"):
        await p.chat(request())
    wire.add(Answer(body={"candidates": []}))
    with pytest.raises(LlmspellError, match="malformed reply: no candidates"):
        await p.chat(request())
    wire.add(Answer(body=reply({"functionCall": {"name": "f", "args": [1]}})))
    with pytest.raises(LlmspellError, match="args of function call 'f' are not an object"):
        await p.chat(request())
    wire.add(Answer(body=reply({"functionCall": {"args": {}}})))
    with pytest.raises(LlmspellError, match="malformed reply: KeyError"):
        await p.chat(request())
    wire.add(sse("{broken"))
    with pytest.raises(LlmspellError, match="malformed JSON in a stream event"):
        await collect(p, request())
    wire.add(sse("[1, 2]"))
    with pytest.raises(LlmspellError, match="stream event is not an object"):
        await collect(p, request())


async def test_cancelling_a_stream_closes_its_connection(wire: WireServer) -> None:
    answer = sse(*[reply(f"{i} ", finish=None, usage=False) for i in range(50)], reply("."))
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


# --- keys ------------------------------------------------------------------------------------


async def test_google_api_key_is_the_fallback(wire: WireServer) -> None:
    p = provider(wire, env={"GOOGLE_API_KEY": "AIza-google"})
    assert p.status().usable and p.status().detail == "GOOGLE_API_KEY is set"
    wire.add(Answer(body=reply("hi")))
    await p.chat(request())
    assert wire.requests[-1].headers["x-goog-api-key"] == "AIza-google"
    both = provider(wire, env={"GOOGLE_API_KEY": "AIza-google", "GEMINI_API_KEY": KEY})
    assert both.status().detail == "GEMINI_API_KEY is set"
    wire.add(Answer(body=reply("hi")))
    await both.chat(request())
    assert wire.requests[-1].headers["x-goog-api-key"] == KEY
    # a provider configured with another variable does not fall back
    config = parse({"providers": {"mygem": {"protocol": "gemini", "base_url": wire.url,
                                            "api_key_env": "MY_GEMINI_KEY"}}})
    [mine] = [x for x in build_providers(config, PriceTable.load(config),
                                         env={"GOOGLE_API_KEY": "AIza-google"})
              if x.name == "mygem"]
    assert not mine.status().usable and mine.status().detail == "MY_GEMINI_KEY is not set"


async def test_a_missing_key_fails_before_connecting(wire: WireServer) -> None:
    p = provider(wire, env={})
    assert not p.status().usable
    assert p.status().detail == "GEMINI_API_KEY or GOOGLE_API_KEY is not set"
    with pytest.raises(LlmspellError) as info:
        await p.chat(request())
    assert info.value.code == "config_error"
    assert "GEMINI_API_KEY or GOOGLE_API_KEY" in info.value.message
    assert wire.requests == []


async def test_probe_lists_the_models_with_the_key_in_a_header(wire: WireServer) -> None:
    wire.add(Answer(body={"models": [{"name": f"models/{MODEL}"}]}))
    status = await provider(wire).probe()
    assert status.usable
    seen = wire.requests[0]
    assert (seen.method, seen.path) == ("GET", "/models")
    assert seen.headers["x-goog-api-key"] == KEY


def test_the_key_never_appears_in_reprs_or_status(wire: WireServer) -> None:
    p = provider(wire)
    assert KEY not in repr(p) and KEY not in repr(p.client) and KEY not in str(p.status())
    path, _ = p.chat_body(request(), stream=True)
    assert KEY not in path and "key=" not in path


def test_the_builtin_providers_and_the_default_model() -> None:
    config = parse({})
    prices = PriceTable.load(config)
    built = {p.name: p for p in build_providers(config, prices, env={})}
    p = built["gemini"]
    assert isinstance(p, GeminiProvider)
    assert p.spec.http.base_url == "https://generativelanguage.googleapis.com/v1beta"
    assert p.default_model == MODEL and p.default_rank == 80 and MODEL in p.models()
    for model in p.models():
        assert prices.lookup(f"gemini/{model}") is not None, model

    def default(env: dict[str, str]) -> tuple[str, ...]:
        registry = ProviderRegistry()
        for provider in build_providers(config, prices, env=env):
            registry.add(provider.name, provider)
        return registry.default_model(env=env)

    assert default({"GOOGLE_API_KEY": "x"}) == (f"gemini/{MODEL}",)
    assert default({"GEMINI_API_KEY": "x", "ANTHROPIC_API_KEY": "y"}) == (
        "anthropic/claude-haiku-4-5",)
    assert default({"GEMINI_API_KEY": "x", "ANTHROPIC_API_KEY": "y", "OPENAI_API_KEY": "z"}) == (
        "openai/gpt-4o-mini",)
