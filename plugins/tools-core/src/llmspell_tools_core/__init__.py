"""Core tools for llmspell: echo, sleep, calculator.

The package is a model of a third-party tool plugin: tools in :mod:`llmspell_tools_core.tools`,
the registration hook in :mod:`llmspell_tools_core.plugin` (the ``llmspell`` entry point).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmspell_tools_core.calculator import CalculatorError, evaluate

__all__ = ["CalculatorError", "evaluate"]


def __getattr__(name: str) -> Any:
    # the calculator is imported when first asked for, not when the kernel loads the plugin
    # (importing ``llmspell_tools_core.plugin`` imports this package first: start-up time)
    if name in __all__:
        import importlib

        return getattr(importlib.import_module("llmspell_tools_core.calculator"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
