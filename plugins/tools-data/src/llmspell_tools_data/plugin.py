"""Entry point of the ``tools-data`` plugin: registers the tools of category ``data``.

The distribution declares it in its ``pyproject.toml``::

    [project.entry-points.llmspell]
    tools-data = "llmspell_tools_data.plugin"
"""

from __future__ import annotations

from llmspell.lifecycle import hookimpl
from llmspell.tools import ToolRegistry
from llmspell_tools_data.tools import TOOLS


@hookimpl
def llmspell_register_tools(registry: ToolRegistry) -> None:
    """Register the nine data tools (see :data:`llmspell_tools_data.tools.TOOLS`)."""
    for t in TOOLS:
        registry.register(t)
