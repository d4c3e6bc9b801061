"""Time zones: IANA names through :mod:`zoneinfo` and fixed UTC offsets.

:mod:`zoneinfo` reads the system's zone database and falls back to the ``tzdata`` package on
machines without one, so every IANA name works everywhere. A zone argument is resolved by
:func:`resolve_zone`:

1. an IANA name, exactly as spelt (``"America/New_York"``, ``"UTC"``, ``"EST"``);
2. a fixed offset from UTC: ``"+05:30"``, ``"-0800"``, ``"+02"``, ``"UTC+01:00"``, ``"Z"``
   (ISO 8601 signs: east of Greenwich is ``+``; at most 23:59);
3. an IANA name spelt in another case (``"europe/paris"`` is ``Europe/Paris``).

Anything else is ``invalid_args`` naming the argument, with a suggestion (a near spelling, or the
zone of a city written with spaces: ``"New York"`` suggests ``America/New_York``).
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import trio

from llmspell.errors import did_you_mean
from llmspell_tools_time.errors import invalid
from llmspell_tools_time.limits import MAX_ZONE_LENGTH

_OFFSET = re.compile(r"(?:UTC)?\s*([+-])(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)
_KEY = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")
#: Names zoneinfo may load that are not zones of their own (``localtime`` is the machine's).
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


def fixed_offset(seconds: int) -> timezone:
    """The fixed-offset zone ``seconds`` east of UTC (:data:`UTC` for 0)."""
    return UTC if seconds == 0 else timezone(timedelta(seconds=seconds))


def format_offset(offset: timedelta | None) -> str:
    """``"+05:30"``, ``"-04:00"``, ``"+00:00"``; historical offsets keep their seconds
    (``"-04:56:02"``)."""
    total = int((offset or timedelta()).total_seconds())
    sign = "-" if total < 0 else "+"
    hours, rest = divmod(abs(total), 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}"
    return f"{text}:{seconds:02d}" if seconds else text


def zone_label(zone: tzinfo | None) -> str:
    """The name shown for a zone: the IANA key, ``"UTC"``, or ``"UTC+05:30"`` for a fixed
    offset (a label :func:`resolve_zone` accepts back)."""
    if isinstance(zone, ZoneInfo):
        return zone.key
    offset = zone.utcoffset(None) if zone is not None else None
    if not offset:
        return "UTC"
    return "UTC" + format_offset(offset)


def _load(key: str) -> ZoneInfo | None:
    if key in _NOT_ZONES or not _KEY.fullmatch(key):
        return None
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError, UnicodeError):
        return None


def _parse_offset(text: str) -> timezone | None:
    if text in ("Z", "z"):
        return UTC
    match = _OFFSET.fullmatch(text)
    if match is None:
        return None
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    if hours > 23 or minutes > 59:
        return None
    seconds = hours * 3600 + minutes * 60
    return fixed_offset(-seconds if sign == "-" else seconds)


@functools.cache
def zone_names() -> frozenset[str]:
    """Every IANA zone name available (walks the database: tens of milliseconds, so call it
    in a thread; cached for the process)."""
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


@functools.cache
def _by_casefold() -> dict[str, str]:
    return {name.casefold(): name for name in zone_names()}


@functools.cache
def _by_city() -> dict[str, str]:
    cities: dict[str, str] = {}
    for name in sorted(zone_names()):
        cities.setdefault(name.rsplit("/", 1)[-1].casefold(), name)
    return cities


def suggest(name: str) -> str:
    """A suffix for the error message: a near IANA name, the zone of a city, or some names."""
    names = zone_names()
    hint = did_you_mean(name, names)
    if hint.startswith("; did you mean"):
        return hint
    city = name.strip().replace(" ", "_").casefold()
    zones = _by_city()
    if city in zones:
        return f"; did you mean {zones[city]!r}?"
    import difflib

    close = difflib.get_close_matches(city, list(zones), n=1, cutoff=0.8)
    if close:
        return f"; did you mean {zones[close[0]]!r}?"
    return hint


def _lookup_any_case(name: str) -> ZoneInfo | None:
    key = _by_casefold().get(name.casefold())
    return _load(key) if key is not None else None


async def resolve_zone(name: str, tool: str, argument: str) -> tzinfo:
    """The zone ``name`` stands for (see the module docstring); ``invalid_args`` naming
    ``argument`` of ``tool`` with a suggestion when there is none."""
    text = name.strip()
    zone: tzinfo | None = _load(text) or _parse_offset(text)
    if zone is not None:
        return zone
    if text and len(text) <= MAX_ZONE_LENGTH:
        zone = await trio.to_thread.run_sync(_lookup_any_case, text)
        if zone is not None:
            return zone
    suffix = await trio.to_thread.run_sync(suggest, text)
    raise invalid(
        tool,
        argument,
        f"unknown time zone {name!r}{suffix}",
        hint='use an IANA name such as "Europe/Paris" or "America/New_York", "UTC", '
        'or a fixed offset such as "+05:30"',
    )


async def optional_zone(args: dict[str, object], tool: str, argument: str) -> tzinfo | None:
    """The zone named by ``args[argument]``, or ``None`` when the argument is absent."""
    value = args.get(argument)
    if value is None:
        return None
    return await resolve_zone(str(value), tool, argument)
