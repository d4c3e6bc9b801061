"""A provider that answers from a script: canned replies, tool calls, streamed chunks, errors
and delays. The workhorse of unit tests for agents, hooks and spells."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import attrs
import trio

from llmspell.errors import LlmspellError
from llmspell.messages import Message, ToolCall, Usage
from llmspell.providers import Capabilities, ChatRequest, ChatResponse, StreamChunk


def _tool_calls(value: Iterable[ToolCall | dict[str, Any]]) -> tuple[ToolCall, ...]:
    calls = []
    for i, c in enumerate(value):
        if isinstance(c, ToolCall):
            calls.append(c)
        else:
            calls.append(ToolCall(str(c.get("id") or f"call_{i + 1}"), c["name"],
                                  dict(c.get("arguments") or {})))
    return tuple(calls)


@attrs.define(frozen=True)
class Reply:
    """One scripted answer.

    ``text`` and ``tool_calls`` make the assistant message; ``chunks`` are the streamed text
    pieces (default: ``text`` split after each space); ``error`` is raised instead of answering
    (after ``delay``); ``delay`` is seconds before the answer (and between streamed chunks,
    divided evenly); ``usage`` defaults to a count of about four characters per token.
    """

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = attrs.field(default=(), converter=_tool_calls)
    chunks: tuple[str, ...] | None = attrs.field(
        default=None, converter=lambda v: None if v is None else tuple(v)
    )
    error: BaseException | None = None
    delay: float = 0.0
    usage: Usage | None = None

    def pieces(self) -> tuple[str, ...]:
        if self.chunks is not None:
            return self.chunks
        words = self.text.split(" ")
        return (*(w + " " for w in words[:-1]), words[-1])


ReplySource = Reply | str | dict[str, Any] | Callable[[ChatRequest], "Reply | str"]


def as_reply(value: Any) -> Reply:
    """``"text"``, ``{"text":..., "tool_calls": [...]}`` or a :class:`Reply`."""
    if isinstance(value, Reply):
        return value
    if isinstance(value, str):
        return Reply(text=value)
    if isinstance(value, dict):
        return Reply(**value)
    raise TypeError(f"not a scripted reply: {value!r}")


def _estimate_usage(request: ChatRequest, text: str, calls: tuple[ToolCall, ...]) -> Usage:
    prompt = sum(len(m.content) for m in request.messages)
    completion = len(text) + sum(len(json.dumps(c.arguments)) for c in calls)
    return Usage(max(1, prompt // 4), max(1, completion // 4) if completion else 0, 0.0)


class ScriptedProvider:
    """Answers requests with the scripted replies in order.

    Replies are :class:`Reply` objects, strings, dicts of ``Reply`` fields, or callables
    ``fn(request) -> Reply | str`` deciding from the request. Every request is recorded in
    :attr:`requests`. When the script runs out, ``default`` answers, or the call fails with
    ``provider_error``.
    """

    capabilities = Capabilities(tools=True, json_schema=True, streaming=True)

    def __init__(
        self,
        replies: Iterable[ReplySource] = (),
        *,
        name: str = "scripted",
        default: ReplySource | None = None,
    ) -> None:
        self.name = name
        self._script: deque[ReplySource] = deque(replies)
        self.default = default
        self.requests: list[ChatRequest] = []

    def add(self, *replies: ReplySource) -> None:
        """Append replies to the script."""
        self._script.extend(replies)

    @property
    def remaining(self) -> int:
        return len(self._script)

    def _next(self, request: ChatRequest) -> Reply:
        self.requests.append(request)
        if self._script:
            source = self._script.popleft()
        elif self.default is not None:
            source = self.default
        else:
            raise LlmspellError(
                "provider_error",
                f"scripted provider {self.name!r} has no reply left for request "
                f"{len(self.requests)} (model {request.model!r})",
                {"provider": self.name, "request": len(self.requests)},
            )
        if callable(source) and not isinstance(source, Reply):
            source = source(request)
        return as_reply(source)

    def _response(self, request: ChatRequest, reply: Reply) -> ChatResponse:
        usage = reply.usage or _estimate_usage(request, reply.text, reply.tool_calls)
        finish = "tool_calls" if reply.tool_calls else "stop"
        message = Message("assistant", reply.text, tool_calls=reply.tool_calls)
        return ChatResponse(message, usage, finish, request.model)

    async def chat(self, request: ChatRequest) -> ChatResponse:
        reply = self._next(request)
        if reply.delay:
            await trio.sleep(reply.delay)
        if reply.error is not None:
            raise reply.error
        return self._response(request, reply)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        reply = self._next(request)
        pieces = reply.pieces()
        step = reply.delay / max(1, len(pieces))
        for piece in pieces:
            if step:
                await trio.sleep(step)
            if reply.error is not None:
                raise reply.error
            yield StreamChunk(text=piece)
        response = self._response(request, reply)
        yield StreamChunk(
            tool_calls=reply.tool_calls, usage=response.usage, finish_reason=response.finish_reason
        )
