"""Entry point of the ``tools-web`` plugin: registers the tools of category ``web``.

``web_search`` is built from the ``[plugins.tools-web]`` table of llmspell.toml (its backend
settings); a malformed setting is a ``config_error`` naming the key.
"""

from __future__ import annotations

import functools

from llmspell.config import Config, Table
from llmspell.lifecycle import hookimpl
from llmspell.tools import Tool, ToolRegistry

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
    ``sitemap_read``, ``graphql_query`` and ``web_search`` (its settings checked now, so that a
    malformed one is reported when the kernel loads; the tool is built on first use)."""
    for name, target in TOOLS.items():
        registry.register_lazy(name, target)
    settings = config.plugin("tools-web")
    if settings.keys():  # an empty table has nothing to check (start-up time)
        from llmspell_tools_web.search_settings import check_settings

        check_settings(settings)
    registry.register_lazy("web_search", functools.partial(_web_search, settings))


def _web_search(settings: Table) -> Tool:
    from llmspell_tools_web.search import make_web_search

    return make_web_search(settings)
