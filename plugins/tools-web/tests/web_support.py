"""Helpers of the tools-web tests: real HTTP(S) servers on 127.0.0.1 and what they serve.

:class:`LoopbackServer` is a threaded ``http.server`` with routes (a function per path, given a
:class:`Req` and returning a :class:`Reply`), recording every request (``hits``) and every
accepted connection (``connections``), so that a test can assert that a server was never
contacted. Nothing here reaches beyond the loopback interface.
"""

from __future__ import annotations

import gzip
import json
import socketserver
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
import pytest

from llmspell.config import parse
from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.runtime import SpellRun
from llmspell.security import SecurityPolicy


@attrs.define
class Req:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    server: LoopbackServer

    def arg(self, name: str, default: str = "") -> str:
        return self.query.get(name, [default])[0]


@attrs.define
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: list[tuple[str, str]] = attrs.field(factory=list)
    content_type: str | None = "text/plain; charset=utf-8"
    #: stream the body in pieces, waiting ``delay`` seconds before each (no Content-Length)
    chunks: list[tuple[float, bytes]] | None = None


Handler = Callable[[Req], Reply]


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 (``tls``: an SSL server context for HTTPS)."""

    def __init__(self, routes: dict[str, Handler] | None = None,
                 tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Handler] = dict(routes or {})
        self.hits: list[Req] = []
        self.connections = 0
        self.stopping = threading.Event()
        server = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def handle_any(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = Req(self.command, parts.path, parse_qs(parts.query, keep_blank_values=True),
                          {k.lower(): v for k, v in self.headers.items()}, body, server)
                server.hits.append(req)
                handler = server.routes.get(parts.path)
                reply = handler(req) if handler else Reply(404, b"no such route")
                self.send(reply)

            def send(self, reply: Reply) -> None:
                body = reply.body.encode() if isinstance(reply.body, str) else reply.body
                self.send_response(reply.status)
                if reply.content_type:
                    self.send_header("Content-Type", reply.content_type)
                for k, v in reply.headers:
                    self.send_header(k, v)
                if reply.chunks is None:
                    if not any(k.lower() == "content-length" for k, _ in reply.headers):
                        self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(body)
                    return
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                try:
                    for delay, piece in reply.chunks:
                        if server.stopping.wait(delay):
                            return
                        self.wfile.write(piece)
                        self.wfile.flush()
                except OSError:
                    pass  # the client gave up

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def process_request(self, request: Any, client_address: Any) -> None:
                server.connections += 1
                super().process_request(request, client_address)

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # failed TLS handshakes and dropped clients are expected in tests

        self.httpd = Server(("127.0.0.1", 0), RequestHandler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port: int = self.httpd.server_address[1]
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def route(self, path: str) -> Callable[[Handler], Handler]:
        def add(fn: Handler) -> Handler:
            self.routes[path] = fn
            return fn

        return add

    def paths(self) -> list[str]:
        return [h.path for h in self.hits]

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


socketserver.TCPServer.allow_reuse_address = True

# --- content served ---------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Example Domain</title>
<meta name="description" content="An example page for tests.">
<style>body { color: red }</style><script>var tracking = "SECRET-SCRIPT";</script></head>
<body class="has-sidebar">
<header class="site-header"><a href="/">Home</a> SITE-HEADER</header>
<nav><a href="/nav-link">NAV-LINK</a></nav>
<div class="cookie-banner">We use cookies COOKIE-TEXT</div>
<main>
<h1>Example Domain</h1>
<p>This domain is for use in <b>illustrative</b> examples.</p>
<h2>Details</h2>
<ul><li>First item</li><li>Second item</li></ul>
<p><a href="/more?x=1">More information</a> and <a href="https://other.example/abs">elsewhere</a>
<a href="javascript:alert(1)">js link</a> <img src="data:image/png;base64,AAAA" alt="inline">
<img src="/logo.png" alt="logo"></p>
<table><tr><th>Name</th><th>Price</th></tr><tr><td>Tea</td><td>3</td></tr></table>
</main>
<aside>SIDEBAR-TEXT</aside>
<footer>FOOTER-TEXT <a href="/contact">Contact</a></footer>
<form><input name="q"></form>
</body></html>"""

PRODUCTS = """<html><head><title>Products</title><base href="/shop/"></head><body>
<div class="product" data-id="1"><h2 class="name">Tea</h2><span class="price">3 EUR</span>
<a class="buy" href="buy/1">Buy</a></div>
<div class="product" data-id="2"><h2 class="name">Coffee  beans</h2><span class="price">9 EUR</span>
<a class="buy" href="buy/2">Buy</a></div>
<div class="product" data-id="3"><h2 class="name">Cocoa</h2><span class="price">5 EUR</span>
<a class="buy" href="https://elsewhere.example/buy/3">Buy</a></div>
</body></html>"""

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>Example Feed</title><link>https://example.com/</link>
<description>News &amp; notes</description><language>en</language>
<item><title>First post</title><link>https://example.com/posts/1</link><guid>post-1</guid>
<pubDate>Tue, 10 Jun 2025 09:30:00 +0200</pubDate>
<description>&lt;p&gt;Hello &lt;b&gt;world&lt;/b&gt;, the first post.&lt;/p&gt;
</description>
</item>
<item><title>Second post</title><link>https://example.com/posts/2</link><guid>post-2</guid>
<pubDate>Wed, 11 Jun 2025 12:00:00 GMT</pubDate><description>Plain summary two</description></item>
<item><title>Third post</title><link>https://example.com/posts/3</link>
<description>Three</description></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Example</title>
<link href="https://example.com/atom"/><updated>2025-06-01T10:00:00Z</updated>
<id>urn:uuid:feed</id>
<entry><title>Atom entry</title><link href="https://example.com/a/1"/><id>urn:uuid:1</id>
<updated>2025-06-01T10:00:00Z</updated><published>2025-05-31T08:00:00-02:00</published>
<author><name>Ada</name></author>
<content type="html">&lt;p&gt;Some &lt;em&gt;content&lt;/em&gt;&lt;/p&gt;</content></entry>
</feed>"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<{root}><title>&lol3;</title></{root}>"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<{root}><title>&xxe;</title></{root}>"""

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def urlset(locs: list[str]) -> str:
    items = "".join(
        f"<url><loc>{loc}</loc><lastmod>2025-06-0{i % 9 + 1}</lastmod>"
        f"<changefreq>daily</changefreq><priority>0.{i % 9 + 1}</priority></url>"
        for i, loc in enumerate(locs)
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="{SITEMAP_NS}">{items}</urlset>'


def sitemap_index(locs: list[str]) -> str:
    items = "".join(f"<sitemap><loc>{loc}</loc><lastmod>2025-01-01</lastmod></sitemap>"
                    for loc in locs)
    return (f'<?xml version="1.0" encoding="UTF-8"?>'
            f'<sitemapindex xmlns="{SITEMAP_NS}">{items}</sitemapindex>')


def json_reply(data: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(data), content_type="application/json")


def default_routes() -> dict[str, Handler]:
    def page(req: Req) -> Reply:
        return Reply(body=PAGE, content_type="text/html; charset=utf-8")

    def items(req: Req) -> Reply:
        return json_reply({"items": [{"id": 1}, {"id": 2}], "query": req.query,
                           "accept": req.headers.get("accept")})

    def echo(req: Req) -> Reply:
        return json_reply({
            "method": req.method, "path": req.path, "query": req.query,
            "headers": req.headers, "body": req.body.decode("utf-8", "replace"),
        })

    def redirect(req: Req) -> Reply:
        return Reply(int(req.arg("status", "302")), b"", [("Location", req.arg("to"))])

    def chain(req: Req) -> Reply:
        n = int(req.arg("n", "0"))
        if n <= 0:
            return Reply(body="chain end")
        return Reply(302, b"", [("Location", f"/chain?n={n - 1}")])

    def slow(req: Req) -> Reply:
        return Reply(body=b"", chunks=[(0.05, b"start "), (30, b"never")])

    def slow_headers(req: Req) -> Reply:
        req.server.stopping.wait(30)
        return Reply(body="late")

    def big(req: Req) -> Reply:
        size = int(req.arg("size", "100000"))
        if req.arg("stream"):
            return Reply(chunks=[(0, b"x" * 1000)] * (size // 1000))
        return Reply(body=b"x" * size)

    def bomb(req: Req) -> Reply:
        # 64 MiB of zeros, ~64 KiB compressed
        data = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)
        return Reply(body=data, headers=[("Content-Encoding", "gzip")],
                     content_type="text/plain")

    def gzipped(req: Req) -> Reply:
        return Reply(body=gzip.compress(b"compressed hello"),
                     headers=[("Content-Encoding", "gzip")])

    def binary(req: Req) -> Reply:
        return Reply(body=bytes(range(256)), content_type="image/png")

    def status(req: Req) -> Reply:
        return Reply(int(req.arg("code", "404")), f"status {req.arg('code', '404')}")

    def products(req: Req) -> Reply:
        return Reply(body=PRODUCTS, content_type="text/html")

    def plain(req: Req) -> Reply:
        return Reply(body="just\ntext\n", content_type="text/plain")

    def feed(req: Req) -> Reply:
        return Reply(body=RSS, content_type="application/rss+xml")

    def atom(req: Req) -> Reply:
        return Reply(body=ATOM, content_type="application/atom+xml")

    def sitemap(req: Req) -> Reply:
        base = req.server.url
        return Reply(body=urlset([f"{base}/", f"{base}/about", f"{base}/blog"]),
                     content_type="application/xml")

    def graphql(req: Req) -> Reply:
        try:
            payload = json.loads(req.body)
        except ValueError:
            return json_reply({"errors": [{"message": "bad json"}]}, 400)
        query = payload.get("query", "")
        if "broken" in query:
            return json_reply({"data": None, "errors": [{"message": "Cannot query field "
                                                                    "'broken'"}]})
        if "html" in query:
            return Reply(502, "<html>bad gateway</html>", content_type="text/html")
        variables = payload.get("variables") or {}
        return json_reply({"data": {"item": {"id": variables.get("id"), "name": "Tea"},
                                    "operation": payload.get("operationName"),
                                    "accept": req.headers.get("accept")}})

    def searxng(req: Req) -> Reply:
        q = req.arg("q")
        if req.arg("format") != "json":
            return Reply(403, "format not allowed")
        return json_reply({"query": q, "results": [
            {"title": f"Result {i} for {q}", "url": f"https://r{i}.example/page",
             "content": f"snippet {i}"} for i in range(1, 8)
        ] + [{"title": "no url"}, {"title": "bad scheme", "url": "javascript:alert(1)"}]})

    def brave(req: Req) -> Reply:
        if req.headers.get("x-subscription-token") != "brave-test-key":
            return json_reply({"error": "unauthorized"}, 401)
        q = req.arg("q")
        return json_reply({"web": {"results": [
            {"title": f"<strong>Brave</strong> {i}", "url": f"https://b{i}.example/",
             "description": f"about <strong>{q}</strong> &amp; more {i}"}
            for i in range(1, int(req.arg("count", "5")) + 1)
        ]}})

    def ddg(req: Req) -> Reply:
        return Reply(body=DDG_PAGE.replace("QUERY", req.arg("q")), content_type="text/html")

    return {
        "/": page, "/api/items": items, "/echo": echo, "/redirect": redirect, "/chain": chain,
        "/slow": slow, "/slow-headers": slow_headers, "/big": big, "/bomb": bomb,
        "/gzipped": gzipped, "/binary": binary, "/status": status, "/products": products,
        "/plain": plain, "/feed.xml": feed, "/atom.xml": atom, "/sitemap.xml": sitemap,
        "/graphql": graphql, "/searx/search": searxng, "/brave/search": brave,
        "/ddg/html/": ddg,
    }


DDG_PAGE = """<html><body><div id="links" class="results">
<div class="result results_links results_links_deep result--ad"><div class="links_main">
<h2 class="result__title"><a class="result__a" href="https://duckduckgo.com/y.js?ad=1">Ad</a></h2>
<a class="result__snippet">Sponsored</a></div></div>
<div class="result results_links results_links_deep web-result"><div class="links_main">
<h2 class="result__title"><a rel="nofollow" class="result__a"
 href="//duckduckgo.com/l/?uddg=https%3A%2F%2Fwww.python.org%2Fdoc%2F&amp;rut=abc">Python
 <b>docs</b></a></h2>
<a class="result__snippet" href="//duckduckgo.com/l/?uddg=x">The official QUERY documentation.</a>
</div></div>
<div class="result results_links results_links_deep web-result"><div class="links_main">
<h2 class="result__title"><a class="result__a" href="https://direct.example/page">Direct</a></h2>
<div class="result__snippet">Second snippet</div></div></div>
</div></body></html>"""



# --- helpers ---------------------------------------------------------------------------------


def make_kernel(settings: dict[str, Any]) -> Kernel:
    """A kernel whose ``[plugins.tools-web]`` table is ``settings``."""
    return Kernel.load(env={}, config=parse({"plugins": {"tools-web": settings}}))


def tls_server(cert: Path, key: Path) -> LoopbackServer:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return LoopbackServer(
        {"/": lambda req: Reply(body=f"secure hello, host {req.headers.get('host')}")}, tls=ctx
    )


def wait_until(predicate: Callable[[], bool], seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def allow(*servers: LoopbackServer, **kwargs: Any) -> SecurityPolicy:
    """A policy allowing exactly these servers (by their explicit 127.0.0.1:PORT entries)."""
    return SecurityPolicy(network_hosts=[f"127.0.0.1:{s.port}" for s in servers], **kwargs)


async def call(kernel: Kernel, name: str, args: Any, policy: SecurityPolicy | None = None) -> Any:
    async with SpellRun.open(kernel, policy=policy) as run:
        return await run.call_tool(name, args)


async def call_error(
    kernel: Kernel, name: str, args: Any, policy: SecurityPolicy | None = None
) -> LlmspellError:
    with pytest.raises(LlmspellError) as info:
        await call(kernel, name, args, policy)
    return info.value
