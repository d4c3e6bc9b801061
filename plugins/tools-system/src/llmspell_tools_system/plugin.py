"""Entry point of the ``tools-system`` plugin: registers the tools of category ``system``
(``env_read``, ``process_run``, ``process_which``, ``system_info``, ``sqlite_query``)."""

from __future__ import annotations

from llmspell.lifecycle import hookimpl
from llmspell.tools import ToolRegistry
from llmspell_tools_system.tools import TOOLS


@hookimpl
def llmspell_register_tools(registry: ToolRegistry) -> None:
    """Register this family's tools."""
    for t in TOOLS:
        registry.register(t)
