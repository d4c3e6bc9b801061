"""hash and encode: known digests and encodings, round trips (property tests), errors."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FOX = "The quick brown fox jumps over the lazy dog"

# --- hash -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "digest"),
    [
        (
            {"text": "hello world"},
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
        ),
        ({"text": "hello world", "algorithm": "md5"}, "5eb63bbbe01eeed093cb22bb8f5acdc3"),
        ({"text": "hello world", "algorithm": "sha1"}, "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"),
        (
            {"text": "abc", "algorithm": "sha512"},
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        ),
        (
            {"text": "", "algorithm": "sha3_256"},
            "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a",
        ),
        (
            {"text": "", "algorithm": "blake2b"},
            "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
            "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce",
        ),
        (
            {"text": "", "algorithm": "blake2s"},
            "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9",
        ),
        (
            {"text": "hello world", "encoding": "base64"},
            "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=",
        ),
        (
            {"data_base64": base64.b64encode(b"hello world").decode()},
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
        ),
        (
            {"text": FOX, "hmac_key": "key"},
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
        ),
        ({"text": FOX, "hmac_key": "key", "algorithm": "md5"}, "80070713463e7749b90c2dc24911e275"),
    ],
)
async def test_hash(call: Any, args: dict[str, Any], digest: str) -> None:
    out = await call("hash", args)
    assert out["digest"] == digest
    assert out["algorithm"] == args.get("algorithm", "sha256")
    assert out["encoding"] == args.get("encoding", "hex")
    assert out["hmac"] is ("hmac_key" in args)


async def test_hash_counts_utf8_bytes_and_binary(call: Any) -> None:
    assert (await call("hash", {"text": "é🎉"}))["bytes"] == 6
    raw = bytes(range(256))
    out = await call("hash", {"data_base64": base64.b64encode(raw).decode()})
    assert out["bytes"] == 256
    assert out["digest"] == "40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880"


async def test_hash_of_a_large_text(call: Any) -> None:
    out = await call("hash", {"text": "a" * 1_000_000})
    assert out["digest"] == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        ({}, "text", "give exactly one of 'text' and 'data_base64'"),
        ({"text": "a", "data_base64": "YQ=="}, "text", "give exactly one"),
        ({"data_base64": "not base64!"}, "data_base64", "not valid base64"),
        ({"data_base64": "YQ"}, None, None),  # missing padding is fine
        ({"text": "a", "algorithm": "sha256x"}, "algorithm", "is not one of"),
        ({"text": "a", "encoding": "hex2"}, "encoding", "is not one of"),
        ({"text": "\ud800"}, "text", "lone surrogate at character 0"),
    ],
)
async def test_hash_invalid(
    call: Any, invalid: Any, args: dict[str, Any], argument: str | None, fragment: str | None
) -> None:
    if argument is None:
        assert (await call("hash", args))["bytes"] == 1
        return
    assert fragment is not None
    await invalid("hash", args, argument, fragment)


# --- encode ---------------------------------------------------------------------------------

TEXT = "Grüße & <tags> \"quoted\" 'single' a/b?c=d 🎉"

ENCODED = [
    ({"encoding": "base64"}, "R3LDvMOfZSAmIDx0YWdzPiAicXVvdGVkIiAnc2luZ2xlJyBhL2I/Yz1kIPCfjok="),
    ({"encoding": "base64url"}, "R3LDvMOfZSAmIDx0YWdzPiAicXVvdGVkIiAnc2luZ2xlJyBhL2I_Yz1kIPCfjok="),
    (
        {"encoding": "base64url", "padding": False},
        "R3LDvMOfZSAmIDx0YWdzPiAicXVvdGVkIiAnc2luZ2xlJyBhL2I_Yz1kIPCfjok",
    ),
    (
        {"encoding": "hex"},
        "4772c3bcc39f652026203c746167733e202271756f74656422202773696e676c652720612f623f633d6420f09f8e89",
    ),
    (
        {"encoding": "url"},
        "Gr%C3%BC%C3%9Fe%20%26%20%3Ctags%3E%20%22quoted%22%20%27single%27%20a%2Fb%3Fc%3Dd%20%F0%9F%8E%89",
    ),
    (
        {"encoding": "url", "safe": "/"},
        "Gr%C3%BC%C3%9Fe%20%26%20%3Ctags%3E%20%22quoted%22%20%27single%27%20a/b%3Fc%3Dd%20%F0%9F%8E%89",
    ),
    (
        {"encoding": "url", "plus": True},
        "Gr%C3%BC%C3%9Fe+%26+%3Ctags%3E+%22quoted%22+%27single%27+a%2Fb%3Fc%3Dd+%F0%9F%8E%89",
    ),
    (
        {"encoding": "html"},
        "Grüße &amp; &lt;tags&gt; &quot;quoted&quot; &#x27;single&#x27; a/b?c=d 🎉",
    ),
]


@pytest.mark.parametrize(("options", "encoded"), ENCODED)
async def test_encode_and_decode(call: Any, options: dict[str, Any], encoded: str) -> None:
    assert await call("encode", {"text": TEXT, **options}) == {"text": encoded}
    decoded = await call("encode", {"text": encoded, "direction": "decode", **options})
    assert decoded == {"text": TEXT}


@pytest.mark.parametrize(
    ("args", "text"),
    [
        ({"text": "aGVs\nbG8=\n", "encoding": "base64"}, "hello"),  # whitespace ignored
        ({"text": "aGVsbG8", "encoding": "base64"}, "hello"),  # padding added
        ({"text": "E2 82 AC", "encoding": "hex"}, "€"),
        ({"text": "caf%C3%A9+au+lait", "encoding": "url"}, "café+au+lait"),
        ({"text": "caf%C3%A9+au+lait", "encoding": "url", "plus": True}, "café au lait"),
        ({"text": "&eacute;&#233;&#xE9; &amp;amp; &lt;", "encoding": "html"}, "ééé &amp; <"),
    ],
)
async def test_decode(call: Any, args: dict[str, Any], text: str) -> None:
    assert await call("encode", {**args, "direction": "decode"}) == {"text": text}


async def test_decode_base64url(call: Any) -> None:
    token = base64.urlsafe_b64encode("?>~ü".encode()).decode().rstrip("=")
    assert token == "Pz5-w7w"
    args = {"encoding": "base64url", "direction": "decode"}
    assert await call("encode", {"text": token, **args}) == {"text": "?>~ü"}
    # the standard alphabet is accepted too
    assert await call("encode", {"text": "Pz5+w7w=", **args}) == {"text": "?>~ü"}


@pytest.mark.parametrize(
    ("encoding", "text", "fragment"),
    [
        ("base64", "a$b=", "not valid base64"),
        ("base64", "abcde", "not valid base64"),
        ("base64", "/w==", "not UTF-8 text (byte 0)"),
        ("base64url", "a$b-", "not valid base64url"),
        ("hex", "abz", "not valid hex"),
        ("hex", "c3", "not UTF-8 text"),
        ("url", "%FF%FE", "not UTF-8"),
    ],
)
async def test_decode_errors_name_the_text(
    invalid: Any, encoding: str, text: str, fragment: str
) -> None:
    await invalid(
        "encode", {"text": text, "encoding": encoding, "direction": "decode"}, "text", fragment
    )


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        ({"text": "a"}, None, "'encoding' is a required property"),
        ({"text": "a", "encoding": "rot13"}, "encoding", "is not one of"),
        ({"text": "a", "encoding": "hex", "direction": "both"}, "direction", "is not one of"),
        ({"text": "\udfff", "encoding": "hex"}, "text", "lone surrogate"),
    ],
)
async def test_encode_invalid(
    call_error: Any, invalid: Any, args: dict[str, Any], argument: str | None, fragment: str
) -> None:
    if argument is None:
        err = await call_error("encode", args)
        assert err.code == "invalid_args"
        assert fragment in err.message
        return
    await invalid("encode", args, argument, fragment)


async def test_encode_output_is_bounded(call_error: Any) -> None:
    err = await call_error("encode", {"text": "é" * 300_000, "encoding": "hex"})  # 1.2 M hex
    assert err.code == "tool_error"
    assert err.details == {"tool": "encode", "reason": "too_large", "limit": 1_000_000}


ENCODINGS = [
    {"encoding": "base64"},
    {"encoding": "base64", "padding": False},
    {"encoding": "base64url"},
    {"encoding": "base64url", "padding": False},
    {"encoding": "hex"},
    {"encoding": "url"},
    {"encoding": "url", "safe": "/:"},
    {"encoding": "url", "plus": True},
    {"encoding": "html"},
]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=200), st.sampled_from(ENCODINGS))
async def test_encode_then_decode_is_identity(
    call: Any, text: str, options: dict[str, Any]
) -> None:
    encoded = await call("encode", {"text": text, **options})
    decoded = await call("encode", {"text": encoded["text"], "direction": "decode", **options})
    assert decoded == {"text": text}
