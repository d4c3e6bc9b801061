"""``uuid``: generate UUIDs (random version 4, or name-based versions 3 and 5) or parse one."""

from __future__ import annotations

from typing import Any

from llmspell.tools import ToolContext, tool
from llmspell_tools_text.errors import invalid_arg
from llmspell_tools_text.limits import MAX_UUIDS
from llmspell_tools_text.schema import obj

NAME = "uuid"
NAMESPACES = ("dns", "url", "oid", "x500")
_GREGORIAN_OFFSET = 0x01B21DD213814000  # 100 ns intervals from 1582-10-15 to 1970-01-01


def _namespace(value: str) -> Any:
    import uuid

    if value.lower() in NAMESPACES:
        return getattr(uuid, f"NAMESPACE_{value.upper()}")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise invalid_arg(
            NAME,
            "namespace",
            f"{value!r} is neither one of {', '.join(NAMESPACES)} nor a UUID",
        ) from None


def _variant(u: Any) -> str:
    import uuid

    return {
        uuid.RFC_4122: "rfc_4122",
        uuid.RESERVED_NCS: "reserved_ncs",
        uuid.RESERVED_MICROSOFT: "reserved_microsoft",
        uuid.RESERVED_FUTURE: "reserved_future",
    }[u.variant]


def _time(u: Any) -> str | None:
    """The creation time of a time-based UUID (versions 1, 6, 7), as ISO 8601 UTC."""
    from datetime import UTC, datetime, timedelta

    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    if u.version == 1:
        ticks = u.time
    elif u.version == 6:
        # time_high (32 bits), time_mid (16), version (4), time_low (12)
        ticks = (u.int >> 80) << 12 | ((u.int >> 64) & 0x0FFF)
    elif u.version == 7:
        return (epoch + timedelta(milliseconds=u.int >> 80)).isoformat().replace("+00:00", "Z")
    else:
        return None
    moment = epoch + timedelta(microseconds=(ticks - _GREGORIAN_OFFSET) // 10)
    return moment.isoformat().replace("+00:00", "Z")


def _parse(text: str) -> dict[str, Any]:
    import uuid

    try:
        u = uuid.UUID(text.strip())
    except ValueError as exc:
        return {"valid": False, "error": str(exc) or "not a UUID"}
    info: dict[str, Any] = {
        "valid": True,
        "uuid": str(u),
        "version": u.version,
        "variant": _variant(u),
        "hex": u.hex,
        "urn": u.urn,
        "nil": u.int == 0,
    }
    if u.variant == uuid.RFC_4122:
        info["time"] = _time(u)
    return info


@tool(
    name=NAME,
    description="Generate UUIDs or parse one. action 'generate' (default) returns {uuids}: "
    f"random version-4 UUIDs (count, 1 to {MAX_UUIDS}) or, with version 5 or 3, the one "
    "name-based UUID of 'name' in 'namespace' (dns, url, oid, x500 or any UUID; the same "
    "inputs always give the same UUID). action 'parse' checks 'uuid' (any common form: "
    "hyphens, braces, urn:uuid:) and returns {valid, uuid (canonical), version, variant, "
    "hex, urn, nil, time (ISO 8601, for time-based versions 1, 6 and 7)}, or {valid: false, "
    "error}.",
    category="text",
    parameters=obj(
        {
            "action": {
                "type": "string",
                "enum": ["generate", "parse"],
                "default": "generate",
                "description": "'generate' (default) or 'parse'.",
            },
            "version": {
                "type": "integer",
                "enum": [3, 4, 5],
                "default": 4,
                "description": "generate: 4 (random, default), 5 (SHA-1 of namespace and "
                "name) or 3 (MD5 of namespace and name).",
            },
            "count": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_UUIDS,
                "default": 1,
                "description": f"generate, version 4: how many UUIDs (1 to {MAX_UUIDS}).",
            },
            "namespace": {
                "type": "string",
                "maxLength": 100,
                "description": "generate, versions 3 and 5: dns, url, oid, x500 or a UUID.",
            },
            "name": {
                "type": "string",
                "maxLength": 10_000,
                "description": "generate, versions 3 and 5: the name, e.g. 'example.org'.",
            },
            "uuid": {
                "type": "string",
                "maxLength": 100,
                "description": "parse: the UUID to check.",
            },
        },
        [],
    ),
    example={"action": "generate", "version": 5, "namespace": "dns", "name": "example.org"},
)
async def uuid_(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    import uuid

    action = args.get("action", "generate")
    given = set(args) - {"action"}
    if action == "parse":
        extra = sorted(given - {"uuid"})
        if extra:
            raise invalid_arg(NAME, extra[0], "is not used by action 'parse'")
        if "uuid" not in args:
            raise invalid_arg(NAME, "uuid", "action 'parse' needs the UUID to parse")
        return _parse(args["uuid"])
    if "uuid" in args:
        raise invalid_arg(NAME, "uuid", "is only used by action 'parse'")
    version = int(args.get("version", 4))
    if version == 4:
        for arg in ("namespace", "name"):
            if arg in args:
                raise invalid_arg(NAME, arg, "is only used by versions 3 and 5")
        count = int(args.get("count", 1))
        return {"uuids": [str(uuid.uuid4()) for _ in range(count)]}
    if "count" in args and int(args["count"]) != 1:
        raise invalid_arg(
            NAME, "count", f"version {version} UUIDs are deterministic: there is only one"
        )
    for arg in ("namespace", "name"):
        if arg not in args:
            raise invalid_arg(NAME, arg, f"version {version} needs 'namespace' and 'name'")
    namespace = _namespace(args["namespace"])
    make = uuid.uuid5 if version == 5 else uuid.uuid3
    try:
        return {"uuids": [str(make(namespace, args["name"]))]}
    except UnicodeEncodeError as exc:
        raise invalid_arg(
            NAME, "name", f"contains a lone surrogate at character {exc.start}"
        ) from None


TOOLS = (uuid_,)
