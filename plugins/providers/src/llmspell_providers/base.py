"""What every HTTP provider shares: settings from the config, the API key from the environment,
status, the client layer and costs. A wire protocol subclasses :class:`HttpProvider` and writes
its request body, its reply parser and its stream decoder."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, ClassVar

import attrs
import httpx
import trio
from httpx_sse import ServerSentEvent

from llmspell.errors import LlmspellError
from llmspell.messages import Usage
from llmspell.providers import (
    Capabilities,
    ChatRequest,
    ChatResponse,
    ProviderStatus,
    StreamChunk,
)
from llmspell_providers.http import HttpClient, error_message
from llmspell_providers.prices import PriceTable
from llmspell_providers.spec import ProviderSpec, SpecBacked


def estimate_tokens(body: Mapping[str, Any], max_tokens: int | None) -> int:
    """A rough token count of a request (four characters per token) plus its output budget
    (``max_tokens``, else what the body asks for: ``max_tokens`` or Gemini's
    ``generationConfig.maxOutputTokens``), reserved against a tokens-per-minute limit until the
    real usage is known."""
    if max_tokens is None:
        generation = body.get("generationConfig")
        budget = body.get("max_tokens") or (
            generation.get("maxOutputTokens") if isinstance(generation, dict) else None
        )
        max_tokens = budget if isinstance(budget, int) else None
    return len(json.dumps(body, ensure_ascii=False)) // 4 + (max_tokens or 0)


class HttpProvider(SpecBacked):
    """A provider reached over HTTP. Subclasses set :attr:`protocol` and implement
    :meth:`chat_body`, :meth:`parse_reply`, :meth:`parse_stream` and :meth:`auth_headers`."""

    protocol: ClassVar[str] = ""
    chat_path: ClassVar[str] = ""
    capabilities = Capabilities(tools=True, json_schema=True, streaming=True)

    def __init__(
        self,
        spec: ProviderSpec,
        prices: PriceTable,
        *,
        env: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.spec = spec
        self.name = spec.name
        self.prices = prices
        self._env = os.environ if env is None else env
        self.client = HttpClient(spec.name, spec.http, self._headers, transport=transport)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.spec.http.base_url!r})"

    # --- what the kernel asks (see also SpecBacked) -------------------------------------------

    async def probe(self) -> ProviderStatus:
        """Contact the server (``GET {base_url}/models``, no retries): usable only if it answers
        with success, which proves the URL and the key. Never raises."""
        status = self.status()
        if not status.usable:
            return status
        url = self.spec.http.base_url
        try:
            with trio.fail_after(self.spec.http.connect_timeout + 5.0):
                with self.client.lease() as client:
                    response = await client.get("models", headers=self._headers())
        except (httpx.TransportError, trio.TooSlowError) as exc:
            return ProviderStatus(False, f"cannot reach {url}: {type(exc).__name__}")
        if response.status_code >= 300:
            return ProviderStatus(False, f"{url} answered {response.status_code}: "
                                         f"{error_message(response.content, 120)}")
        return ProviderStatus(True, f"{url} answered")

    # --- keys and headers ---------------------------------------------------------------------

    def api_key(self) -> str | None:
        """The key from the environment, or ``config_error`` naming the variable when a
        required key is missing."""
        env_name = self.spec.key_variable(self._env)
        key = self._env.get(env_name) if env_name else None
        if not key and self.spec.key_required:
            raise LlmspellError(
                "config_error",
                f"provider {self.name!r} needs an API key: set {self.spec.key_names()}",
                {"provider": self.name, "setting": self.spec.api_key_env},
                hint=f"export {self.spec.api_key_env}=... or pick another model",
            )
        return key or None

    def auth_headers(self, key: str | None) -> dict[str, str]:
        raise NotImplementedError

    def _headers(self) -> dict[str, str]:
        return self.auth_headers(self.api_key())

    # --- the protocol -------------------------------------------------------------------------

    def chat_body(self, request: ChatRequest, stream: bool) -> tuple[str, dict[str, Any]]:
        """The path and JSON body for ``request``."""
        raise NotImplementedError

    def parse_reply(self, data: dict[str, Any], request: ChatRequest) -> ChatResponse:
        raise NotImplementedError

    def parse_stream(
        self, events: AsyncIterator[ServerSentEvent], request: ChatRequest
    ) -> AsyncIterator[StreamChunk]:
        raise NotImplementedError

    def malformed(self, request: ChatRequest, what: str) -> LlmspellError:
        """``provider_error`` for a reply that does not follow the protocol."""
        return LlmspellError(
            "provider_error",
            f"{self.name}: malformed reply: {what}",
            {"provider": self.name, "model": request.model, "reason": "malformed"},
        )

    def priced(self, request: ChatRequest, usage: Usage) -> Usage:
        if self.spec.free:
            return attrs.evolve(usage, cost=0.0)
        return self.prices.priced(f"{self.name}/{request.model}", usage)

    # --- Provider -----------------------------------------------------------------------------

    async def chat(self, request: ChatRequest) -> ChatResponse:
        self.api_key()  # a missing key fails before any connection
        path, body = self.chat_body(request, stream=False)
        estimate = estimate_tokens(body, request.max_tokens)
        data, settle = await self.client.post_json(
            path, body, model=request.model, estimated_tokens=estimate
        )
        try:
            response = self.parse_reply(data, request)
        except LlmspellError:
            raise
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            raise self.malformed(request, f"{type(exc).__name__}: {exc}") from None
        settle(response.usage.total_tokens)
        return attrs.evolve(response, usage=self.priced(request, response.usage))

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        self.api_key()
        path, body = self.chat_body(request, stream=True)
        estimate = estimate_tokens(body, request.max_tokens)
        async with self.client.stream_events(
            path, body, model=request.model, estimated_tokens=estimate
        ) as events:
            try:
                async for chunk in self.parse_stream(events, request):
                    if chunk.usage is not None:
                        self.client.limiter.settle(estimate, chunk.usage.total_tokens)
                        chunk = attrs.evolve(chunk, usage=self.priced(request, chunk.usage))
                    yield chunk
            except LlmspellError:
                raise
            except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
                raise self.malformed(request, f"{type(exc).__name__}: {exc}") from None


ProviderFactory = Callable[[ProviderSpec, PriceTable], HttpProvider]
