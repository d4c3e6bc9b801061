"""Model providers: the protocol every wire-protocol plugin implements, and model strings."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping, Sequence
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
    """One call to a chat model. ``model`` is the provider's own model name (no prefix).

    ``tool_choice`` is ``None`` (the provider's default, normally ``"auto"``), ``"auto"``,
    ``"none"`` (answer in text), ``"required"`` (call some tool) or the name of the one tool the
    model must call.
    """

    model: str
    messages: list[Message]
    tools: list[ToolSpec] = attrs.field(factory=list)
    tool_choice: str | None = None
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
class ToolCallDelta:
    """A piece of a tool call as it streams: ``index`` tells the calls of one reply apart;
    ``id`` and ``name`` come with the first piece; ``arguments`` is the next fragment of the
    arguments' JSON text."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@attrs.define(frozen=True)
class StreamChunk:
    """A piece of a streamed reply: a text delta, tool-call fragments as they arrive
    (``tool_deltas``), tool calls once complete (``tool_calls``), and on the last chunk the usage
    and finish reason. Only ``text`` and ``tool_calls`` make up the reply; the deltas are for
    showing progress."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage | None = None
    finish_reason: str | None = None
    tool_deltas: tuple[ToolCallDelta, ...] = ()


@attrs.define(frozen=True)
class ProviderStatus:
    """Whether a provider can be used now, and why (``"OPENAI_API_KEY is not set"``). Never
    contains a secret."""

    usable: bool
    detail: str = ""


@runtime_checkable
class Provider(Protocol):
    """A model provider. ``chat`` returns a whole reply; ``stream`` yields chunks whose texts
    concatenate to the reply's text. Failures raise ``LlmspellError("provider_error", ...)``.

    Optional members, looked up with ``getattr``:

    - ``status() -> ProviderStatus``: usable now (credentials present, model file found ...);
      a provider without it counts as usable.
    - ``models() -> list[str]``: model names it knows (an empty list: it takes any name).
    - ``default_model: str`` and ``default_rank: int``: a provider with a ``default_model``
      is a candidate for the model of agents that name none; the usable candidate with the
      highest rank wins (hosted providers with a key rank above the embedded model).
    """

    name: str
    capabilities: Capabilities

    async def chat(self, request: ChatRequest) -> ChatResponse: ...

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]: ...


def provider_status(provider: Provider) -> ProviderStatus:
    """``provider.status()`` if it has one, else usable."""
    status = getattr(provider, "status", None)
    return status() if status is not None else ProviderStatus(True, "")


#: A model string ``"provider/model"``, or a fallback chain of them tried in order.
ModelSpec = str | Sequence[str]


def model_chain(model: ModelSpec) -> tuple[str, ...]:
    """The model strings of ``model`` in fallback order; ``invalid_value`` for anything that is
    not a model string or a non-empty list of them."""
    chain = (model,) if isinstance(model, str) else tuple(model)
    if not chain or not all(isinstance(m, str) for m in chain):
        raise LlmspellError(
            "invalid_value",
            f"model must be 'provider/model' or a non-empty list of them, got {model!r}",
            {"model": repr(model)},
        )
    for item in chain:
        split_model(item)
    return chain


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

    def default_model(
        self, configured: Sequence[str] = (), env: Mapping[str, str] | None = None
    ) -> tuple[str, ...]:
        """The model chain of agents that name none: ``$LLMSPELL_MODEL`` (comma-separated for a
        chain), else ``configured`` (the config's ``default_model``), else the usable provider
        with the highest ``default_rank`` that has a ``default_model``. ``config_error`` when
        there is none."""
        env = os.environ if env is None else env
        if env.get("LLMSPELL_MODEL"):
            return model_chain([m.strip() for m in env["LLMSPELL_MODEL"].split(",") if m.strip()])
        if configured:
            return model_chain(list(configured))
        candidates = sorted(
            (p for p in self.values() if getattr(p, "default_model", None)),
            key=lambda p: -int(getattr(p, "default_rank", 0)),
        )
        unusable = []
        for provider in candidates:
            status = provider_status(provider)
            if status.usable:
                return (f"{provider.name}/{provider.default_model}",)  # type: ignore[attr-defined]
            unusable.append(f"{provider.name}: {status.detail}")
        raise LlmspellError(
            "config_error",
            "no model given and no default model configured"
            + (f" (unusable: {'; '.join(unusable)})" if unusable else ""),
            {"setting": "default_model"},
            hint="pass model = 'provider/name', set LLMSPELL_MODEL, set default_model in "
            "llmspell.toml, or install llmspell-local for the embedded model",
        )
