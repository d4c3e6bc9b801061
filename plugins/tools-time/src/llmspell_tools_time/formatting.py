"""Formatting moments: strftime patterns and the named styles of ``time_format``."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from llmspell_tools_time.errors import invalid


def format_style(moment: datetime, style: str) -> str:
    """``moment`` in one of the :data:`STYLES`."""
    if style == "iso":
        return moment.isoformat()
    if style == "rfc3339":
        text = moment.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if style == "date":
        return moment.date().isoformat()
    if style == "time":
        return moment.time().isoformat()
    from email.utils import format_datetime

    if style == "http":
        return format_datetime(moment.astimezone(UTC), usegmt=True)
    if style == "rfc2822":
        return format_datetime(moment)
    raise ValueError(f"unknown style {style!r}")


_DIRECTIVE = re.compile(r"%(.)", re.DOTALL)


def strftime(moment: datetime, pattern: str, tool: str, argument: str = "format") -> str:
    """``moment.strftime(pattern)``; ``invalid_args`` naming ``argument`` if the platform
    refuses the pattern (or it holds a NUL character, where C's strftime would stop). Names of
    days and months are English (the C locale); ``%s`` is the unix timestamp (whole seconds)."""
    if "\x00" in pattern:
        raise invalid(tool, argument, "the pattern contains a NUL character")
    if "%s" in pattern:  # C's %s reads the time as the machine's local time: expand it here
        seconds = int(moment.timestamp() // 1)
        pattern = _DIRECTIVE.sub(
            lambda m: str(seconds) if m.group(1) == "s" else m.group(), pattern
        )
    try:
        return moment.strftime(pattern)
    except (ValueError, UnicodeError) as exc:
        raise invalid(tool, argument, f"invalid strftime pattern: {exc}") from None
