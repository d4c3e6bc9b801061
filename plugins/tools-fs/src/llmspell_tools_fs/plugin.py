"""Entry point of the ``tools-fs`` plugin: registers the file tools (category ``files``).

Importing it stays cheap: the tool modules import only the standard library's light modules at
top level; ``regex``, ``zipfile``, ``tarfile``, ``difflib``, ``hashlib`` and ``shutil`` are
imported by the functions that use them.
"""

from __future__ import annotations

from llmspell.lifecycle import hookimpl
from llmspell.tools import Tool, ToolRegistry
from llmspell_tools_fs.archives import archive_create, archive_extract, archive_list
from llmspell_tools_fs.diffing import file_diff
from llmspell_tools_fs.listing import file_list
from llmspell_tools_fs.managing import file_copy, file_delete, file_move
from llmspell_tools_fs.reading import file_read, file_stat
from llmspell_tools_fs.search import file_search
from llmspell_tools_fs.writing import dir_create, file_write

#: Every tool of this package, in registration order.
TOOLS: tuple[Tool, ...] = (
    file_read,
    file_write,
    file_list,
    file_search,
    file_stat,
    file_move,
    file_copy,
    file_delete,
    dir_create,
    archive_create,
    archive_extract,
    archive_list,
    file_diff,
)


@hookimpl
def llmspell_register_tools(registry: ToolRegistry) -> None:
    """Register the file tools of :data:`TOOLS`."""
    for t in TOOLS:
        registry.register(t)
