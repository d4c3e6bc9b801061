"""The ``local`` plugin: registers :class:`~llmspell_local.provider.LocalProvider` as provider
``local``, configured by ``[providers.local]`` (see :mod:`llmspell_local.settings`).

Registration is cheap: it checks the settings and nothing else (llama-cpp-python is imported and
the model loaded on the first request).
"""

from __future__ import annotations

from typing import Any

from llmspell.config import Config
from llmspell.lifecycle import hookimpl
from llmspell_local.provider import LocalProvider


@hookimpl
def llmspell_register_providers(registry: Any, config: Config) -> None:
    table = config.provider("local")
    if not table.keys():  # nothing to check: the settings are made on first use (start-up time)
        registry.add("local", LocalProvider(table=table))
        return
    from llmspell_local.settings import LocalSettings

    registry.add("local", LocalProvider(LocalSettings.from_table(table)))
