"""``text_stats``, ``token_count`` and ``text_chunk``: measuring text and cutting it to fit a
model's context (token counts are estimates, see :mod:`llmspell_tools_text.tokens`)."""

from __future__ import annotations

from typing import Any

from llmspell.tools import ToolContext, tool
from llmspell_tools_text.errors import invalid_arg
from llmspell_tools_text.limits import (
    MAX_CHUNK_TOKENS,
    MAX_CHUNKS,
    MAX_CONTEXT_TOKENS,
    MAX_STOP_WORDS,
    MAX_TEXT_CHARS,
    MAX_TOP_WORDS,
    MIN_CHUNK_SIZE,
)
from llmspell_tools_text.schema import obj, text_property
from llmspell_tools_text.threads import run_blocking
from llmspell_tools_text.tokens import DEFAULT_FAMILY, FAMILIES

CATEGORY = "text"

_FAMILY: dict[str, Any] = {
    "type": "string",
    "enum": list(FAMILIES),
    "default": DEFAULT_FAMILY,
    "description": "The model family the estimate is for: "
    + "; ".join(f"{f.name} ({f.models})" for f in FAMILIES.values())
    + ".",
}

_METHOD = (
    "Token counts are estimates (no tokenizer is available offline): "
    "max(ASCII characters / characters-per-token, words x tokens-per-word) plus about one "
    "token per non-ASCII character, with constants per model family; expect about ±20% on "
    "English prose and more on code or non-Latin scripts."
)


@tool(
    name="text_stats",
    description="Compute statistics of a text. Returns {characters, characters_no_spaces, "
    "words, unique_words, lines, sentences, paragraphs, average_word_length, "
    "reading_time_minutes, reading_time_seconds, estimated_tokens, most_common: [{word, "
    "count}]}. Words are runs of letters and digits (with inner ' or -); sentences end at "
    ". ! ? … followed by whitespace, or at a blank line (abbreviations count as ends); "
    "paragraphs are separated by blank lines; most_common is case-folded, ties in order of "
    f"first use, at most {MAX_TOP_WORDS}. {_METHOD}",
    category=CATEGORY,
    parameters=obj(
        {
            "text": text_property(f"The text (at most {MAX_TEXT_CHARS:,} characters)."),
            "words_per_minute": {
                "type": "integer",
                "minimum": 50,
                "maximum": 2000,
                "default": 200,
                "description": "Reading speed for reading_time (default 200).",
            },
            "top_words": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_TOP_WORDS,
                "default": 10,
                "description": f"How many most common words to list (0 to {MAX_TOP_WORDS}, "
                "default 10).",
            },
            "exclude_stop_words": {
                "type": "boolean",
                "default": False,
                "description": "Leave common English words (the, and, of, ...) out of most_common.",
            },
            "stop_words": {
                "type": "array",
                "items": {"type": "string", "maxLength": 100},
                "maxItems": MAX_STOP_WORDS,
                "default": [],
                "description": "More words to leave out of most_common (case-insensitive).",
            },
            "family": _FAMILY,
        },
        ["text"],
    ),
    example={"text": "The cat sat. The cat slept!\n\nA new paragraph about the cat."},
)
async def text_stats(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    from llmspell_tools_text.stats import ENGLISH_STOP_WORDS, text_statistics

    text: str = args["text"]
    stop_words = set(args.get("stop_words", []))
    if args.get("exclude_stop_words"):
        stop_words |= ENGLISH_STOP_WORDS
    return await run_blocking(
        lambda: text_statistics(
            text,
            words_per_minute=int(args.get("words_per_minute", 200)),
            top=int(args.get("top_words", 10)),
            stop_words=stop_words,
            family=args.get("family", DEFAULT_FAMILY),
        ),
        len(text),
    )


@tool(
    name="token_count",
    description="Estimate how many tokens a text takes for a model family, and whether it "
    "fits a context window. Returns {tokens, family, method: 'estimate', characters, words} "
    "and, when context_size is given, {context_size, reserved, fits, remaining} (remaining = "
    f"context_size - reserved - tokens, negative when it does not fit). {_METHOD}",
    category=CATEGORY,
    parameters=obj(
        {
            "text": text_property(f"The text (at most {MAX_TEXT_CHARS:,} characters)."),
            "family": _FAMILY,
            "context_size": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_CONTEXT_TOKENS,
                "description": "The model's context window in tokens, to check the fit.",
            },
            "reserve": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_CONTEXT_TOKENS,
                "default": 0,
                "description": "Tokens to keep free in the window (e.g. for the reply).",
            },
        },
        ["text"],
    ),
    example={
        "text": "How many tokens is this sentence?",
        "family": "openai",
        "context_size": 8192,
        "reserve": 1024,
    },
)
async def token_count(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    from llmspell_tools_text.tokens import TokenCounter

    text: str = args["text"]
    family = args.get("family", DEFAULT_FAMILY)

    def count() -> dict[str, Any]:
        counter = TokenCounter(text, FAMILIES[family])
        return {
            "tokens": counter.tokens(),
            "family": family,
            "method": "estimate",
            "characters": len(text),
            "words": counter.words(0, len(text)),
        }

    result = await run_blocking(count, len(text))
    if "context_size" in args:
        context = int(args["context_size"])
        reserved = int(args.get("reserve", 0))
        remaining = context - reserved - result["tokens"]
        result.update(
            context_size=context, reserved=reserved, fits=remaining >= 0, remaining=remaining
        )
    elif "reserve" in args:
        raise invalid_arg("token_count", "reserve", "only makes sense with context_size")
    return result


@tool(
    name="text_chunk",
    description="Split a text into chunks that fit a model's context: at most max_tokens "
    "estimated tokens (default 500) or max_chars characters each, with an optional overlap "
    "(same unit, at most half the size) between neighbours. Chunks end at a paragraph "
    "boundary if possible, else a sentence, else a word boundary. Returns {chunks: [{index, "
    "start, end, text, tokens, overlap}], count, truncated}: each text is exactly "
    "text[start:end] (0-based character offsets; whitespace at a boundary ends the chunk "
    "before it), overlap is how many characters it shares with the previous chunk; dropping "
    "each chunk's overlap and joining gives the text back. At most max_chunks chunks "
    f"(default and limit {MAX_CHUNKS:,}); truncated is true when the text went on. {_METHOD}",
    category=CATEGORY,
    parameters=obj(
        {
            "text": text_property(f"The text (at most {MAX_TEXT_CHARS:,} characters)."),
            "max_tokens": {
                "type": "integer",
                "minimum": MIN_CHUNK_SIZE,
                "maximum": MAX_CHUNK_TOKENS,
                "description": "Largest chunk in estimated tokens (default 500 when "
                "max_chars is not given).",
            },
            "max_chars": {
                "type": "integer",
                "minimum": MIN_CHUNK_SIZE,
                "maximum": MAX_TEXT_CHARS,
                "description": "Largest chunk in characters (instead of max_tokens).",
            },
            "overlap": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_CHUNK_TOKENS // 2,
                "default": 0,
                "description": "How much consecutive chunks share, in the unit of the size "
                "(tokens or characters); at most half the size. The overlap starts at a word "
                "boundary when one is near.",
            },
            "family": _FAMILY,
            "max_chunks": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_CHUNKS,
                "default": MAX_CHUNKS,
                "description": f"Most chunks returned (at most {MAX_CHUNKS:,}).",
            },
        },
        ["text"],
    ),
    example={
        "text": "First paragraph. It has two sentences.\n\nSecond paragraph, a little longer "
        "than the first one, with more words in it.",
        "max_chars": 60,
        "overlap": 20,
    },
)
async def text_chunk(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    from llmspell_tools_text.chunking import chunk_text

    name = "text_chunk"
    text: str = args["text"]
    if "max_tokens" in args and "max_chars" in args:
        raise invalid_arg(name, "max_chars", "give max_tokens or max_chars, not both")
    max_chars: int | None = args.get("max_chars")
    max_tokens: int | None = args.get("max_tokens", None if max_chars is not None else 500)
    size = int(max_tokens or max_chars or 0)
    overlap = int(args.get("overlap", 0))
    if overlap > size // 2:
        raise invalid_arg(name, "overlap", f"{overlap} is more than half the chunk size ({size})")
    family = FAMILIES[args.get("family", DEFAULT_FAMILY)]
    chunks, truncated = await run_blocking(
        lambda: chunk_text(
            text,
            family=family,
            max_tokens=None if max_tokens is None else int(max_tokens),
            max_chars=None if max_chars is None else int(max_chars),
            overlap=overlap,
            max_chunks=int(args.get("max_chunks", MAX_CHUNKS)),
        ),
        len(text),
    )
    return {"chunks": chunks, "count": len(chunks), "truncated": truncated}


TOOLS = (text_stats, token_count, text_chunk)
