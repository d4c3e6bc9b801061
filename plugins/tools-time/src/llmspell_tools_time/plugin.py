"""Entry point of the ``tools-time`` plugin: registers the tools of category ``time``.

The distribution declares it in its ``pyproject.toml``::

    [project.entry-points.llmspell]
    tools-time = "llmspell_tools_time.plugin"

Importing it stays cheap: dateutil is imported only when a tool needs it.
"""

from __future__ import annotations

from llmspell.lifecycle import hookimpl
from llmspell.tools import ToolRegistry
from llmspell_tools_time.tools import TOOLS


@hookimpl
def llmspell_register_tools(registry: ToolRegistry) -> None:
    """Register ``time_now``, ``time_parse``, ``time_format``, ``time_convert``, ``time_add``
    and ``time_diff``."""
    for t in TOOLS:
        registry.register(t)
