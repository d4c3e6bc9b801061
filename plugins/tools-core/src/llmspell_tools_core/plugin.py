"""Entry point of the ``tools-core`` plugin."""

from llmspell.lifecycle import hookimpl
from llmspell.tools import ToolRegistry


@hookimpl
def llmspell_register_tools(registry: ToolRegistry) -> None:
    """Register nothing yet (filled in below)."""
