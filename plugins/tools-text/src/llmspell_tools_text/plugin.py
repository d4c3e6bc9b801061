"""Entry point of the ``tools-text`` plugin: registers the tools of category ``text``.

Importing it stays cheap: ``regex``, ``jinja2``, ``slugify``, ``hashlib`` and friends are
imported inside the tools that use them.
"""

from __future__ import annotations

from llmspell.lifecycle import hookimpl
from llmspell.tools import ToolRegistry

#: tool name -> where it is defined; a tool's module is imported when the tool is first looked
#: up, so that loading the plugin stays cheap (the package's tests load every one of them)
TOOLS: dict[str, str] = {
    "regex_match": "llmspell_tools_text.regex_tools:regex_match",
    "regex_replace": "llmspell_tools_text.regex_tools:regex_replace",
    "regex_split": "llmspell_tools_text.regex_tools:regex_split",
    "template_render": "llmspell_tools_text.template_tools:template_render",
    "text_transform": "llmspell_tools_text.transform_tools:text_transform",
    "text_stats": "llmspell_tools_text.analysis_tools:text_stats",
    "token_count": "llmspell_tools_text.analysis_tools:token_count",
    "text_chunk": "llmspell_tools_text.analysis_tools:text_chunk",
    "hash": "llmspell_tools_text.codec_tools:hash_",
    "encode": "llmspell_tools_text.codec_tools:encode",
    "uuid": "llmspell_tools_text.uuid_tools:uuid_",
}


@hookimpl
def llmspell_register_tools(registry: ToolRegistry) -> None:
    """Register the tools of :data:`TOOLS` (imported on first use)."""
    for name, target in TOOLS.items():
        registry.register_lazy(name, target)
