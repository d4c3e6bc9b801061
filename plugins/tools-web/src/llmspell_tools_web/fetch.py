"""The safe fetch layer: the only way any web tool (and any search backend) reaches the network.

Contract of :func:`fetch`:

- only ``http``/``https`` URLs; any other scheme, and any URL with user info (``user@host``), is
  refused with ``permission_denied``, for the first URL and for every redirect;
- every hop's host and port go through ``await policy.check_host(host, port)``, and the request
  is sent to one of the addresses *it* returned (the ``Host`` header carries the name, and for
  https the TLS handshake's SNI and certificate check use the name): no second DNS lookup can
  answer differently (DNS-rebinding safe);
- redirects (301, 302, 303, 307, 308) are followed by hand, at most ``max_redirects``
  (:data:`MAX_REDIRECTS` at most), each one checked like the first URL; a cross-origin redirect
  drops every request header except :data:`CROSS_ORIGIN_HEADERS` (so credentials never follow);
- the body is read while streaming and refused (``tool_error``, reason ``too_large``) past
  ``max_bytes`` (at most :data:`MAX_BYTES`, counted after content decoding);
- ``timeout`` bounds the whole exchange — DNS, connections, redirects and body — and raises the
  ``timeout`` error;
- no proxies or certificates from the environment, no cookie jar (cookies are only what the
  caller sends), a ``User-Agent`` of :data:`USER_AGENT` unless the caller sets one.

This module is cheap to import: httpx is imported inside the functions that use it.
"""

from __future__ import annotations

import codecs
import functools
import ipaddress
import re
import ssl
import zlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import trio

from llmspell.errors import LlmspellError

if TYPE_CHECKING:
    import httpx

    from llmspell.tools import ToolContext

#: Largest response body any tool reads, in bytes (after content decoding).
MAX_BYTES = 5 * 1024 * 1024
#: Largest request body a tool sends, in bytes.
MAX_REQUEST_BYTES = 1024 * 1024
#: Longest URL accepted, in characters.
MAX_URL_LENGTH = 8192
#: Default and largest time limit of one call, in seconds (the whole exchange).
DEFAULT_TIMEOUT = 30.0
MAX_TIMEOUT = 120.0
#: Default and largest number of redirects followed.
DEFAULT_MAX_REDIRECTS = 5
MAX_REDIRECTS = 10
#: Most request headers a caller may set, and the longest value.
MAX_HEADERS = 50
MAX_HEADER_VALUE = 8192
#: The ``User-Agent`` sent unless the caller sets one.
USER_AGENT = "llmspell/0.1"

#: Headers that belong to one connection (RFC 9110 section 7.6.1); a caller may not set them.
HOP_BY_HOP_HEADERS = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "transfer-encoding", "upgrade",
})
#: Headers the fetch layer manages itself; a caller may not set them either.
MANAGED_HEADERS = frozenset({"host", "content-length", "accept-encoding"})
#: Request headers kept when a redirect leaves the origin (scheme, host, port); all others
#: (``Authorization``, ``Cookie``, API keys ...) are dropped.
CROSS_ORIGIN_HEADERS = frozenset({"accept", "accept-language", "user-agent"})
CROSS_ORIGIN_BODY_HEADERS = CROSS_ORIGIN_HEADERS | {"content-type"}
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)


def mib(n: int) -> str:
    """``n`` bytes for a description: ``"5 MiB"`` when a whole number of MiB, else bytes."""
    return f"{n // 1048576} MiB" if n % 1048576 == 0 else f"{n} bytes"


def invalid_arg(tool: str, argument: str, problem: str, **details: Any) -> LlmspellError:
    """The ``invalid_args`` error of the conventions: ``tool 'NAME': argument 'FIELD': ...``."""
    return LlmspellError(
        "invalid_args",
        f"tool {tool!r}: argument {argument!r}: {problem}",
        {"tool": tool, "argument": argument, **details},
    )


def tool_error(tool: str, reason: str, message: str, **details: Any) -> LlmspellError:
    """A ``tool_error`` with a ``reason`` word in its details."""
    return LlmspellError(
        "tool_error", f"tool {tool!r}: {message}", {"tool": tool, "reason": reason, **details}
    )


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS context of every request: certifi's CA bundle, certificates verified, no
    environment overrides (loading the bundle takes ~50 ms, so it is made once)."""
    import httpx

    return httpx.create_ssl_context(trust_env=False)


# --- URLs -------------------------------------------------------------------------------------


@attrs.frozen
class Target:
    """A checked URL: ``url`` (an ``httpx.URL``), its scheme, ASCII host (IDNA-encoded, IPv6
    without brackets) and effective port."""

    url: Any
    scheme: str
    host: str
    port: int

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def valid_host(host: str) -> bool:
    """Whether ``host`` (lower-case ASCII) is a DNS name or a canonical IP address: numeric
    tricks such as ``0x7f000001``, ``127.1`` or ``017.0.0.1`` are refused."""
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    name = host[:-1] if host.endswith(".") else host
    if not name or len(name) > 253:
        return False
    labels = name.split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        try:
            return str(ipaddress.IPv4Address(name)) == name
        except ValueError:
            return False
    return all(_LABEL.fullmatch(label) for label in labels)


def check_url(
    text: str | Any, tool: str, *, argument: str | None = "url", what: str = "URL"
) -> Target:
    """Parse and check an absolute http(s) URL.

    ``permission_denied`` for another scheme or user info; a malformed URL is ``invalid_args``
    naming ``argument``, or, when the URL did not come from an argument (``argument=None``: a
    redirect, a setting, a nested document), ``tool_error`` with reason ``url``."""
    import httpx

    def bad(problem: str) -> LlmspellError:
        if argument is None:
            return tool_error(tool, "url", f"{what} {str(text)[:200]!r} {problem}", url=str(text))
        return invalid_arg(tool, argument, f"{problem} (got {str(text)[:200]!r})")

    if len(str(text)) > MAX_URL_LENGTH:
        raise bad(f"is longer than {MAX_URL_LENGTH} characters")
    try:
        url = text if isinstance(text, httpx.URL) else httpx.URL(text)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise bad(f"is not a valid URL: {exc}") from None
    scheme = url.scheme
    if not scheme:
        raise bad("is not an absolute URL; give an http:// or https:// URL")
    if scheme not in ALLOWED_SCHEMES:
        raise LlmspellError(
            "permission_denied",
            f"tool {tool!r}: {what} {str(url)[:200]!r} has scheme {scheme!r}; only http and "
            "https URLs may be fetched",
            {"tool": tool, "url": str(url)[:500], "reason": "scheme", "scheme": scheme},
        )
    if url.userinfo:
        raise LlmspellError(
            "permission_denied",
            f"tool {tool!r}: {what} with user info ('user@host') is refused; send "
            "credentials in a header instead",
            {"tool": tool, "reason": "userinfo"},
            hint="use an Authorization header",
        )
    try:
        host = url.raw_host.decode("ascii").lower()
    except UnicodeDecodeError:
        raise bad("has a host that is not ASCII") from None
    if not host:
        raise bad("has no host")
    if not valid_host(host):
        raise bad(f"has an invalid host {host!r}")
    port = url.port if url.port is not None else DEFAULT_PORTS[scheme]
    if not 0 < port < 65536:
        raise bad(f"has an invalid port {port}")
    return Target(url, scheme, host, port)


# --- headers ----------------------------------------------------------------------------------


def check_headers(
    tool: str, headers: Mapping[str, str] | None, argument: str = "headers"
) -> list[tuple[str, str]]:
    """The caller's request headers as pairs, refusing (``invalid_args``) malformed names or
    values, hop-by-hop headers and the ones this layer manages (``Host``, ``Content-Length``)."""
    pairs: list[tuple[str, str]] = []
    for name, value in (headers or {}).items():
        if not _TOKEN.fullmatch(name):
            raise invalid_arg(tool, argument, f"{name!r} is not a valid header name")
        if not isinstance(value, str) or not value.isascii() or any(
            c in value for c in "\r\n\0"
        ):
            raise invalid_arg(tool, argument, f"the value of header {name!r} is not one line "
                              "of ASCII text")
        if len(value) > MAX_HEADER_VALUE:
            raise invalid_arg(tool, argument, f"the value of header {name!r} is longer than "
                              f"{MAX_HEADER_VALUE} characters")
        lower = name.lower()
        if lower in HOP_BY_HOP_HEADERS or lower in MANAGED_HEADERS:
            raise invalid_arg(
                tool, argument,
                f"header {name!r} may not be set (hop-by-hop or managed by the tool)",
            )
        pairs.append((name, value))
    if len(pairs) > MAX_HEADERS:
        raise invalid_arg(tool, argument, f"at most {MAX_HEADERS} headers may be set")
    return pairs


def _has(headers: Iterable[tuple[str, str]], name: str) -> bool:
    return any(k.lower() == name for k, _ in headers)


# --- responses --------------------------------------------------------------------------------

_TEXT_TYPES = frozenset({
    "application/json", "application/xml", "application/javascript", "application/ecmascript",
    "application/x-www-form-urlencoded", "application/graphql", "application/x-javascript",
    "application/sql", "application/yaml", "application/x-yaml", "application/toml",
    "application/x-ndjson", "image/svg+xml",
})


@attrs.define
class FetchResult:
    """A complete answer: final URL (with the host *name*), status, headers (pairs as sent),
    the body bytes and the redirects followed (``[{"status", "url"}]``, in order)."""

    url: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    content: bytes
    redirects: list[dict[str, Any]] = attrs.field(factory=list)

    def header(self, name: str) -> str | None:
        """The header's values joined with ``", "`` (``None`` when absent)."""
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ", ".join(values) if values else None

    def headers_dict(self) -> dict[str, str]:
        """Header names (lower case) to values, repeated headers joined with ``", "``."""
        out: dict[str, str] = {}
        for k, v in self.headers:
            key = k.lower()
            out[key] = f"{out[key]}, {v}" if key in out else v
        return out

    @property
    def media_type(self) -> str:
        """The ``Content-Type`` without parameters, lower case (``""`` when absent)."""
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    @property
    def charset(self) -> str | None:
        """The ``charset`` parameter of ``Content-Type`` if it names a known codec."""
        for param in (self.header("content-type") or "").split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset":
                return known_codec(value.strip().strip("\"'"))
        return None

    @property
    def is_html(self) -> bool:
        return self.media_type in ("text/html", "application/xhtml+xml")

    @property
    def is_text(self) -> bool:
        """Whether the body is text by its media type (or, without one, by being UTF-8 without
        NUL characters)."""
        mt = self.media_type
        if not mt:
            if b"\0" in self.content:
                return False
            try:
                self.content.decode("utf-8")
            except UnicodeDecodeError:
                return False
            return True
        return (
            mt.startswith("text/") or mt in _TEXT_TYPES
            or mt.endswith(("+json", "+xml")) or self.charset is not None
        )

    def text(self) -> str:
        """The body decoded: the header's charset, else an HTML ``<meta charset>`` in the first
        2 KiB, else UTF-8 (a BOM wins); undecodable bytes become U+FFFD."""
        data = self.content
        if data.startswith(codecs.BOM_UTF8):
            return data[3:].decode("utf-8", errors="replace")
        charset = self.charset
        if charset is None and self.is_html:
            found = _META_CHARSET.search(data[:2048])
            if found:
                charset = known_codec(found.group(1).decode("ascii"))
        return data.decode(charset or "utf-8", errors="replace")


def known_codec(name: str) -> str | None:
    """``name`` if Python knows the codec, else ``None``."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


# --- the fetch --------------------------------------------------------------------------------


async def fetch(
    ctx: ToolContext,
    url: str,
    *,
    method: str = "GET",
    headers: Iterable[tuple[str, str]] = (),
    content: bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = MAX_BYTES,
    max_redirects: int = DEFAULT_MAX_REDIRECTS,
    follow_redirects: bool = True,
    argument: str | None = "url",
) -> FetchResult:
    """Send one request through the policy (see the module docstring) and read the answer.

    ``headers`` must already be checked (:func:`check_headers`); ``argument`` names the
    argument ``url`` came from (``None`` when it came from elsewhere, e.g. a setting). Errors:
    ``invalid_args``/``permission_denied`` for the URL and each redirect, ``timeout``,
    ``tool_error`` with reason ``too_large``, ``too_many_redirects``, ``connect``, ``tls``,
    ``network`` or ``url``.
    """
    tool = ctx.tool.name
    target = check_url(url, tool, argument=argument)
    headers = list(headers)
    for name, _ in headers:
        if name.lower() in HOP_BY_HOP_HEADERS or name.lower() in MANAGED_HEADERS:
            raise tool_error(tool, "header", f"header {name!r} may not be sent")
    if not _has(headers, "user-agent"):
        headers.append(("User-Agent", USER_AGENT))
    timeout = min(max(float(timeout), 0.001), MAX_TIMEOUT)
    max_bytes = min(max(int(max_bytes), 0), MAX_BYTES)
    max_redirects = min(max(int(max_redirects), 0), MAX_REDIRECTS)
    session = _Session(tool, timeout)
    redirects: list[dict[str, Any]] = []
    try:
        with trio.fail_after(timeout):
            while True:
                addresses = await ctx.policy.check_host(target.host, target.port)
                response = await session.send(target, addresses, method, headers, content)
                location = response.headers.get("location")
                if not (follow_redirects and response.status_code in REDIRECT_STATUSES
                        and location):
                    bodiless = method == "HEAD" or response.status_code in (204, 304)
                    body = await session.read(response, max_bytes, str(target.url), bodiless)
                    return FetchResult(
                        str(target.url), response.status_code, response.reason_phrase,
                        [(k, v) for k, v in response.headers.multi_items()], body, redirects,
                    )
                await response.aclose()
                if len(redirects) >= max_redirects:
                    raise tool_error(
                        tool, "too_many_redirects",
                        f"{url[:200]} redirected more than {max_redirects} time(s)",
                        url=url[:500], redirects=redirects, max_redirects=max_redirects,
                    )
                try:
                    next_url = target.url.join(location)
                except Exception as exc:  # httpx.InvalidURL and friends
                    raise tool_error(tool, "url", f"redirect to an invalid URL "
                                     f"{location[:200]!r}: {exc}", url=location[:500]) from None
                new = check_url(next_url, tool, argument=None, what="redirect to")
                redirects.append({"status": response.status_code, "url": str(new.url)})
                status = response.status_code
                if (status == 303 and method != "HEAD") or (status in (301, 302)
                                                             and method == "POST"):
                    method, content = "GET", None
                    headers = [(k, v) for k, v in headers
                               if not k.lower().startswith("content-")]
                if new.origin != target.origin:
                    keep = CROSS_ORIGIN_HEADERS if content is None else CROSS_ORIGIN_BODY_HEADERS
                    headers = [(k, v) for k, v in headers if k.lower() in keep]
                target = new
    except trio.TooSlowError:
        raise LlmspellError(
            "timeout",
            f"tool {tool!r}: {url[:200]} did not answer completely within {timeout:g} s",
            {"tool": tool, "url": url[:500], "timeout": timeout, "reason": "timeout"},
            hint="raise the timeout argument (at most 120 s)",
        ) from None
    finally:
        with trio.CancelScope(shield=True), trio.move_on_after(5):
            await session.aclose()


class _Decoder:
    """Content decoding with a bounded output: ``feed``/``finish`` return ``False`` once the
    decoded body would exceed ``limit`` bytes."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.limit = limit
        self.body = bytearray()
        self.encoding = encoding
        self.known = encoding in ("identity", "gzip", "x-gzip", "deflate")
        self._zlib: Any = None
        self._pending = b""  # deflate: the first bytes, until the format is known

    def _add(self, data: bytes) -> bool:
        self.body += data
        return len(self.body) <= self.limit

    def _inflate(self, data: bytes) -> bool:
        out = self._zlib.decompress(data, self.limit - len(self.body) + 1)
        if not self._add(out):
            return False
        while self._zlib.unconsumed_tail:
            out = self._zlib.decompress(self._zlib.unconsumed_tail,
                                        self.limit - len(self.body) + 1)
            if not self._add(out):
                return False
        return True

    def feed(self, chunk: bytes) -> bool:
        if self.encoding == "identity":
            return self._add(chunk)
        if self._zlib is None:
            if self.encoding == "deflate":
                # "deflate" is zlib-wrapped by the standard, raw deflate by some servers
                self._pending += chunk
                if len(self._pending) < 2:
                    return True
                chunk, self._pending = self._pending, b""
                wrapped = (chunk[0] & 0x0F) == 8 and int.from_bytes(chunk[:2], "big") % 31 == 0
                self._zlib = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            else:
                self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        return self._inflate(chunk)

    def finish(self) -> bool:
        if self._pending:
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            pending, self._pending = self._pending, b""
            if not self._inflate(pending):
                return False
        if self._zlib is not None:
            return self._add(self._zlib.flush())
        return True


@attrs.define
class _Session:
    """The connections of one fetch: an httpx transport per (origin, address), so that a
    connection made for one host name (and its TLS certificate) is never reused for another.
    Transports are used directly, without httpx's client: no cookie jar, no redirect logic,
    no environment."""

    tool: str
    timeout: float
    transports: dict[tuple[str, str, int, str], Any] = attrs.field(factory=dict)

    def transport(self, target: Target, address: str) -> httpx.AsyncHTTPTransport:
        import httpx

        key = (*target.origin, address)
        if key not in self.transports:
            self.transports[key] = httpx.AsyncHTTPTransport(
                verify=tls_context() if target.scheme == "https" else False,
                trust_env=False,
                retries=0,
            )
        return self.transports[key]

    async def send(
        self,
        target: Target,
        addresses: list[str],
        method: str,
        headers: list[tuple[str, str]],
        content: bytes | None,
    ) -> httpx.Response:
        """Send to the first of ``addresses`` that accepts a connection (IPv4 first)."""
        import httpx

        ordered = sorted(addresses, key=lambda a: ":" in a)
        failures: list[str] = []
        extensions: dict[str, Any] = {"timeout": {
            "connect": self.timeout, "read": self.timeout, "write": self.timeout,
            "pool": self.timeout,
        }}
        if target.scheme == "https":
            extensions["sni_hostname"] = target.host
        for address in ordered:
            try:
                request = httpx.Request(
                    method,
                    target.url.copy_with(host=address),
                    headers=[("Host", target.host_header),
                             ("Accept-Encoding", "gzip, deflate"), *headers],
                    content=content,
                    extensions=extensions,
                )
            except httpx.InvalidURL:  # e.g. an IPv6 address with a zone
                failures.append(f"{address}: unusable address")
                continue
            try:
                return await self.transport(target, address).handle_async_request(request)
            except httpx.TimeoutException:
                raise trio.TooSlowError from None
            except httpx.ConnectError as exc:
                if _is_tls_error(exc):
                    raise tool_error(
                        self.tool, "tls",
                        f"TLS with {target.host} failed: {_cause(exc)}",
                        url=str(target.url)[:500],
                    ) from None
                failures.append(f"{address}: {_cause(exc)}")
            except httpx.HTTPError as exc:
                raise tool_error(
                    self.tool, "network", f"{str(target.url)[:200]}: {type(exc).__name__}: "
                    f"{_cause(exc)}", url=str(target.url)[:500],
                ) from None
        raise tool_error(
            self.tool, "connect",
            f"cannot connect to {target.host} port {target.port}: {'; '.join(failures)}",
            url=str(target.url)[:500], host=target.host, port=target.port,
        )

    async def read(
        self, response: httpx.Response, max_bytes: int, url: str, bodiless: bool = False
    ) -> bytes:
        """The body, decoded (gzip/deflate) by a bounded decompressor and refused
        (``too_large``) as soon as it exceeds ``max_bytes``: a compression bomb never expands
        in memory beyond the limit."""
        import httpx

        def too_large() -> LlmspellError:
            return tool_error(
                self.tool, "too_large",
                f"the answer of {url[:200]} is larger than {max_bytes} bytes",
                url=url[:500], max_bytes=max_bytes,
            )

        try:
            encoding = (response.headers.get("content-encoding") or "identity").strip().lower()
            declared = response.headers.get("content-length")
            if (encoding == "identity" and not bodiless and declared and declared.isdigit()
                    and int(declared) > max_bytes):
                raise too_large()
            decoder = _Decoder(encoding, max_bytes)
            if not decoder.known:
                raise tool_error(
                    self.tool, "encoding",
                    f"the answer of {url[:200]} has an unsupported content encoding "
                    f"{encoding!r}", url=url[:500],
                )
            async for chunk in response.aiter_raw():
                if not decoder.feed(chunk):
                    raise too_large()
            if not decoder.finish():
                raise too_large()
            return bytes(decoder.body)
        except httpx.TimeoutException:
            raise trio.TooSlowError from None
        except httpx.HTTPError as exc:
            raise tool_error(
                self.tool, "network", f"reading the answer of {url[:200]} failed: "
                f"{type(exc).__name__}: {_cause(exc)}", url=url[:500],
            ) from None
        except zlib.error as exc:
            raise tool_error(
                self.tool, "encoding", f"the answer of {url[:200]} is not valid "
                f"{encoding}: {exc}", url=url[:500],
            ) from None
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        for transport in self.transports.values():
            await transport.aclose()
        self.transports.clear()


def _is_tls_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc) or "SSL" in str(exc)


def _cause(exc: BaseException) -> str:
    text = str(exc)
    cause = exc.__cause__ or exc.__context__
    if not text and cause is not None:
        text = str(cause) or type(cause).__name__
    return text or type(exc).__name__
