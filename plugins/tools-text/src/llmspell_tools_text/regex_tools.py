"""``regex_match``, ``regex_replace`` and ``regex_split``: regular expressions (the ``regex``
module, Python ``re`` syntax plus possessive quantifiers, atomic groups and ``\\p{...}``) with a
time guard, so that catastrophic backtracking ends in a ``timeout`` error instead of a hang.

Offsets are in characters (Unicode code points) of the text, 0-based, end exclusive. Every
call runs in a worker thread; the ``regex`` module is imported on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from llmspell.tools import ToolContext, tool
from llmspell_tools_text.errors import invalid_arg, timed_out, too_large
from llmspell_tools_text.limits import (
    DEFAULT_MAX_MATCHES,
    DEFAULT_REGEX_TIMEOUT,
    MAX_MATCHES,
    MAX_OUTPUT_CHARS,
    MAX_PATTERN_CHARS,
    MAX_PATTERN_EXPANSION,
    MAX_REGEX_TIMEOUT,
    MAX_REPLACEMENT_CHARS,
    MAX_SPLITS,
    MAX_TEXT_CHARS,
)
from llmspell_tools_text.pattern_size import expansion
from llmspell_tools_text.replacement import Replacement, TemplateError, parse_replacement
from llmspell_tools_text.schema import flag, obj, text_property
from llmspell_tools_text.threads import run_blocking

T = TypeVar("T")

CATEGORY = "text"

_COMMON: dict[str, Any] = {
    "pattern": text_property(
        f"The regular expression (Python re syntax; at most {MAX_PATTERN_CHARS:,} characters; "
        f"fixed repeat counts such as {{n}} may total at most {MAX_PATTERN_EXPANSION:,}).",
        MAX_PATTERN_CHARS,
    ),
    "text": text_property(f"The text to search (at most {MAX_TEXT_CHARS:,} characters)."),
    "ignore_case": flag("Match letters case-insensitively."),
    "multiline": flag("'^' and '$' match at the start and end of every line."),
    "dotall": flag("'.' matches newlines too."),
    "timeout_seconds": {
        "type": "number",
        "exclusiveMinimum": 0,
        "maximum": MAX_REGEX_TIMEOUT,
        "default": DEFAULT_REGEX_TIMEOUT,
        "description": f"Time guard of the whole call, in seconds (default "
        f"{DEFAULT_REGEX_TIMEOUT:g}, at most {MAX_REGEX_TIMEOUT:g}); past it the call fails "
        "with a 'timeout' error.",
    },
}

_GUARD = (
    f"Time-guarded ({DEFAULT_REGEX_TIMEOUT:g} s by default, at most {MAX_REGEX_TIMEOUT:g} s): "
    "a pattern that backtracks catastrophically fails with a 'timeout' error."
)


class _TooLarge(Exception):
    """The output passed its bound."""


def _compile(name: str, args: dict[str, Any]) -> Any:
    """The compiled pattern of ``args`` with its flags; ``invalid_args`` naming ``pattern``
    (also for a pattern that would unroll to more than :data:`MAX_PATTERN_EXPANSION` nodes)."""
    import regex

    size = expansion(args["pattern"])
    if size > MAX_PATTERN_EXPANSION:
        raise invalid_arg(
            name,
            "pattern",
            f"the pattern repeats too much: compiled it would unroll to about {size:,} steps "
            f"(limit {MAX_PATTERN_EXPANSION:,})",
            hint="use smaller fixed counts, or a range from zero such as {0,n}, which is not "
            "unrolled",
            expansion=size,
        )

    flags = regex.VERSION0
    if args.get("ignore_case"):
        flags |= regex.IGNORECASE
    if args.get("multiline"):
        flags |= regex.MULTILINE
    if args.get("dotall"):
        flags |= regex.DOTALL
    try:
        return regex.compile(args["pattern"], flags)
    except regex.error as exc:
        where = f" at position {exc.pos}" if exc.pos is not None else ""
        raise invalid_arg(
            name,
            "pattern",
            f"invalid regular expression: {exc.msg}{where}",
            position=exc.pos,
        ) from None
    except (OverflowError, RecursionError, ValueError, MemoryError) as exc:
        raise invalid_arg(name, "pattern", f"invalid regular expression: {exc}") from None


async def _guarded(name: str, args: dict[str, Any], work: Callable[[Any, float], T]) -> T:
    """Compile the pattern and run ``work(pattern, timeout)`` in a worker thread; map the
    ``regex`` time guard to a ``timeout`` error."""
    timeout = float(args.get("timeout_seconds", DEFAULT_REGEX_TIMEOUT))

    def run() -> T:
        return work(_compile(name, args), timeout)

    try:
        return await run_blocking(run, 0, always=True)
    except TimeoutError:
        raise timed_out(
            name,
            "the regular expression ran past its time guard; it probably backtracks "
            "catastrophically (nested quantifiers such as (a+)+ or overlapping alternatives "
            "such as (a|aa)+)",
            timeout,
        ) from None


def _describe(match: Any) -> dict[str, Any]:
    return {
        "text": match.group(),
        "start": match.start(),
        "end": match.end(),
        "groups": list(match.groups()),
        "named": match.groupdict(),
    }


def _size(match: Any) -> int:
    return len(match.group()) + sum(len(g) for g in match.groups() if g)


@tool(
    name="regex_match",
    description="Find matches of a regular expression in a text. Returns {matched, count, "
    "truncated, matches: [{text, start, end, groups, named}]}: offsets are 0-based character "
    "positions (end exclusive), groups the numbered groups (null when a group did not take "
    "part), named the named groups. mode 'all' lists every non-overlapping match (at most "
    f"max_matches, default {DEFAULT_MAX_MATCHES}, limit {MAX_MATCHES}), 'first' the first "
    "one, 'fullmatch' the whole text if the pattern matches all of it. The matched texts "
    f"total at most {MAX_OUTPUT_CHARS:,} characters; truncated is true when matches were left "
    f"out. {_GUARD} A malformed pattern is an invalid_args error giving the position.",
    category=CATEGORY,
    parameters=obj(
        {
            **_COMMON,
            "mode": {
                "type": "string",
                "enum": ["all", "first", "fullmatch"],
                "default": "all",
                "description": "'all' (every match), 'first' (the first match) or 'fullmatch' "
                "(the pattern must match the whole text).",
            },
            "max_matches": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_MATCHES,
                "default": DEFAULT_MAX_MATCHES,
                "description": f"Most matches returned in mode 'all' (1 to {MAX_MATCHES}, "
                f"default {DEFAULT_MAX_MATCHES}).",
            },
        },
        ["pattern", "text"],
    ),
    example={"pattern": r"(?P<user>\w+)@(?P<host>[\w.]+)", "text": "ann@example.org, bob@x.io"},
)
async def regex_match(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    name = "regex_match"
    text: str = args["text"]
    mode = args.get("mode", "all")
    limit = int(args.get("max_matches", DEFAULT_MAX_MATCHES))

    def work(pattern: Any, timeout: float) -> dict[str, Any]:
        if mode == "first":
            found = [pattern.search(text, timeout=timeout)]
        elif mode == "fullmatch":
            found = [pattern.fullmatch(text, timeout=timeout)]
        else:
            found = pattern.finditer(text, timeout=timeout)
        matches: list[dict[str, Any]] = []
        total = 0
        truncated = False
        for match in found:
            if match is None:
                continue
            size = _size(match)
            if len(matches) >= limit or total + size > MAX_OUTPUT_CHARS:
                truncated = True
                break
            total += size
            matches.append(_describe(match))
        return {
            "matched": bool(matches),
            "count": len(matches),
            "truncated": truncated,
            "matches": matches,
        }

    return await _guarded(name, args, work)


@tool(
    name="regex_replace",
    description="Replace the matches of a regular expression in a text. Returns {text, "
    "replacements}: the new text and how many matches were replaced. The replacement may "
    "reference groups: \\1 to \\99, \\g<name>, \\g<0> (the whole match); \\n and \\t are a "
    "newline and a tab. count limits the replacements (0, the default, replaces all). The "
    f"result is at most max_output_chars (default and limit {MAX_OUTPUT_CHARS:,}) long, "
    f"else a tool_error with reason 'too_large'. {_GUARD}",
    category=CATEGORY,
    parameters=obj(
        {
            **_COMMON,
            "replacement": text_property(
                "The replacement template: literal text with group references \\1, "
                "\\g<name>, \\g<0> (at most "
                f"{MAX_REPLACEMENT_CHARS:,} characters).",
                MAX_REPLACEMENT_CHARS,
            ),
            "count": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_TEXT_CHARS + 1,
                "default": 0,
                "description": "Most matches to replace, from the start (0 = all).",
            },
            "max_output_chars": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_OUTPUT_CHARS,
                "default": MAX_OUTPUT_CHARS,
                "description": f"Longest result allowed (at most {MAX_OUTPUT_CHARS:,}).",
            },
        },
        ["pattern", "text", "replacement"],
    ),
    example={
        "pattern": r"(\w+)@(\w+)\.com",
        "text": "ann@example.com",
        "replacement": r"\2: \1",
    },
)
async def regex_replace(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    name = "regex_replace"
    text: str = args["text"]
    count = int(args.get("count", 0))
    limit = int(args.get("max_output_chars", MAX_OUTPUT_CHARS))

    def work(pattern: Any, timeout: float) -> dict[str, Any]:
        try:
            replacement: Replacement = parse_replacement(
                args["replacement"], pattern.groups, pattern.groupindex
            )
        except TemplateError as exc:
            raise invalid_arg(name, "replacement", str(exc), position=exc.position) from None
        literal = replacement.literal
        size = len(text)

        def substitute(match: Any) -> str:
            nonlocal size
            new = literal if literal is not None else replacement.expand(match)
            size += len(new) - (match.end() - match.start())
            if size > limit:
                raise _TooLarge
            return new

        out, replaced = pattern.subn(substitute, text, count=count, timeout=timeout)
        return {"text": out, "replacements": replaced}

    if len(text) > limit:
        raise too_large(name, f"the text is {len(text):,} characters long", limit)
    try:
        return await _guarded(name, args, work)
    except _TooLarge:
        raise too_large(name, "the replaced text would exceed max_output_chars", limit) from None


@tool(
    name="regex_split",
    description="Split a text at the matches of a regular expression. Returns {parts, count, "
    "truncated}: the pieces between matches, in order; when the pattern has groups, their "
    "texts are placed between the pieces (null for a group that did not take part), as in "
    "Python's re.split. maxsplit limits the splits (0, the default, splits at every match, "
    f"at most {MAX_SPLITS:,}; past that the rest stays in the last part and truncated is "
    f"true). {_GUARD}",
    category=CATEGORY,
    parameters=obj(
        {
            **_COMMON,
            "maxsplit": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_SPLITS,
                "default": 0,
                "description": f"Most splits (0 = every match, up to {MAX_SPLITS:,}).",
            },
        },
        ["pattern", "text"],
    ),
    example={"pattern": r"\s*[,;]\s*", "text": "red, green;blue ,  yellow"},
)
async def regex_split(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    name = "regex_split"
    text: str = args["text"]
    maxsplit = int(args.get("maxsplit", 0))
    limit = maxsplit or MAX_SPLITS

    def work(pattern: Any, timeout: float) -> dict[str, Any]:
        parts: list[str | None] = []
        previous = 0
        splits = 0
        total = 0
        truncated = False
        for match in pattern.finditer(text, timeout=timeout):
            if splits >= limit:
                truncated = not maxsplit
                break
            groups = match.groups()
            total += match.start() - previous + sum(len(g) for g in groups if g)
            if total > MAX_OUTPUT_CHARS:
                raise _TooLarge
            parts.append(text[previous : match.start()])
            parts.extend(groups)
            previous = match.end()
            splits += 1
        parts.append(text[previous:])
        return {"parts": parts, "count": len(parts), "truncated": truncated}

    try:
        return await _guarded(name, args, work)
    except _TooLarge:
        raise too_large(
            name, "the parts (with the captured groups) are too long", MAX_OUTPUT_CHARS
        ) from None


TOOLS = (regex_match, regex_replace, regex_split)
