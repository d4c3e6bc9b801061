"""regex_match, regex_replace, regex_split: results, flags, the time guard, bounds, errors."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmspell_tools_text.limits import MAX_OUTPUT_CHARS
from llmspell_tools_text.replacement import TemplateError, parse_replacement

# --- regex_match ----------------------------------------------------------------------------


async def test_match_all_with_groups(call: Any) -> None:
    out = await call(
        "regex_match",
        {"pattern": r"(?P<key>\w+)=(\d+)?", "text": "a=1, bb=, c=33"},
    )
    assert out == {
        "matched": True,
        "count": 3,
        "truncated": False,
        "matches": [
            {"text": "a=1", "start": 0, "end": 3, "groups": ["a", "1"], "named": {"key": "a"}},
            {"text": "bb=", "start": 5, "end": 8, "groups": ["bb", None], "named": {"key": "bb"}},
            {"text": "c=33", "start": 10, "end": 14, "groups": ["c", "33"], "named": {"key": "c"}},
        ],
    }


async def test_match_offsets_are_characters(call: Any) -> None:
    out = await call("regex_match", {"pattern": "é+", "text": "🎉 caféé!"})
    assert [(m["text"], m["start"], m["end"]) for m in out["matches"]] == [("éé", 5, 7)]


@pytest.mark.parametrize(
    ("args", "texts"),
    [
        ({"mode": "first"}, ["10"]),
        ({"mode": "all"}, ["10", "20", "30"]),
        ({"mode": "all", "max_matches": 2}, ["10", "20"]),
        ({"mode": "fullmatch"}, []),
    ],
)
async def test_match_modes(call: Any, args: dict[str, Any], texts: list[str]) -> None:
    out = await call("regex_match", {"pattern": r"\d+", "text": "10 20 30", **args})
    assert [m["text"] for m in out["matches"]] == texts
    assert out["matched"] is bool(texts)
    assert out["count"] == len(texts)
    assert out["truncated"] is (args.get("max_matches") == 2)


async def test_fullmatch(call: Any) -> None:
    out = await call(
        "regex_match", {"pattern": r"\d+(\.\d+)?", "text": "3.14", "mode": "fullmatch"}
    )
    assert out["matches"] == [
        {"text": "3.14", "start": 0, "end": 4, "groups": [".14"], "named": {}}
    ]
    none = await call("regex_match", {"pattern": r"\d+", "text": "3.14", "mode": "fullmatch"})
    assert none == {"matched": False, "count": 0, "truncated": False, "matches": []}


@pytest.mark.parametrize(
    ("flags", "pattern", "text", "found"),
    [
        ({}, "hello", "Hello HELLO hello", ["hello"]),
        ({"ignore_case": True}, "hello", "Hello HELLO hello", ["Hello", "HELLO", "hello"]),
        ({}, "^b$", "a\nb\nc", []),
        ({"multiline": True}, "^b$", "a\nb\nc", ["b"]),
        ({}, "a.c", "a\nc abc", ["abc"]),
        ({"dotall": True}, "a.c", "a\nc abc", ["a\nc", "abc"]),
    ],
)
async def test_match_flags(
    call: Any, flags: dict[str, bool], pattern: str, text: str, found: list[str]
) -> None:
    out = await call("regex_match", {"pattern": pattern, "text": text, **flags})
    assert [m["text"] for m in out["matches"]] == found


async def test_match_output_is_bounded(call: Any) -> None:
    text = "x" * 600_000
    out = await call("regex_match", {"pattern": "(x+)", "text": text})
    # the match and its group would be 1.2 M characters: left out, and said so
    assert out == {"matched": False, "count": 0, "truncated": True, "matches": []}
    assert MAX_OUTPUT_CHARS == 1_000_000


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        (r"(a+)+$", "a" * 5000 + "b"),  # nested quantifiers
        (r"(a|aa)+$", "a" * 40 + "b"),  # overlapping alternatives: exponential
        (r"^(a|a?)+$", "a" * 5000 + "b"),
    ],
)
@pytest.mark.parametrize("tool", ["regex_match", "regex_replace", "regex_split"])
async def test_catastrophic_backtracking_is_stopped(
    call_error: Any, tool: str, pattern: str, text: str
) -> None:
    args: dict[str, Any] = {"pattern": pattern, "text": text, "timeout_seconds": 0.2}
    if tool == "regex_replace":
        args["replacement"] = "x"
    start = time.monotonic()
    err = await call_error(tool, args)
    assert time.monotonic() - start < 10  # generous: the guard is 0.2 s
    assert err.code == "timeout"
    assert err.details == {"tool": tool, "reason": "timeout", "timeout_seconds": 0.2}
    assert "backtracks catastrophically" in err.message


async def test_the_guard_covers_the_whole_call(call_error: Any) -> None:
    # every single search is quick, but together they take far longer than the guard
    text = ("a" * 20 + "b" + "x") * 200
    err = await call_error(
        "regex_match", {"pattern": r"(a|aa)+c|x", "text": text, "timeout_seconds": 0.1}
    )
    assert err.code == "timeout"


@pytest.mark.parametrize(
    ("pattern", "fragment", "position"),
    [
        ("(ab", "missing ) at position 3", 3),
        ("a{2,1}", "min repeat greater than max repeat at position 2", 2),
        ("[z-a]", "bad character range at position 4", 4),
        ("a**", "multiple repeat at position 2", 2),
        ("(?P<1a>x)", "bad character in group name", 6),
        ("*a", "nothing to repeat at position 0", 0),
    ],
)
@pytest.mark.parametrize("tool", ["regex_match", "regex_replace", "regex_split"])
async def test_bad_pattern_names_the_pattern_and_position(
    invalid: Any, tool: str, pattern: str, fragment: str, position: int
) -> None:
    args: dict[str, Any] = {"pattern": pattern, "text": "abc"}
    if tool == "regex_replace":
        args["replacement"] = ""
    err = await invalid(tool, args, "pattern", "invalid regular expression", fragment)
    assert err.details["position"] == position


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        ({"pattern": "a", "text": "a", "timeout_seconds": 6}, "timeout_seconds", "maximum"),
        ({"pattern": "a", "text": "a", "timeout_seconds": 0}, "timeout_seconds", "minimum"),
        ({"pattern": "a", "text": "a", "mode": "any"}, "mode", "is not one of"),
        ({"pattern": "a", "text": "a", "max_matches": 0}, "max_matches", "minimum"),
        ({"pattern": "a" * 10_001, "text": "a"}, "pattern", "is too long"),
        ({"pattern": "a", "text": 3}, "text", "not of type 'string'"),
    ],
)
async def test_match_schema_errors(
    invalid: Any, args: dict[str, Any], argument: str, fragment: str
) -> None:
    await invalid("regex_match", args, argument, fragment)


async def test_match_needs_a_pattern(call_error: Any) -> None:
    err = await call_error("regex_match", {"text": "a"})
    assert err.code == "invalid_args"
    assert "'pattern' is a required property" in err.message


# --- regex_replace --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"pattern": r"(\w+)@(\w+)", "replacement": r"\2 at \1"}, ("b at a, d at c", 2)),
        (
            {"pattern": r"(?P<u>\w+)@(?P<h>\w+)", "replacement": r"\g<h>/\g<u>"},
            ("b/a, d/c", 2),
        ),
        ({"pattern": r"\w+@\w+", "replacement": r"<\g<0>>"}, ("<a@b>, <c@d>", 2)),
        ({"pattern": r"\w+@\w+", "replacement": "X", "count": 1}, ("X, c@d", 1)),
        ({"pattern": r",\s*", "replacement": r"\n"}, ("a@b\nc@d", 1)),
        ({"pattern": r"@", "replacement": r"\&\t"}, ("a\\&\tb, c\\&\td", 2)),
        ({"pattern": r"(z)?@", "replacement": r"[\1]"}, ("a[]b, c[]d", 2)),
        ({"pattern": r"q", "replacement": r"\1\2"}, None),  # bad reference, no match needed
        ({"pattern": r"(?i)A@B", "replacement": "ok"}, ("ok, c@d", 1)),
        ({"pattern": "^", "replacement": "> ", "multiline": True}, ("> a@b, c@d", 1)),
    ],
)
async def test_replace(
    call: Any, call_error: Any, args: dict[str, Any], expected: tuple[str, int] | None
) -> None:
    full = {"text": "a@b, c@d", **args}
    if expected is None:
        err = await call_error("regex_replace", full)
        assert err.code == "invalid_args"
        return
    assert await call("regex_replace", full) == {"text": expected[0], "replacements": expected[1]}


@pytest.mark.parametrize(
    ("replacement", "fragment", "position"),
    [
        (r"\3", "group 3 does not exist (the pattern has 2 groups) at position 0", 0),
        (r"x\g<nope>", "unknown group name 'nope' at position 1", 1),
        (r"\g<1", "missing '>'", 0),
        (r"ab\q", "bad escape \\q at position 2", 2),
        (r"\0", "octal escapes are not supported", 0),
        ("end\\", "a trailing backslash at position 3", 3),
    ],
)
async def test_bad_replacement_names_it(
    invalid: Any, replacement: str, fragment: str, position: int
) -> None:
    err = await invalid(
        "regex_replace",
        {"pattern": r"(a)(?P<b>b)", "text": "no match here", "replacement": replacement},
        "replacement",
        fragment,
    )
    assert err.details["position"] == position


async def test_replace_output_is_bounded(call: Any, call_error: Any) -> None:
    args = {"pattern": "a", "text": "a" * 100, "replacement": "bbb"}
    assert (await call("regex_replace", {**args, "max_output_chars": 300}))["text"] == "b" * 300
    err = await call_error("regex_replace", {**args, "max_output_chars": 299})
    assert err.code == "tool_error"
    assert err.details["reason"] == "too_large"
    assert err.details["limit"] == 299
    # empty matches between every character: a blow-up is refused, not built
    big = {"pattern": "", "text": "x" * 100_000, "replacement": "y" * 10_000}
    err = await call_error("regex_replace", big)
    assert err.details["reason"] == "too_large"


async def test_replace_invalid_count(invalid: Any) -> None:
    await invalid(
        "regex_replace",
        {"pattern": "a", "text": "a", "replacement": "b", "count": -1},
        "count",
        "minimum",
    )


ATOMS = st.sampled_from(["x", "-", " ", "\\1", "\\2", "\\g<0>", "\\g<w>", "\\n", "\\t", "\\\\"])


@settings(max_examples=200, deadline=None)
@given(st.lists(ATOMS, max_size=8).map("".join), st.text(alphabet="ab -", max_size=12))
def test_replacement_templates_expand_like_python_re(template: str, text: str) -> None:
    pattern = r"(?P<w>a+)(b)?"
    ours = parse_replacement(template, 2, {"w": 1})
    compiled = regex.compile(pattern)
    for theirs, mine in zip(re.finditer(pattern, text), compiled.finditer(text), strict=True):
        expected = theirs.expand(template) if theirs.group(2) is not None else None
        if expected is not None:  # Python < 3.12 refuses to expand an unmatched group
            assert ours.expand(mine) == expected


def test_template_error_position() -> None:
    with pytest.raises(TemplateError) as info:
        parse_replacement("ok \\9", 1, {})
    assert info.value.position == 3


# --- regex_split ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "parts", "truncated"),
    [
        ({"pattern": r"\s*,\s*", "text": "a , b,c"}, ["a", "b", "c"], False),
        ({"pattern": r"(,)", "text": "a,b"}, ["a", ",", "b"], False),
        ({"pattern": r"(,)|(;)", "text": "a,b;c"}, ["a", ",", None, "b", None, ";", "c"], False),
        ({"pattern": r",", "text": "a,b,c,d", "maxsplit": 2}, ["a", "b", "c,d"], False),
        ({"pattern": r"x", "text": "abc"}, ["abc"], False),
        ({"pattern": r"\b", "text": "hi you"}, ["", "hi", " ", "you", ""], False),
        ({"pattern": r",", "text": ""}, [""], False),
        ({"pattern": "A", "text": "bab", "ignore_case": True}, ["b", "b"], False),
    ],
)
async def test_split(
    call: Any, args: dict[str, Any], parts: list[str | None], truncated: bool
) -> None:
    out = await call("regex_split", args)
    assert out == {"parts": parts, "count": len(parts), "truncated": truncated}


async def test_split_is_bounded(call: Any) -> None:
    out = await call("regex_split", {"pattern": ",", "text": "," * 10_005})
    assert out["count"] == 10_001
    assert out["truncated"] is True
    assert out["parts"][-1] == "," * 5
    exact = await call("regex_split", {"pattern": ",", "text": "," * 10_000})
    assert exact["truncated"] is False


async def test_split_invalid_maxsplit(invalid: Any) -> None:
    await invalid(
        "regex_split", {"pattern": ",", "text": "a", "maxsplit": 10_001}, "maxsplit", "maximum"
    )


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from([r",", r"\s+", r"(,)", r"x*", r"\b", r"(a)|(b)", r"(?=a)", r"a|(b)c"]),
    st.text(alphabet="abc, x", max_size=20),
    st.integers(0, 4),
)
async def test_split_agrees_with_regex_split(
    call: Any, pattern: str, text: str, maxsplit: int
) -> None:
    out = await call("regex_split", {"pattern": pattern, "text": text, "maxsplit": maxsplit})
    assert out["parts"] == regex.split(pattern, text, maxsplit=maxsplit)


# --- the compile-size guard -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "size"),
    [
        ("a{4294967294}", 4_294_967_294),  # would exhaust the process's memory while compiling
        ("(?:a{1000}){1000}", 1_001_000),
        ("(a){1000000}", 1_000_000),
        ("(?:ab|cd){100000}", 500_000),
        (r"\w{200000,}", 200_000),
    ],
)
@pytest.mark.parametrize("tool", ["regex_match", "regex_replace", "regex_split"])
async def test_patterns_that_unroll_too_far_are_refused(
    invalid: Any, tool: str, pattern: str, size: int
) -> None:
    args: dict[str, Any] = {"pattern": pattern, "text": "aaa"}
    if tool == "regex_replace":
        args["replacement"] = ""
    start = time.monotonic()
    err = await invalid(tool, args, "pattern", "the pattern repeats too much", f"{size:,}")
    assert time.monotonic() - start < 5
    assert err.details["expansion"] == size
    assert err.hint and "{0,n}" in err.hint


@pytest.mark.parametrize(
    "pattern", [r"a{0,1000000}", r"\d{4}-\d{2}-\d{2}", r"x{30000}y{30000}z{30000}", r"\p{L}{3}"]
)
async def test_ranges_from_zero_and_moderate_counts_are_fine(call: Any, pattern: str) -> None:
    out = await call("regex_match", {"pattern": pattern, "text": "2024-01-31 abc"})
    assert out["truncated"] is False


def _render(tree: Any) -> str:
    if isinstance(tree, str):
        return tree
    children, low, high = tree
    body = "(?:" + "".join(_render(c) for c in children) + ")"
    return body + (f"{{{low}}}" if high == low else f"{{{low},{'' if high is None else high}}}")


def _unrolled(tree: Any) -> int:
    """What the regex module unrolls: literals once, a repeat's minimum count times."""
    if isinstance(tree, str):
        return len(tree)
    children, low, _high = tree
    return sum(_unrolled(c) for c in children) * max(low, 1)


TREES = st.recursive(
    st.text(alphabet="abc", min_size=1, max_size=4),
    lambda children: st.tuples(
        st.lists(children, min_size=1, max_size=3),
        st.integers(0, 12),
        st.one_of(st.none(), st.integers(12, 20)),
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(TREES)
def test_expansion_never_undercounts(tree: Any) -> None:
    from llmspell_tools_text.pattern_size import expansion

    pattern = _render(tree)
    regex.compile(pattern)  # a valid pattern
    assert expansion(pattern) >= _unrolled(tree)
