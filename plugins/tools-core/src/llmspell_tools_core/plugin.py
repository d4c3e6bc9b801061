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
from llmspell_tools_core.tools import TOOLS


@hookimpl
def llmspell_register_tools(registry: ToolRegistry) -> None:
    """Register ``echo``, ``sleep``, ``calculator`` and ``unit_convert``."""
    for t in TOOLS:
        registry.register(t)
