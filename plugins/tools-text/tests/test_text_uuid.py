"""uuid: generation (random and name-based), parsing, errors."""

from __future__ import annotations

import uuid
from typing import Any

import pytest


async def test_generate_random(call: Any) -> None:
    out = await call("uuid", {})
    assert len(out["uuids"]) == 1
    many = await call("uuid", {"count": 100})
    values = [uuid.UUID(u) for u in many["uuids"]]
    assert len(set(values)) == 100
    assert all(v.version == 4 and v.variant == uuid.RFC_4122 for v in values)
    assert all(str(v) == s for v, s in zip(values, many["uuids"], strict=True))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            {"version": 5, "namespace": "dns", "name": "example.org"},
            "aad03681-8b63-5304-89e0-8ca8f49461b5",
        ),
        (
            {"version": 5, "namespace": "URL", "name": "https://example.org/"},
            "527dda32-a0de-5105-a042-cb475b5f7d11",
        ),
        (
            {"version": 3, "namespace": "dns", "name": "example.org"},
            "04738bdf-b25a-3829-a801-b21a1d25095b",
        ),
        (
            {"version": 5, "namespace": "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "name": "x"},
            "05b16a01-46c6-56dd-bd6e-c6dfb4a1427a",
        ),
        (
            {"version": 5, "namespace": "oid", "name": "x", "count": 1},
            str(uuid.uuid5(uuid.NAMESPACE_OID, "x")),
        ),
    ],
)
async def test_generate_name_based(call: Any, args: dict[str, Any], expected: str) -> None:
    assert await call("uuid", {"action": "generate", **args}) == {"uuids": [expected]}


# RFC 9562 test vectors (appendix A): the same instant, 2022-02-22T19:22:22Z
@pytest.mark.parametrize(
    ("text", "canonical", "version", "time"),
    [
        (
            "C232AB00-9414-11EC-B3C8-9F6BDECED846",
            "c232ab00-9414-11ec-b3c8-9f6bdeced846",
            1,
            "2022-02-22T19:22:22Z",
        ),
        (
            "{1EC9414C-232A-6B00-B3C8-9F6BDECED846}",
            "1ec9414c-232a-6b00-b3c8-9f6bdeced846",
            6,
            "2022-02-22T19:22:22Z",
        ),
        (
            "urn:uuid:017f22e2-79b0-7cc3-98c4-dc0c0c07398f",
            "017f22e2-79b0-7cc3-98c4-dc0c0c07398f",
            7,
            "2022-02-22T19:22:22Z",
        ),
        ("aad036818b63530489e08ca8f49461b5", "aad03681-8b63-5304-89e0-8ca8f49461b5", 5, None),
    ],
)
async def test_parse(call: Any, text: str, canonical: str, version: int, time: str | None) -> None:
    out = await call("uuid", {"action": "parse", "uuid": text})
    assert out == {
        "valid": True,
        "uuid": canonical,
        "version": version,
        "variant": "rfc_4122",
        "hex": canonical.replace("-", ""),
        "urn": f"urn:uuid:{canonical}",
        "nil": False,
        "time": time,
    }


async def test_parse_nil_and_other_variants(call: Any) -> None:
    nil = await call("uuid", {"action": "parse", "uuid": "00000000-0000-0000-0000-000000000000"})
    assert nil["valid"] is True
    assert nil["nil"] is True
    assert nil["variant"] == "reserved_ncs"
    assert nil["version"] is None
    assert "time" not in nil


@pytest.mark.parametrize(
    "text", ["", "not-a-uuid", "aad03681-8b63-5304-89e0-8ca8f49461b", "g" * 32]
)
async def test_parse_invalid_uuid_is_an_answer(call: Any, text: str) -> None:
    out = await call("uuid", {"action": "parse", "uuid": text})
    assert out["valid"] is False
    assert out["error"]


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        ({"version": 5, "namespace": "dns"}, "name", "version 5 needs 'namespace' and 'name'"),
        ({"version": 3, "name": "x"}, "namespace", "version 3 needs"),
        (
            {"version": 5, "namespace": "web", "name": "x"},
            "namespace",
            "'web' is neither one of dns, url, oid, x500 nor a UUID",
        ),
        ({"version": 5, "namespace": "dns", "name": "x", "count": 2}, "count", "deterministic"),
        ({"version": 4, "name": "x"}, "name", "only used by versions 3 and 5"),
        ({"version": 5, "namespace": "dns", "name": "\ud800"}, "name", "lone surrogate"),
        ({"action": "parse"}, "uuid", "needs the UUID to parse"),
        ({"action": "parse", "uuid": "x", "count": 2}, "count", "not used by action 'parse'"),
        ({"uuid": "x"}, "uuid", "only used by action 'parse'"),
        ({"version": 2}, "version", "is not one of [3, 4, 5]"),
        ({"count": 101}, "count", "maximum"),
        ({"action": "validate"}, "action", "is not one of"),
    ],
)
async def test_uuid_invalid(
    invalid: Any, args: dict[str, Any], argument: str, fragment: str
) -> None:
    await invalid("uuid", args, argument, fragment)
