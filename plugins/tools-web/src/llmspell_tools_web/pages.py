"""``web_fetch`` (a page as clean Markdown or text) and ``web_scrape`` (CSS selectors)."""

from __future__ import annotations

from typing import Any

import trio

from llmspell.tools import ToolContext, tool
from llmspell_tools_web import content as html
from llmspell_tools_web.fetch import (
    MAX_BYTES,
    FetchResult,
    check_headers,
    fetch,
    invalid_arg,
    mib,
    tool_error,
)
from llmspell_tools_web.schema import (
    CATEGORY,
    HEADERS_PROPERTY,
    NETWORK,
    TIMEOUT_PROPERTY,
    max_bytes_of,
    max_bytes_property,
    timeout_of,
    url_property,
)

#: Default and largest length of ``web_fetch`` content, in characters.
DEFAULT_CHARS = 20_000
MAX_CHARS = 200_000
#: Default and most links ``web_fetch`` lists.
DEFAULT_LINKS = 100
MAX_LINKS = 500
#: Most named selectors in one ``web_scrape`` call, and the longest selector.
MAX_SELECTORS = 20
MAX_SELECTOR_LENGTH = 500
#: Default and most matches returned per selector.
DEFAULT_MATCHES = 50
MAX_MATCHES = 500
#: Longest text, attribute value and HTML kept per match, in characters.
MAX_MATCH_TEXT = 2_000
MAX_MATCH_HTML = 5_000
#: Attributes whose values are URLs (made absolute by ``web_scrape``).
URL_ATTRIBUTES = frozenset({"href", "src", "action", "poster", "cite", "data-src", "srcset"})


async def _page(ctx: ToolContext, args: dict[str, Any]) -> FetchResult:
    """GET the page; an HTTP error status is ``tool_error`` (reason ``http``)."""
    name = ctx.tool.name
    headers = check_headers(name, args.get("headers"))
    if not any(k.lower() == "accept" for k, _ in headers):
        headers.append(("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"))
    result = await fetch(
        ctx, args["url"], headers=headers, timeout=timeout_of(args),
        max_bytes=max_bytes_of(args),
    )
    if result.status >= 400:
        raise tool_error(
            name, "http", f"{result.url[:200]} answered {result.status} {result.reason}",
            status=result.status, url=result.url[:500],
        )
    return result


@tool(
    name="web_fetch",
    description="Fetch a web page and return its readable content as Markdown or plain text, "
    "with scripts, styles, navigation, forms, cookie banners and other page furniture removed "
    "(by default only the <main>/<article> part). Returns {url (final), status, content_type, "
    "title, description, format, content, length (characters before truncation), truncated, "
    "links ([{text, url}] when asked, else null)}. Plain-text answers (text/plain, Markdown, "
    "JSON, XML) are returned as they are; binary ones are an error, as is an HTTP error "
    f"status. Limits: content at most {MAX_CHARS} characters (max_chars, default "
    f"{DEFAULT_CHARS}), page at most {mib(MAX_BYTES)}, 120 s; the host must be allowed by the "
    "network policy.",
    category=CATEGORY,
    permissions=NETWORK,
    parameters={
        "type": "object",
        "properties": {
            "url": url_property("The page to fetch."),
            "format": {
                "type": "string",
                "enum": ["markdown", "text"],
                "default": "markdown",
                "description": "markdown (headings, lists, links, tables kept) or text (one "
                "line per block).",
            },
            "main_content": {
                "type": "boolean",
                "default": True,
                "description": "Keep only the page's <main> (or its single <article>) when it "
                "has one; false converts the whole <body> (still without page furniture).",
            },
            "links": {
                "type": "boolean",
                "default": False,
                "description": "Also list the page's http(s) links, absolute and deduplicated.",
            },
            "max_links": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_LINKS,
                "default": DEFAULT_LINKS,
                "description": f"Most links listed (default {DEFAULT_LINKS}, at most "
                f"{MAX_LINKS}).",
            },
            "max_chars": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_CHARS,
                "default": DEFAULT_CHARS,
                "description": f"Longest content returned, in characters (default "
                f"{DEFAULT_CHARS}, at most {MAX_CHARS}); longer content is cut and "
                "truncated is true.",
            },
            "headers": HEADERS_PROPERTY,
            "timeout": TIMEOUT_PROPERTY,
            "max_bytes": max_bytes_property(),
        },
        "required": ["url"],
        "additionalProperties": False,
    },
    example={"url": "https://example.com/", "format": "markdown", "max_chars": 5000},
)
async def web_fetch(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    result = await _page(ctx, args)
    fmt = args.get("format", "markdown")
    max_chars = int(args.get("max_chars", DEFAULT_CHARS))
    want_links = bool(args.get("links", False))
    max_links = int(args.get("max_links", DEFAULT_LINKS))
    main_only = bool(args.get("main_content", True))
    out: dict[str, Any] = {
        "url": result.url,
        "status": result.status,
        "content_type": result.media_type or None,
        "title": None,
        "description": None,
        "format": fmt,
    }
    if result.is_html:

        def convert() -> tuple[str, str | None, str | None, list[dict[str, str]] | None]:
            soup = html.parse_html(result.content, result.charset)
            base = html.base_url(soup, result.url)
            title = html.page_title(soup)
            description = html.page_description(soup)
            found = html.links(soup, base, max_links) if want_links else None
            html.clean(soup)
            root = html.main_root(soup) if main_only else (soup.body or soup)
            html.absolutize(root, base)
            text = html.to_markdown(root) if fmt == "markdown" else html.to_text(root)
            return text, title, description, found

        text, out["title"], out["description"], found = await trio.to_thread.run_sync(convert)
    elif result.is_text:
        text, found = result.text().strip(), [] if want_links else None
    else:
        raise tool_error(
            "web_fetch", "content_type",
            f"{result.url[:200]} is {result.media_type or 'binary data'}, not a page or text; "
            "use http_request for other content",
            content_type=result.media_type, url=result.url[:500],
        )
    out["length"] = len(text)
    out["content"], out["truncated"] = html.truncate(text, max_chars)
    out["links"] = found
    return out


def _compile_selectors(selectors: dict[str, str]) -> dict[str, Any]:
    import soupsieve

    compiled: dict[str, Any] = {}
    for key, selector in selectors.items():
        try:
            compiled[key] = soupsieve.compile(selector)
        except (soupsieve.SelectorSyntaxError, ValueError, TypeError) as exc:
            problem = str(exc).splitlines()[0]
            raise invalid_arg(
                "web_scrape", "selectors",
                f"selector {key!r} ({selector!r}) is not valid CSS: {problem}",
                selector=key,
            ) from None
    return compiled


@tool(
    name="web_scrape",
    description="Fetch a web page and extract elements with CSS selectors; several named "
    "selectors in one call. Returns {url (final), status, title, results: {name: [{text, "
    "attributes: {name: value}, html (only with include_html)}]}, counts: {name: matches "
    "found}}; text is whitespace-collapsed, URL attributes (href, src ...) are made absolute. "
    f"Limits: at most {MAX_SELECTORS} selectors, {MAX_MATCHES} matches each (limit, default "
    f"{DEFAULT_MATCHES}), {MAX_MATCH_TEXT} characters of text and {MAX_MATCH_HTML} of HTML "
    f"per match, page at most {mib(MAX_BYTES)}, 120 s; the host must be allowed by the "
    "network policy. An HTTP error status or a page that is not HTML is an error.",
    category=CATEGORY,
    permissions=NETWORK,
    parameters={
        "type": "object",
        "properties": {
            "url": url_property("The page to scrape."),
            "selectors": {
                "type": "object",
                "minProperties": 1,
                "maxProperties": MAX_SELECTORS,
                "propertyNames": {"maxLength": 64, "minLength": 1},
                "additionalProperties": {
                    "type": "string", "minLength": 1, "maxLength": MAX_SELECTOR_LENGTH,
                },
                "description": 'Result name to CSS selector, e.g. {"titles": "h2.title", '
                '"links": "a[href]"} (CSS level 4 as implemented by soupsieve).',
            },
            "attributes": {
                "type": "array",
                "items": {"type": "string", "minLength": 1, "maxLength": 100},
                "maxItems": 20,
                "default": [],
                "description": "Attributes to return for each match (e.g. [\"href\", "
                "\"src\"]); a missing attribute is null.",
            },
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_MATCHES,
                "default": DEFAULT_MATCHES,
                "description": f"Most matches returned per selector (default {DEFAULT_MATCHES}, "
                f"at most {MAX_MATCHES}); counts gives the total found.",
            },
            "include_html": {
                "type": "boolean",
                "default": False,
                "description": f"Also return each match's outer HTML (at most {MAX_MATCH_HTML} "
                "characters).",
            },
            "headers": HEADERS_PROPERTY,
            "timeout": TIMEOUT_PROPERTY,
            "max_bytes": max_bytes_property(),
        },
        "required": ["url", "selectors"],
        "additionalProperties": False,
    },
    example={
        "url": "https://example.com/",
        "selectors": {"headings": "h1, h2", "links": "a[href]"},
        "attributes": ["href"],
        "limit": 20,
    },
)
async def web_scrape(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    compiled = _compile_selectors(args["selectors"])
    result = await _page(ctx, args)
    if not (result.is_html or result.media_type in ("", "application/xml", "text/xml")):
        raise tool_error(
            "web_scrape", "content_type",
            f"{result.url[:200]} is {result.media_type}, not HTML",
            content_type=result.media_type, url=result.url[:500],
        )
    wanted = list(args.get("attributes") or [])
    limit = int(args.get("limit", DEFAULT_MATCHES))
    include_html = bool(args.get("include_html", False))

    def scrape() -> dict[str, Any]:
        soup = html.parse_html(result.content, result.charset)
        base = html.base_url(soup, result.url)
        results: dict[str, list[dict[str, Any]]] = {}
        counts: dict[str, int] = {}
        for key, selector in compiled.items():
            matches = selector.select(soup)
            counts[key] = len(matches)
            items = []
            for tag in matches[:limit]:
                item: dict[str, Any] = {
                    "text": html.collapse(tag.get_text(" "))[:MAX_MATCH_TEXT],
                    "attributes": {a: _attribute(tag, a, base) for a in wanted},
                }
                if include_html:
                    item["html"] = str(tag)[:MAX_MATCH_HTML]
                items.append(item)
            results[key] = items
        return {
            "url": result.url,
            "status": result.status,
            "title": html.page_title(soup),
            "results": results,
            "counts": counts,
        }

    return await trio.to_thread.run_sync(scrape)


def _attribute(tag: Any, name: str, base: str) -> str | None:
    value = tag.get(name)
    if value is None:
        return None
    text = " ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    if name.lower() in URL_ATTRIBUTES and name.lower() != "srcset":
        text = html.absolute(base, text) or text
    return text[:MAX_MATCH_TEXT]
