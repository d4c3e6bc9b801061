"""Entry point of the ``tools-text`` plugin: registers the tools of category ``text``."""

from __future__ import annotations

from llmspell.lifecycle import hookimpl
from llmspell.tools import ToolRegistry


@hookimpl
def llmspell_register_tools(registry: ToolRegistry) -> None:
    """Register this family's tools."""
