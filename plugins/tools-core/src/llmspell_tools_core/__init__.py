"""Core tools for llmspell: echo, sleep, calculator.

The package is a model of a third-party tool plugin: tools in :mod:`llmspell_tools_core.tools`,
the registration hook in :mod:`llmspell_tools_core.plugin` (the ``llmspell`` entry point).
"""

from llmspell_tools_core.calculator import CalculatorError, evaluate

__all__ = ["CalculatorError", "evaluate"]
