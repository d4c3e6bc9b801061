"""The OpenAI-compatible chat-completions protocol (OpenAI, Ollama, vLLM, llama.cpp server,
LM Studio, OpenRouter, Groq ...): ``POST {base_url}/chat/completions``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from httpx_sse import ServerSentEvent

from llmspell.errors import LlmspellError
from llmspell.messages import Message, ToolCall, Usage
from llmspell.providers import ChatRequest, ChatResponse, StreamChunk, ToolCallDelta
from llmspell_providers.base import HttpProvider
from llmspell_providers.http import decode_event, stream_incomplete

#: OpenAI's finish reasons are the kernel's; others are mapped.
FINISH = {"stop": "stop", "length": "length", "tool_calls": "tool_calls",
          "function_call": "tool_calls", "content_filter": "content_filter"}


def wire_message(message: Message) -> dict[str, Any]:
    """A kernel message in the chat-completions shape."""
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["content"] = message.content or None
        out["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
            }
            for call in message.tool_calls
        ]
    return out


def parse_arguments(provider: str, name: str, text: str | None) -> dict[str, Any]:
    """A tool call's arguments from their JSON text (empty text: no arguments)."""
    if not text or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise LlmspellError(
            "provider_error",
            f"{provider}: the arguments of tool call {name!r} are not JSON ({exc}): {text[:120]!r}",
            {"provider": provider, "tool": name, "reason": "malformed"},
        ) from None
    if not isinstance(value, dict):
        raise LlmspellError(
            "provider_error",
            f"{provider}: the arguments of tool call {name!r} are not a JSON object: "
            f"{text[:120]!r}",
            {"provider": provider, "tool": name, "reason": "malformed"},
        )
    return value


def usage_of(data: dict[str, Any] | None) -> Usage:
    data = data or {}
    return Usage(int(data.get("prompt_tokens") or 0), int(data.get("completion_tokens") or 0))


class OpenAIProvider(HttpProvider):
    """Chat completions with native tool calls, JSON-schema output and SSE streaming."""

    protocol = "openai"
    chat_path = "chat/completions"

    def auth_headers(self, key: str | None) -> dict[str, str]:
        return {"authorization": f"Bearer {key}"} if key else {}

    def chat_body(self, request: ChatRequest, stream: bool) -> tuple[str, dict[str, Any]]:
        body: dict[str, Any] = {
            "model": request.model,
            "messages": [wire_message(m) for m in request.messages],
        }
        if request.tools:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                }
                for t in request.tools
            ]
            if request.tool_choice in ("auto", "none", "required"):
                body["tool_choice"] = request.tool_choice
            elif request.tool_choice is not None:
                body["tool_choice"] = {"type": "function",
                                       "function": {"name": request.tool_choice}}
        if request.output_schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": request.output_schema},
            }
        for key in ("temperature", "max_tokens", "seed"):
            value = getattr(request, key)
            if value is not None:
                body[key] = value
        if request.stop:
            body["stop"] = list(request.stop)
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return self.chat_path, body

    def parse_reply(self, data: dict[str, Any], request: ChatRequest) -> ChatResponse:
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices:
            raise self.malformed(request, f"no choices in {json.dumps(data)[:160]}")
        choice = choices[0]
        wire = choice["message"]
        calls = tuple(
            ToolCall(
                str(c.get("id") or f"call_{i}"),
                c["function"]["name"],
                parse_arguments(self.name, c["function"]["name"], c["function"].get("arguments")),
            )
            for i, c in enumerate(wire.get("tool_calls") or ())
        )
        message = Message("assistant", wire.get("content") or "", tool_calls=calls)
        finish = FINISH.get(choice.get("finish_reason") or "", "stop")
        if calls:
            finish = "tool_calls"
        return ChatResponse(message, usage_of(data.get("usage")), finish,
                            str(data.get("model") or request.model))

    async def parse_stream(
        self, events: AsyncIterator[ServerSentEvent], request: ChatRequest
    ) -> AsyncIterator[StreamChunk]:
        calls: dict[int, dict[str, Any]] = {}
        usage: Usage | None = None
        finish: str | None = None
        done = False
        async for event in events:
            if event.data.strip() == "[DONE]":
                done = True
                break
            data = decode_event(event, self.name, request.model)
            if not isinstance(data, dict):
                raise self.malformed(request, f"stream event is not an object: {event.data[:80]}")
            if "error" in data:
                err = data["error"]
                message = err.get("message") if isinstance(err, dict) else str(err)
                raise LlmspellError(
                    "provider_error",
                    f"{self.name}: error in the stream: {message}",
                    {"provider": self.name, "model": request.model, "reason": "stream_error"},
                )
            if data.get("usage"):
                usage = usage_of(data["usage"])
            for choice in data.get("choices") or ():
                delta = choice.get("delta") or {}
                deltas = []
                for piece in delta.get("tool_calls") or ():
                    index = int(piece.get("index", len(calls)))
                    fn = piece.get("function") or {}
                    call = calls.setdefault(index, {"id": None, "name": "", "arguments": ""})
                    call["id"] = call["id"] or piece.get("id")
                    name = fn.get("name") or ""
                    if name != call["name"]:  # llama.cpp's server repeats the name every piece
                        call["name"] += name
                    call["arguments"] += fn.get("arguments") or ""
                    deltas.append(
                        ToolCallDelta(index, piece.get("id"), fn.get("name"),
                                      fn.get("arguments") or "")
                    )
                text = delta.get("content") or ""
                if text or deltas:
                    yield StreamChunk(text=text, tool_deltas=tuple(deltas))
                if choice.get("finish_reason"):
                    finish = FINISH.get(choice["finish_reason"], "stop")
        if not done and finish is None:
            raise stream_incomplete(self.name, request.model)
        tool_calls = tuple(
            ToolCall(
                str(c["id"] or f"call_{i}"),
                c["name"],
                parse_arguments(self.name, c["name"], c["arguments"]),
            )
            for i, c in sorted(calls.items())
        )
        if tool_calls:
            finish = "tool_calls"
        yield StreamChunk(tool_calls=tool_calls, usage=usage or Usage(),
                          finish_reason=finish or "stop")
