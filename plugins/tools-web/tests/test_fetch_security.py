"""The safe fetch layer, through the tools that use it: SSRF refusals, redirects, limits,
DNS-rebinding safety and TLS name checks. Every server is a real one on 127.0.0.1; the
"forbidden" targets (169.254.169.254, 10.0.0.1) are refused by the policy before any connection
is attempted, and the forbidden loopback servers count their connections to prove it."""

from __future__ import annotations

import ssl
import time
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

import pytest
import trio
from web_support import LoopbackServer, allow, call, call_error, tls_server, wait_until

from llmspell.kernel import Kernel
from llmspell.security import SecurityPolicy
from llmspell_tools_web import fetch as fetch_module
from llmspell_tools_web.fetch import MAX_BYTES, check_url, valid_host


def redirect_to(server: LoopbackServer, target: str, status: int = 302) -> str:
    return f"{server.url}/redirect?status={status}&to={quote(target, safe='')}"


# --- SSRF: each attempt refused with permission_denied, the target never contacted -----------


async def test_redirect_to_a_loopback_port_not_allowed(
    kernel: Kernel, server: LoopbackServer, other_server: LoopbackServer
) -> None:
    url = redirect_to(server, f"{other_server.url}/")
    before = len(server.hits)
    err = await call_error(kernel, "http_request", {"url": url}, allow(server))
    assert err.code == "permission_denied"
    assert f"port {other_server.port}" in err.message
    assert err.details["host"] == "127.0.0.1"
    assert len(server.hits) == before + 1  # the allowed server answered the redirect
    assert other_server.connections == 0 and other_server.hits == []


@pytest.mark.parametrize(
    "target", ["http://169.254.169.254/latest/meta-data", "http://10.0.0.1/"]
)
async def test_redirect_to_a_private_address_is_refused(
    kernel: Kernel, server: LoopbackServer, target: str
) -> None:
    url = redirect_to(server, target)
    # not listed at all
    err = await call_error(kernel, "http_request", {"url": url}, allow(server))
    assert err.code == "permission_denied"
    assert "not in this run's allowed network hosts" in err.message
    # listed by a wildcard: the address check still refuses a non-public address
    wildcard = SecurityPolicy(network_hosts=[f"127.0.0.1:{server.port}", "*"])
    err = await call_error(kernel, "web_fetch", {"url": url}, wildcard)
    assert err.code == "permission_denied"
    assert "non-public address" in err.message
    assert err.details["address"] == target.split("/")[2]


async def test_localhost_by_name_is_refused_without_allow_private_network(
    kernel: Kernel, other_server: LoopbackServer
) -> None:
    policy = SecurityPolicy(network_hosts=[f"localhost:{other_server.port}"])
    url = f"http://localhost:{other_server.port}/"
    err = await call_error(kernel, "http_request", {"url": url}, policy)
    assert err.code == "permission_denied"
    assert "resolves to non-public address" in err.message
    assert other_server.connections == 0
    # allowed with allow_private_network: connected to the checked address, Host is the name
    private = SecurityPolicy(network_hosts=[f"localhost:{other_server.port}"],
                             allow_private_network=True)
    result = await call(kernel, "http_request", {"url": url}, private)
    assert result["status"] == 200 and result["body"] == "forbidden target"
    assert result["url"] == url
    assert other_server.hits[-1].headers["host"] == f"localhost:{other_server.port}"


async def test_wildcard_does_not_admit_a_loopback_address(
    kernel: Kernel, other_server: LoopbackServer
) -> None:
    policy = SecurityPolicy(network_hosts=["*"])
    for tool in ("http_request", "web_fetch", "feed_read"):
        err = await call_error(kernel, tool, {"url": f"{other_server.url}/"}, policy)
        assert err.code == "permission_denied"
        assert "non-public address 127.0.0.1" in err.message
    assert other_server.connections == 0


@pytest.mark.parametrize(
    "target", ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1:70/_x"]
)
async def test_redirect_to_another_scheme_is_refused(
    kernel: Kernel, server: LoopbackServer, target: str
) -> None:
    err = await call_error(kernel, "http_request", {"url": redirect_to(server, target)},
                           allow(server))
    assert err.code == "permission_denied"
    assert err.details["reason"] == "scheme"
    assert "only http and https" in err.message


async def test_url_with_userinfo_is_refused(
    kernel: Kernel, server: LoopbackServer, other_server: LoopbackServer
) -> None:
    policy = allow(server, other_server)
    url = f"http://user:secret@127.0.0.1:{other_server.port}/"
    err = await call_error(kernel, "http_request", {"url": url}, policy)
    assert err.code == "permission_denied"
    assert err.details["reason"] == "userinfo"
    assert "secret" not in err.message
    # ... and as a redirect target
    err = await call_error(kernel, "web_fetch",
                           {"url": redirect_to(server, f"http://u@127.0.0.1:{other_server.port}/")},
                           policy)
    assert err.code == "permission_denied" and err.details["reason"] == "userinfo"
    assert other_server.connections == 0


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/", "javascript:x"])
async def test_first_url_with_another_scheme_is_refused(
    kernel: Kernel, server: LoopbackServer, url: str
) -> None:
    err = await call_error(kernel, "http_request", {"url": url}, allow(server))
    assert err.code == "permission_denied"
    assert err.details["reason"] == "scheme"


@pytest.mark.parametrize(
    "host", ["0x7f000001", "2130706433", "127.1", "017.0.0.1", "127.0.0.1.5", "ex%20ample.com"]
)
async def test_numeric_host_tricks_are_refused(
    kernel: Kernel, server: LoopbackServer, other_server: LoopbackServer, host: str
) -> None:
    policy = SecurityPolicy(network_hosts=["*"], allow_private_network=True)
    err = await call_error(kernel, "http_request",
                           {"url": f"http://{host}:{other_server.port}/"}, policy)
    assert err.code == "invalid_args"
    assert "argument 'url'" in err.message
    assert "invalid host" in err.message or "not a valid URL" in err.message
    # as a redirect target: tool_error naming the URL problem
    err = await call_error(kernel, "http_request",
                           {"url": redirect_to(server, f"http://{host}:{other_server.port}/")},
                           SecurityPolicy(network_hosts=["*"], allow_private_network=True))
    assert err.code == "tool_error" and err.details["reason"] == "url"
    assert other_server.connections == 0


@pytest.mark.parametrize(
    ("target", "address"),
    [("http://[::1]:9/", "::1"), ("http://[::ffff:127.0.0.1]:9/", "::ffff:127.0.0.1"),
     ("http://0.0.0.0:9/", "0.0.0.0")],
)
async def test_redirect_to_other_loopback_forms_is_refused(
    kernel: Kernel, server: LoopbackServer, target: str, address: str
) -> None:
    policy = SecurityPolicy(network_hosts=[f"127.0.0.1:{server.port}", "*"])
    err = await call_error(kernel, "http_request", {"url": redirect_to(server, target)}, policy)
    assert err.code == "permission_denied"
    assert f"non-public address {address}" in err.message


# --- redirects ------------------------------------------------------------------------------


async def test_redirects_are_followed_and_recorded(
    kernel: Kernel, server: LoopbackServer
) -> None:
    result = await call(kernel, "http_request", {"url": f"{server.url}/chain?n=3"}, allow(server))
    assert result["status"] == 200 and result["body"] == "chain end"
    assert result["url"] == f"{server.url}/chain?n=0"
    assert result["redirects"] == [
        {"status": 302, "url": f"{server.url}/chain?n={n}"} for n in (2, 1, 0)
    ]


async def test_too_many_redirects(kernel: Kernel, server: LoopbackServer) -> None:
    err = await call_error(kernel, "http_request",
                           {"url": f"{server.url}/chain?n=4", "max_redirects": 3}, allow(server))
    assert err.code == "tool_error"
    assert err.details["reason"] == "too_many_redirects"
    assert len(err.details["redirects"]) == 3
    # the default bound is 5
    err = await call_error(kernel, "web_fetch", {"url": f"{server.url}/chain?n=6"},
                           allow(server))
    assert err.details["reason"] == "too_many_redirects"
    assert (await call(kernel, "web_fetch", {"url": f"{server.url}/chain?n=5"},
                       allow(server)))["content"] == "chain end"


async def test_redirects_can_be_returned_unfollowed(
    kernel: Kernel, server: LoopbackServer
) -> None:
    result = await call(kernel, "http_request",
                        {"url": f"{server.url}/chain?n=2", "follow_redirects": False},
                        allow(server))
    assert result["status"] == 302
    assert result["headers"]["location"] == "/chain?n=1"
    assert result["redirects"] == []


@pytest.mark.parametrize(
    ("status", "method", "body"),
    [(302, "GET", ""), (303, "GET", ""), (307, "POST", "payload"), (308, "POST", "payload")],
)
async def test_redirect_method_rules(
    kernel: Kernel, server: LoopbackServer, status: int, method: str, body: str
) -> None:
    url = redirect_to(server, "/echo", status)
    result = await call(kernel, "http_request", {
        "url": url, "method": "POST", "body": "payload",
        "headers": {"Content-Type": "text/plain", "X-Custom": "kept"},
    }, allow(server))
    echoed = result["json"]
    assert echoed["method"] == method
    assert echoed["body"] == body
    assert echoed["headers"]["x-custom"] == "kept"  # same origin: headers kept


async def test_cross_origin_redirect_drops_credentials(
    kernel: Kernel, server: LoopbackServer
) -> None:
    second = LoopbackServer({"/echo": lambda req: _echo_headers(req)})
    try:
        result = await call(kernel, "http_request", {
            "url": redirect_to(server, f"{second.url}/echo"),
            "headers": {"Authorization": "Bearer top-secret", "Cookie": "a=b",
                        "X-Api-Key": "k", "Accept": "application/json"},
        }, allow(server, second))
        headers = result["json"]
        assert "authorization" not in headers and "cookie" not in headers
        assert "x-api-key" not in headers
        assert headers["accept"] == "application/json"
        assert headers["user-agent"] == "llmspell/0.1"
    finally:
        second.stop()


def _echo_headers(req: Any) -> Any:
    from web_support import json_reply

    return json_reply(req.headers)


# --- limits ---------------------------------------------------------------------------------


async def test_size_limit(kernel: Kernel, server: LoopbackServer) -> None:
    ok = await call(kernel, "http_request",
                    {"url": f"{server.url}/big?size=5000", "max_bytes": 5000}, allow(server))
    assert len(ok["body"]) == 5000
    for query in ("size=5001", "size=200000&stream=1"):  # declared, then streamed
        err = await call_error(kernel, "http_request",
                               {"url": f"{server.url}/big?{query}", "max_bytes": 5000},
                               allow(server))
        assert err.code == "tool_error"
        assert err.details["reason"] == "too_large"
        assert err.details["max_bytes"] == 5000


async def test_a_compression_bomb_is_stopped_at_the_limit(
    kernel: Kernel, server: LoopbackServer
) -> None:
    err = await call_error(kernel, "http_request", {"url": f"{server.url}/bomb"}, allow(server))
    assert err.details["reason"] == "too_large"
    assert err.details["max_bytes"] == MAX_BYTES
    gz = await call(kernel, "http_request", {"url": f"{server.url}/gzipped"}, allow(server))
    assert gz["body"] == "compressed hello"


async def test_timeout_while_reading_the_body(kernel: Kernel, server: LoopbackServer) -> None:
    start = time.monotonic()
    err = await call_error(kernel, "http_request",
                           {"url": f"{server.url}/slow", "timeout": 0.5}, allow(server))
    assert err.code == "timeout"
    assert err.details["timeout"] == 0.5
    assert time.monotonic() - start < 10


async def test_timeout_waiting_for_headers_covers_redirects(
    kernel: Kernel, server: LoopbackServer
) -> None:
    start = time.monotonic()
    err = await call_error(kernel, "web_fetch",
                           {"url": redirect_to(server, "/slow-headers"), "timeout": 0.5},
                           allow(server))
    assert err.code == "timeout"
    assert time.monotonic() - start < 10


@pytest.mark.parametrize(
    "name", ["Host", "Connection", "Transfer-Encoding", "Content-Length", "Upgrade",
             "Proxy-Authorization", "Accept-Encoding", "TE"]
)
async def test_managed_and_hop_by_hop_headers_are_refused(
    kernel: Kernel, server: LoopbackServer, name: str
) -> None:
    before = len(server.hits)
    err = await call_error(kernel, "http_request",
                           {"url": f"{server.url}/echo", "headers": {name: "x"}}, allow(server))
    assert err.code == "invalid_args"
    assert "argument 'headers'" in err.message and repr(name) in err.message
    assert len(server.hits) == before


@pytest.mark.parametrize(
    "headers", [{"Bad Name": "x"}, {"X-Split": "a\r\nInjected: 1"}, {"": "x"}]
)
async def test_malformed_headers_are_refused(
    kernel: Kernel, server: LoopbackServer, headers: dict[str, str]
) -> None:
    err = await call_error(kernel, "http_request", {"url": f"{server.url}/echo",
                                                    "headers": headers}, allow(server))
    assert err.code == "invalid_args" and "argument 'headers'" in err.message


async def test_connection_refused_is_a_tool_error(kernel: Kernel) -> None:
    idle = LoopbackServer()
    port = idle.port
    idle.stop()  # nothing listens there any more
    err = await call_error(kernel, "http_request", {"url": f"http://127.0.0.1:{port}/"},
                           SecurityPolicy(network_hosts=[f"127.0.0.1:{port}"]))
    assert err.code == "tool_error" and err.details["reason"] == "connect"


# --- DNS-rebinding safety: the checked address is the one connected to ------------------------


class FakeDnsPolicy(SecurityPolicy):
    """A policy whose check_host answers ``service.test`` (a name no resolver knows) with
    127.0.0.1: a request succeeds only if the fetch layer connects to the address the policy
    returned instead of resolving the name again."""

    FAKE: ClassVar[dict[str, list[str]]] = {"service.test": ["127.0.0.1"]}
    calls: ClassVar[list[tuple[str, int]]] = []

    async def check_host(self, host: str, port: int = 443) -> list[str]:
        FakeDnsPolicy.calls.append((host, port))
        if host in self.FAKE and self.host_allowed(host, port):
            return list(self.FAKE[host])
        return await super().check_host(host, port)


async def test_the_checked_address_is_used_without_a_second_lookup(
    kernel: Kernel, server: LoopbackServer
) -> None:
    FakeDnsPolicy.calls.clear()
    policy = FakeDnsPolicy(network_hosts=[f"service.test:{server.port}"])
    result = await call(kernel, "http_request",
                        {"url": f"http://service.test:{server.port}/echo"}, policy)
    assert result["json"]["headers"]["host"] == f"service.test:{server.port}"
    assert result["url"] == f"http://service.test:{server.port}/echo"
    assert FakeDnsPolicy.calls == [("service.test", server.port)]


async def test_every_redirect_hop_is_checked(kernel: Kernel, server: LoopbackServer) -> None:
    FakeDnsPolicy.calls.clear()
    policy = FakeDnsPolicy(network_hosts=[f"service.test:{server.port}"])
    url = f"http://service.test:{server.port}/chain?n=2"
    result = await call(kernel, "web_fetch", {"url": url, "format": "text"}, policy)
    assert result["content"] == "chain end"
    assert FakeDnsPolicy.calls == [("service.test", server.port)] * 3


# --- TLS: SNI and certificate checked against the host name, connection to the checked IP -----


@pytest.fixture
def trust(monkeypatch: pytest.MonkeyPatch, tls_files: dict[str, Path]) -> None:
    """Trust the test certificates instead of certifi's bundle."""
    ctx = ssl.create_default_context(cafile=str(tls_files["good"]))
    ctx.load_verify_locations(cafile=str(tls_files["wrong"]))
    monkeypatch.setattr(fetch_module, "tls_context", lambda: ctx)


async def test_https_verifies_the_name_while_connecting_to_the_checked_address(
    kernel: Kernel, tls_files: dict[str, Path], trust: None
) -> None:
    srv = tls_server(tls_files["good"], tls_files["good_key"])
    try:
        policy = FakeDnsPolicy(network_hosts=[f"service.test:{srv.port}"])
        result = await call(kernel, "http_request",
                            {"url": f"https://service.test:{srv.port}/"}, policy)
        assert result["body"] == f"secure hello, host service.test:{srv.port}"
        # the same server reached by its IP: the certificate does not name 127.0.0.1
        err = await call_error(kernel, "http_request", {"url": f"{srv.url}/"}, allow(srv))
        assert err.code == "tool_error" and err.details["reason"] == "tls"
    finally:
        srv.stop()


async def test_https_refuses_a_certificate_for_another_name(
    kernel: Kernel, tls_files: dict[str, Path], trust: None
) -> None:
    srv = tls_server(tls_files["wrong"], tls_files["wrong_key"])
    try:
        policy = FakeDnsPolicy(network_hosts=[f"service.test:{srv.port}"])
        err = await call_error(kernel, "http_request",
                               {"url": f"https://service.test:{srv.port}/"}, policy)
        assert err.code == "tool_error" and err.details["reason"] == "tls"
        assert wait_until(lambda: srv.hits == [], 0.1)
        assert srv.hits == []  # no request was sent over the refused connection
    finally:
        srv.stop()


# --- the URL checker itself ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "ok"),
    [("example.com", True), ("a-b.example.", True), ("127.0.0.1", True), ("::1", True),
     ("xn--bcher-kva.example", True), ("0x7f000001", False), ("127.1", False),
     ("1.2.3.04", False), ("-bad.com", False), ("a..b", False), ("", False), ("a_b.com", True)],
)
def test_valid_host(host: str, ok: bool) -> None:
    assert valid_host(host) is ok


def test_check_url_normalizes_and_keeps_the_name() -> None:
    target = check_url("HTTP://Bücher.Example:8080/a?b=1", "t")
    assert (target.scheme, target.host, target.port) == ("http", "xn--bcher-kva.example", 8080)
    assert target.host_header == "xn--bcher-kva.example:8080"
    assert check_url("https://[::1]/", "t").host_header == "[::1]"
    assert check_url("https://example.com:443/", "t").host_header == "example.com"


async def test_cancellation_closes_cleanly(kernel: Kernel, server: LoopbackServer) -> None:
    with trio.move_on_after(0.3) as scope:
        await call(kernel, "http_request", {"url": f"{server.url}/slow"}, allow(server))
    assert scope.cancelled_caught
