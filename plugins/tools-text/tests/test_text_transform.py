"""text_transform: every operation, composition, the list result of split, bounds, errors."""

from __future__ import annotations

from typing import Any

import pytest

OPERATION_CASES: list[tuple[Any, str, Any]] = [
    ("upper", "Grüße, straße", "GRÜSSE, STRASSE"),
    ("lower", "HeLLo ÄÖ", "hello äö"),
    ("casefold", "Straße", "strasse"),
    ("title", "don't stop the 1st run", "Don't Stop The 1st Run"),
    ("capitalize", "hELLO wORLD", "Hello world"),
    ("swapcase", "Hello", "hELLO"),
    ("strip", "  \t hi \n", "hi"),
    ({"op": "strip", "chars": "x-"}, "x-hi-xx", "hi"),
    ({"op": "strip", "chars": "x", "side": "left"}, "xxhixx", "hixx"),
    ({"op": "strip", "side": "right"}, "  hi  ", "  hi"),
    ("collapse_whitespace", "  a \t b\n\n c  ", "a b c"),
    ("slugify", "Hello, World! Ünïcödé & Co.", "hello-world-unicode-co"),
    ({"op": "slugify", "separator": "_", "max_length": 12}, "Hello, World! Ünïcödé", "hello_world"),
    ("snake_case", "HTTPServerError in getUserID2", "http_server_error_in_get_user_id2"),
    ("snake_case", "already_snake-kebab case", "already_snake_kebab_case"),
    ("camel_case", "HTTPServerError in getUserID2", "httpServerErrorInGetUserId2"),
    ("camel_case", "  ", ""),
    ("pascal_case", "hello_world-foo bar", "HelloWorldFooBar"),
    ("kebab_case", "helloWorld FooBar", "hello-world-foo-bar"),
    ("constant_case", "maxRetryCount", "MAX_RETRY_COUNT"),
    ({"op": "truncate", "length": 12}, "The quick brown fox", "The quick b…"),
    (
        {"op": "truncate", "length": 12, "ellipsis": "...", "whole_words": True},
        "The quick brown fox",
        "The quick...",
    ),
    ({"op": "truncate", "length": 19}, "The quick brown fox", "The quick brown fox"),
    ({"op": "truncate", "length": 3, "ellipsis": ""}, "abcdef", "abc"),
    ("reverse", "abc", "cba"),
    ("reverse", "e\u0301a🇫🇷b", "b🇫🇷ae\u0301"),  # accents and flags stay whole
    ("normalize", "e\u0301", "\u00e9"),
    ({"op": "normalize", "form": "NFD"}, "\u00e9", "e\u0301"),
    ({"op": "normalize", "form": "NFKC"}, "ﬁ ①", "fi 1"),
    (
        "remove_accents",
        "Crème Brûlée, naïve façade, Ångström",
        "Creme Brulee, naive facade, Angstrom",
    ),
    (
        {"op": "wrap", "width": 16},
        "The quick brown fox jumps over the lazy dog.\n\nSecond   paragraph here.",
        "The quick brown\nfox jumps over\nthe lazy dog.\n\nSecond\nparagraph here.",
    ),
    ("dedent", "    a\n      b\n    c", "a\n  b\nc"),
    ("indent", "a\n\nb", "    a\n\n    b"),
    ({"op": "indent", "prefix": "> "}, "a\nb", "> a\n> b"),
    ({"op": "replace", "old": "-", "new": "+"}, "a-b-c", "a+b+c"),
    ({"op": "replace", "old": "-", "new": "+", "count": 1}, "a-b-c", "a+b-c"),
    ({"op": "replace", "old": "-"}, "a-b-c", "abc"),
]


@pytest.mark.parametrize(("operation", "text", "expected"), OPERATION_CASES)
async def test_operation(call: Any, operation: Any, text: str, expected: str) -> None:
    out = await call("text_transform", {"text": text, "operations": [operation]})
    assert out == {"text": expected}


async def test_operations_apply_in_order(call: Any) -> None:
    ops = ["strip", "remove_accents", "upper", {"op": "replace", "old": " ", "new": "_"}]
    assert await call("text_transform", {"text": "  Crème brûlée ", "operations": ops}) == {
        "text": "CREME_BRULEE"
    }
    reversed_ops = [{"op": "truncate", "length": 5, "ellipsis": ""}, "upper"]
    assert await call("text_transform", {"text": "abcdefgh", "operations": reversed_ops}) == {
        "text": "ABCDE"
    }


@pytest.mark.parametrize(
    ("operations", "text", "expected"),
    [
        (["split"], "a  b\tc\n", {"parts": ["a", "b", "c"], "count": 3, "truncated": False}),
        (
            [{"op": "split", "separator": ","}],
            "a,b,,c",
            {"parts": ["a", "b", "", "c"], "count": 4, "truncated": False},
        ),
        (
            ["lower", {"op": "split", "separator": ", ", "max_splits": 1}],
            "A, B, C",
            {"parts": ["a", "b, c"], "count": 2, "truncated": False},
        ),
        (["split"], "", {"parts": [], "count": 0, "truncated": False}),
    ],
)
async def test_split_returns_a_list(
    call: Any, operations: list[Any], text: str, expected: dict[str, Any]
) -> None:
    assert await call("text_transform", {"text": text, "operations": operations}) == expected


async def test_split_is_bounded(call: Any) -> None:
    out = await call(
        "text_transform", {"text": "x," * 10_003, "operations": [{"op": "split", "separator": ","}]}
    )
    assert out["count"] == 10_001
    assert out["truncated"] is True
    assert out["parts"][-1] == "x,x,x,"


async def test_split_must_be_last(invalid: Any) -> None:
    await invalid(
        "text_transform",
        {"text": "a b", "operations": ["split", "upper"]},
        "operations/0",
        "'split' must be the last operation",
    )


@pytest.mark.parametrize(
    ("operations", "argument", "fragment"),
    [
        (["uper"], "operations/0", "'uper' is not one of"),
        ([{"op": "uper"}], "operations/0/op", "'uper' is not one of"),
        (
            ["upper", {"op": "upper", "width": 3}],
            "operations/1",
            "operation 'upper' takes no parameter 'width' (it takes: none)",
        ),
        ([{"op": "wrap", "prefix": "#"}], "operations/0", "takes no parameter 'prefix'"),
        ([{"op": "wrap", "width": 0}], "operations/0/width", "less than the minimum of 1"),
        ([{"op": "normalize", "form": "NFX"}], "operations/0/form", "is not one of"),
        (["truncate"], "operations/0/length", "truncate: needs 'length'"),
        (
            [{"op": "truncate", "length": 2, "ellipsis": "..."}],
            "operations/0/ellipsis",
            "the ellipsis (3 characters) is longer than length 2",
        ),
        (["replace"], "operations/0/old", "needs a non-empty 'old'"),
        ([{"op": "split", "separator": ""}], "operations/0/separator", "must not be empty"),
        ([], "operations", "should be non-empty"),
        (["upper"] * 51, "operations", "is too long"),
    ],
)
async def test_invalid_operations(
    invalid: Any, operations: list[Any], argument: str, fragment: str
) -> None:
    await invalid(
        "text_transform", {"text": "some text", "operations": operations}, argument, fragment
    )


async def test_missing_text(call_error: Any) -> None:
    err = await call_error("text_transform", {"operations": ["upper"]})
    assert err.code == "invalid_args"
    assert "'text' is a required property" in err.message


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "replace", "old": "a", "new": "b" * 10_000},
        {"op": "indent", "prefix": "x" * 100},
    ],
)
async def test_growth_is_bounded(call_error: Any, operation: dict[str, Any]) -> None:
    err = await call_error("text_transform", {"text": "a\n" * 20_000, "operations": [operation]})
    assert err.code == "tool_error"
    assert err.details["reason"] == "too_large"
    assert err.details["limit"] == 1_000_000


async def test_large_texts_are_transformed(call: Any) -> None:
    text = "Hello World " * 50_000  # 600,000 characters: done in a worker thread
    out = await call(
        "text_transform", {"text": text, "operations": ["upper", "collapse_whitespace"]}
    )
    assert out["text"] == ("HELLO WORLD " * 50_000).strip()
