"""The size and time bounds of the text tools (documented in each tool's description).

Every tool refuses or truncates past these limits; most also take a smaller per-call limit.
"""

from __future__ import annotations

#: Longest input text any tool accepts, in characters (code points).
MAX_TEXT_CHARS = 1_000_000
#: Longest text a tool returns (a transformed text, a rendered template, the sum of match texts).
MAX_OUTPUT_CHARS = 1_000_000
#: Inputs at least this long are processed in a worker thread, off the event loop.
OFFLOAD_CHARS = 10_000

#: Longest regular expression accepted.
MAX_PATTERN_CHARS = 10_000
#: Most nodes a pattern may unroll to when compiled (the ``regex`` module unrolls the minimum of
#: a repeat: ``a{1000000}`` is a million nodes); see :mod:`llmspell_tools_text.pattern_size`.
MAX_PATTERN_EXPANSION = 100_000
#: Longest replacement template of ``regex_replace``.
MAX_REPLACEMENT_CHARS = 10_000
#: Default and largest time guard of one regular-expression call, in seconds.
DEFAULT_REGEX_TIMEOUT = 1.0
MAX_REGEX_TIMEOUT = 5.0
#: Default and largest number of matches ``regex_match`` returns.
DEFAULT_MAX_MATCHES = 100
MAX_MATCHES = 1_000
#: Most splits ``regex_split`` and ``text_transform``'s ``split`` make.
MAX_SPLITS = 10_000

#: Longest template ``template_render`` accepts.
MAX_TEMPLATE_CHARS = 100_000
#: Default and largest render time of a template, in seconds.
DEFAULT_TEMPLATE_TIMEOUT = 2.0
MAX_TEMPLATE_TIMEOUT = 10.0
#: Largest string or list (characters / items) a template may build while rendering.
MAX_TEMPLATE_VALUE = MAX_OUTPUT_CHARS
#: Largest integer (in bits) a template may compute with ``*`` or ``**``.
MAX_TEMPLATE_INT_BITS = 16_384

#: Most operations in one ``text_transform`` call.
MAX_OPERATIONS = 50
#: Largest width of ``wrap`` / length of ``truncate`` and friends.
MAX_WIDTH = 10_000

#: Most words ``text_stats`` lists as most common; most custom stop words.
MAX_TOP_WORDS = 100
MAX_STOP_WORDS = 1_000

#: Most chunks ``text_chunk`` returns; smallest chunk size (tokens or characters).
MAX_CHUNKS = 10_000
MIN_CHUNK_SIZE = 16
MAX_CHUNK_TOKENS = 1_000_000
#: Largest context size ``token_count`` compares against.
MAX_CONTEXT_TOKENS = 100_000_000

#: Longest base64 input of ``hash`` (about 1 MB of bytes) and longest HMAC key.
MAX_BASE64_CHARS = 1_400_000
MAX_KEY_CHARS = 10_000

#: Most UUIDs one ``uuid`` call generates.
MAX_UUIDS = 100
