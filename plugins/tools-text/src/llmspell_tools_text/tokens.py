"""Token estimates without a tokenizer.

No tokenizer (and no vocabulary download) is available offline, so the count is a heuristic:

    tokens = ceil(max(A / chars_per_token, W * tokens_per_word) + N * tokens_per_non_ascii)

where A is the number of ASCII characters (spaces included), W the number of
whitespace-separated words and N the number of non-ASCII characters; the constants depend on the
model family. The larger of the two ASCII estimates is taken, so that text with many short
words or symbols (code, numbers, lists) is not under-counted; non-ASCII characters (accents,
CJK, emoji) cost roughly a token each, fewer with the large vocabularies of recent models.
Expect about ±20 % against a real tokenizer on English prose, worse on code, numbers and
non-Latin scripts: leave a margin when filling a context window.

:class:`TokenCounter` counts any slice of a text in O(log n), which ``text_chunk`` relies on;
the estimate of a slice equals the estimate of the slice taken as its own text.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left

import attrs


@attrs.frozen
class Family:
    """The constants of one model family."""

    name: str
    models: str
    chars_per_token: float
    tokens_per_word: float
    tokens_per_non_ascii: float


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("generic", "any model (the ~4 characters per token rule)", 4.0, 1.33, 1.0),
        Family("openai", "GPT-4o, GPT-4.1, GPT-5, o-series (o200k vocabulary)", 4.0, 1.3, 0.75),
        Family("anthropic", "Claude", 3.5, 1.45, 1.0),
        Family("gemini", "Gemini, Gemma", 4.0, 1.3, 0.75),
        Family("llama", "Llama 3, Qwen and other 128k+ vocabularies", 3.8, 1.35, 0.85),
        Family("mistral", "Mistral, Mixtral (smaller vocabularies)", 3.5, 1.45, 1.0),
    )
}

DEFAULT_FAMILY = "generic"

_WORD = re.compile(r"\S+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _estimate(family: Family, ascii_chars: int, words: int, non_ascii: int) -> int:
    if not (ascii_chars or non_ascii):
        return 0
    ascii_part = max(ascii_chars / family.chars_per_token, words * family.tokens_per_word)
    return math.ceil(round(ascii_part + non_ascii * family.tokens_per_non_ascii, 9))


@attrs.define
class TokenCounter:
    """Counts of ``text`` for token estimates of any slice ``text[start:end]``."""

    text: str
    family: Family
    _word_starts: list[int] = attrs.field(init=False)
    _non_ascii: list[int] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._word_starts = [m.start() for m in _WORD.finditer(self.text)]
        self._non_ascii = [m.start() for m in _NON_ASCII.finditer(self.text)]

    def words(self, start: int, end: int) -> int:
        """Whitespace-separated words of ``text[start:end]``."""
        if start >= end:
            return 0
        count = bisect_left(self._word_starts, end) - bisect_left(self._word_starts, start)
        text = self.text
        if start > 0 and not text[start].isspace() and not text[start - 1].isspace():
            count += 1  # the slice begins inside a word
        return count

    def non_ascii(self, start: int, end: int) -> int:
        return bisect_left(self._non_ascii, end) - bisect_left(self._non_ascii, start)

    def tokens(self, start: int = 0, end: int | None = None) -> int:
        """The estimated tokens of ``text[start:end]``."""
        end = len(self.text) if end is None else end
        if start >= end:
            return 0
        non_ascii = self.non_ascii(start, end)
        return _estimate(self.family, end - start - non_ascii, self.words(start, end), non_ascii)


def estimate_tokens(text: str, family: str = DEFAULT_FAMILY) -> int:
    """The estimated token count of ``text`` for ``family`` (a key of :data:`FAMILIES`)."""
    return TokenCounter(text, FAMILIES[family]).tokens()
