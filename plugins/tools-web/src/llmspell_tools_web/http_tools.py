"""``http_request`` (any HTTP request) and ``graphql_query`` (a GraphQL POST)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, TypeVar

import trio

from llmspell.tools import ToolContext, tool
from llmspell_tools_web.fetch import (
    DEFAULT_MAX_REDIRECTS,
    MAX_BYTES,
    MAX_REDIRECTS,
    MAX_REQUEST_BYTES,
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

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
#: Most query parameters ``http_request`` adds to the URL.
MAX_PARAMS = 100
#: Longest GraphQL document, in characters.
MAX_QUERY_LENGTH = 100_000
#: Answers larger than this (bytes) are decoded and parsed in a worker thread.
THREAD_THRESHOLD = 64 * 1024

T = TypeVar("T")


def _encode_json(tool_name: str, argument: str, value: Any) -> bytes:
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(data) > MAX_REQUEST_BYTES:
        raise invalid_arg(tool_name, argument, f"is larger than {mib(MAX_REQUEST_BYTES)} "
                          "once encoded as JSON")
    return data


def _with_params(tool_name: str, url: str, params: dict[str, Any]) -> str:
    """``url`` with ``params`` appended to its query (values: strings or lists of strings)."""
    import httpx

    if not params:
        return url
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise invalid_arg(tool_name, "url", f"is not a valid URL: {exc}") from None
    pairs = [(k, v) for k, vs in params.items() for v in (vs if isinstance(vs, list) else [vs])]
    query = httpx.QueryParams(parsed.params).merge(httpx.QueryParams(pairs))
    return str(parsed.copy_with(params=query))


@tool(
    name="http_request",
    description="Send one HTTP request (GET, POST, PUT, ...) to an allowed host and return the "
    "answer. Returns {status, reason, ok, url (final, after redirects), redirects: [{status, "
    "url}], headers: {name: value}, content_type, body (text, or null when binary), "
    "body_base64 (binary bodies only, else null), json (the parsed body when it is JSON, else "
    "null)}. Any status is returned, not raised. Only http/https; the host of the URL and of "
    "every redirect must be allowed by the network policy, and private/loopback addresses are "
    f"refused unless allowed. Limits: body at most {mib(MAX_BYTES)} (max_bytes), request body "
    f"at most {mib(MAX_REQUEST_BYTES)}, redirects (default {DEFAULT_MAX_REDIRECTS}, at most "
    f"{MAX_REDIRECTS}), 120 s.",
    category=CATEGORY,
    permissions=NETWORK,
    parameters={
        "type": "object",
        "properties": {
            "url": url_property("The URL to request."),
            "method": {
                "type": "string",
                "enum": METHODS,
                "default": "GET",
                "description": "The HTTP method (default GET).",
            },
            "headers": HEADERS_PROPERTY,
            "params": {
                "type": "object",
                "maxProperties": MAX_PARAMS,
                "additionalProperties": {
                    "anyOf": [
                        {"type": "string"},
                        {"type": "array", "items": {"type": "string"}, "maxItems": 100},
                    ]
                },
                "default": {},
                "description": "Query parameters added to the URL's own, name to a string or "
                "a list of strings (repeated parameter).",
            },
            "body": {
                "type": "string",
                "maxLength": MAX_REQUEST_BYTES,
                "description": "Request body as text (sent as UTF-8; set Content-Type in "
                "headers). Not together with json.",
            },
            "json": {
                "description": "A JSON value sent as the request body with Content-Type "
                "application/json (unless headers set one). Not together with body.",
            },
            "follow_redirects": {
                "type": "boolean",
                "default": True,
                "description": "Follow redirects (each checked against the policy); false "
                "returns the 3xx answer itself.",
            },
            "max_redirects": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_REDIRECTS,
                "default": DEFAULT_MAX_REDIRECTS,
                "description": f"Most redirects followed before failing (default "
                f"{DEFAULT_MAX_REDIRECTS}, at most {MAX_REDIRECTS}).",
            },
            "timeout": TIMEOUT_PROPERTY,
            "max_bytes": max_bytes_property(),
        },
        "required": ["url"],
        "additionalProperties": False,
    },
    example={
        "method": "GET",
        "url": "https://example.com/api/items",
        "params": {"page": "1"},
        "headers": {"Accept": "application/json"},
        "timeout": 10,
    },
)
async def http_request(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    name = "http_request"
    headers = check_headers(name, args.get("headers"))
    if "body" in args and "json" in args:
        raise invalid_arg(name, "json", "give either body or json, not both")
    content: bytes | None = None
    if "body" in args:
        content = args["body"].encode("utf-8")
        if len(content) > MAX_REQUEST_BYTES:
            raise invalid_arg(name, "body", f"is larger than {mib(MAX_REQUEST_BYTES)}")
    elif "json" in args:
        content = _encode_json(name, "json", args["json"])
        if not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", "application/json"))
    url = _with_params(name, args["url"], args.get("params") or {})
    result = await fetch(
        ctx, url,
        method=args.get("method", "GET"),
        headers=headers,
        content=content,
        timeout=timeout_of(args),
        max_bytes=max_bytes_of(args),
        max_redirects=int(args.get("max_redirects", DEFAULT_MAX_REDIRECTS)),
        follow_redirects=bool(args.get("follow_redirects", True)),
    )
    return await off_loop(result, _describe, result)


def _describe(result: FetchResult) -> dict[str, Any]:
    """The answer as ``http_request`` returns it (decoding and JSON parsing included)."""
    body: str | None = None
    body_base64: str | None = None
    parsed: Any = None
    if result.is_text:
        body = result.text()
        if result.media_type == "application/json" or result.media_type.endswith("+json"):
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
    else:
        body_base64 = base64.b64encode(result.content).decode("ascii")
    return {
        "status": result.status,
        "reason": result.reason,
        "ok": 200 <= result.status < 300,
        "url": result.url,
        "redirects": result.redirects,
        "headers": result.headers_dict(),
        "content_type": result.media_type or None,
        "body": body,
        "body_base64": body_base64,
        "json": parsed,
    }


async def off_loop(result: FetchResult, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` — in a worker thread when the body is large enough for decoding and
    parsing to hold up the event loop (over :data:`THREAD_THRESHOLD` bytes)."""
    if len(result.content) > THREAD_THRESHOLD:
        return await trio.to_thread.run_sync(fn, *args)
    return fn(*args)


@tool(
    name="graphql_query",
    description="Run a GraphQL query or mutation against an endpoint (a JSON POST of {query, "
    "variables, operationName}). Returns {status, data, errors (the server's list, or null), "
    "extensions}; GraphQL errors are returned, not raised, while an answer that is not "
    "GraphQL JSON is an error. The endpoint's host must be allowed by the network policy. "
    f"Limits: query at most {MAX_QUERY_LENGTH} characters, request at most "
    f"{mib(MAX_REQUEST_BYTES)}, answer at most {mib(MAX_BYTES)}, 120 s.",
    category=CATEGORY,
    permissions=NETWORK,
    parameters={
        "type": "object",
        "properties": {
            "url": url_property("The GraphQL endpoint."),
            "query": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_QUERY_LENGTH,
                "description": "The GraphQL document (query or mutation).",
            },
            "variables": {
                "type": "object",
                "default": {},
                "description": "Values of the document's variables.",
            },
            "operation_name": {
                "type": "string",
                "minLength": 1,
                "maxLength": 200,
                "description": "Which operation of the document to run, when it has several "
                "(sent as operationName).",
            },
            "headers": HEADERS_PROPERTY,
            "timeout": TIMEOUT_PROPERTY,
            "max_bytes": max_bytes_property(),
        },
        "required": ["url", "query"],
        "additionalProperties": False,
    },
    example={
        "url": "https://example.com/graphql",
        "query": "query Item($id: ID!) { item(id: $id) { id name } }",
        "variables": {"id": "1"},
    },
)
async def graphql_query(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    name = "graphql_query"
    headers = check_headers(name, args.get("headers"))
    payload: dict[str, Any] = {"query": args["query"], "variables": args.get("variables") or {}}
    if "operation_name" in args:
        payload["operationName"] = args["operation_name"]
    content = _encode_json(name, "variables", payload)
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/json"))
    if not any(k.lower() == "accept" for k, _ in headers):
        headers.append(("Accept", "application/graphql-response+json, application/json"))
    result = await fetch(
        ctx, args["url"], method="POST", headers=headers, content=content,
        timeout=timeout_of(args), max_bytes=max_bytes_of(args),
    )
    return await off_loop(result, _graphql_answer, result)


def _graphql_answer(result: FetchResult) -> dict[str, Any]:
    text = result.text()
    try:
        answer = json.loads(text)
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or not ("data" in answer or "errors" in answer):
        reason = "http" if result.status >= 400 else "parse"
        raise tool_error(
            "graphql_query", reason,
            f"{result.url[:200]} answered {result.status} without a GraphQL result: "
            f"{text[:200]!r}",
            status=result.status, url=result.url[:500],
        )
    return {
        "status": result.status,
        "data": answer.get("data"),
        "errors": answer.get("errors"),
        "extensions": answer.get("extensions"),
    }
