"""``web_search`` and its pluggable backends.

A backend is any object with ``async search(query, count, ctx) -> [{"title", "url",
"snippet"}]`` (:class:`SearchBackend`); it must reach the network only through
:func:`llmspell_tools_web.fetch.fetch` (so the run's policy checks every host it contacts). A
*factory* makes one from its settings: ``factory(settings: Table) -> SearchBackend``.

Built-ins: ``searxng``, ``brave`` and ``duckduckgo``; their settings are keys of the
``[plugins.tools-web]`` table of llmspell.toml. More backends come from

- :func:`register_backend` (in-process), or
- entry points of group ``llmspell.search_backends`` (name = backend name, object = factory),
  loaded on the first search (not at start-up); their settings are the table
  ``[plugins.tools-web.backends.NAME]``.

Secrets never reach scripts: Brave's key is read from the environment variable that
``brave_api_key_env`` names, inside this module, and sent only to the Brave endpoint (a redirect
elsewhere drops it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

import attrs
import trio

from llmspell.config import Table
from llmspell.errors import LlmspellError, did_you_mean
from llmspell.tools import Tool, ToolContext, tool
from llmspell_tools_web.fetch import (
    DEFAULT_TIMEOUT,
    MAX_TIMEOUT,
    FetchResult,
    fetch,
    invalid_arg,
    tool_error,
)
from llmspell_tools_web.schema import CATEGORY, NETWORK, TIMEOUT_PROPERTY
from llmspell_tools_web.search_settings import (
    BACKEND_NAME,
    BUILTIN_NAMES,
    DEFAULT_BACKEND,
    backend_settings,
    check_settings,
)

ENTRY_POINT_GROUP = "llmspell.search_backends"
DEFAULT_BRAVE_URL = "https://api.search.brave.com/res/v1/web/search"
DEFAULT_BRAVE_KEY_ENV = "BRAVE_API_KEY"
DEFAULT_DUCKDUCKGO_URL = "https://html.duckduckgo.com/html/"
#: Default and most results of one search.
DEFAULT_COUNT = 5
MAX_COUNT = 20
#: Longest query, title and snippet, in characters.
MAX_QUERY = 500
MAX_TITLE = 300
MAX_SNIPPET = 1000


class SearchBackend(Protocol):
    """A search engine adapter."""

    async def search(self, query: str, count: int, ctx: ToolContext) -> list[dict[str, Any]]:
        """At most ``count`` results ``{"title", "url", "snippet"}`` for ``query``; network
        access only through :func:`llmspell_tools_web.fetch.fetch` with ``ctx``."""
        ...


BackendFactory = Callable[[Table], SearchBackend]


# --- the registry -----------------------------------------------------------------------------


@attrs.define
class _Registry:
    factories: dict[str, BackendFactory] = attrs.field(factory=dict)
    broken: dict[str, str] = attrs.field(factory=dict)
    entry_points_loaded: bool = False

    def load_entry_points(self) -> None:
        if self.entry_points_loaded:
            return
        self.entry_points_loaded = True
        import importlib.metadata  # the scan happens on the first search only

        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in self.factories or not BACKEND_NAME.fullmatch(ep.name):
                continue
            try:
                self.factories[ep.name] = ep.load()
            except Exception as exc:
                self.broken[ep.name] = f"{type(exc).__name__}: {exc}"


_REGISTRY = _Registry()


def register_backend(name: str, factory: BackendFactory, *, replace: bool = False) -> None:
    """Add a backend under ``name`` (lower-case letters, digits, ``_``, ``-``);
    ``plugin_error`` if the name is taken and ``replace`` is false."""
    if not BACKEND_NAME.fullmatch(name):
        raise LlmspellError("invalid_value", f"invalid search backend name {name!r}: use 1-40 "
                            "lower-case letters, digits, '_' or '-'", {"name": name})
    if name in _REGISTRY.factories and not replace:
        raise LlmspellError("plugin_error", f"search backend {name!r} is already registered",
                            {"name": name})
    _REGISTRY.factories[name] = factory


def unregister_backend(name: str) -> None:
    """Remove a backend added with :func:`register_backend` (no error if absent)."""
    _REGISTRY.factories.pop(name, None)


def backend_names() -> list[str]:
    """Every available backend, entry points included."""
    _REGISTRY.load_entry_points()
    return sorted(_REGISTRY.factories)


def _factory(name: str) -> BackendFactory | None:
    if name not in _REGISTRY.factories:
        _REGISTRY.load_entry_points()
    if name in _REGISTRY.broken:
        raise LlmspellError(
            "plugin_error",
            f"search backend {name!r} failed to load: {_REGISTRY.broken[name]}",
            {"backend": name},
        )
    return _REGISTRY.factories.get(name)


# --- settings ---------------------------------------------------------------------------------


def _url_setting(settings: Table, key: str, default: str | None) -> str:
    value = settings.get(key, str, default or "")
    if not value:
        raise settings.error(key, "is not set", hint=f"set {key} in the [{settings.path}] "
                             "table of llmspell.toml")
    return value


# --- built-in backends ------------------------------------------------------------------------


async def _get_json(ctx: ToolContext, backend: str, url: str,
                    headers: list[tuple[str, str]]) -> Any:
    result = await fetch(ctx, url, headers=[("Accept", "application/json"), *headers],
                         timeout=MAX_TIMEOUT, argument=None)
    _check_status(backend, result)
    try:
        return json.loads(result.text())
    except ValueError:
        raise tool_error(
            "web_search", "parse", f"backend {backend!r}: the answer is not JSON: "
            f"{result.text()[:200]!r}", backend=backend,
        ) from None


def _check_status(backend: str, result: FetchResult, hint: str = "") -> None:
    if result.status != 200:
        raise tool_error(
            "web_search", "http",
            f"backend {backend!r}: {result.url.split('?')[0][:200]} answered {result.status} "
            f"{result.reason}{hint}",
            backend=backend, status=result.status,
        )


@attrs.frozen
class SearxngBackend:
    """A SearXNG instance: ``GET {searxng_url}/search?q=...&format=json`` (the instance must
    allow the json format)."""

    base_url: str

    @classmethod
    def from_settings(cls, settings: Table) -> SearxngBackend:
        return cls(_url_setting(settings, "searxng_url", None))

    async def search(self, query: str, count: int, ctx: ToolContext) -> list[dict[str, Any]]:
        url = self.base_url.rstrip("/") + "/search?" + urlencode({"q": query, "format": "json"})
        data = await _get_json(ctx, "searxng", url, [])
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list):
            raise tool_error("web_search", "parse", "backend 'searxng': the answer has no "
                             "results list", backend="searxng")
        return [
            {"title": r.get("title"), "url": r.get("url"), "snippet": r.get("content")}
            for r in results[:count] if isinstance(r, dict)
        ]


@attrs.frozen
class BraveBackend:
    """The Brave Search API; the key is read from the environment variable ``key_env`` at
    search time and sent as ``X-Subscription-Token``."""

    url: str
    key_env: str

    @classmethod
    def from_settings(cls, settings: Table) -> BraveBackend:
        return cls(
            _url_setting(settings, "brave_url", DEFAULT_BRAVE_URL),
            settings.get("brave_api_key_env", str, DEFAULT_BRAVE_KEY_ENV),
        )

    async def search(self, query: str, count: int, ctx: ToolContext) -> list[dict[str, Any]]:
        from llmspell_tools_web.content import html_to_text

        key = os.environ.get(self.key_env)
        if not key:
            raise LlmspellError(
                "config_error",
                f"search backend 'brave' needs an API key in the environment variable "
                f"{self.key_env}",
                {"backend": "brave", "setting": self.key_env},
                hint=f"export {self.key_env}=... (or name another variable with "
                "brave_api_key_env in [plugins.tools-web])",
            )
        url = self.url + "?" + urlencode({"q": query, "count": min(count, MAX_COUNT)})
        data = await _get_json(ctx, "brave", url, [("X-Subscription-Token", key)])
        web = data.get("web") if isinstance(data, dict) else None
        results = web.get("results", []) if isinstance(web, dict) else []
        if not isinstance(results, list):
            results = []
        return [
            {
                "title": html_to_text(str(r.get("title") or "")),
                "url": r.get("url"),
                "snippet": html_to_text(str(r.get("description") or "")),
            }
            for r in results[:count] if isinstance(r, dict)
        ]


@attrs.frozen
class DuckDuckGoBackend:
    """DuckDuckGo's HTML endpoint (no key), parsed with bs4; ads are skipped and redirect
    links (``/l/?uddg=...``) unwrapped."""

    url: str

    @classmethod
    def from_settings(cls, settings: Table) -> DuckDuckGoBackend:
        return cls(_url_setting(settings, "duckduckgo_url", DEFAULT_DUCKDUCKGO_URL))

    async def search(self, query: str, count: int, ctx: ToolContext) -> list[dict[str, Any]]:
        url = self.url + "?" + urlencode({"q": query})
        result = await fetch(ctx, url, headers=[("Accept", "text/html")], timeout=MAX_TIMEOUT,
                             argument=None)
        _check_status("duckduckgo", result, " (it refuses automated queries at times)")
        return await trio.to_thread.run_sync(parse_duckduckgo, result.content, result.url,
                                             count)


def parse_duckduckgo(content: bytes, page_url: str, count: int) -> list[dict[str, Any]]:
    """Results of a DuckDuckGo HTML result page (blocking)."""
    from llmspell_tools_web.content import absolute, collapse, parse_html

    soup = parse_html(content, None)
    out: list[dict[str, Any]] = []
    for result in soup.select("div.result, div.web-result"):
        classes = result.get("class") or []
        if any("result--ad" in c for c in classes):
            continue
        link = result.select_one("a.result__a")
        if link is None or not link.get("href"):
            continue
        href = absolute(page_url, str(link["href"])) or ""
        parts = urlsplit(href)
        if parts.path.startswith("/l/"):
            target = parse_qs(parts.query).get("uddg")
            href = target[0] if target else ""
        snippet = result.select_one(".result__snippet")
        out.append({
            "title": collapse(link.get_text(" ")),
            "url": href,
            "snippet": collapse(snippet.get_text(" ")) if snippet is not None else "",
        })
        if len(out) >= count:
            break
    return out


BUILTINS: dict[str, BackendFactory] = {
    "searxng": SearxngBackend.from_settings,
    "brave": BraveBackend.from_settings,
    "duckduckgo": DuckDuckGoBackend.from_settings,
}
assert tuple(BUILTINS) == BUILTIN_NAMES
_REGISTRY.factories.update(BUILTINS)


# --- the tool ---------------------------------------------------------------------------------


def _clean_results(raw: Any, count: int) -> list[dict[str, str]]:
    if not isinstance(raw, list):
        raise tool_error("web_search", "backend", f"the backend returned "
                         f"{type(raw).__name__}, not a list of results")
    out: list[dict[str, str]] = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        url = item.get("url")
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            continue
        out.append({
            "title": str(item.get("title") or "")[:MAX_TITLE],
            "url": url,
            "snippet": str(item.get("snippet") or "")[:MAX_SNIPPET],
        })
        if len(out) >= count:
            break
    return out


def make_web_search(settings: Table) -> Tool:
    """The ``web_search`` tool configured by ``[plugins.tools-web]`` (checked here:
    ``config_error`` for malformed settings)."""
    check_settings(settings)
    default = settings.get("search_backend", str, DEFAULT_BACKEND)

    @tool(
        name="web_search",
        description="Search the web and return the top results. Returns {backend, query, "
        "results: [{title, url, snippet}]}. The backend is set by search_backend in the "
        f"[plugins.tools-web] table of llmspell.toml (default {DEFAULT_BACKEND}); built-ins are "
        "searxng, brave and duckduckgo, and packages may add more. Every request goes "
        "through the network policy: the backend's host must be allowed. Limits: at most "
        f"{MAX_COUNT} results (count, default {DEFAULT_COUNT}), query at most {MAX_QUERY} "
        f"characters, snippets at most {MAX_SNIPPET} characters, 120 s.",
        category=CATEGORY,
        permissions=NETWORK,
        parameters={
            "type": "object",
            "properties": {
                "query": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_QUERY,
                    "description": "What to search for.",
                },
                "count": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_COUNT,
                    "default": DEFAULT_COUNT,
                    "description": f"Most results returned (default {DEFAULT_COUNT}, at most "
                    f"{MAX_COUNT}).",
                },
                "backend": {
                    "type": "string",
                    "pattern": "^[a-z0-9][a-z0-9_-]{0,39}$",
                    "description": "The backend to use instead of the configured one: "
                    "searxng, brave, duckduckgo or one a package adds.",
                },
                "timeout": TIMEOUT_PROPERTY,
            },
            "required": ["query"],
            "additionalProperties": False,
        },
        example={"query": "llmspell tools", "count": 3},
    )
    async def web_search(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        query = args["query"].strip()
        if not query:
            raise invalid_arg("web_search", "query", "is blank")
        count = int(args.get("count", DEFAULT_COUNT))
        name = args.get("backend", default)
        factory = _factory(name)
        if factory is None:
            known = backend_names()
            if "backend" in args:
                raise invalid_arg("web_search", "backend",
                                  f"no search backend {name!r}{did_you_mean(name, known)}",
                                  known=known)
            raise settings.error("search_backend",
                                 f"names no search backend {name!r}"
                                 f"{did_you_mean(name, known)}")
        backend = factory(backend_settings(settings, name))
        timeout = float(args.get("timeout", DEFAULT_TIMEOUT))
        try:
            with trio.fail_after(timeout):
                raw = await backend.search(query, count, ctx)
        except trio.TooSlowError:
            raise LlmspellError(
                "timeout", f"tool 'web_search': backend {name!r} did not answer within "
                f"{timeout:g} s", {"tool": "web_search", "backend": name, "timeout": timeout,
                                   "reason": "timeout"},
            ) from None
        return {"backend": name, "query": query, "results": _clean_results(raw, count)}

    return web_search
