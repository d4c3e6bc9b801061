"""Splitting a text into chunks that fit a size (estimated tokens or characters), preferring
paragraph, then sentence, then word boundaries, with an optional overlap.

Contract (checked by the property tests):

- every chunk is the exact slice ``text[start:end]`` (whitespace at a boundary stays at the end
  of the chunk before it); the first starts at 0, the last ends at ``len(text)``;
- starts and ends strictly increase, and each chunk starts at or before the end of the one
  before it: dropping the first ``previous_end - start`` characters of every chunk and joining
  them gives the text back;
- every chunk fits the size (its token estimate, or its length, is at most the maximum); an
  overlap is at most the requested one;
- a chunk ends at the last paragraph boundary within its size if that keeps it at least half
  as long as the size allows, else at the last sentence boundary, else at the last word
  boundary, else exactly at the size.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from typing import Any

from llmspell_tools_text.tokens import Family, TokenCounter

#: Where a paragraph begins: after a blank line.
_PARAGRAPH = re.compile(r"\n[ \t\r\f\v]*\n\s*")
#: Where a sentence begins: after . ! ? … (and closing quotes or brackets) and whitespace, or
#: after CJK full stops.
_SENTENCE = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*\s+|[\u3002\uff01\uff1f]+\s*")
#: Where a word begins: after whitespace.
_WORD = re.compile(r"\s+")


def _boundaries(pattern: re.Pattern[str], text: str) -> list[int]:
    return [m.end() for m in pattern.finditer(text) if 0 < m.end() < len(text)]


def _last_in(positions: list[int], low: int, high: int) -> int | None:
    """The largest position in ``(low, high]``, if any."""
    i = bisect_right(positions, high)
    if i and positions[i - 1] > low:
        return positions[i - 1]
    return None


def _first_in(positions: list[int], low: int, high: int) -> int | None:
    """The smallest position in ``[low, high)``, if any."""
    i = bisect_left(positions, low)
    if i < len(positions) and positions[i] < high:
        return positions[i]
    return None


def chunk_text(
    text: str,
    *,
    family: Family,
    max_tokens: int | None = None,
    max_chars: int | None = None,
    overlap: int = 0,
    max_chunks: int,
) -> tuple[list[dict[str, Any]], bool]:
    """The chunks of ``text`` (see the module docstring) and whether ``max_chunks`` cut the
    list short. Exactly one of ``max_tokens``/``max_chars``; ``overlap`` (same unit) at most
    half of it."""
    counter = TokenCounter(text, family)
    size: Callable[[int, int], int]
    if max_tokens is not None:
        limit = max_tokens
        size = counter.tokens
    elif max_chars is not None:
        limit = max_chars

        def size(start: int, end: int) -> int:
            return end - start
    else:
        raise ValueError("give max_tokens or max_chars")
    if not 0 <= overlap <= limit // 2:
        raise ValueError("overlap must be between 0 and half the chunk size")

    kinds = [_boundaries(p, text) for p in (_PARAGRAPH, _SENTENCE, _WORD)]
    words = kinds[2]
    n = len(text)
    chunks: list[dict[str, Any]] = []
    start = previous_end = 0
    truncated = False
    while start < n:
        if len(chunks) >= max_chunks:
            truncated = True
            break
        if size(start, n) <= limit:
            end = n
        else:
            # the furthest end that fits: size(start, end) grows with end
            low, high = start + 1, n
            while low < high:
                mid = (low + high + 1) // 2
                if size(start, mid) <= limit:
                    low = mid
                else:
                    high = mid - 1
            furthest = low
            floor = max(previous_end, start + (furthest - start) // 2)
            end = furthest
            for positions in kinds:
                found = _last_in(positions, floor, furthest)
                if found is not None:
                    end = found
                    break
        chunks.append(
            {
                "index": len(chunks),
                "start": start,
                "end": end,
                "text": text[start:end],
                "tokens": counter.tokens(start, end),
                "overlap": previous_end - start if chunks else 0,
            }
        )
        if end >= n:
            break
        next_start = end
        if overlap:
            # the earliest start whose overlap with this chunk fits
            low, high = start + 1, end
            while low < high:
                mid = (low + high) // 2
                if size(mid, end) <= overlap:
                    high = mid
                else:
                    low = mid + 1
            snapped = _first_in(words, low, end)
            next_start = snapped if snapped is not None else low
        previous_end = end
        start = next_start
    return chunks, truncated
