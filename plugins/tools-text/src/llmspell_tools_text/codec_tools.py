"""``hash`` and ``encode``: digests, HMACs and reversible text encodings."""

from __future__ import annotations

from typing import Any

from llmspell.tools import ToolContext, tool
from llmspell_tools_text.errors import failed, invalid_arg, too_large
from llmspell_tools_text.limits import (
    MAX_BASE64_CHARS,
    MAX_KEY_CHARS,
    MAX_OUTPUT_CHARS,
    MAX_TEXT_CHARS,
)
from llmspell_tools_text.schema import obj, text_property
from llmspell_tools_text.threads import run_blocking

CATEGORY = "text"

ALGORITHMS = ["md5", "sha1", "sha256", "sha512", "sha3_256", "blake2b", "blake2s"]


def _b64decode(name: str, argument: str, data: str, *, urlsafe: bool = False) -> bytes:
    """Strict base64 (whitespace ignored, missing padding added); ``invalid_args`` naming
    ``argument``."""
    import base64
    import binascii

    compact = "".join(data.split())
    compact += "=" * (-len(compact) % 4)
    try:
        if urlsafe:
            return base64.b64decode(compact.translate(str.maketrans("-_", "+/")), validate=True)
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        alphabet = "base64url (A-Z a-z 0-9 - _ + /)" if urlsafe else "base64 (A-Z a-z 0-9 + /)"
        raise invalid_arg(name, argument, f"not valid {alphabet}: {exc}") from None


@tool(
    name="hash",
    description="Compute a digest of a text (UTF-8) or of bytes given as base64, optionally "
    "as an HMAC with a key. Returns {digest, algorithm, encoding, hmac, bytes}: the digest in "
    "hex (default) or base64 and the number of input bytes. Algorithms: "
    f"{', '.join(ALGORITHMS)} (md5 and sha1 only for checksums, not for security). Give "
    f"exactly one of text (at most {MAX_TEXT_CHARS:,} characters) and data_base64 (about "
    "1 MB).",
    category=CATEGORY,
    parameters=obj(
        {
            "text": text_property("The text to hash (encoded as UTF-8)."),
            "data_base64": text_property(
                "The bytes to hash, base64-encoded (instead of text).", MAX_BASE64_CHARS
            ),
            "algorithm": {
                "type": "string",
                "enum": ALGORITHMS,
                "default": "sha256",
                "description": "The hash algorithm (default sha256).",
            },
            "encoding": {
                "type": "string",
                "enum": ["hex", "base64"],
                "default": "hex",
                "description": "How the digest is written: lower-case hex or base64.",
            },
            "hmac_key": text_property(
                "Compute an HMAC with this key (UTF-8) instead of a plain digest.",
                MAX_KEY_CHARS,
            ),
        },
        [],
    ),
    example={"text": "hello world", "algorithm": "sha256"},
)
async def hash_(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    import base64
    import hashlib
    import hmac

    name = "hash"
    if ("text" in args) == ("data_base64" in args):
        raise invalid_arg(name, "text", "give exactly one of 'text' and 'data_base64'")
    if "text" in args:
        data = utf8(name, "text", args["text"])
    else:
        data = _b64decode(name, "data_base64", args["data_base64"])
    algorithm = args.get("algorithm", "sha256")
    key = args.get("hmac_key")
    key_bytes = None if key is None else utf8(name, "hmac_key", key)

    def digest() -> bytes:
        if key_bytes is not None:
            return hmac.new(key_bytes, data, getattr(hashlib, algorithm)).digest()
        return hashlib.new(algorithm, data).digest()

    try:
        raw = await run_blocking(digest, len(data))
    except ValueError as exc:  # e.g. md5 refused by a FIPS build of OpenSSL
        raise failed(name, "unavailable", f"{algorithm} is not available here: {exc}") from None
    encoding = args.get("encoding", "hex")
    text = raw.hex() if encoding == "hex" else base64.b64encode(raw).decode("ascii")
    return {
        "digest": text,
        "algorithm": algorithm,
        "encoding": encoding,
        "hmac": key is not None,
        "bytes": len(data),
    }


ENCODINGS = ["base64", "base64url", "hex", "url", "html"]


def utf8(name: str, argument: str, text: str) -> bytes:
    """``text`` as UTF-8; ``invalid_args`` for a lone surrogate (possible in JSON strings)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise invalid_arg(
            name, argument, f"contains a lone surrogate at character {exc.start}"
        ) from None


def _decoded_text(name: str, data: bytes, encoding: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise invalid_arg(
            name,
            "text",
            f"the {encoding}-decoded bytes are not UTF-8 text (byte {exc.start})",
            hint="the data is binary; only text can be returned",
        ) from None


def _encode(args: dict[str, Any]) -> str:
    import base64
    import html
    import urllib.parse

    name = "encode"
    text: str = args["text"]
    encoding = args["encoding"]
    if args.get("direction", "encode") == "encode":
        data = utf8(name, "text", text)
        if encoding == "base64":
            out = base64.b64encode(data).decode("ascii")
        elif encoding == "base64url":
            out = base64.urlsafe_b64encode(data).decode("ascii")
        elif encoding == "hex":
            return data.hex()
        elif encoding == "url":
            safe = args.get("safe", "")
            if args.get("plus"):
                return urllib.parse.quote_plus(text, safe=safe)
            return urllib.parse.quote(text, safe=safe)
        else:
            return html.escape(text, quote=True)
        return out if args.get("padding", True) else out.rstrip("=")
    # decode
    if encoding in ("base64", "base64url"):
        return _decoded_text(
            name, _b64decode(name, "text", text, urlsafe=encoding == "base64url"), encoding
        )
    if encoding == "hex":
        try:
            return _decoded_text(name, bytes.fromhex(text), encoding)
        except ValueError as exc:
            raise invalid_arg(name, "text", f"not valid hex: {exc}") from None
    if encoding == "url":
        unquote = urllib.parse.unquote_plus if args.get("plus") else urllib.parse.unquote
        try:
            return unquote(text, errors="strict")
        except UnicodeDecodeError as exc:
            raise invalid_arg(
                name, "text", f"the percent-escapes are not UTF-8 ({exc.reason})"
            ) from None
    return html.unescape(text)


@tool(
    name="encode",
    description="Encode a text to base64, base64url, hex, URL percent-encoding or HTML "
    "entities, or decode it back (direction 'decode'). Returns {text}. Text is UTF-8; "
    "decoding bytes that are not UTF-8 text, or malformed input, is an invalid_args error "
    "naming 'text'. base64 decoding ignores whitespace and missing padding (base64url accepts "
    "both alphabets); 'url' encodes "
    "every reserved character unless listed in 'safe' ('plus' writes spaces as '+', as in "
    "forms); 'html' escapes & < > \" ' and decodes every named and numeric entity. Input at "
    f"most {MAX_TEXT_CHARS:,} characters, output at most {MAX_OUTPUT_CHARS:,}.",
    category=CATEGORY,
    parameters=obj(
        {
            "text": text_property("The text to encode, or the encoded text to decode."),
            "encoding": {
                "type": "string",
                "enum": ENCODINGS,
                "description": "base64, base64url (URL-safe alphabet), hex, url (percent-"
                "encoding) or html (entities).",
            },
            "direction": {
                "type": "string",
                "enum": ["encode", "decode"],
                "default": "encode",
                "description": "'encode' (default) or 'decode'.",
            },
            "padding": {
                "type": "boolean",
                "default": True,
                "description": "base64/base64url encoding: end with '=' padding (JWTs and "
                "many URLs leave it out).",
            },
            "safe": {
                "type": "string",
                "maxLength": 100,
                "default": "",
                "description": "url encoding: characters left as they are (e.g. '/' for paths).",
            },
            "plus": {
                "type": "boolean",
                "default": False,
                "description": "url: spaces are '+' (HTML form encoding).",
            },
        },
        ["text", "encoding"],
    ),
    example={"text": "Grüße & <tags>", "encoding": "base64"},
)
async def encode(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    out = await run_blocking(lambda: _encode(args), len(args["text"]))
    if len(out) > MAX_OUTPUT_CHARS:
        raise too_large("encode", f"the result is {len(out):,} characters long", MAX_OUTPUT_CHARS)
    return {"text": out}


TOOLS = (hash_, encode)
