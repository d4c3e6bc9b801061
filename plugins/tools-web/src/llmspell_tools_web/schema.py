"""JSON-schema fragments shared by the web tools, and the argument helpers that go with them."""

from __future__ import annotations

from typing import Any

from llmspell_tools_web.fetch import (
    DEFAULT_TIMEOUT,
    MAX_BYTES,
    MAX_HEADER_VALUE,
    MAX_HEADERS,
    MAX_TIMEOUT,
    MAX_URL_LENGTH,
    mib,
)

CATEGORY = "web"
NETWORK = frozenset({"network"})


def url_property(description: str) -> dict[str, Any]:
    """An absolute http(s) URL argument."""
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_URL_LENGTH,
        "description": f"{description} An absolute http:// or https:// URL (at most "
        f"{MAX_URL_LENGTH} characters); its host must be allowed by the run's network policy.",
    }


TIMEOUT_PROPERTY: dict[str, Any] = {
    "type": "number",
    "exclusiveMinimum": 0,
    "maximum": MAX_TIMEOUT,
    "default": DEFAULT_TIMEOUT,
    "description": f"Time limit in seconds for the whole call, redirects and body included "
    f"(default {DEFAULT_TIMEOUT:g}, at most {MAX_TIMEOUT:g}).",
}


def max_bytes_property(default: int = MAX_BYTES) -> dict[str, Any]:
    """The per-call response size limit."""
    return {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_BYTES,
        "default": default,
        "description": f"Largest response body read, in bytes, after decompression (default "
        f"{default}, at most {MAX_BYTES} = {mib(MAX_BYTES)}); a larger answer is an error.",
    }


HEADERS_PROPERTY: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {"type": "string", "maxLength": MAX_HEADER_VALUE},
    "maxProperties": MAX_HEADERS,
    "default": {},
    "description": f"Request headers, name to value (at most {MAX_HEADERS}). Hop-by-hop "
    "headers, Host, Content-Length and Accept-Encoding are refused; headers are dropped when a "
    "redirect leaves the origin (except Accept, Accept-Language and User-Agent).",
}


def timeout_of(args: dict[str, Any]) -> float:
    return float(args.get("timeout", DEFAULT_TIMEOUT))


def max_bytes_of(args: dict[str, Any], default: int = MAX_BYTES) -> int:
    return int(args.get("max_bytes", default))
