"""llmspell's JavaScript engine: spells are ES modules run on QuickJS (``quickjs-ng``)."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["JsEngine"]


def __getattr__(name: str) -> Any:
    # imported on use: the plugin entry point imports this package at every llmspell start
    if name in __all__:
        return getattr(importlib.import_module("llmspell_js.engine"), name)
    raise AttributeError(name)
