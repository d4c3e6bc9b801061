"""The Anthropic Messages protocol: ``POST {base_url}/messages``.

How the kernel's requests map onto it:

- System messages (wherever they stand) go, joined by blank lines, to the top-level ``system``.
- Assistant tool calls become ``tool_use`` blocks; tool results become ``tool_result`` blocks of a
  user message. Consecutive messages of one role are merged into one (the API wants user and
  assistant turns to alternate), tool results first within a user turn. A result that is the
  kernel's error shape ``{"error": ...}`` is marked ``is_error``. Empty texts are left out (the
  API rejects empty text blocks).
- ``max_tokens`` is required by the API: a request without one asks for
  :data:`DEFAULT_MAX_TOKENS`. ``seed`` has no equivalent and is not sent.
- ``tool_choice``: ``auto`` -> ``{"type": "auto"}``, ``required`` -> ``{"type": "any"}``,
  ``none`` -> ``{"type": "none"}``, a tool's name -> ``{"type": "tool", "name": ...}``.
- Structured output: the API has no JSON-schema response mode, so the schema becomes the input
  schema of an extra tool (:func:`output_tool`, normally ``final_output``) that the model must
  call. Its input, as JSON text, is the reply's text; it is never reported as a tool call. With
  no other tools the output tool is forced; alongside other tools the model is made to call *some*
  tool (``any``) and told to give its final answer through the output tool, so it can still use
  the others first (``tool_choice="none"`` forces the output tool, a tool's name forces that
  tool). A schema that is not an object schema is wrapped as ``{"value": schema}`` (tool inputs
  must be objects) and unwrapped again. Should a reply hold both the output tool and real tool
  calls, the answer still becomes text and the real calls are returned (streamed or not alike).
- Usage: input tokens include cache writes and reads (priced as plain input).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import attrs
from httpx_sse import ServerSentEvent

from llmspell.errors import LlmspellError
from llmspell.messages import Message, ToolCall, Usage
from llmspell.providers import ChatRequest, ChatResponse, StreamChunk, ToolCallDelta
from llmspell_providers.base import HttpProvider
from llmspell_providers.http import decode_event, stream_incomplete
from llmspell_providers.openai import parse_arguments

#: The API version this module speaks (sent as ``anthropic-version``).
ANTHROPIC_VERSION = "2023-06-01"

#: ``max_tokens`` of a request that sets none (the API requires one).
DEFAULT_MAX_TOKENS = 4096

#: Anthropic's stop reasons -> the kernel's finish reasons (anything else: ``stop``).
FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "content_filter",
}

#: The name of the tool that carries structured output (suffixed if a real tool has it).
OUTPUT_TOOL = "final_output"


@attrs.define(frozen=True)
class OutputTool:
    """The tool through which a model gives structured output on protocols that take a JSON
    schema only as a tool's input schema. ``wrapped``: the output schema is not an object
    schema and sits under ``value`` of :attr:`schema`."""

    name: str
    schema: dict[str, Any]
    wrapped: bool = False

    @property
    def description(self) -> str:
        return ("Give your final answer by calling this tool once you need no other tool; its "
                "input is the answer. Do not answer in plain text.")

    @property
    def instruction(self) -> str:
        """A line for the system prompt when the model also has other tools."""
        return (f"When you have the final answer, call the tool {self.name!r} with it "
                f"(after any other tool calls you need).")

    def answer(self, arguments: dict[str, Any]) -> str:
        """The reply text for the tool's ``arguments``: the answer as JSON."""
        value = arguments.get("value") if self.wrapped else arguments
        return json.dumps(value, ensure_ascii=False)


def output_tool(request: ChatRequest) -> OutputTool | None:
    """The output tool of ``request``, or ``None`` without an output schema. Its name is
    :data:`OUTPUT_TOOL`, suffixed ``_1``, ``_2`` ... if one of the request's tools has it."""
    schema = request.output_schema
    if schema is None:
        return None
    taken = {t.name for t in request.tools}
    name, n = OUTPUT_TOOL, 0
    while name in taken:
        n += 1
        name = f"{OUTPUT_TOOL}_{n}"
    if schema.get("type") == "object":
        return OutputTool(name, schema)
    wrapper = {"type": "object", "properties": {"value": schema}, "required": ["value"]}
    return OutputTool(name, wrapper, wrapped=True)


def is_error_result(content: str) -> bool:
    """Whether a tool message holds the kernel's error shape ``{"error": ...}``."""
    try:
        value = json.loads(content)
    except ValueError:
        return False
    return isinstance(value, dict) and list(value) == ["error"]


def wire_messages(messages: list[Message]) -> tuple[str, list[dict[str, Any]]]:
    """The top-level ``system`` text and the ``messages`` of a request, with roles merged so
    that they alternate."""
    system: list[str] = []
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            if message.content:
                system.append(message.content)
            continue
        blocks: list[dict[str, Any]] = []
        if message.role == "tool":
            block: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.tool_call_id}
            if message.content:
                block["content"] = message.content
                if is_error_result(message.content):
                    block["is_error"] = True
            blocks.append(block)
        else:
            if message.content:
                blocks.append({"type": "text", "text": message.content})
            blocks.extend(
                {"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments}
                for c in message.tool_calls
            )
        if not blocks:
            continue
        role = "assistant" if message.role == "assistant" else "user"
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    for wire in out:
        content = wire["content"]
        if wire["role"] == "user":  # tool results must open a user turn
            content.sort(key=lambda b: b["type"] != "tool_result")
        if len(content) == 1 and content[0]["type"] == "text":
            wire["content"] = content[0]["text"]
    return "\n\n".join(system), out


def usage_of(data: dict[str, Any] | None, base: Usage | None = None) -> Usage:
    """Usage from an Anthropic ``usage`` object; counts it lacks are taken from ``base`` (stream
    events report input and output tokens in different events)."""
    data = data or {}
    base = base or Usage()
    keys = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    if any(data.get(k) is not None for k in keys):
        input_tokens = sum(int(data.get(k) or 0) for k in keys)
    else:
        input_tokens = base.input_tokens
    output = data.get("output_tokens")
    return Usage(input_tokens, base.output_tokens if output is None else int(output))


def stream_error(provider: str, model: str, data: dict[str, Any]) -> LlmspellError:
    """``provider_error`` for an ``error`` event in a stream (``overloaded_error`` ...)."""
    err = data.get("error")
    if isinstance(err, dict):
        message = f"{err.get('type') or 'error'}: {err.get('message') or '(no message)'}"
    else:
        message = str(err or data)
    return LlmspellError(
        "provider_error",
        f"{provider}: error in the stream: {message}",
        {"provider": provider, "model": model, "reason": "stream_error"},
    )


class AnthropicProvider(HttpProvider):
    """Anthropic Messages with native tool use, structured output through a forced tool and
    SSE streaming (see the module docstring for the mapping)."""

    protocol = "anthropic"
    chat_path = "messages"

    def auth_headers(self, key: str | None) -> dict[str, str]:
        headers = {"anthropic-version": ANTHROPIC_VERSION}
        if key:
            headers["x-api-key"] = key
        return headers

    def chat_body(self, request: ChatRequest, stream: bool) -> tuple[str, dict[str, Any]]:
        system, messages = wire_messages(request.messages)
        body: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
            "messages": messages,
        }
        tools = [
            {"name": t.name, "description": t.description,
             "input_schema": _object_schema(t.parameters)}
            for t in request.tools
        ]
        choice = request.tool_choice
        out = output_tool(request)
        if out is not None:
            tools.append({"name": out.name, "description": out.description,
                          "input_schema": out.schema})
            if not request.tools or choice == "none":
                choice = out.name
            elif choice in (None, "auto", "required"):
                choice = "required"
            if request.tools:
                system = "\n\n".join(t for t in (system, out.instruction) if t)
        if system:
            body["system"] = system
        if tools:
            body["tools"] = tools
            if choice in ("auto", "none"):
                body["tool_choice"] = {"type": choice}
            elif choice == "required":
                body["tool_choice"] = {"type": "any"}
            elif choice is not None:
                body["tool_choice"] = {"type": "tool", "name": choice}
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.stop:
            body["stop_sequences"] = list(request.stop)
        if stream:
            body["stream"] = True
        return self.chat_path, body

    def _finish(self, stop_reason: str | None, calls: tuple[ToolCall, ...]) -> str:
        if calls:
            return "tool_calls"
        finish = FINISH.get(stop_reason or "", "stop")
        return "stop" if finish == "tool_calls" else finish  # only the output tool was used

    def parse_reply(self, data: dict[str, Any], request: ChatRequest) -> ChatResponse:
        if data.get("type") == "error":
            raise stream_error(self.name, request.model, data)
        content = data.get("content")
        if not isinstance(content, list):
            raise self.malformed(request, f"no content in {json.dumps(data)[:160]}")
        out = output_tool(request)
        text: list[str] = []
        calls: list[ToolCall] = []
        for block in content:
            kind = block.get("type")
            if kind == "text":
                text.append(block.get("text") or "")
            elif kind == "tool_use":
                name = block["name"]
                arguments = block.get("input") or {}
                if not isinstance(arguments, dict):
                    raise self.malformed(request, f"the input of tool call {name!r} is not an "
                                                  f"object: {json.dumps(arguments)[:120]}")
                if out is not None and name == out.name:
                    text.append(out.answer(arguments))
                else:
                    calls.append(ToolCall(str(block.get("id") or f"call_{len(calls)}"), name,
                                          arguments))
        message = Message("assistant", "".join(text), tool_calls=tuple(calls))
        return ChatResponse(message, usage_of(data.get("usage")),
                            self._finish(data.get("stop_reason"), message.tool_calls),
                            str(data.get("model") or request.model))

    async def parse_stream(
        self, events: AsyncIterator[ServerSentEvent], request: ChatRequest
    ) -> AsyncIterator[StreamChunk]:
        """Decodes message_start, content_block_start/delta/stop, message_delta and
        message_stop; ignores ping and unknown events; an ``error`` event raises
        ``provider_error``, and a stream without message_stop is incomplete. Tool input
        fragments become :class:`ToolCallDelta` (index: the call's position in the reply); the
        output tool's input streams as text (wrapped schemas: in one piece at its end)."""
        out = output_tool(request)
        blocks: dict[int, dict[str, Any]] = {}
        calls: dict[int, ToolCall] = {}
        usage = Usage()
        stop_reason: str | None = None
        done = False
        async for event in events:
            data = decode_event(event, self.name, request.model)
            if not isinstance(data, dict):
                raise self.malformed(request, f"stream event is not an object: {event.data[:80]}")
            kind = data.get("type") or event.event
            if kind == "error":
                raise stream_error(self.name, request.model, data)
            if kind == "message_start":
                usage = usage_of((data.get("message") or {}).get("usage"), usage)
            elif kind == "message_delta":
                stop_reason = (data.get("delta") or {}).get("stop_reason") or stop_reason
                usage = usage_of(data.get("usage"), usage)
            elif kind == "message_stop":
                done = True
                break
            elif kind == "content_block_start":
                index = int(data["index"])
                start = data["content_block"]
                block = {"type": start.get("type"), "json": "", "input": start.get("input")}
                blocks[index] = block
                if block["type"] == "text" and start.get("text"):
                    yield StreamChunk(text=start["text"])
                elif block["type"] == "tool_use":
                    block["id"], block["name"] = start.get("id"), start["name"]
                    if out is not None and block["name"] == out.name:
                        block["type"] = "output"
                        block["emitted"] = False
                    else:
                        block["call"] = sum(1 for b in blocks.values() if "call" in b)
                        yield StreamChunk(tool_deltas=(
                            ToolCallDelta(block["call"], block["id"], block["name"], ""),))
            elif kind == "content_block_delta":
                index = int(data["index"])
                if index not in blocks:
                    raise self.malformed(request, f"a delta for block {index} that never started")
                block = blocks[index]
                delta = data.get("delta") or {}
                if delta.get("type") == "text_delta" and delta.get("text"):
                    yield StreamChunk(text=delta["text"])
                elif delta.get("type") == "input_json_delta":
                    fragment = delta.get("partial_json") or ""
                    block["json"] += fragment
                    if block["type"] == "tool_use" and fragment:
                        yield StreamChunk(tool_deltas=(ToolCallDelta(block["call"],
                                                                     arguments=fragment),))
                    elif block["type"] == "output" and fragment and out and not out.wrapped:
                        block["emitted"] = True
                        yield StreamChunk(text=fragment)
            elif kind == "content_block_stop":
                block = blocks.get(int(data["index"]), {})
                if block.get("type") not in ("tool_use", "output"):
                    continue
                arguments = (parse_arguments(self.name, block["name"], block["json"])
                             if block["json"].strip() else block["input"] or {})
                if block["type"] == "tool_use":
                    calls[block["call"]] = ToolCall(
                        str(block["id"] or f"call_{block['call']}"), block["name"], arguments
                    )
                elif out is not None and not block["emitted"]:
                    yield StreamChunk(text=out.answer(arguments))
        if not done:
            raise stream_incomplete(self.name, request.model)
        tool_calls = tuple(call for _, call in sorted(calls.items()))
        yield StreamChunk(tool_calls=tool_calls, usage=usage,
                          finish_reason=self._finish(stop_reason, tool_calls))


def _object_schema(parameters: dict[str, Any]) -> dict[str, Any]:
    """A tool's parameters as an input schema, which must be of type object."""
    if not parameters:
        return {"type": "object", "properties": {}}
    if "type" not in parameters:
        return {"type": "object", **parameters}
    return parameters
