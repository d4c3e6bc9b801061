"""The source rewriting of JavaScript spells (catch clauses, REPL input): its scanner's
identifier pattern, written for a fast compile, matches exactly what its definition says."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from llmspell_js import engine as js_engine

#: the definition: a first character among ASCII letters, ``_``, ``$``, ``\\`` or any
#: non-ASCII character; then those and ASCII digits (slow to compile; kept here as the oracle)
DEFINITION = re.compile(r"[A-Za-z_$\\\u0080-\U0010ffff][\\0-9A-Za-z_$\u0080-\U0010ffff]*")

characters = st.one_of(
    st.characters(max_codepoint=0x7F),
    st.characters(min_codepoint=0x80),
    st.sampled_from("$_\\09azAZ[]^`{}@#%/:\x7f\x80\ud800\U0010ffff"),
)


@given(st.text(characters, max_size=6), st.integers(0, 6))
def test_the_identifier_pattern_matches_its_definition(text: str, start: int) -> None:
    ours = js_engine._IDENT.match(text, start)
    oracle = DEFINITION.match(text, start)
    assert (ours and ours.group()) == (oracle and oracle.group())
    assert bool(js_engine._IDENT.fullmatch(text)) == bool(DEFINITION.fullmatch(text))


def test_identifiers_and_non_identifiers() -> None:
    for word in ("x", "$el", "_a9", "π", "a\\u0041", "日本"):
        assert js_engine._IDENT.fullmatch(word), word
    for word in ("9a", "a-b", "", " a", "a.b", "{"):
        assert not js_engine._IDENT.fullmatch(word), word
