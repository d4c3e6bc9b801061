"""``feed_read`` (RSS/Atom) and ``sitemap_read`` (sitemaps and sitemap indexes).

Documents are fetched by the safe fetch layer and parsed in a worker thread. XML with a DTD or
entity declarations is refused (``tool_error``, reason ``unsafe_xml``) before any parser expands
it: sitemaps go through defusedxml with DTDs forbidden, feeds are screened with defusedxml
(entities and external references forbidden) before feedparser sees the bytes — as a stream,
so feedparser never fetches or opens anything itself.
"""

from __future__ import annotations

import io
import zlib
from datetime import UTC, datetime
from typing import Any

import trio

from llmspell.errors import LlmspellError
from llmspell.tools import ToolContext, tool
from llmspell_tools_web.fetch import MAX_BYTES, FetchResult, check_url, fetch, mib, tool_error
from llmspell_tools_web.schema import (
    CATEGORY,
    NETWORK,
    TIMEOUT_PROPERTY,
    max_bytes_of,
    max_bytes_property,
    timeout_of,
    url_property,
)

#: Default and most feed entries returned.
DEFAULT_ENTRIES = 20
MAX_ENTRIES = 200
#: Default and longest entry summary, in characters.
DEFAULT_SUMMARY = 500
MAX_SUMMARY = 5_000
#: Default and most sitemap URLs returned.
DEFAULT_URLS = 1_000
MAX_URLS = 50_000
#: Default and most sitemap documents read in one call (the first one included).
DEFAULT_SITEMAPS = 10
MAX_SITEMAPS = 50
#: How deep nested sitemap indexes are followed.
MAX_DEPTH = 3

_FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"
_SITEMAP_ACCEPT = "application/xml, text/xml;q=0.9, */*;q=0.5"


async def _document(
    ctx: ToolContext, url: str, accept: str, timeout: float, max_bytes: int,
    argument: str | None = "url",
) -> FetchResult:
    result = await fetch(
        ctx, url, headers=[("Accept", accept)], timeout=timeout, max_bytes=max_bytes,
        argument=argument,
    )
    if result.status >= 400:
        raise tool_error(
            ctx.tool.name, "http", f"{result.url[:200]} answered {result.status} "
            f"{result.reason}", status=result.status, url=result.url[:500],
        )
    return result


def _unsafe_xml(tool: str, url: str, exc: Exception) -> LlmspellError:
    return tool_error(
        tool, "unsafe_xml",
        f"{url[:200]}: refused: the document declares a DTD, entities or external references "
        f"({type(exc).__name__}); XML entity expansion is never processed",
        url=url[:500],
    )


def _iso(parsed: Any) -> str | None:
    if not parsed:
        return None
    try:
        year, month, day, hour, minute, second = parsed[:6]
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC).isoformat()
    except (TypeError, ValueError):
        return None


def parse_feed(
    content: bytes, url: str, content_type: str | None, max_entries: int, summary_chars: int
) -> dict[str, Any]:
    """Parse RSS/Atom bytes (blocking); ``tool_error`` for unsafe or unreadable documents."""
    import defusedxml
    import defusedxml.ElementTree as SafeET
    import feedparser

    from llmspell_tools_web.content import html_to_text

    try:
        SafeET.fromstring(content, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise _unsafe_xml("feed_read", url, exc) from None
    except Exception:
        pass  # not well-formed XML: feedparser's lenient parser may still read it
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(io.BytesIO(content), response_headers=headers)
    feed = parsed.get("feed", {})
    entries = parsed.get("entries", [])
    if not entries and not feed.get("title") and not parsed.get("version"):
        problem = parsed.get("bozo_exception")
        raise tool_error(
            "feed_read", "parse",
            f"{url[:200]} is not an RSS or Atom feed" + (f": {problem}" if problem else ""),
            url=url[:500],
        )

    def text(value: Any, limit: int) -> str | None:
        return html_to_text(str(value))[:limit] if value else None

    out_entries = []
    for entry in entries[:max_entries]:
        summary = entry.get("summary")
        if not summary and entry.get("content"):
            summary = entry["content"][0].get("value")
        out_entries.append({
            "title": text(entry.get("title"), 1000),
            "link": entry.get("link"),
            "id": entry.get("id"),
            "author": text(entry.get("author"), 300),
            "published": _iso(dict.get(entry, "published_parsed")),
            "updated": _iso(dict.get(entry, "updated_parsed")),
            "summary": text(summary, summary_chars) if summary_chars else None,
        })
    return {
        "url": url,
        "format": parsed.get("version") or None,
        "feed": {
            "title": text(feed.get("title"), 1000),
            "link": feed.get("link"),
            "description": text(feed.get("subtitle"), 2000),
            "language": feed.get("language"),
            "updated": _iso(dict.get(feed, "updated_parsed")),
        },
        "entries": out_entries,
        "total_entries": len(entries),
        "truncated": len(entries) > max_entries,
    }


@tool(
    name="feed_read",
    description="Fetch and parse an RSS or Atom feed. Returns {url (final), format (e.g. "
    "rss20, atom10), feed: {title, link, description, language, updated}, entries: [{title, "
    "link, id, author, published, updated, summary}], total_entries, truncated}; dates are ISO "
    "8601 in UTC (null when absent), summaries are plain text. Feeds declaring XML entities "
    f"are refused. Limits: at most {MAX_ENTRIES} entries (max_entries, default "
    f"{DEFAULT_ENTRIES}), summaries at most {MAX_SUMMARY} characters, feed at most "
    f"{mib(MAX_BYTES)}, 120 s; the host must be allowed by the network policy.",
    category=CATEGORY,
    permissions=NETWORK,
    parameters={
        "type": "object",
        "properties": {
            "url": url_property("The feed."),
            "max_entries": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_ENTRIES,
                "default": DEFAULT_ENTRIES,
                "description": f"Most entries returned, newest first as the feed orders them "
                f"(default {DEFAULT_ENTRIES}, at most {MAX_ENTRIES}).",
            },
            "summary_chars": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_SUMMARY,
                "default": DEFAULT_SUMMARY,
                "description": f"Longest summary per entry in characters (default "
                f"{DEFAULT_SUMMARY}, at most {MAX_SUMMARY}); 0 leaves summaries out.",
            },
            "timeout": TIMEOUT_PROPERTY,
            "max_bytes": max_bytes_property(),
        },
        "required": ["url"],
        "additionalProperties": False,
    },
    example={"url": "https://example.com/feed.xml", "max_entries": 5},
)
async def feed_read(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    result = await _document(ctx, args["url"], _FEED_ACCEPT, timeout_of(args),
                             max_bytes_of(args))
    max_entries = int(args.get("max_entries", DEFAULT_ENTRIES))
    summary_chars = int(args.get("summary_chars", DEFAULT_SUMMARY))
    return await trio.to_thread.run_sync(
        parse_feed, result.content, result.url, result.header("content-type"), max_entries,
        summary_chars,
    )


# --- sitemaps ---------------------------------------------------------------------------------


def _gunzip(tool: str, data: bytes, url: str, limit: int) -> bytes:
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = decoder.decompress(data, limit + 1)
    except zlib.error as exc:
        raise tool_error(tool, "parse", f"{url[:200]}: broken gzip data: {exc}",
                         url=url[:500]) from None
    if len(out) > limit:
        raise tool_error(tool, "too_large", f"{url[:200]} is larger than {limit} bytes "
                         "uncompressed", url=url[:500], max_bytes=limit)
    return out


def _child(element: Any, name: str) -> str | None:
    for child in element:
        if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == name:
            return (child.text or "").strip() or None
    return None


def parse_sitemap(data: bytes, url: str, max_bytes: int) -> tuple[str, list[dict[str, Any]]]:
    """``("urlset" | "sitemapindex" | "text", entries)`` of a sitemap document (blocking).
    gzip is unpacked (bounded by ``max_bytes``); a plain-text sitemap is one URL per line."""
    import defusedxml
    import defusedxml.ElementTree as SafeET

    tool = "sitemap_read"
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(tool, data, url, max_bytes)
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<"):
        lines = data.decode("utf-8", errors="replace").splitlines()
        found = [line.strip() for line in lines if line.strip().startswith(("http://",
                                                                               "https://"))]
        if not found and head:
            raise tool_error(tool, "parse", f"{url[:200]} is not a sitemap", url=url[:500])
        return "text", [{"loc": loc, "lastmod": None} for loc in found]
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except defusedxml.DefusedXmlException as exc:
        raise _unsafe_xml(tool, url, exc) from None
    except SafeET.ParseError as exc:
        raise tool_error(tool, "parse", f"{url[:200]} is not well-formed XML: {exc}",
                         url=url[:500]) from None
    kind = str(root.tag).rsplit("}", 1)[-1]
    if kind == "urlset":
        entries = [
            {
                "loc": _child(el, "loc"),
                "lastmod": _child(el, "lastmod"),
                "changefreq": _child(el, "changefreq"),
                "priority": _priority(_child(el, "priority")),
            }
            for el in root
            if isinstance(el.tag, str) and el.tag.rsplit("}", 1)[-1] == "url"
        ]
    elif kind == "sitemapindex":
        entries = [
            {"loc": _child(el, "loc"), "lastmod": _child(el, "lastmod")}
            for el in root
            if isinstance(el.tag, str) and el.tag.rsplit("}", 1)[-1] == "sitemap"
        ]
    else:
        raise tool_error(tool, "parse", f"{url[:200]} is not a sitemap (root element "
                         f"<{kind}>)", url=url[:500])
    return kind, [e for e in entries if e["loc"]]


def _priority(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


@tool(
    name="sitemap_read",
    description="Fetch and parse a sitemap (sitemap.xml, a sitemap index, gzip or plain text "
    "one URL per line), optionally following the sitemaps an index lists. Returns {url, type "
    "(urlset, sitemapindex or text), urls: [{loc, lastmod, changefreq, priority}], sitemaps: "
    "[{loc, lastmod}] (listed by indexes), fetched: [documents read], errors: [{url, code, "
    "message}] (nested documents that failed), truncated}. XML with a DTD or entities is "
    f"refused. Limits: at most {MAX_URLS} URLs (max_urls, default {DEFAULT_URLS}), "
    f"{MAX_SITEMAPS} documents (max_sitemaps, default {DEFAULT_SITEMAPS}), nesting {MAX_DEPTH} "
    f"deep, {mib(MAX_BYTES)} per document, the timeout for the whole call; every host must be "
    "allowed by the network policy.",
    category=CATEGORY,
    permissions=NETWORK,
    parameters={
        "type": "object",
        "properties": {
            "url": url_property("The sitemap or sitemap index."),
            "follow": {
                "type": "boolean",
                "default": False,
                "description": "Also read the sitemaps a sitemap index lists (each checked "
                "against the network policy), up to max_sitemaps documents.",
            },
            "max_sitemaps": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_SITEMAPS,
                "default": DEFAULT_SITEMAPS,
                "description": f"Most documents read, the first included (default "
                f"{DEFAULT_SITEMAPS}, at most {MAX_SITEMAPS}).",
            },
            "max_urls": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_URLS,
                "default": DEFAULT_URLS,
                "description": f"Most page URLs returned (default {DEFAULT_URLS}, at most "
                f"{MAX_URLS}).",
            },
            "timeout": TIMEOUT_PROPERTY,
            "max_bytes": max_bytes_property(),
        },
        "required": ["url"],
        "additionalProperties": False,
    },
    example={"url": "https://example.com/sitemap.xml", "max_urls": 100},
)
async def sitemap_read(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    timeout = timeout_of(args)
    max_bytes = max_bytes_of(args)
    max_urls = int(args.get("max_urls", DEFAULT_URLS))
    max_sitemaps = int(args.get("max_sitemaps", DEFAULT_SITEMAPS))
    follow = bool(args.get("follow", False))
    deadline = trio.current_time() + timeout
    check_url(args["url"], "sitemap_read")
    queue: list[tuple[str, int]] = [(args["url"], 0)]
    seen = {args["url"]}
    out: dict[str, Any] = {"url": args["url"], "type": None, "urls": [], "sitemaps": [],
                           "fetched": [], "errors": [], "truncated": False}
    while queue:
        if len(out["fetched"]) >= max_sitemaps or len(out["urls"]) >= max_urls:
            out["truncated"] = True
            break
        url, depth = queue.pop(0)
        first = not out["fetched"]
        remaining = deadline - trio.current_time()
        try:
            if remaining <= 0:
                raise trio.TooSlowError
            result = await _document(ctx, url, _SITEMAP_ACCEPT, remaining, max_bytes,
                                     argument="url" if first else None)
            kind, entries = await trio.to_thread.run_sync(parse_sitemap, result.content,
                                                          result.url, max_bytes)
        except trio.TooSlowError:
            raise LlmspellError(
                "timeout", f"tool 'sitemap_read': sitemaps not read within {timeout:g} s",
                {"tool": "sitemap_read", "url": url[:500], "timeout": timeout,
                 "reason": "timeout"},
            ) from None
        except LlmspellError as err:
            if first or err.code == "timeout":
                raise
            out["errors"].append({"url": url, "code": err.code, "message": err.message})
            continue
        out["fetched"].append(result.url)
        if first:
            out["url"], out["type"] = result.url, kind
        if kind == "sitemapindex":
            out["sitemaps"].extend(entries)
            if follow and depth < MAX_DEPTH:
                for entry in entries:
                    if entry["loc"] not in seen:
                        seen.add(entry["loc"])
                        queue.append((entry["loc"], depth + 1))
        else:
            room = max_urls - len(out["urls"])
            out["urls"].extend(entries[:room])
            if len(entries) > room:
                out["truncated"] = True
    return out
