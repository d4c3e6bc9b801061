"""Model providers: the protocol every wire-protocol plugin implements, and model strings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol, runtime_checkable

import attrs

from llmspell.errors import LlmspellError, not_found
from llmspell.messages import Message, ToolCall, Usage
from llmspell.registry import Registry


@attrs.define(frozen=True)
class Capabilities:
    """What a provider supports natively."""

    tools: bool = False
    json_schema: bool = False
    streaming: bool = False


@attrs.define(frozen=True)
class ToolSpec:
    """A tool as a model sees it: name, description, JSON schema of the arguments."""

    name: str
    description: str
    parameters: dict[str, Any]


@attrs.define
class ChatRequest:
    """One call to a chat model. ``model`` is the provider's own model name (no prefix)."""

    model: str
    messages: list[Message]
    tools: list[ToolSpec] = attrs.field(factory=list)
    output_schema: dict[str, Any] | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    stop: list[str] = attrs.field(factory=list)


@attrs.define
class ChatResponse:
    """A complete reply: the assistant message (text and/or tool calls) and its usage."""

    message: Message
    usage: Usage = attrs.field(factory=Usage)
    finish_reason: str = "stop"
    model: str = ""

    @property
    def text(self) -> str:
        return self.message.content

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        return self.message.tool_calls


@attrs.define(frozen=True)
class StreamChunk:
    """A piece of a streamed reply: a text delta, finished tool calls, and on the last chunk the
    usage and finish reason."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage | None = None
    finish_reason: str | None = None


@runtime_checkable
class Provider(Protocol):
    """A model provider. ``chat`` returns a whole reply; ``stream`` yields chunks whose texts
    concatenate to the reply's text. Failures raise ``LlmspellError("provider_error", ...)``."""

    name: str
    capabilities: Capabilities

    async def chat(self, request: ChatRequest) -> ChatResponse: ...

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]: ...


def split_model(model: str) -> tuple[str, str]:
    """``"openai/gpt-4o-mini"`` -> ``("openai", "gpt-4o-mini")``; the model part may contain
    further slashes. Raises ``invalid_value`` for a string without a provider prefix."""
    provider, sep, name = model.partition("/")
    if not sep or not provider or not name:
        raise LlmspellError(
            "invalid_value",
            f"model {model!r} is not of the form 'provider/model' (e.g. 'openai/gpt-4o-mini')",
            {"model": model},
        )
    return provider, name


class ProviderRegistry(Registry[Provider]):
    """Providers by the prefix of model strings."""

    def __init__(self) -> None:
        super().__init__("provider")

    def resolve(self, model: str) -> tuple[Provider, str]:
        """The provider and its model name for a model string ``provider/model``."""
        prefix, name = split_model(model)
        if prefix not in self:
            raise not_found("provider", prefix, self.names())
        return self.get(prefix), name
