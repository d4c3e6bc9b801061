"""Providers registered at start-up that import their protocol (and httpx) on first use."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING

from llmspell.providers import Capabilities, ChatRequest, ChatResponse, ProviderStatus, StreamChunk
from llmspell_providers.catalog import provider_class
from llmspell_providers.prices import PriceTable
from llmspell_providers.spec import ProviderSpec, SpecBacked

if TYPE_CHECKING:
    from llmspell_providers.base import HttpProvider


class LazyHttpProvider(SpecBacked):
    """Answers what the kernel asks without a request (name, status, models, default model)
    from the :class:`ProviderSpec`; builds the real provider of its protocol for the first
    request and hands every request to it."""

    capabilities = Capabilities(tools=True, json_schema=True, streaming=True)

    def __init__(
        self, spec: ProviderSpec, prices: PriceTable, env: Mapping[str, str] | None = None
    ) -> None:
        self.spec = spec
        self.name = spec.name
        self.prices = prices
        self._env = os.environ if env is None else env
        self._real: HttpProvider | None = None

    def __repr__(self) -> str:
        return f"LazyHttpProvider({self.name!r}, {self.spec.protocol!r})"

    @property
    def real(self) -> HttpProvider:
        """The provider of this spec's protocol, built on first use."""
        if self._real is None:
            self._real = provider_class(self.spec.protocol)(self.spec, self.prices,
                                                            env=self._env)
        return self._real

    async def probe(self) -> ProviderStatus:
        return await self.real.probe()

    async def chat(self, request: ChatRequest) -> ChatResponse:
        return await self.real.chat(request)

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        return self.real.stream(request)
