"""Entry point of the ``tools-data`` plugin: registers the tools of category ``data``.

The distribution declares it in its ``pyproject.toml``::

    [project.entry-points.llmspell]
    tools-data = "llmspell_tools_data.plugin"
"""

from __future__ import annotations

from llmspell.lifecycle import hookimpl
from llmspell.tools import ToolRegistry

#: tool name -> where it is defined; a tool's module is imported when the tool is first looked
#: up, so that loading the plugin stays cheap (the package's tests load every one of them)
TOOLS: dict[str, str] = {
    "json_query": "llmspell_tools_data.json_tools:json_query",
    "json_validate": "llmspell_tools_data.json_tools:json_validate",
    "json_diff": "llmspell_tools_data.json_diff:json_diff",
    "csv_query": "llmspell_tools_data.csv_tools:csv_query",
    "csv_stats": "llmspell_tools_data.csv_tools:csv_stats",
    "data_convert": "llmspell_tools_data.convert:data_convert",
    "xml_query": "llmspell_tools_data.xml_tools:xml_query",
    "text_diff": "llmspell_tools_data.text_diff:text_diff",
    "table_render": "llmspell_tools_data.tables:table_render",
}


@hookimpl
def llmspell_register_tools(registry: ToolRegistry) -> None:
    """Register the tools of :data:`TOOLS` (imported on first use)."""
    for name, target in TOOLS.items():
        registry.register_lazy(name, target)
