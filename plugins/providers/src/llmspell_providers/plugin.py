"""The ``providers`` plugin: registers the HTTP providers of :mod:`llmspell_providers.catalog`."""

from __future__ import annotations

from typing import Any

from llmspell.config import Config
from llmspell.lifecycle import hookimpl
from llmspell_providers.catalog import build_providers
from llmspell_providers.prices import PriceTable


@hookimpl
def llmspell_register_providers(registry: Any, config: Config) -> None:
    for provider in build_providers(config, PriceTable.load(config)):
        registry.add(provider.name, provider)
