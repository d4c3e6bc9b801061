"""Entry point of the ``tools-text`` plugin: registers the tools of category ``text``.

Importing it stays cheap: ``regex``, ``jinja2``, ``slugify``, ``hashlib`` and friends are
imported inside the tools that use them.
"""

from __future__ import annotations

from llmspell.lifecycle import hookimpl
from llmspell.tools import ToolRegistry
from llmspell_tools_text.tools import TOOLS


@hookimpl
def llmspell_register_tools(registry: ToolRegistry) -> None:
    """Register regex_match, regex_replace, regex_split, template_render, text_transform,
    text_stats, token_count, text_chunk, hash, encode and uuid."""
    for t in TOOLS:
        registry.register(t)
