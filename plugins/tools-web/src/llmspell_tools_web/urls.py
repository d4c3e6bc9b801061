"""``url_parse``: split, join and normalize URLs, without any network access."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, quote, urljoin, urlsplit, urlunsplit

from llmspell.tools import ToolContext, tool
from llmspell_tools_web.fetch import MAX_URL_LENGTH, invalid_arg
from llmspell_tools_web.schema import CATEGORY

#: Ports dropped by normalization, by scheme.
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _normalize_percent(text: str, safe: str) -> str:
    """Percent-escapes in upper case, unreserved characters decoded, characters that must be
    escaped escaped (existing escapes kept)."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return quote(_PERCENT.sub(fix, text), safe=safe + "%")


def remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4: resolve ``.`` and ``..`` segments."""
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if len(out) > 1 or (out and out[0] != ""):
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    result = "/".join(out)
    if path.startswith("/") and not result.startswith("/"):
        result = "/" + result
    return result


def normalize(url: str, argument: str) -> str:
    """The RFC 3986 normal form of ``url``: scheme and host lower case, IDN host in punycode,
    default port removed, dot segments resolved, percent-escapes normalized, empty path of an
    http(s) URL made ``/``. Query order and the fragment are kept."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    netloc = parts.netloc
    if parts.hostname is not None:
        host = parts.hostname
        if ":" in host:
            host = f"[{host}]"
        else:
            try:
                host = host.encode("idna").decode("ascii").lower()
            except UnicodeError as exc:
                raise invalid_arg("url_parse", argument, f"host {host!r} is not a valid "
                                  f"internationalized name: {exc}") from None
        port = _port(parts, argument)
        userinfo = netloc.rpartition("@")[0] if "@" in netloc else ""
        netloc = (f"{userinfo}@" if userinfo else "") + host
        if port is not None and port != DEFAULT_PORTS.get(scheme):
            netloc += f":{port}"
    path = _normalize_percent(remove_dot_segments(parts.path), "/:@!$&'()*+,;=")
    if not path and netloc and scheme in ("http", "https", "ws", "wss"):
        path = "/"
    query = _normalize_percent(parts.query, "/?:@!$&'()*+,;=")
    fragment = _normalize_percent(parts.fragment, "/?:@!$&'()*+,;=")
    return urlunsplit((scheme, netloc, path, query, fragment))


def _port(parts: Any, argument: str) -> int | None:
    try:
        port: int | None = parts.port
        return port
    except ValueError as exc:
        raise invalid_arg("url_parse", argument, f"has an invalid port: {exc}") from None


@tool(
    name="url_parse",
    description="Parse a URL into its parts, optionally resolving it against a base URL and "
    "normalizing it (no network access). Returns {url (the resolved/normalized URL), scheme, "
    "username, password, host (lower case, IPv6 without brackets), port (explicit, or null), "
    "default_port, path, query_string, query ({name: [values]}), fragment, is_absolute}. "
    "Normalization follows RFC 3986: scheme and host lower case, IDN host in punycode, "
    "default port dropped, dot segments resolved, percent-escapes normalized. URLs at most "
    f"{MAX_URL_LENGTH} characters.",
    category=CATEGORY,
    parameters={
        "type": "object",
        "properties": {
            "url": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_URL_LENGTH,
                "description": "The URL (absolute, or relative when base is given).",
            },
            "base": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_URL_LENGTH,
                "description": "An absolute URL that url is resolved against (RFC 3986 "
                "reference resolution), e.g. the page a link was found on.",
            },
            "normalize": {
                "type": "boolean",
                "default": False,
                "description": "Normalize the URL (see the description) before splitting it.",
            },
        },
        "required": ["url"],
        "additionalProperties": False,
    },
    example={
        "url": "../docs/guide?lang=en#install",
        "base": "https://Example.com:443/a/b/index.html",
        "normalize": True,
    },
)
async def url_parse(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    url: str = args["url"].strip()
    if any(ord(c) < 32 for c in url):
        raise invalid_arg("url_parse", "url", "contains control characters")
    if "base" in args:
        base = args["base"].strip()
        if not urlsplit(base).scheme:
            raise invalid_arg("url_parse", "base", f"must be an absolute URL (got {base!r})")
        _port(urlsplit(base), "base")
        _port(urlsplit(url), "url")
        try:
            url = urljoin(base, url)
        except ValueError as exc:
            raise invalid_arg("url_parse", "url", f"cannot be resolved: {exc}") from None
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise invalid_arg("url_parse", "url", f"is not a valid URL: {exc}") from None
    port = _port(parts, "url")
    if args.get("normalize", False):
        url = normalize(url, "url")
        parts = urlsplit(url)
        port = _port(parts, "url")
    scheme = parts.scheme.lower()
    return {
        "url": url,
        "scheme": scheme or None,
        "username": parts.username,
        "password": parts.password,
        "host": parts.hostname,
        "port": port,
        "default_port": DEFAULT_PORTS.get(scheme),
        "path": parts.path,
        "query_string": parts.query,
        "query": parse_qs(parts.query, keep_blank_values=True),
        "fragment": parts.fragment,
        "is_absolute": bool(scheme),
    }
