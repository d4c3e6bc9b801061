"""Entry point of the ``tools-system`` plugin: registers the tools of category ``system``
(``env_read``, ``process_run``, ``process_which``, ``system_info``, ``sqlite_query``)."""

from __future__ import annotations

from llmspell.lifecycle import hookimpl
from llmspell.tools import ToolRegistry

#: tool name -> where it is defined; a tool's module is imported when the tool is first looked
#: up, so that loading the plugin stays cheap (the package's tests load every one of them)
TOOLS: dict[str, str] = {
    "env_read": "llmspell_tools_system.env:env_read",
    "process_run": "llmspell_tools_system.process:process_run",
    "process_which": "llmspell_tools_system.process:process_which",
    "system_info": "llmspell_tools_system.sysinfo:system_info",
    "sqlite_query": "llmspell_tools_system.sqlite:sqlite_query",
}


@hookimpl
def llmspell_register_tools(registry: ToolRegistry) -> None:
    """Register the tools of :data:`TOOLS` (imported on first use)."""
    for name, target in TOOLS.items():
        registry.register_lazy(name, target)
