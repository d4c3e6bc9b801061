"""Tests of llmspell-tools-web through the real kernel path (entry point -> Kernel -> SpellRun),
against real HTTP servers on 127.0.0.1 (see web_support.py)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from web_support import (
    ATOM,
    BILLION_LAUGHS,
    RSS,
    XXE,
    LoopbackServer,
    Reply,
    allow,
    call,
    call_error,
    make_kernel,
    sitemap_index,
    urlset,
)

from llmspell.config import Config
from llmspell.kernel import Kernel
from llmspell.security import SecurityPolicy

TOOL_NAMES = [
    "feed_read", "graphql_query", "http_request", "sitemap_read", "url_parse", "web_fetch",
    "web_scrape", "web_search",
]
NETWORK_TOOLS = [n for n in TOOL_NAMES if n != "url_parse"]

#: Valid arguments of each network tool, for the permission tests (the URL is replaced).
VALID_ARGS: dict[str, dict[str, Any]] = {
    "http_request": {"url": "URL/echo"},
    "web_fetch": {"url": "URL/"},
    "web_scrape": {"url": "URL/", "selectors": {"h": "h1"}},
    "feed_read": {"url": "URL/feed.xml"},
    "sitemap_read": {"url": "URL/sitemap.xml"},
    "graphql_query": {"url": "URL/graphql", "query": "{ item { id } }"},
}


def with_url(args: dict[str, Any], base: str) -> dict[str, Any]:
    return {k: v.replace("URL", base) if isinstance(v, str) else v for k, v in args.items()}


def rewrite(value: Any, base: str) -> Any:
    """The example with https://example.com replaced by the loopback server's URL."""
    if isinstance(value, str):
        return value.replace("https://example.com", base)
    if isinstance(value, dict):
        return {k: rewrite(v, base) for k, v in value.items()}
    if isinstance(value, list):
        return [rewrite(v, base) for v in value]
    return value


@pytest.fixture(scope="module")
def search_kernel(server: LoopbackServer) -> Kernel:
    return make_kernel({"search_backend": "searxng", "searxng_url": f"{server.url}/searx"})


# --- registration ---------------------------------------------------------------------------


def test_plugin_is_loaded_through_its_entry_point(kernel: Kernel) -> None:
    assert "tools-web" in kernel.plugins
    info = kernel.plugins["tools-web"]
    assert info.package == "llmspell-tools-web"
    assert "llmspell_register_tools" in info.hooks
    assert not [f for f in kernel.failures if f.name == "tools-web"]
    assert kernel.components("tools-web") == {"tools": TOOL_NAMES}
    for name in TOOL_NAMES:
        assert kernel.tools.owner(name) == "tools-web"
    kernel.check_pending()


def test_plugin_can_be_disabled() -> None:
    kernel = Kernel.load(env={"LLMSPELL_DISABLE_PLUGINS": "tools-web"}, config=Config())
    assert "tools-web" not in kernel.plugins
    assert not set(TOOL_NAMES) & set(kernel.tools.names())


@pytest.mark.parametrize("name", TOOL_NAMES)
def test_tool_spec_is_complete(kernel: Kernel, name: str) -> None:
    tool = kernel.tools.get(name)
    tool.check_schema()
    spec = tool.spec()
    assert spec["description"] and spec["description"][0].isupper()
    assert spec["category"] == "web"
    assert spec["permissions"] == ([] if name == "url_parse" else ["network"])
    assert spec["requires_approval"] is False
    params = spec["parameters"]
    assert params["type"] == "object"
    assert params["additionalProperties"] is False
    assert params["required"]
    for prop, schema in params["properties"].items():
        assert schema.get("description"), f"{name}.{prop} has no description"
    assert tool.validate(spec["example"]) == spec["example"]


@pytest.mark.parametrize("name", TOOL_NAMES)
async def test_tool_example_runs(
    search_kernel: Kernel, server: LoopbackServer, name: str
) -> None:
    # Network examples use https://example.com; here they run against the loopback stand-in:
    # the same arguments with that prefix rewritten to http://127.0.0.1:PORT, whose routes
    # (/, /api/items, /feed.xml, /sitemap.xml, /graphql, /searx/search) serve what they expect.
    example = search_kernel.tools.get(name).example
    assert example is not None
    args = rewrite(example, server.url)
    if name != "url_parse":
        assert args != example or name == "web_search"
    result = await call(search_kernel, name, args, allow(server))
    assert result
    if name == "web_search":
        assert len(result["results"]) == 3


@pytest.mark.parametrize("name", NETWORK_TOOLS)
async def test_network_tools_need_the_network_permission(
    kernel: Kernel, server: LoopbackServer, name: str
) -> None:
    before = len(server.hits)
    args = with_url(VALID_ARGS.get(name, {"query": "x"}), server.url)
    err = await call_error(kernel, name, args, SecurityPolicy())
    assert err.code == "permission_denied"
    assert err.details["permission"] == "network"
    assert len(server.hits) == before


@pytest.mark.parametrize("name", list(VALID_ARGS))
async def test_network_tools_refuse_hosts_not_allowed(
    kernel: Kernel, server: LoopbackServer, name: str
) -> None:
    before = len(server.hits)
    policy = SecurityPolicy(network_hosts=["example.org"])
    err = await call_error(kernel, name, with_url(VALID_ARGS[name], server.url), policy)
    assert err.code == "permission_denied"
    assert "not in this run's allowed network hosts" in err.message
    assert len(server.hits) == before


@pytest.mark.parametrize("name", list(VALID_ARGS))
@pytest.mark.parametrize(
    ("url", "fragment"),
    [("not a url", "not an absolute URL"), ("example.com/page", "not an absolute URL"),
     ("http:///path", "has no host"), ("http://x:99999/", "invalid port")],
)
async def test_network_tools_refuse_malformed_urls(
    kernel: Kernel, server: LoopbackServer, name: str, url: str, fragment: str
) -> None:
    args = {**VALID_ARGS[name], "url": url}
    err = await call_error(kernel, name, args, allow(server))
    assert err.code == "invalid_args"
    assert err.message.startswith(f"tool {name!r}: argument 'url': ")
    assert fragment in err.message
    assert err.details == {"tool": name, "argument": "url"}


# --- http_request ---------------------------------------------------------------------------


async def test_http_request_get_with_params_and_headers(
    kernel: Kernel, server: LoopbackServer
) -> None:
    result = await call(kernel, "http_request", {
        "url": f"{server.url}/echo?a=1",
        "params": {"b": "two", "c": ["x", "y"]},
        "headers": {"X-Test": "yes"},
    }, allow(server))
    assert result["status"] == 200 and result["ok"] is True and result["reason"] == "OK"
    assert result["content_type"] == "application/json"
    echoed = result["json"]
    assert echoed["method"] == "GET"
    assert echoed["query"] == {"a": ["1"], "b": ["two"], "c": ["x", "y"]}
    assert echoed["headers"]["x-test"] == "yes"
    assert echoed["headers"]["user-agent"] == "llmspell/0.1"
    assert echoed["headers"]["host"] == f"127.0.0.1:{server.port}"
    assert result["body_base64"] is None
    assert result["headers"]["content-type"] == "application/json"


async def test_http_request_post_json_and_body(kernel: Kernel, server: LoopbackServer) -> None:
    result = await call(kernel, "http_request", {
        "url": f"{server.url}/echo", "method": "POST", "json": {"name": "Tea", "n": [1, 2]},
    }, allow(server))
    assert result["json"]["body"] == '{"name":"Tea","n":[1,2]}'
    assert result["json"]["headers"]["content-type"] == "application/json"
    result = await call(kernel, "http_request", {
        "url": f"{server.url}/echo", "method": "PUT", "body": "a=1&b=ü",
        "headers": {"Content-Type": "application/x-www-form-urlencoded"},
    }, allow(server))
    assert result["json"]["method"] == "PUT"
    assert result["json"]["body"] == "a=1&b=ü"


async def test_http_request_returns_error_statuses(
    kernel: Kernel, server: LoopbackServer
) -> None:
    result = await call(kernel, "http_request", {"url": f"{server.url}/status?code=503"},
                        allow(server))
    assert result["status"] == 503 and result["ok"] is False
    assert result["body"] == "status 503"


async def test_http_request_binary_body_is_base64(
    kernel: Kernel, server: LoopbackServer
) -> None:
    result = await call(kernel, "http_request", {"url": f"{server.url}/binary"}, allow(server))
    assert result["body"] is None
    assert base64.b64decode(result["body_base64"]) == bytes(range(256))


async def test_http_request_head(kernel: Kernel, server: LoopbackServer) -> None:
    result = await call(kernel, "http_request", {"url": f"{server.url}/plain", "method": "HEAD"},
                        allow(server))
    assert result["status"] == 200 and result["body"] == ""
    assert result["headers"]["content-length"] == "10"
    # the declared length of a HEAD answer is no body: not refused by max_bytes
    big = await call(kernel, "http_request", {"url": f"{server.url}/big?size=20000",
                                              "method": "HEAD", "max_bytes": 100},
                     allow(server))
    assert big["headers"]["content-length"] == "20000" and big["body"] == ""


async def test_http_request_large_body(kernel: Kernel, server: LoopbackServer) -> None:
    # over 64 KiB: decoded in a worker thread
    result = await call(kernel, "http_request", {"url": f"{server.url}/big?size=300000"},
                        allow(server))
    assert result["body"] == "x" * 300000


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        ({}, None, "'url' is a required property"),
        ({"url": 5}, "url", "not of type 'string'"),
        ({"url": "http://a/", "method": "TRACE"}, "method", "is not one of"),
        ({"url": "http://a/", "timeout": 0}, "timeout", "less than or equal to the minimum"),
        ({"url": "http://a/", "timeout": 500}, "timeout", "greater than the maximum of 120"),
        ({"url": "http://a/", "max_redirects": 11}, "max_redirects", "greater than the maximum"),
        ({"url": "http://a/", "max_bytes": 0}, "max_bytes", "less than the minimum of 1"),
        ({"url": "http://a/", "body": "x", "json": {}}, "json", "either body or json"),
        ({"url": "http://a/", "headers": {"Host": "evil"}}, "headers", "may not be set"),
        ({"url": "http://a/", "headers": {"X-Name": "Zoë"}}, "headers", "ASCII text"),
        ({"url": "http://a/", "params": {"a": 1}}, "params/a", "is not valid under any"),
        ({"url": "http://a/", "verb": "GET"}, None, "'verb' was unexpected"),
    ],
)
async def test_http_request_invalid_args(
    kernel: Kernel, server: LoopbackServer, args: dict[str, Any], field: str | None,
    fragment: str,
) -> None:
    err = await call_error(kernel, "http_request", args, allow(server))
    assert err.code == "invalid_args"
    assert err.message.startswith("tool 'http_request': ")
    if field:
        assert f"argument {field!r}" in err.message
        assert err.details["argument"] == field
    assert fragment in err.message


# --- web_fetch ------------------------------------------------------------------------------


async def test_web_fetch_markdown(kernel: Kernel, server: LoopbackServer) -> None:
    result = await call(kernel, "web_fetch", {"url": f"{server.url}/"}, allow(server))
    assert result["title"] == "Example Domain"
    assert result["description"] == "An example page for tests."
    assert result["format"] == "markdown" and result["status"] == 200
    content = result["content"]
    assert content.startswith("# Example Domain")
    assert "This domain is for use in **illustrative** examples." in content
    assert "## Details" in content
    assert "- First item\n- Second item" in content
    assert f"[More information]({server.url}/more?x=1)" in content
    assert "[elsewhere](https://other.example/abs)" in content
    assert f"![logo]({server.url}/logo.png)" in content
    assert "| Tea | 3 |" in content
    assert "js link" in content and "javascript:" not in content and "data:" not in content
    for junk in ("SECRET-SCRIPT", "color: red", "NAV-LINK", "COOKIE-TEXT", "SIDEBAR-TEXT",
                 "FOOTER-TEXT", "SITE-HEADER"):
        assert junk not in content
    assert result["links"] is None
    assert result["truncated"] is False and result["length"] == len(content)


async def test_web_fetch_text_whole_body_links_and_truncation(
    kernel: Kernel, server: LoopbackServer
) -> None:
    result = await call(kernel, "web_fetch", {
        "url": f"{server.url}/", "format": "text", "main_content": False, "links": True,
        "max_links": 3, "max_chars": 60,
    }, allow(server))
    assert result["content"] == "Example Domain\nThis domain is for use in illustrative exampl"
    assert result["truncated"] is True and result["length"] > 60
    assert result["links"] == [
        {"text": "Home", "url": f"{server.url}/"},
        {"text": "NAV-LINK", "url": f"{server.url}/nav-link"},
        {"text": "More information", "url": f"{server.url}/more?x=1"},
    ]
    full = await call(kernel, "web_fetch", {"url": f"{server.url}/", "format": "text"},
                      allow(server))
    assert full["content"].endswith("js link\nName | Price\nTea | 3")
    assert "**" not in full["content"]


async def test_web_fetch_plain_text_and_errors(kernel: Kernel, server: LoopbackServer) -> None:
    result = await call(kernel, "web_fetch", {"url": f"{server.url}/plain"}, allow(server))
    assert result["content"] == "just\ntext" and result["title"] is None
    err = await call_error(kernel, "web_fetch", {"url": f"{server.url}/status?code=404"},
                           allow(server))
    assert err.code == "tool_error" and err.details["reason"] == "http"
    assert err.details["status"] == 404
    err = await call_error(kernel, "web_fetch", {"url": f"{server.url}/binary"}, allow(server))
    assert err.code == "tool_error" and err.details["reason"] == "content_type"


async def test_web_fetch_decodes_the_declared_charset(
    kernel: Kernel, server: LoopbackServer
) -> None:
    @server.route("/latin1")
    def latin1(req: Any) -> Reply:
        return Reply(body="<html><head><meta charset='iso-8859-1'><title>Café</title></head>"
                     "<body><p>Crème brûlée</p></body></html>".encode("latin-1"),
                     content_type="text/html")

    result = await call(kernel, "web_fetch", {"url": f"{server.url}/latin1"}, allow(server))
    assert result["title"] == "Café" and result["content"] == "Crème brûlée"


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        ({"url": "http://a/", "format": "pdf"}, "format", "is not one of"),
        ({"url": "http://a/", "max_chars": 0}, "max_chars", "less than the minimum of 1"),
        ({"url": "http://a/", "max_links": 501}, "max_links", "greater than the maximum"),
        ({"format": "text"}, None, "'url' is a required property"),
    ],
)
async def test_web_fetch_invalid_args(
    kernel: Kernel, server: LoopbackServer, args: dict[str, Any], field: str | None,
    fragment: str,
) -> None:
    err = await call_error(kernel, "web_fetch", args, allow(server))
    assert err.code == "invalid_args"
    if field:
        assert f"argument {field!r}" in err.message
    assert fragment in err.message


# --- web_scrape -----------------------------------------------------------------------------


async def test_web_scrape_named_selectors(kernel: Kernel, server: LoopbackServer) -> None:
    result = await call(kernel, "web_scrape", {
        "url": f"{server.url}/products",
        "selectors": {"names": ".product .name", "buy": "a.buy", "none": "table td",
                      "products": "div.product"},
        "attributes": ["href", "data-id", "class"],
        "limit": 2,
    }, allow(server))
    assert result["title"] == "Products" and result["status"] == 200
    assert result["counts"] == {"names": 3, "buy": 3, "none": 0, "products": 3}
    assert [m["text"] for m in result["results"]["names"]] == ["Tea", "Coffee beans"]
    assert result["results"]["buy"][0]["attributes"] == {
        "href": f"{server.url}/shop/buy/1", "data-id": None, "class": "buy",
    }
    assert result["results"]["products"][1]["attributes"]["data-id"] == "2"
    assert result["results"]["products"][0]["text"] == "Tea 3 EUR Buy"
    assert result["results"]["none"] == []
    assert "html" not in result["results"]["names"][0]


async def test_web_scrape_include_html(kernel: Kernel, server: LoopbackServer) -> None:
    result = await call(kernel, "web_scrape", {
        "url": f"{server.url}/products", "selectors": {"p": ".price"}, "include_html": True,
    }, allow(server))
    assert result["results"]["p"][0] == {
        "text": "3 EUR", "attributes": {}, "html": '<span class="price">3 EUR</span>',
    }


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        ({"selectors": {"bad": "div[["}}, "selectors", "selector 'bad' ('div[[') is not valid"),
        ({"selectors": {"bad": "p:unknown-pseudo"}}, "selectors", "is not valid CSS"),
        ({"selectors": {}}, "selectors", "should be non-empty"),
        ({"selectors": {"a": "p"}, "limit": 0}, "limit", "less than the minimum"),
        ({"selectors": {"a": "p"}, "attributes": "href"}, "attributes", "not of type 'array'"),
        ({"selectors": "p"}, "selectors", "not of type 'object'"),
    ],
)
async def test_web_scrape_invalid_args(
    kernel: Kernel, server: LoopbackServer, args: dict[str, Any], field: str, fragment: str
) -> None:
    before = len(server.hits)
    err = await call_error(kernel, "web_scrape", {"url": f"{server.url}/products", **args},
                           allow(server))
    assert err.code == "invalid_args"
    assert f"argument {field!r}" in err.message
    assert fragment in err.message
    assert len(server.hits) == before  # refused before fetching


# --- url_parse ------------------------------------------------------------------------------


async def test_url_parse_parts(kernel: Kernel) -> None:
    result = await call(kernel, "url_parse", {
        "url": "https://user:pw@Example.COM:8443/a/b%2fc?x=1&x=2&y=&z=%C3%BC#frag",
    })
    assert result == {
        "url": "https://user:pw@Example.COM:8443/a/b%2fc?x=1&x=2&y=&z=%C3%BC#frag",
        "scheme": "https", "username": "user", "password": "pw", "host": "example.com",
        "port": 8443, "default_port": 443, "path": "/a/b%2fc",
        "query_string": "x=1&x=2&y=&z=%C3%BC", "query": {"x": ["1", "2"], "y": [""], "z": ["ü"]},
        "fragment": "frag", "is_absolute": True,
    }


async def test_url_parse_join_and_normalize(kernel: Kernel) -> None:
    result = await call(kernel, "url_parse", {
        "url": "../docs/./guide%7e%2f?lang=en#install",
        "base": "HTTPS://Example.com:443/a/b/index.html",
        "normalize": True,
    })
    assert result["url"] == "https://example.com/a/docs/guide~%2F?lang=en#install"
    assert result["port"] is None and result["path"] == "/a/docs/guide~%2F"
    assert result["query"] == {"lang": ["en"]}
    joined = await call(kernel, "url_parse", {"url": "/x?q=1", "base": "http://h.example/a/b"})
    assert joined["url"] == "http://h.example/x?q=1"
    idn = await call(kernel, "url_parse", {"url": "http://Bücher.example:80", "normalize": True})
    assert idn["url"] == "http://xn--bcher-kva.example/"
    relative = await call(kernel, "url_parse", {"url": "a/b?c=d"})
    assert relative["is_absolute"] is False and relative["host"] is None
    assert relative["scheme"] is None and relative["path"] == "a/b"


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        ({"url": "http://example.com:99999/"}, "url", "invalid port"),
        ({"url": "http://example.com:abc/"}, "url", "invalid port"),
        ({"url": "http://[::1/"}, "url", "not a valid URL"),
        ({"url": "x", "base": "relative/base"}, "base", "must be an absolute URL"),
        ({"url": "a\nb"}, "url", "control characters"),
        ({"url": ""}, "url", "should be non-empty"),
        ({"url": "x", "normalize": "yes"}, "normalize", "not of type 'boolean'"),
    ],
)
async def test_url_parse_invalid_args(
    kernel: Kernel, args: dict[str, Any], field: str, fragment: str
) -> None:
    err = await call_error(kernel, "url_parse", args)
    assert err.code == "invalid_args"
    assert f"argument {field!r}" in err.message
    assert fragment in err.message


async def test_url_parse_needs_no_permission(kernel: Kernel) -> None:
    # the empty policy grants nothing, and url_parse still runs
    result = await call(kernel, "url_parse", {"url": "https://example.com/"}, SecurityPolicy())
    assert result["host"] == "example.com"


# --- feed_read ------------------------------------------------------------------------------


async def test_feed_read_rss(kernel: Kernel, server: LoopbackServer) -> None:
    result = await call(kernel, "feed_read", {"url": f"{server.url}/feed.xml", "max_entries": 2},
                        allow(server))
    assert result["format"] == "rss20"
    assert result["feed"] == {
        "title": "Example Feed", "link": "https://example.com/", "description": "News & notes",
        "language": "en", "updated": None,
    }
    assert result["total_entries"] == 3 and result["truncated"] is True
    first, second = result["entries"]
    assert first == {
        "title": "First post", "link": "https://example.com/posts/1",
        "id": f"{server.url}/post-1",  # a guid is a permalink, resolved against the feed URL
        "author": None, "published": "2025-06-10T07:30:00+00:00", "updated": None,
        "summary": "Hello world, the first post.",
    }
    assert second["published"] == "2025-06-11T12:00:00+00:00"
    assert second["summary"] == "Plain summary two"


async def test_feed_read_atom_and_summary_bounds(kernel: Kernel, server: LoopbackServer) -> None:
    result = await call(kernel, "feed_read", {"url": f"{server.url}/atom.xml",
                                              "summary_chars": 4}, allow(server))
    assert result["format"] == "atom10"
    assert result["feed"]["title"] == "Atom Example"
    assert result["feed"]["updated"] == "2025-06-01T10:00:00+00:00"
    (entry,) = result["entries"]
    assert entry["author"] == "Ada"
    assert entry["published"] == "2025-05-31T10:00:00+00:00"
    assert entry["summary"] == "Some"
    assert result["truncated"] is False
    none = await call(kernel, "feed_read", {"url": f"{server.url}/atom.xml",
                                            "summary_chars": 0}, allow(server))
    assert none["entries"][0]["summary"] is None
    assert ATOM  # served by the route above


@pytest.mark.parametrize("document", [BILLION_LAUGHS, XXE])
async def test_feed_read_refuses_entity_declarations(
    kernel: Kernel, server: LoopbackServer, document: str
) -> None:
    path = f"/unsafe-feed-{len(document)}"
    server.routes[path] = lambda req: Reply(body=document.format(root="rss"),
                                            content_type="application/rss+xml")
    err = await call_error(kernel, "feed_read", {"url": f"{server.url}{path}"}, allow(server))
    assert err.code == "tool_error" and err.details["reason"] == "unsafe_xml"
    assert "refused" in err.message


async def test_feed_read_not_a_feed(kernel: Kernel, server: LoopbackServer) -> None:
    err = await call_error(kernel, "feed_read", {"url": f"{server.url}/plain"}, allow(server))
    assert err.code == "tool_error" and err.details["reason"] == "parse"
    assert "not an RSS or Atom feed" in err.message
    # a body that is a local path is parsed as data, never opened
    server.routes["/path-body"] = lambda req: Reply(body="/etc/hostname")
    err = await call_error(kernel, "feed_read", {"url": f"{server.url}/path-body"},
                           allow(server))
    assert err.details["reason"] == "parse"
    assert RSS


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        ({"max_entries": 0}, "max_entries", "less than the minimum of 1"),
        ({"max_entries": 201}, "max_entries", "greater than the maximum of 200"),
        ({"summary_chars": -1}, "summary_chars", "less than the minimum of 0"),
        ({"url": ""}, "url", "should be non-empty"),
    ],
)
async def test_feed_read_invalid_args(
    kernel: Kernel, server: LoopbackServer, args: dict[str, Any], field: str, fragment: str
) -> None:
    err = await call_error(kernel, "feed_read", {"url": f"{server.url}/feed.xml", **args},
                           allow(server))
    assert err.code == "invalid_args"
    assert f"argument {field!r}" in err.message and fragment in err.message


# --- sitemap_read ---------------------------------------------------------------------------


async def test_sitemap_read_urlset(kernel: Kernel, server: LoopbackServer) -> None:
    result = await call(kernel, "sitemap_read", {"url": f"{server.url}/sitemap.xml"},
                        allow(server))
    assert result["type"] == "urlset"
    assert result["urls"][0] == {"loc": f"{server.url}/", "lastmod": "2025-06-01",
                                 "changefreq": "daily", "priority": 0.1}
    assert [u["loc"] for u in result["urls"]] == [
        f"{server.url}/", f"{server.url}/about", f"{server.url}/blog"]
    assert result["fetched"] == [f"{server.url}/sitemap.xml"]
    assert result["sitemaps"] == [] and result["errors"] == [] and result["truncated"] is False


@pytest.fixture
def sitemap_tree(server: LoopbackServer) -> str:
    import gzip

    base = server.url
    server.routes["/tree/index.xml"] = lambda req: Reply(
        body=sitemap_index([f"{base}/tree/a.xml", f"{base}/tree/b.xml.gz",
                            f"{base}/tree/nested.xml", f"{base}/tree/missing.xml",
                            "http://10.0.0.1/sitemap.xml"]),
        content_type="application/xml")
    server.routes["/tree/a.xml"] = lambda req: Reply(
        body=urlset([f"{base}/a{i}" for i in range(3)]), content_type="application/xml")
    server.routes["/tree/b.xml.gz"] = lambda req: Reply(
        body=gzip.compress(urlset([f"{base}/b{i}" for i in range(2)]).encode()),
        content_type="application/gzip")
    server.routes["/tree/nested.xml"] = lambda req: Reply(
        body=sitemap_index([f"{base}/tree/c.txt"]), content_type="application/xml")
    server.routes["/tree/c.txt"] = lambda req: Reply(body=f"{base}/c0\n\n{base}/c1\n")
    return f"{base}/tree/index.xml"


async def test_sitemap_read_index_without_following(
    kernel: Kernel, server: LoopbackServer, sitemap_tree: str
) -> None:
    before = len(server.hits)
    result = await call(kernel, "sitemap_read", {"url": sitemap_tree}, allow(server))
    assert result["type"] == "sitemapindex"
    assert len(result["sitemaps"]) == 5 and result["urls"] == []
    assert result["sitemaps"][0] == {"loc": f"{server.url}/tree/a.xml", "lastmod": "2025-01-01"}
    assert len(server.hits) == before + 1


async def test_sitemap_read_follows_nested_sitemaps(
    kernel: Kernel, server: LoopbackServer, sitemap_tree: str
) -> None:
    result = await call(kernel, "sitemap_read", {"url": sitemap_tree, "follow": True},
                        allow(server))
    locs = [u["loc"].removeprefix(server.url) for u in result["urls"]]
    assert locs == ["/a0", "/a1", "/a2", "/b0", "/b1", "/c0", "/c1"]
    assert len(result["fetched"]) == 5
    errors = {e["url"].removeprefix(server.url): e["code"] for e in result["errors"]}
    assert errors == {"/tree/missing.xml": "tool_error",
                      "http://10.0.0.1/sitemap.xml": "permission_denied"}
    assert result["truncated"] is False
    # bounded: documents and URLs
    small = await call(kernel, "sitemap_read", {"url": sitemap_tree, "follow": True,
                                                "max_sitemaps": 2}, allow(server))
    assert len(small["fetched"]) == 2 and small["truncated"] is True
    few = await call(kernel, "sitemap_read", {"url": sitemap_tree, "follow": True,
                                              "max_urls": 4}, allow(server))
    assert len(few["urls"]) == 4 and few["truncated"] is True


@pytest.mark.parametrize("document", [BILLION_LAUGHS, XXE])
async def test_sitemap_read_refuses_entity_attacks(
    kernel: Kernel, server: LoopbackServer, document: str
) -> None:
    path = f"/unsafe-sitemap-{len(document)}"
    server.routes[path] = lambda req: Reply(body=document.format(root="urlset"),
                                            content_type="application/xml")
    err = await call_error(kernel, "sitemap_read", {"url": f"{server.url}{path}"},
                           allow(server))
    assert err.code == "tool_error" and err.details["reason"] == "unsafe_xml"
    assert "DTD" in err.message


async def test_sitemap_read_not_a_sitemap(kernel: Kernel, server: LoopbackServer) -> None:
    err = await call_error(kernel, "sitemap_read", {"url": f"{server.url}/feed.xml"},
                           allow(server))
    assert err.details["reason"] == "parse" and "root element <rss>" in err.message
    err = await call_error(kernel, "sitemap_read", {"url": f"{server.url}/status?code=410"},
                           allow(server))
    assert err.details["reason"] == "http" and err.details["status"] == 410


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        ({"max_urls": 0}, "max_urls", "less than the minimum of 1"),
        ({"max_sitemaps": 51}, "max_sitemaps", "greater than the maximum of 50"),
        ({"follow": 1}, "follow", "not of type 'boolean'"),
        ({"url": "ftp:/x"}, "url", None),
    ],
)
async def test_sitemap_read_invalid_args(
    kernel: Kernel, server: LoopbackServer, args: dict[str, Any], field: str,
    fragment: str | None,
) -> None:
    err = await call_error(kernel, "sitemap_read", {"url": f"{server.url}/sitemap.xml", **args},
                           allow(server))
    if fragment is None:  # another scheme is a refusal, not a malformed argument
        assert err.code == "permission_denied" and err.details["reason"] == "scheme"
        return
    assert err.code == "invalid_args"
    assert f"argument {field!r}" in err.message and fragment in err.message


# --- graphql_query --------------------------------------------------------------------------


async def test_graphql_query(kernel: Kernel, server: LoopbackServer) -> None:
    result = await call(kernel, "graphql_query", {
        "url": f"{server.url}/graphql", "query": "query Item($id: ID!) { item(id: $id) { id } }",
        "variables": {"id": "7"}, "operation_name": "Item",
    }, allow(server))
    assert result["status"] == 200 and result["errors"] is None
    assert result["data"]["item"] == {"id": "7", "name": "Tea"}
    assert result["data"]["operation"] == "Item"
    assert "application/json" in result["data"]["accept"]
    sent = server.hits[-1]
    assert sent.method == "POST" and sent.headers["content-type"] == "application/json"


async def test_graphql_errors_are_returned(kernel: Kernel, server: LoopbackServer) -> None:
    result = await call(kernel, "graphql_query",
                        {"url": f"{server.url}/graphql", "query": "{ broken }"}, allow(server))
    assert result["data"] is None
    assert result["errors"] == [{"message": "Cannot query field 'broken'"}]
    err = await call_error(kernel, "graphql_query",
                           {"url": f"{server.url}/graphql", "query": "{ html }"}, allow(server))
    assert err.code == "tool_error" and err.details["reason"] == "http"
    assert err.details["status"] == 502
    err = await call_error(kernel, "graphql_query",
                           {"url": f"{server.url}/plain", "query": "{ a }"}, allow(server))
    assert err.details["reason"] == "parse"


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        ({"query": ""}, "query", "should be non-empty"),
        ({"query": "{a}", "variables": [1]}, "variables", "not of type 'object'"),
        ({"query": "{a}", "operation_name": 3}, "operation_name", "not of type 'string'"),
        ({"query": "{a}", "headers": {"Content-Length": "3"}}, "headers", "may not be set"),
    ],
)
async def test_graphql_query_invalid_args(
    kernel: Kernel, server: LoopbackServer, args: dict[str, Any], field: str, fragment: str
) -> None:
    err = await call_error(kernel, "graphql_query", {"url": f"{server.url}/graphql", **args},
                           allow(server))
    assert err.code == "invalid_args"
    assert f"argument {field!r}" in err.message and fragment in err.message
