"""Assembling a reply from what llama generates: text deltas, tool-call fragments, the finish
reason and usage, into the kernel's :class:`StreamChunk` pieces and :class:`ChatResponse`.

Both the llama-cpp-python chat handlers (OpenAI-shaped chunks) and llmspell's own
function-calling driver feed a :class:`ReplyBuilder`; a whole reply is the chunks collected
(:func:`collect`), so ``chat`` and ``stream`` give the same answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import attrs

from llmspell.errors import LlmspellError
from llmspell.messages import Message, ToolCall, Usage
from llmspell.providers import ChatResponse, StreamChunk, ToolCallDelta

#: llama's finish reasons mapped to the kernel's.
FINISH = {"stop": "stop", "length": "length", "tool_calls": "tool_calls",
          "function_call": "tool_calls"}


def malformed(model: str, what: str) -> LlmspellError:
    """``provider_error`` for a reply that cannot be turned into a response."""
    return LlmspellError(
        "provider_error",
        f"local: malformed reply from model {model!r}: {what}",
        {"provider": "local", "model": model, "reason": "malformed"},
    )


def decode_arguments(model: str, name: str, text: str) -> dict[str, Any]:
    """A tool call's arguments from their JSON text (empty text: no arguments);
    ``provider_error`` when they are not a JSON object (e.g. cut off by ``max_tokens``)."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise malformed(
            model, f"the arguments of tool call {name!r} are not JSON ({exc}): {text[:120]!r}"
        ) from None
    if not isinstance(value, dict):
        raise malformed(
            model, f"the arguments of tool call {name!r} are not a JSON object: {text[:120]!r}"
        )
    return value


@attrs.define
class _PendingCall:
    id: str
    name: str = ""
    arguments: str = ""


@attrs.define
class ReplyBuilder:
    """One reply as it is generated. Each ``add_*`` method returns the chunk to hand on (or
    ``None``); :meth:`final` returns the last chunk, with the complete tool calls (arguments
    JSON-decoded), the usage (cost 0.0) and the finish reason."""

    model: str
    texts: list[str] = attrs.field(factory=list)
    calls: dict[int, _PendingCall] = attrs.field(factory=dict)
    finish: str | None = None

    def add_text(self, text: str) -> StreamChunk | None:
        if not text:
            return None
        self.texts.append(text)
        return StreamChunk(text=text)

    def add_tool_delta(
        self, index: int, *, id: str | None = None, name: str | None = None, arguments: str = ""
    ) -> StreamChunk:
        """A fragment of tool call ``index``. ``name`` is set by the first fragment that carries
        one; llama-cpp-python repeats it on every fragment, which is not appended again."""
        call = self.calls.get(index)
        if call is None:
            call = self.calls[index] = _PendingCall(id or f"call_{index}")
        if name and not call.name:
            call.name = name
        call.arguments += arguments
        return StreamChunk(tool_deltas=(ToolCallDelta(index, id, name, arguments),))

    def drop_call(self, index: int) -> None:
        """Forget tool call ``index`` (its fragments were only progress)."""
        self.calls.pop(index, None)

    def add_llama_chunk(self, data: Any) -> list[StreamChunk]:
        """One chunk of llama-cpp-python's ``create_chat_completion(stream=True)``."""
        if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
            raise malformed(self.model, f"stream chunk without choices: {str(data)[:160]}")
        out = []
        for choice in data["choices"]:
            delta = choice.get("delta") or {}
            chunk = self.add_text(delta.get("content") or "")
            if chunk is not None:
                out.append(chunk)
            for piece in delta.get("tool_calls") or ():
                fn = piece.get("function") or {}
                out.append(self.add_tool_delta(
                    int(piece.get("index") or 0), id=piece.get("id"), name=fn.get("name"),
                    arguments=fn.get("arguments") or "",
                ))
            if choice.get("finish_reason"):
                self.finish = FINISH.get(choice["finish_reason"], "stop")
        return out

    def final(self, usage: Usage) -> StreamChunk:
        calls = tuple(
            ToolCall(call.id, call.name, decode_arguments(self.model, call.name, call.arguments))
            for _, call in sorted(self.calls.items())
        )
        for call in calls:
            if not call.name:
                raise malformed(self.model, f"tool call {call.id!r} has no name")
        finish = "tool_calls" if calls else (self.finish or "stop")
        return StreamChunk(tool_calls=calls, usage=attrs.evolve(usage, cost=0.0),
                           finish_reason=finish)


def collect(chunks: Iterable[StreamChunk], model: str) -> ChatResponse:
    """The whole reply of a stream of chunks: their texts joined, the tool calls, usage and
    finish reason of the chunks that carry them."""
    texts: list[str] = []
    calls: list[ToolCall] = []
    usage = Usage(cost=0.0)
    finish = "stop"
    for chunk in chunks:
        texts.append(chunk.text)
        calls.extend(chunk.tool_calls)
        usage = chunk.usage or usage
        finish = chunk.finish_reason or finish
    message = Message("assistant", "".join(texts), tool_calls=tuple(calls))
    return ChatResponse(message, usage, finish, model)
