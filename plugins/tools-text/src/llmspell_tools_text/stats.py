"""Statistics of a text: counts, reading time and the most common words."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from llmspell_tools_text.tokens import estimate_tokens

#: A word: letters/digits, with inner apostrophes or hyphens ("don't", "well-known").
WORD = re.compile(r"\w+(?:['\u2019-]\w+)*")
#: The end of a sentence: terminal punctuation (and closing quotes) before whitespace or the end.
_SENTENCE_END = re.compile(
    r"(?:[.!?\u2026]+[\"'\u201d\u2019)\]]*|[\u3002\uff01\uff1f]+)(?=\s|$)|\n\s*\n"
)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")

#: Common English words left out of ``most_common`` when stop words are excluded.
ENGLISH_STOP_WORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do does
    doesn't doing don't down during each few for from further had hadn't has hasn't have haven't
    having he he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll
    i'm i've if in into is isn't it it's its itself let's me more most mustn't my myself no nor
    not of off on once only or other ought our ours ourselves out over own same shan't she
    she'd she'll she's should shouldn't so some such than that that's the their theirs them
    themselves then there there's these they they'd they'll they're they've this those through
    to too under until up very was wasn't we we'd we'll we're we've were weren't what what's
    when when's where where's which while who who's whom why why's will with won't would
    wouldn't you you'd you'll you're you've your yours yourself yourselves""".split()
)


def _count_segments(text: str, breaks: re.Pattern[str]) -> int:
    """Segments between ``breaks`` that contain a word character."""
    return sum(1 for part in breaks.split(text) if re.search(r"\w", part))


def text_statistics(
    text: str,
    *,
    words_per_minute: int,
    top: int,
    stop_words: Iterable[str] | None,
    family: str,
) -> dict[str, Any]:
    """The statistics ``text_stats`` returns (see its description)."""
    words = WORD.findall(text)
    folded = [w.casefold().replace("\u2019", "'") for w in words]
    excluded = {w.casefold().replace("\u2019", "'") for w in stop_words or ()}
    counts = Counter(w for w in folded if w not in excluded)
    minutes = len(words) / words_per_minute
    return {
        "characters": len(text),
        "characters_no_spaces": sum(1 for c in text if not c.isspace()),
        "words": len(words),
        "unique_words": len(set(folded)),
        "lines": len(text.splitlines()),
        "sentences": _count_segments(text, _SENTENCE_END),
        "paragraphs": _count_segments(text, _PARAGRAPH_BREAK),
        "average_word_length": round(sum(len(w) for w in words) / len(words), 2) if words else 0,
        "reading_time_minutes": round(minutes, 2),
        "reading_time_seconds": math.ceil(minutes * 60),
        "estimated_tokens": estimate_tokens(text, family),
        "most_common": [{"word": w, "count": c} for w, c in counts.most_common(top)],
    }
