"""``text_diff``: a unified diff (or an ndiff listing) of two texts, with line counts.

Lines are split at ``\\n`` only. A last line without a newline is marked the way GNU diff does
(``\\ No newline at end of file``), so ``"a"`` and ``"a\\n"`` differ visibly. ndiff's intraline
hints (``?`` lines) cost time quadratic in the size of a changed block; blocks larger than
:data:`MAX_FANCY_PAIRS` line pairs (or with lines longer than :data:`MAX_FANCY_LINE_CHARS`)
are listed as plain removals and additions instead.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from functools import partial
from typing import Any

from llmspell.tools import ToolContext, tool
from llmspell_tools_data.support import MAX_OUTPUT_CHARS, MAX_TEXT_CHARS, invalid, run_blocking

#: Most lines in each text.
MAX_LINES = 20_000
#: Longest diff returned (``max_chars`` may lower it), in characters.
MAX_DIFF_CHARS = MAX_OUTPUT_CHARS
#: Default of ``max_chars``.
DEFAULT_MAX_CHARS = 100_000
#: Most context lines around a change.
MAX_CONTEXT = 1000
#: ndiff compares lines pairwise inside a changed block only up to this many pairs.
MAX_FANCY_PAIRS = 2500
#: ... and only when no line in the block is longer than this.
MAX_FANCY_LINE_CHARS = 500

_NO_NEWLINE = "\\ No newline at end of file\n"


class _BoundedDiffer(difflib.Differ):
    """``difflib.Differ`` whose intraline matching is skipped for large changed blocks."""

    def _fancy_replace(
        self, a: list[str], alo: int, ahi: int, b: list[str], blo: int, bhi: int
    ) -> Iterator[str]:
        pairs = (ahi - alo) * (bhi - blo)
        longest = max((len(x) for x in (*a[alo:ahi], *b[blo:bhi])), default=0)
        if pairs > MAX_FANCY_PAIRS or longest > MAX_FANCY_LINE_CHARS:
            yield from self._plain_replace(a, alo, ahi, b, blo, bhi)  # type: ignore[attr-defined]
        else:
            yield from super()._fancy_replace(a, alo, ahi, b, blo, bhi)  # type: ignore[misc]


def split_lines(text: str) -> list[str]:
    """``text`` as lines that keep their ``\\n``; the last one lacks it if the text does."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _run(args: dict[str, Any]) -> dict[str, Any]:
    old, new = split_lines(args["old"]), split_lines(args["new"])
    for field, lines in (("old", old), ("new", new)):
        if len(lines) > MAX_LINES:
            raise invalid(
                "text_diff", field, f"the text has {len(lines)} lines; the limit is {MAX_LINES}",
                limit=MAX_LINES,
            )
    unified = args.get("format", "unified") == "unified"
    if unified:
        produced: Iterator[str] = difflib.unified_diff(
            old, new,
            fromfile=args.get("old_label", "old"),
            tofile=args.get("new_label", "new"),
            n=int(args.get("context", 3)),
            lineterm="\n",
        )
    else:
        produced = _BoundedDiffer().compare(old, new)
    max_chars = int(args.get("max_chars", DEFAULT_MAX_CHARS))
    pieces: list[str] = []
    size = added = removed = 0
    truncated = False
    for index, line in enumerate(produced):
        if unified and index < 2:  # the ---/+++ header
            pass
        elif line.startswith("+"):
            added += 1
        elif line.startswith("-"):
            removed += 1
        if not line.endswith("\n"):
            line += "\n" + (_NO_NEWLINE if unified else "")
        if truncated or size + len(line) > max_chars:
            truncated = True
            continue
        pieces.append(line)
        size += len(line)
    return {
        "diff": "".join(pieces),
        "added": added,
        "removed": removed,
        "equal": args["old"] == args["new"],
        "truncated": truncated,
    }


@tool(
    name="text_diff",
    description="Compare two texts line by line and return "
    '{"diff": text, "added": lines, "removed": lines, "equal": bool, "truncated": bool}: a '
    "unified diff with context lines and ---/+++ labels (format \"unified\", the default), or "
    "a full ndiff listing (\"- \", \"+ \", \"  \" and \"? \" hint lines). A unified diff is "
    f"empty when the texts are equal. Each text at most {MAX_TEXT_CHARS} characters and "
    f"{MAX_LINES} lines; the diff is cut at whole lines at max_chars (default "
    f"{DEFAULT_MAX_CHARS}, limit {MAX_DIFF_CHARS}); the counts always cover the whole diff.",
    category="data",
    parameters={
        "type": "object",
        "properties": {
            "old": {
                "type": "string",
                "maxLength": MAX_TEXT_CHARS,
                "description": "The original text.",
            },
            "new": {
                "type": "string",
                "maxLength": MAX_TEXT_CHARS,
                "description": "The changed text.",
            },
            "format": {
                "type": "string",
                "enum": ["unified", "ndiff"],
                "default": "unified",
                "description": "'unified' (changes with context, default) or 'ndiff' (every "
                "line, with intraline hints).",
            },
            "context": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_CONTEXT,
                "default": 3,
                "description": "Unchanged lines shown around each change in a unified diff "
                f"(0 to {MAX_CONTEXT}, default 3).",
            },
            "old_label": {
                "type": "string",
                "maxLength": 200,
                "pattern": "^[^\\r\\n]*$",
                "default": "old",
                "description": "Name of the original in the --- header (default \"old\").",
            },
            "new_label": {
                "type": "string",
                "maxLength": 200,
                "pattern": "^[^\\r\\n]*$",
                "default": "new",
                "description": "Name of the changed text in the +++ header (default \"new\").",
            },
            "max_chars": {
                "type": "integer",
                "minimum": 100,
                "maximum": MAX_DIFF_CHARS,
                "default": DEFAULT_MAX_CHARS,
                "description": f"Longest diff returned (100 to {MAX_DIFF_CHARS}, default "
                f"{DEFAULT_MAX_CHARS}); 'truncated' tells whether it was cut.",
            },
        },
        "required": ["old", "new"],
        "additionalProperties": False,
    },
    example={"old": "one\ntwo\nthree\n", "new": "one\n2\nthree\nfour\n"},
)
async def text_diff(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    return await run_blocking(partial(_run, args))
