"""web_search: the built-in backends against loopback stand-ins of their APIs, configuration
through llmspell.toml's [plugins.tools-web] table, per-call backends and third-party backends."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from web_support import LoopbackServer, allow, call, call_error, json_reply, make_kernel

from llmspell.config import Table
from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.security import SecurityPolicy
from llmspell.tools import ToolContext
from llmspell_tools_web import search
from llmspell_tools_web.fetch import fetch


@pytest.fixture(scope="module")
def searx(server: LoopbackServer) -> Kernel:
    return make_kernel({
        "search_backend": "searxng",
        "searxng_url": f"{server.url}/searx",
        "duckduckgo_url": f"{server.url}/ddg/html/",
        "brave_url": f"{server.url}/brave/search",
        "brave_api_key_env": "TEST_BRAVE_KEY",
    })


# --- searxng --------------------------------------------------------------------------------


async def test_searxng(searx: Kernel, server: LoopbackServer) -> None:
    result = await call(searx, "web_search", {"query": "tea & cake", "count": 3}, allow(server))
    assert result == {
        "backend": "searxng",
        "query": "tea & cake",
        "results": [
            {"title": f"Result {i} for tea & cake", "url": f"https://r{i}.example/page",
             "snippet": f"snippet {i}"} for i in (1, 2, 3)
        ],
    }
    hit = server.hits[-1]
    assert hit.path == "/searx/search"
    assert hit.query == {"q": ["tea & cake"], "format": ["json"]}


async def test_results_without_an_http_url_are_dropped(
    searx: Kernel, server: LoopbackServer
) -> None:
    result = await call(searx, "web_search", {"query": "x", "count": 20}, allow(server))
    assert [r["url"] for r in result["results"]] == [
        f"https://r{i}.example/page" for i in range(1, 8)
    ]


async def test_searxng_error_status(server: LoopbackServer) -> None:
    kernel = make_kernel({"search_backend": "searxng", "searxng_url": f"{server.url}/nowhere"})
    err = await call_error(kernel, "web_search", {"query": "x"}, allow(server))
    assert err.code == "tool_error" and err.details["reason"] == "http"
    assert err.details["status"] == 404 and err.details["backend"] == "searxng"


async def test_searxng_needs_its_url(server: LoopbackServer) -> None:
    kernel = make_kernel({"search_backend": "searxng"})
    err = await call_error(kernel, "web_search", {"query": "x"}, allow(server))
    assert err.code == "config_error"
    assert "plugins.tools-web.searxng_url is not set" in err.message


# --- brave ----------------------------------------------------------------------------------


async def test_brave(
    searx: Kernel, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_BRAVE_KEY", "brave-test-key")
    result = await call(searx, "web_search", {"query": "llm", "count": 2, "backend": "brave"},
                        allow(server))
    assert result["backend"] == "brave"
    assert result["results"] == [
        {"title": "Brave 1", "url": "https://b1.example/", "snippet": "about llm & more 1"},
        {"title": "Brave 2", "url": "https://b2.example/", "snippet": "about llm & more 2"},
    ]
    hit = server.hits[-1]
    assert hit.path == "/brave/search" and hit.query["count"] == ["2"]
    assert hit.headers["x-subscription-token"] == "brave-test-key"
    assert hit.headers["accept"] == "application/json"


async def test_brave_without_a_key(
    searx: Kernel, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_BRAVE_KEY", raising=False)
    before = len(server.hits)
    err = await call_error(searx, "web_search", {"query": "x", "backend": "brave"},
                           allow(server))
    assert err.code == "config_error" and "TEST_BRAVE_KEY" in err.message
    assert len(server.hits) == before


async def test_brave_wrong_key_is_not_echoed(
    searx: Kernel, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_BRAVE_KEY", "wrong-key-value")
    err = await call_error(searx, "web_search", {"query": "x", "backend": "brave"},
                           allow(server))
    assert err.code == "tool_error" and err.details["status"] == 401
    assert "wrong-key-value" not in repr(err.to_dict())


async def test_brave_key_does_not_follow_a_cross_origin_redirect(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    collector = LoopbackServer({"/collect": lambda req: json_reply({"web": {"results": [
        {"title": "t", "url": "https://x.example/", "description": repr(sorted(req.headers))}
    ]}})})
    try:
        target = quote(f"{collector.url}/collect", safe="")
        kernel = make_kernel({
            "search_backend": "brave", "brave_api_key_env": "TEST_BRAVE_KEY",
            "brave_url": f"{server.url}/redirect?status=307&to={target}",
        })
        monkeypatch.setenv("TEST_BRAVE_KEY", "brave-test-key")
        result = await call(kernel, "web_search", {"query": "x"}, allow(server, collector))
        assert result["results"][0]["url"] == "https://x.example/"
        assert "x-subscription-token" not in collector.hits[0].headers
        assert "x-subscription-token" not in result["results"][0]["snippet"]
    finally:
        collector.stop()


# --- duckduckgo -----------------------------------------------------------------------------


async def test_duckduckgo_html(searx: Kernel, server: LoopbackServer) -> None:
    result = await call(searx, "web_search", {"query": "python", "backend": "duckduckgo"},
                        allow(server))
    assert result["backend"] == "duckduckgo"
    assert result["results"] == [
        {"title": "Python docs", "url": "https://www.python.org/doc/",
         "snippet": "The official python documentation."},
        {"title": "Direct", "url": "https://direct.example/page", "snippet": "Second snippet"},
    ]
    assert server.hits[-1].query == {"q": ["python"]}


def test_duckduckgo_parser_bounds_the_count() -> None:
    from web_support import DDG_PAGE

    results = search.parse_duckduckgo(DDG_PAGE.encode(), "https://html.duckduckgo.com/html/", 1)
    assert [r["title"] for r in results] == ["Python docs"]


# --- choosing the backend -------------------------------------------------------------------


async def test_default_backend_is_duckduckgo(server: LoopbackServer) -> None:
    kernel = make_kernel({"duckduckgo_url": f"{server.url}/ddg/html/"})
    assert "(default duckduckgo)" in kernel.tools.get("web_search").description
    result = await call(kernel, "web_search", {"query": "q"}, allow(server))
    assert result["backend"] == "duckduckgo"


async def test_unknown_backend_argument(searx: Kernel, server: LoopbackServer) -> None:
    err = await call_error(searx, "web_search", {"query": "x", "backend": "bingo"},
                           allow(server))
    assert err.code == "invalid_args"
    assert err.message.startswith("tool 'web_search': argument 'backend': no search backend "
                                  "'bingo'")
    assert {"brave", "duckduckgo", "searxng"} <= set(err.details["known"])


async def test_unknown_configured_backend(server: LoopbackServer) -> None:
    kernel = make_kernel({"search_backend": "searxgn"})
    err = await call_error(kernel, "web_search", {"query": "x"}, allow(server))
    assert err.code == "config_error"
    assert "plugins.tools-web.search_backend names no search backend 'searxgn'" in err.message
    assert "did you mean 'searxng'" in err.message


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        ({"search_bakend": "brave"}, "search_bakend is not a known setting; did you mean"),
        ({"api_key": "sk-123"}, "would put a secret in the file"),
        ({"searxng_url": "ftp://x"}, "searxng_url must be an http:// or https:// URL"),
        ({"searxng_url": 5}, "searxng_url must be str"),
        ({"search_backend": "Not A Name"}, "search_backend is not a backend name"),
        ({"backends": {"mine": {"token": "t"}}}, "backends.mine.token would put a secret"),
        ({"backends": {"mine": 3}}, "backends.mine must be a table"),
    ],
)
def test_malformed_settings_are_config_errors(settings: dict[str, Any], fragment: str) -> None:
    with pytest.raises(LlmspellError) as info:
        make_kernel(settings)
    assert info.value.code == "config_error"
    assert fragment in info.value.message


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        ({"query": ""}, "query", "should be non-empty"),
        ({"query": "   "}, "query", "is blank"),
        ({"query": "x" * 501}, "query", "is too long"),
        ({"query": "x", "count": 21}, "count", "greater than the maximum of 20"),
        ({"query": "x", "backend": "Bad Name"}, "backend", "does not match"),
        ({"query": "x", "timeout": -1}, "timeout", "less than or equal to the minimum"),
    ],
)
async def test_web_search_invalid_args(
    searx: Kernel, server: LoopbackServer, args: dict[str, Any], field: str, fragment: str
) -> None:
    err = await call_error(searx, "web_search", args, allow(server))
    assert err.code == "invalid_args"
    assert f"argument {field!r}" in err.message and fragment in err.message


async def test_backend_hosts_go_through_the_policy(
    searx: Kernel, server: LoopbackServer
) -> None:
    before = len(server.hits)
    for backend in ("searxng", "duckduckgo"):
        err = await call_error(searx, "web_search", {"query": "x", "backend": backend},
                               SecurityPolicy(network_hosts=["search.example"]))
        assert err.code == "permission_denied"
        assert "not in this run's allowed network hosts" in err.message
    assert len(server.hits) == before


async def test_web_search_timeout(server: LoopbackServer) -> None:
    kernel = make_kernel({"search_backend": "searxng",
                          "searxng_url": f"{server.url}/slow-search"})
    server.routes["/slow-search/search"] = server.routes["/slow-headers"]
    err = await call_error(kernel, "web_search", {"query": "x", "timeout": 0.5}, allow(server))
    assert err.code == "timeout" and err.details["backend"] == "searxng"


# --- third-party backends -------------------------------------------------------------------


class EchoBackend:
    """A backend that fetches ``{url}/api/items`` and reports what it saw."""

    def __init__(self, settings: Table) -> None:
        self.url = settings.get("url", str, "")
        self.path = settings.path

    async def search(self, query: str, count: int, ctx: ToolContext) -> list[dict[str, Any]]:
        answer = await fetch(ctx, f"{self.url}/api/items?q={quote(query)}", argument=None)
        return [{"title": f"{self.path} {query}", "url": "https://echo.example/",
                 "snippet": answer.text()[:40]}] * count


@pytest.fixture
def echo_backend() -> Iterator[None]:
    search.register_backend("echo", EchoBackend)
    yield
    search.unregister_backend("echo")


async def test_registered_backend(server: LoopbackServer, echo_backend: None) -> None:
    kernel = make_kernel({"search_backend": "echo",
                          "backends": {"echo": {"url": server.url}}})
    result = await call(kernel, "web_search", {"query": "hi", "count": 2}, allow(server))
    assert result["backend"] == "echo"
    assert result["results"][0]["title"] == "plugins.tools-web.backends.echo hi"
    assert result["results"][0]["snippet"].startswith('{"items"')
    assert len(result["results"]) == 2
    assert server.hits[-1].query["q"] == ["hi"]
    # its requests go through the policy like any other
    err = await call_error(kernel, "web_search", {"query": "hi"},
                           SecurityPolicy(network_hosts=["elsewhere.example"]))
    assert err.code == "permission_denied"


def test_register_backend_refuses_taken_and_bad_names(echo_backend: None) -> None:
    with pytest.raises(LlmspellError) as info:
        search.register_backend("echo", EchoBackend)
    assert info.value.code == "plugin_error"
    with pytest.raises(LlmspellError) as info:
        search.register_backend("Bad Name", EchoBackend)
    assert info.value.code == "invalid_value"


@pytest.fixture
def entry_point_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An installed distribution (a .dist-info on sys.path) declaring a backend in the entry
    point group llmspell.search_backends, and one whose entry point is broken."""
    (tmp_path / "fake_search_backend.py").write_text(textwrap.dedent("""
        class Backend:
            def __init__(self, settings):
                self.greeting = settings.get("greeting", str, "hello")

            async def search(self, query, count, ctx):
                return [{"title": self.greeting, "url": "https://ep.example/" + query,
                         "snippet": ""}]
    """))
    info = tmp_path / "fake_search_backend-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-search-backend\n"
                                   "Version: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[llmspell.search_backends]\nfromep = fake_search_backend:Backend\n"
        "broken = fake_search_backend:Missing\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    saved = search._REGISTRY
    monkeypatch.setattr(search, "_REGISTRY", search._Registry(dict(saved.factories)))
    yield
    sys.modules.pop("fake_search_backend", None)


async def test_entry_point_backend(server: LoopbackServer, entry_point_backend: None) -> None:
    assert "fromep" in search.backend_names()
    kernel = make_kernel({"backends": {"fromep": {"greeting": "hey"}}})
    result = await call(kernel, "web_search", {"query": "q", "backend": "fromep"},
                        allow(server))
    assert result["results"] == [{"title": "hey", "url": "https://ep.example/q", "snippet": ""}]
    err = await call_error(kernel, "web_search", {"query": "q", "backend": "broken"},
                           allow(server))
    assert err.code == "plugin_error" and "failed to load" in err.message


async def test_a_backend_returning_garbage(server: LoopbackServer) -> None:
    class Garbage:
        def __init__(self, settings: Table) -> None:
            pass

        async def search(self, query: str, count: int, ctx: ToolContext) -> Any:
            return "not a list"

    search.register_backend("garbage", Garbage)
    try:
        kernel = make_kernel({"search_backend": "garbage"})
        err = await call_error(kernel, "web_search", {"query": "q"}, allow(server))
        assert err.code == "tool_error" and err.details["reason"] == "backend"
    finally:
        search.unregister_backend("garbage")
