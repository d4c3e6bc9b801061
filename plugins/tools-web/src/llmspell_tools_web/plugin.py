"""Entry point of the ``tools-web`` plugin: registers the tools of category ``web``.

``web_search`` is built from the ``[plugins.tools-web]`` table of llmspell.toml (its backend
settings); a malformed setting is a ``config_error`` naming the key.
"""

from __future__ import annotations

from llmspell.config import Config
from llmspell.lifecycle import hookimpl
from llmspell.tools import ToolRegistry

#: The tools that need no configuration, in registration order (``web_search`` follows): name ->
#: where it is defined, imported when the tool is first looked up (start-up time).
TOOLS: dict[str, str] = {
    "http_request": "llmspell_tools_web.http_tools:http_request",
    "web_fetch": "llmspell_tools_web.pages:web_fetch",
    "web_scrape": "llmspell_tools_web.pages:web_scrape",
    "url_parse": "llmspell_tools_web.urls:url_parse",
    "feed_read": "llmspell_tools_web.feeds:feed_read",
    "sitemap_read": "llmspell_tools_web.feeds:sitemap_read",
    "graphql_query": "llmspell_tools_web.http_tools:graphql_query",
}


@hookimpl
def llmspell_register_tools(registry: ToolRegistry, config: Config) -> None:
    """Register ``http_request``, ``web_fetch``, ``web_scrape``, ``url_parse``, ``feed_read``,
    ``sitemap_read``, ``graphql_query`` and ``web_search`` (built now, so that a malformed
    setting is reported when the kernel loads)."""
    from llmspell_tools_web.search import make_web_search

    for name, target in TOOLS.items():
        registry.register_lazy(name, target)
    registry.register(make_web_search(config.plugin("tools-web")))
