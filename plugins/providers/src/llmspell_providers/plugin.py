"""The ``providers`` plugin: registers the HTTP providers of :mod:`llmspell_providers.catalog`,
each importing its protocol (and httpx) only when first used."""

from __future__ import annotations

from typing import Any

from llmspell.config import Config
from llmspell.lifecycle import hookimpl
from llmspell_providers.catalog import build_specs
from llmspell_providers.lazy import LazyHttpProvider
from llmspell_providers.prices import PriceTable


@hookimpl
def llmspell_register_providers(registry: Any, config: Config) -> None:
    prices = PriceTable.load(config)
    for spec in build_specs(config):
        registry.add(spec.name, LazyHttpProvider(spec, prices))
