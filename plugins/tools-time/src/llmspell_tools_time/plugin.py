"""Entry point of the ``tools-time`` plugin: registers the tools of category ``time``.

The distribution declares it in its ``pyproject.toml``::

    [project.entry-points.llmspell]
    tools-time = "llmspell_tools_time.plugin"

Importing it stays cheap: dateutil is imported only when a tool needs it.
"""

from __future__ import annotations

from llmspell.lifecycle import hookimpl
from llmspell.tools import ToolRegistry

#: tool name -> where it is defined; a tool's module is imported when the tool is first looked
#: up, so that loading the plugin stays cheap (the package's tests load every one of them)
TOOLS: dict[str, str] = {
    "time_now": "llmspell_tools_time.tools:time_now",
    "time_parse": "llmspell_tools_time.tools:time_parse",
    "time_format": "llmspell_tools_time.tools:time_format",
    "time_convert": "llmspell_tools_time.tools:time_convert",
    "time_add": "llmspell_tools_time.tools:time_add",
    "time_diff": "llmspell_tools_time.tools:time_diff",
}


@hookimpl
def llmspell_register_tools(registry: ToolRegistry) -> None:
    """Register the tools of :data:`TOOLS` (imported on first use)."""
    for name, target in TOOLS.items():
        registry.register_lazy(name, target)
