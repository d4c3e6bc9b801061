"""Entry point of the ``tools-fs`` plugin: registers the file tools (category ``files``).

Importing it stays cheap: the tool modules import only the standard library's light modules at
top level; ``regex``, ``zipfile``, ``tarfile``, ``difflib``, ``hashlib`` and ``shutil`` are
imported by the functions that use them.
"""

from __future__ import annotations

from llmspell.lifecycle import hookimpl
from llmspell.tools import ToolRegistry

#: tool name -> where it is defined; a tool's module is imported when the tool is first looked
#: up, so that loading the plugin stays cheap (the package's tests load every one of them)
TOOLS: dict[str, str] = {
    "file_read": "llmspell_tools_fs.reading:file_read",
    "file_write": "llmspell_tools_fs.writing:file_write",
    "file_list": "llmspell_tools_fs.listing:file_list",
    "file_search": "llmspell_tools_fs.search:file_search",
    "file_stat": "llmspell_tools_fs.reading:file_stat",
    "file_move": "llmspell_tools_fs.managing:file_move",
    "file_copy": "llmspell_tools_fs.managing:file_copy",
    "file_delete": "llmspell_tools_fs.managing:file_delete",
    "dir_create": "llmspell_tools_fs.writing:dir_create",
    "archive_create": "llmspell_tools_fs.archives:archive_create",
    "archive_extract": "llmspell_tools_fs.archives:archive_extract",
    "archive_list": "llmspell_tools_fs.archives:archive_list",
    "file_diff": "llmspell_tools_fs.diffing:file_diff",
}


@hookimpl
def llmspell_register_tools(registry: ToolRegistry) -> None:
    """Register the tools of :data:`TOOLS` (imported on first use)."""
    for name, target in TOOLS.items():
        registry.register_lazy(name, target)
