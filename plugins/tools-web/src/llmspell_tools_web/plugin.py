"""Entry point of the ``tools-web`` plugin: registers the tools of category ``web``.

``web_search`` is built from the ``[plugins.tools-web]`` table of llmspell.toml (its backend
settings); a malformed setting is a ``config_error`` naming the key.
"""

from __future__ import annotations

from llmspell.config import Config
from llmspell.lifecycle import hookimpl
from llmspell.tools import Tool, ToolRegistry
from llmspell_tools_web.feeds import feed_read, sitemap_read
from llmspell_tools_web.http_tools import graphql_query, http_request
from llmspell_tools_web.pages import web_fetch, web_scrape
from llmspell_tools_web.search import make_web_search
from llmspell_tools_web.urls import url_parse

#: The tools that need no configuration, in registration order (``web_search`` follows).
TOOLS: tuple[Tool, ...] = (
    http_request, web_fetch, web_scrape, url_parse, feed_read, sitemap_read, graphql_query,
)


@hookimpl
def llmspell_register_tools(registry: ToolRegistry, config: Config) -> None:
    """Register ``http_request``, ``web_fetch``, ``web_scrape``, ``url_parse``, ``feed_read``,
    ``sitemap_read``, ``graphql_query`` and ``web_search``."""
    for t in TOOLS:
        registry.register(t)
    registry.register(make_web_search(config.plugin("tools-web")))
