"""Entry point of the ``tools-core`` plugin.

The distribution declares it in its ``pyproject.toml``::

    [project.entry-points.llmspell]
    tools-core = "llmspell_tools_core.plugin"

The kernel loads this module through that entry point and calls its registration hooks; every
tool registered here is owned by the plugin ``tools-core`` (``kernel.tools.owner("echo")``).
"""

from __future__ import annotations

from llmspell.lifecycle import hookimpl
from llmspell.tools import ToolRegistry

#: tool name -> where it is defined; a tool's module is imported when the tool is first looked
#: up, so that loading the plugin stays cheap (the package's tests load every one of them)
TOOLS: dict[str, str] = {
    "echo": "llmspell_tools_core.tools:echo",
    "sleep": "llmspell_tools_core.tools:sleep",
    "calculator": "llmspell_tools_core.tools:calculator",
    "unit_convert": "llmspell_tools_core.units:unit_convert",
}


@hookimpl
def llmspell_register_tools(registry: ToolRegistry) -> None:
    """Register the tools of :data:`TOOLS` (imported on first use)."""
    for name, target in TOOLS.items():
        registry.register_lazy(name, target)
