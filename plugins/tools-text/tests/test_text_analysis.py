"""text_stats, token_count and text_chunk: exact results, the chunking contract (property
tests), bounds and errors."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmspell_tools_text.tokens import FAMILIES, TokenCounter, estimate_tokens

PARAGRAPHS = (
    "Alpha beta gamma. Delta epsilon zeta.\n\nEta theta iota kappa. Lambda mu nu xi "
    "omicron.\n\nPi rho sigma."
)

# --- text_stats -----------------------------------------------------------------------------


async def test_stats(call: Any) -> None:
    text = "The cat sat. The cat slept!\n\nA new paragraph about the cat."
    assert await call("text_stats", {"text": text, "top_words": 3}) == {
        "characters": 59,
        "characters_no_spaces": 47,
        "words": 12,
        "unique_words": 8,
        "lines": 3,
        "sentences": 3,
        "paragraphs": 2,
        "average_word_length": 3.67,
        "reading_time_minutes": 0.06,
        "reading_time_seconds": 4,
        "estimated_tokens": 16,
        "most_common": [
            {"word": "the", "count": 3},
            {"word": "cat", "count": 3},
            {"word": "sat", "count": 1},
        ],
    }


async def test_stats_words_and_sentences(call: Any) -> None:
    text = "Don't stop—it's well-known!  Is it? Yes… “Quoted.” Done\nnext line"
    out = await call("text_stats", {"text": text, "top_words": 0, "words_per_minute": 60})
    assert (
        out["words"] == 11
    )  # don't, stop, it's, well-known, is, it, yes, quoted, done, next, line
    assert out["sentences"] == 5
    assert out["paragraphs"] == 1
    assert out["lines"] == 2
    assert out["most_common"] == []
    assert out["reading_time_minutes"] == 0.18
    assert out["reading_time_seconds"] == 11


async def test_stats_stop_words(call: Any) -> None:
    text = "The cat and the dog and THE bird. Cat!"
    out = await call("text_stats", {"text": text, "exclude_stop_words": True})
    assert out["most_common"] == [
        {"word": "cat", "count": 2},
        {"word": "dog", "count": 1},
        {"word": "bird", "count": 1},
    ]
    custom = await call("text_stats", {"text": text, "stop_words": ["THE", "and"], "top_words": 2})
    assert custom["most_common"] == [{"word": "cat", "count": 2}, {"word": "dog", "count": 1}]


async def test_stats_of_nothing(call: Any) -> None:
    assert await call("text_stats", {"text": ""}) == {
        "characters": 0,
        "characters_no_spaces": 0,
        "words": 0,
        "unique_words": 0,
        "lines": 0,
        "sentences": 0,
        "paragraphs": 0,
        "average_word_length": 0,
        "reading_time_minutes": 0.0,
        "reading_time_seconds": 0,
        "estimated_tokens": 0,
        "most_common": [],
    }


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        ({"text": "a", "words_per_minute": 10}, "words_per_minute", "minimum"),
        ({"text": "a", "top_words": 101}, "top_words", "maximum"),
        ({"text": "a", "stop_words": "the"}, "stop_words", "not of type 'array'"),
        ({"text": "a", "family": "gpt"}, "family", "is not one of"),
    ],
)
async def test_stats_invalid(
    invalid: Any, args: dict[str, Any], argument: str, fragment: str
) -> None:
    await invalid("text_stats", args, argument, fragment)


# --- token_count ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "family", "tokens"),
    [
        # 33 ASCII characters, 6 words: max(33/4, 6*1.33) = 8.25 -> 9
        ("How many tokens is this sentence?", "generic", 9),
        ("How many tokens is this sentence?", "openai", 9),
        # max(33/3.5, 6*1.45) = 9.43 -> 10
        ("How many tokens is this sentence?", "anthropic", 10),
        # many short words: the word estimate wins, max(19/4, 10*1.33) = 13.3 -> 14
        ("a b c d e f g h i j", "generic", 14),
        # 3 non-ASCII characters in one word: 1.33 + 3 = 4.33 -> 5
        ("日本語", "generic", 5),
        ("日本語", "openai", 4),  # 1.3 + 3 * 0.75 = 3.55 -> 4
        ("", "generic", 0),
        ("   ", "generic", 1),
    ],
)
async def test_token_count(call: Any, text: str, family: str, tokens: int) -> None:
    out = await call("token_count", {"text": text, "family": family})
    assert out == {
        "tokens": tokens,
        "family": family,
        "method": "estimate",
        "characters": len(text),
        "words": len(text.split()),
    }


async def test_token_count_fits(call: Any) -> None:
    text = "word " * 100  # 500 ASCII characters, 100 words: max(125, 133) -> 133
    fits = await call("token_count", {"text": text, "context_size": 200, "reserve": 67})
    assert fits["tokens"] == 133
    assert (fits["context_size"], fits["reserved"], fits["fits"], fits["remaining"]) == (
        200,
        67,
        True,
        0,
    )
    over = await call("token_count", {"text": text, "context_size": 200, "reserve": 68})
    assert (over["fits"], over["remaining"]) == (False, -1)


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        ({"text": "a", "reserve": 5}, "reserve", "only makes sense with context_size"),
        ({"text": "a", "context_size": 0}, "context_size", "minimum"),
        ({"text": "a", "family": "gpt-4"}, "family", "is not one of"),
        ({"text": "a" * 1_000_001}, "text", "is too long"),
    ],
)
async def test_token_count_invalid(
    invalid: Any, args: dict[str, Any], argument: str, fragment: str
) -> None:
    await invalid("token_count", args, argument, fragment)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), st.sampled_from(sorted(FAMILIES)), st.data())
def test_token_counts_of_slices_equal_counts_of_the_slice(
    text: str, family: str, data: Any
) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    counter = TokenCounter(text, FAMILIES[family])
    assert counter.tokens(start, end) == estimate_tokens(text[start:end], family)
    assert counter.words(start, end) == len(text[start:end].split())
    # growing a slice never lowers its estimate (text_chunk's binary search relies on it)
    if end < len(text):
        assert counter.tokens(start, end + 1) >= counter.tokens(start, end)


# --- text_chunk -----------------------------------------------------------------------------


async def test_chunk_example(call: Any, kernel: Any) -> None:
    out = await call("text_chunk", kernel.tools.get("text_chunk").example)
    assert out == {
        "chunks": [
            {
                "index": 0,
                "start": 0,
                "end": 40,
                "overlap": 0,
                "tokens": 10,
                "text": "First paragraph. It has two sentences.\n\n",
            },
            {
                "index": 1,
                "start": 20,
                "end": 79,
                "overlap": 20,
                "tokens": 15,
                "text": "has two sentences.\n\nSecond paragraph, a little longer than ",
            },
            {
                "index": 2,
                "start": 60,
                "end": 116,
                "overlap": 19,
                "tokens": 15,
                "text": "little longer than the first one, with more words in it.",
            },
        ],
        "count": 3,
        "truncated": False,
    }


@pytest.mark.parametrize(
    ("size", "texts"),
    [
        # paragraphs first
        (
            {"max_chars": 70},
            [
                "Alpha beta gamma. Delta epsilon zeta.\n\n",
                "Eta theta iota kappa. Lambda mu nu xi omicron.\n\nPi rho sigma.",
            ],
        ),
        # then sentences
        (
            {"max_chars": 30},
            [
                "Alpha beta gamma. ",
                "Delta epsilon zeta.\n\n",
                "Eta theta iota kappa. ",
                "Lambda mu nu xi omicron.\n\n",
                "Pi rho sigma.",
            ],
        ),
        # then words
        (
            {"max_chars": 16},
            [
                "Alpha beta ",
                "gamma. Delta ",
                "epsilon zeta.\n\n",
                "Eta theta iota ",
                "kappa. Lambda ",
                "mu nu xi ",
                "omicron.\n\n",
                "Pi rho sigma.",
            ],
        ),
        (
            {"max_tokens": 16},
            [
                "Alpha beta gamma. Delta epsilon zeta.\n\n",
                "Eta theta iota kappa. Lambda mu nu xi omicron.\n\nPi rho sigma.",
            ],
        ),
        ({"max_tokens": 500}, [PARAGRAPHS]),
    ],
)
async def test_chunk_boundaries(call: Any, size: dict[str, int], texts: list[str]) -> None:
    out = await call("text_chunk", {"text": PARAGRAPHS, **size})
    assert [c["text"] for c in out["chunks"]] == texts


async def test_chunk_without_boundaries_cuts_at_the_size(call: Any) -> None:
    out = await call("text_chunk", {"text": "x" * 50, "max_chars": 20, "overlap": 5})
    assert [(c["start"], c["end"], c["overlap"]) for c in out["chunks"]] == [
        (0, 20, 0),
        (15, 35, 5),
        (30, 50, 5),
    ]


async def test_chunk_count_is_bounded(call: Any) -> None:
    out = await call("text_chunk", {"text": "word " * 100, "max_chars": 16, "max_chunks": 3})
    assert out["count"] == 3
    assert out["truncated"] is True
    assert out["chunks"][-1]["end"] == 45


async def test_chunk_of_nothing(call: Any) -> None:
    assert await call("text_chunk", {"text": ""}) == {"chunks": [], "count": 0, "truncated": False}


async def test_chunk_tokens_match_token_count(call: Any) -> None:
    out = await call(
        "text_chunk", {"text": PARAGRAPHS * 20, "max_tokens": 50, "family": "anthropic"}
    )
    assert out["count"] > 5
    for chunk in out["chunks"]:
        counted = await call("token_count", {"text": chunk["text"], "family": "anthropic"})
        assert chunk["tokens"] == counted["tokens"] <= 50


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        ({"max_tokens": 100, "max_chars": 100}, "max_chars", "not both"),
        ({"max_chars": 100, "overlap": 51}, "overlap", "more than half the chunk size (100)"),
        ({"overlap": 251}, "overlap", "more than half the chunk size (500)"),
        ({"max_tokens": 15}, "max_tokens", "less than the minimum of 16"),
        ({"max_chars": 0}, "max_chars", "minimum"),
        ({"max_chunks": 10_001}, "max_chunks", "maximum"),
    ],
)
async def test_chunk_invalid(
    invalid: Any, args: dict[str, Any], argument: str, fragment: str
) -> None:
    await invalid("text_chunk", {"text": "some text", **args}, argument, fragment)


WORDS = st.sampled_from(
    ["a", "word", "longerword", "é", "日本語", "🎉", "x" * 30, "end.", "why?", "(note)", "3.14"]
)
SEPARATORS = st.sampled_from([" ", " ", " ", "  ", "\n", "\n\n", "\t", ". ", "! ", ""])
TEXTS = st.one_of(
    st.lists(st.tuples(WORDS, SEPARATORS), max_size=120).map(
        lambda pairs: "".join(w + s for w, s in pairs)
    ),
    st.text(max_size=300),
)


def check_chunks(
    text: str, out: dict[str, Any], unit: str, size: int, overlap: int, family: str
) -> None:
    chunks = out["chunks"]
    assert out["truncated"] is False
    assert out["count"] == len(chunks)
    if not text:
        assert chunks == []
        return
    assert chunks[0]["start"] == 0
    assert chunks[0]["overlap"] == 0
    assert chunks[-1]["end"] == len(text)
    for i, chunk in enumerate(chunks):
        assert chunk["index"] == i
        assert chunk["start"] < chunk["end"]
        assert chunk["text"] == text[chunk["start"] : chunk["end"]]
        assert chunk["tokens"] == estimate_tokens(chunk["text"], family)
        if unit == "max_chars":
            assert len(chunk["text"]) <= size
        else:
            assert chunk["tokens"] <= size
    for before, after in itertools.pairwise(chunks):
        assert before["start"] < after["start"] <= before["end"] < after["end"]
        shared = before["end"] - after["start"]
        assert after["overlap"] == shared
        if unit == "max_chars":
            assert shared <= overlap
        else:
            assert estimate_tokens(text[after["start"] : before["end"]], family) <= overlap
        if not overlap:
            assert shared == 0
    # the chunks cover the text in order: minus their overlaps they give it back
    assert "".join(c["text"][c["overlap"] :] for c in chunks) == text


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(TEXTS, st.integers(16, 120), st.data())
async def test_chunks_by_characters_cover_the_text(
    call: Any, text: str, size: int, data: Any
) -> None:
    overlap = data.draw(st.integers(0, size // 2))
    out = await call("text_chunk", {"text": text, "max_chars": size, "overlap": overlap})
    check_chunks(text, out, "max_chars", size, overlap, "generic")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(TEXTS, st.integers(16, 60), st.sampled_from(sorted(FAMILIES)), st.data())
async def test_chunks_by_tokens_cover_the_text(
    call: Any, text: str, size: int, family: str, data: Any
) -> None:
    overlap = data.draw(st.integers(0, size // 2))
    out = await call(
        "text_chunk", {"text": text, "max_tokens": size, "overlap": overlap, "family": family}
    )
    check_chunks(text, out, "max_tokens", size, overlap, family)


async def test_large_texts_are_chunked(call: Any) -> None:
    text = PARAGRAPHS * 5000  # 500,000 characters
    out = await call("text_chunk", {"text": text, "max_tokens": 1000, "overlap": 100})
    chunks = out["chunks"]
    assert out["truncated"] is False
    assert chunks[-1]["end"] == len(text)
    assert "".join(c["text"][c["overlap"] :] for c in chunks) == text
    assert all(c["tokens"] <= 1000 for c in chunks)
    assert len(chunks) >= math.ceil(estimate_tokens(text) / 1000)
