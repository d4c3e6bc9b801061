"""Every tool of ``llmspell-tools-text``, in registration order."""

from __future__ import annotations

from llmspell.tools import Tool
from llmspell_tools_text import (
    analysis_tools,
    codec_tools,
    regex_tools,
    template_tools,
    transform_tools,
    uuid_tools,
)

TOOLS: tuple[Tool, ...] = (
    *regex_tools.TOOLS,
    *template_tools.TOOLS,
    *transform_tools.TOOLS,
    *analysis_tools.TOOLS,
    *codec_tools.TOOLS,
    *uuid_tools.TOOLS,
)
