"""data_convert through the real kernel path, with round-trip property tests per format."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmspell_tools_data.convert import MAX_YAML_CHARS
from llmspell_tools_data.support import MAX_DEPTH, MAX_NODES

if TYPE_CHECKING:
    from conftest import Tools

DOC = {"name": "Ann", "tags": ["a", "b"], "n": 1, "x": 2.5, "ok": True, "none": None,
       "sub": {"k": "v"}}


async def convert(tools: Tools, **args: Any) -> Any:
    result = await tools.call("data_convert", args)
    return result["data"] if args["to"] == "data" else result["text"]


# --- conversions ----------------------------------------------------------------------------


async def test_json_to_yaml(tools: Tools) -> None:
    text = await convert(tools, text=json.dumps(DOC), **{"from": "json"}, to="yaml")
    assert text == (
        "name: Ann\ntags:\n- a\n- b\nn: 1\nx: 2.5\nok: true\nnone: null\nsub:\n  k: v\n"
    )
    text = await convert(tools, data=DOC, to="yaml", sort_keys=True, indent=4)
    assert text == (
        "n: 1\nname: Ann\nnone: null\nok: true\nsub:\n    k: v\ntags:\n- a\n- b\nx: 2.5\n"
    )


async def test_yaml_strings_that_look_like_other_types_stay_strings(tools: Tools) -> None:
    data = {"a": "2024-01-02", "b": "true", "c": "1", "d": "null", "e": "yes", "f": "1e3"}
    text = await convert(tools, data=data, to="yaml")
    back = await convert(tools, text=text, **{"from": "yaml"}, to="data")
    assert back == data


async def test_json_output_indent_and_sorting(tools: Tools) -> None:
    data = {"b": [1, {"d": None, "c": "é"}], "a": 1}
    assert await convert(tools, data=data, to="json", indent=0) == (
        '{"b":[1,{"d":null,"c":"é"}],"a":1}'
    )
    assert await convert(tools, data=data, to="json", indent=0, sort_keys=True) == (
        '{"a":1,"b":[1,{"c":"é","d":null}]}'
    )
    assert await convert(tools, data=[1], to="json", indent=4) == "[\n    1\n]"


async def test_json_to_toml_and_back(tools: Tools) -> None:
    data = {"title": "x", "n": 1, "list": [1, 2], "owner": {"name": "Ann", "f": 1.5},
            "rows": [{"a": 1}, {"a": 2}]}
    text = await convert(tools, data=data, to="toml")
    assert text == (
        'title = "x"\nn = 1\nlist = [\n  1,\n  2,\n]\nrows = [\n  { a = 1 },\n  { a = 2 },\n]\n'
        '\n[owner]\nname = "Ann"\nf = 1.5\n'
    )
    assert await convert(tools, text=text, **{"from": "toml"}, to="data") == data


async def test_toml_dates_become_iso_strings_in_json_and_stay_dates_in_yaml(
    tools: Tools
) -> None:
    text = "d = 2024-01-02\nt = 10:11:12\ndt = 2024-01-02T03:04:05Z\nlocal = 2024-01-02T03:04:05\n"
    assert await convert(tools, text=text, **{"from": "toml"}, to="data") == {
        "d": "2024-01-02", "t": "10:11:12", "dt": "2024-01-02T03:04:05+00:00",
        "local": "2024-01-02T03:04:05",
    }
    yaml_text = await convert(tools, text=text, **{"from": "toml"}, to="yaml")
    assert yaml_text == (
        "d: 2024-01-02\nt: '10:11:12'\ndt: 2024-01-02 03:04:05+00:00\n"
        "local: 2024-01-02 03:04:05\n"
    )
    assert await convert(tools, text="d: 2024-01-02\n", **{"from": "yaml"}, to="toml") == (
        "d = 2024-01-02\n"
    )


async def test_yaml_non_string_keys_become_strings(tools: Tools) -> None:
    text = "1: a\n2.5: b\nnull: c\n2024-01-02: d\nfalse: e\n"
    assert await convert(tools, text=text, **{"from": "yaml"}, to="data") == {
        "1": "a", "2.5": "b", "null": "c", "2024-01-02": "d", "false": "e"
    }


async def test_csv_to_json(tools: Tools) -> None:
    text = "name;age\nAnn;34\nBob;\n"
    assert await convert(tools, text=text, **{"from": "csv"}, to="data") == [
        {"name": "Ann", "age": "34"}, {"name": "Bob", "age": ""},
    ]
    assert await convert(tools, text=text, **{"from": "csv"}, to="json", indent=0) == (
        '[{"name":"Ann","age":"34"},{"name":"Bob","age":""}]'
    )


async def test_json_to_csv(tools: Tools) -> None:
    rows = [{"b": "x,y", "a": 1}, {"a": 2.5, "c": True}, {"b": None, "c": 'say "hi"'}]
    assert await convert(tools, data=rows, to="csv") == (
        'b,a,c\n"x,y",1,\n,2.5,true\n,,"say ""hi"""\n'
    )
    assert await convert(tools, data=rows, to="csv", sort_keys=True, delimiter=";") == (
        'a;b;c\n1;x,y;\n2.5;;true\n;;"say ""hi"""\n'
    )
    assert await convert(tools, data=[], to="csv") == ""


async def test_yaml_uses_safe_loading_only(tools: Tools) -> None:
    text = "x: !!python/object/apply:os.system ['echo pwned']\n"
    err = await tools.invalid("data_convert", {"text": text, "from": "yaml", "to": "json"},
                              "text")
    assert "could not determine a constructor for the tag" in err.message
    assert "python/object/apply:os.system" in err.message
    assert (err.details["line"], err.details["column"]) == (1, 4)


async def test_yaml_alias_bombs_are_refused(tools: Tools) -> None:
    # each level repeats the one before ten times: 10**9 strings once expanded
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{cur}: &{cur} [{', '.join(['*' + prev] * 10)}]")
    text = "\n".join(lines) + "\n"
    err = await tools.invalid("data_convert", {"text": text, "from": "yaml", "to": "json"},
                              "text")
    assert f"the value has more than {MAX_NODES} elements" in err.message


async def test_recursive_yaml_is_refused(tools: Tools) -> None:
    err = await tools.invalid(
        "data_convert", {"text": "a: &a [*a]\n", "from": "yaml", "to": "json"}, "text"
    )
    assert f"nested more than {MAX_DEPTH} levels deep" in err.message


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        # parse errors name line and column
        ({"text": '{"a": 1,\n "b": }', "from": "json"}, "text",
         "invalid JSON at line 2, column 7: Expecting value"),
        ({"text": "a: 1\nb: c: d\n", "from": "yaml"}, "text",
         "invalid YAML at line 2, column 5: mapping values are not allowed here"),
        ({"text": "a: [1, 2\n", "from": "yaml"}, "text",
         "invalid YAML at line 2, column 1: while parsing a flow sequence expected ','"),
        ({"text": "--- 1\n--- 2\n", "from": "yaml"}, "text",
         "expected a single document in the stream but found another document"),
        ({"text": "a = 1\n[x\n", "from": "toml"}, "text",
         "invalid TOML at line 2, column 3: Expected ']' at the end of a table declaration"),
        ({"text": "a = 1\nb = ", "from": "toml"}, "text",
         "invalid TOML at line 2, column 5: Invalid value"),
        ({"text": 'a,b\n"x"y,1\n', "from": "csv"}, "text", "malformed CSV at line 2"),
        ({"text": "", "from": "csv"}, "text", "the CSV text has no header row"),
        ({"text": "x: !!binary aGk=\n", "from": "yaml"}, "text",
         "a value of type bytes is not data (at /x)"),
        ({"text": "[" * 5000, "from": "yaml"}, "text", "nested more than 100 levels deep"),
        ({"text": "a = " + "[" * 5000, "from": "toml"}, "text", "nested more than 100 levels"),
        # what the target format cannot hold names 'to'
        ({"data": [1], "to": "toml"}, "to",
         "cannot write TOML: TOML needs a table (an object) at the top level, not an array"),
        ({"data": "x", "to": "toml"}, "to", "not a string"),
        ({"text": "x: [.inf]\n", "from": "yaml", "to": "csv"}, "to",
         "cannot write CSV: inf is not a number CSV can hold (at /x/0)"),
        ({"data": {"a": 10**50}, "to": "toml"}, "to",
         "TOML integers are 64-bit; 100000000000000000000000000000000000000… is out of range"),
        ({"data": {"a": {"b": [1, None]}}, "to": "toml"}, "to",
         "cannot write TOML: TOML cannot hold null; remove it or use another format "
         "(at /a/b/1)"),
        ({"data": {"a": 2**63}, "to": "toml"}, "to", "TOML integers are 64-bit"),
        ({"text": "x: .nan\n", "from": "yaml", "to": "json"}, "to",
         "cannot write JSON: nan is not a number JSON can hold (at /x)"),
        ({"text": "x = inf\n", "from": "toml", "to": "data"}, "to",
         "cannot return the data: inf is not a number JSON can hold (at /x)"),
        ({"data": {"a": 1}, "to": "csv"}, "to", "CSV needs an array of flat objects"),
        ({"data": [1, 2], "to": "csv"}, "to", "CSV needs an array of flat objects"),
        ({"data": [{"a": [1]}], "to": "csv"}, "to",
         "CSV cells hold scalars; nested arrays and objects cannot be written (at /0/a)"),
        # the arguments themselves
        ({"text": "{}"}, "from", "say which format 'text' is in"),
        ({"text": "{}", "data": {}, "from": "json"}, "text", "give exactly one of"),
        ({}, "text", "give exactly one of 'text' (with 'from') or 'data'"),
        ({"data": {"x": float("nan")}}, "data", "nan at /x is not a JSON number"),
        ({"text": "{}", "from": "ini"}, "from", "'ini' is not one of"),
        ({"data": {}, "to": "xml"}, "to", "'xml' is not one of"),
        ({"data": {}, "indent": 9}, "indent", "greater than the maximum of 8"),
        ({"data": {}, "sort_keys": 1}, "sort_keys", "not of type 'boolean'"),
        ({"data": [{}], "to": "csv", "delimiter": "\n"}, "delimiter",
         "cannot be a CSV delimiter"),
    ],
)
async def test_data_convert_invalid_args(
    tools: Tools, args: dict[str, Any], argument: str, fragment: str
) -> None:
    err = await tools.invalid("data_convert", {"to": "json", **args}, argument)
    assert fragment in err.message


async def test_data_convert_errors_carry_the_position(tools: Tools) -> None:
    err = await tools.invalid(
        "data_convert", {"text": "a = 1\n[x\n", "from": "toml", "to": "json"}, "text"
    )
    assert (err.details["line"], err.details["column"]) == (2, 3)
    err = await tools.invalid(
        "data_convert", {"text": "a: 1\nb: c: d\n", "from": "yaml", "to": "json"}, "text"
    )
    assert (err.details["line"], err.details["column"]) == (2, 5)


async def test_yaml_size_is_bounded(tools: Tools) -> None:
    text = "a: " + "x" * MAX_YAML_CHARS + "\n"
    err = await tools.invalid("data_convert", {"text": text, "from": "yaml", "to": "json"},
                              "text")
    assert f"the limit for YAML is {MAX_YAML_CHARS}" in err.message
    # the same data as JSON is fine, but writing it as YAML is refused up front
    assert await convert(tools, text='{"a": "x"}', **{"from": "json"}, to="yaml") == "a: x\n"
    err = await tools.error("data_convert", {"data": {"a": "x" * MAX_YAML_CHARS}, "to": "yaml"})
    assert err.code == "tool_error"
    assert err.details["reason"] == "too_large"
    assert f"the limit for YAML is {MAX_YAML_CHARS}" in err.message


async def test_data_convert_needs_a_target(tools: Tools) -> None:
    err = await tools.invalid("data_convert", {"data": {}}, None)
    assert "'to' is a required property" in err.message


# --- round trips ----------------------------------------------------------------------------

#: Text without lone surrogates: YAML and TOML documents are Unicode text.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)


def json_values(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
        max_leaves=20,
    )


YAML_VALUES = json_values(st.none() | st.booleans() | st.integers() | FLOATS | TEXT)

TOML_SCALARS = st.booleans() | st.integers(-(2**63), 2**63 - 1) | FLOATS | TEXT
TOML_VALUES = st.dictionaries(
    TEXT,
    st.recursive(
        TOML_SCALARS,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
        max_leaves=20,
    ),
    max_size=5,
)

#: CSV header names: non-empty, no surrounding blanks, no BOM (the parser strips those).
CSV_KEYS = TEXT.map(lambda s: s.strip().replace("\ufeff", "")).filter(bool)
CSV_ROWS = st.lists(CSV_KEYS, min_size=1, max_size=5, unique=True).flatmap(
    lambda keys: st.lists(st.fixed_dictionaries({k: TEXT for k in keys}), min_size=1,
                          max_size=6)
)


async def round_trip(tools: Tools, value: Any, via: str, **options: Any) -> Any:
    text = await convert(tools, text=json.dumps(value), **{"from": "json"}, to=via, **options)
    back = await convert(tools, text=text, **{"from": via}, to="json", **options)
    return json.loads(back)


def strictly_equal(a: Any, b: Any) -> bool:
    """Equal as JSON with the same types throughout (1 is not 1.0, True is not 1); key order
    does not matter (TOML writes tables after plain keys)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(strictly_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(strictly_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@settings(max_examples=150, deadline=None)
@given(value=YAML_VALUES)
async def test_json_yaml_json_round_trip(tools: Tools, value: Any) -> None:
    assert strictly_equal(await round_trip(tools, value, "yaml"), value)


@settings(max_examples=150, deadline=None)
@given(value=TOML_VALUES)
async def test_json_toml_json_round_trip(tools: Tools, value: Any) -> None:
    assert strictly_equal(await round_trip(tools, value, "toml"), value)


@settings(max_examples=150, deadline=None)
@given(rows=CSV_ROWS)
async def test_json_csv_json_round_trip(tools: Tools, rows: list[dict[str, str]]) -> None:
    assert strictly_equal(await round_trip(tools, rows, "csv", delimiter=","), rows)


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(st.text("abc 123.-_", max_size=8), min_size=1, max_size=4, unique=True)
    .filter(lambda keys: all(k.strip() == k and k for k in keys))
    .flatmap(lambda keys: st.lists(
        st.fixed_dictionaries({k: st.text("abc 123.-_,;|\t\"\n", max_size=8) for k in keys}),
        min_size=1, max_size=5)),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
)
async def test_csv_round_trip_with_a_detected_delimiter(
    tools: Tools, rows: list[dict[str, str]], delimiter: str
) -> None:
    # written with one of the usual delimiters, read back without saying which
    text = await convert(tools, data=rows, to="csv", delimiter=delimiter)
    if len(rows[0]) > 1:
        assert (await tools.call("csv_query", {"csv": text}))["delimiter"] == delimiter
    back = await convert(tools, text=text, **{"from": "csv"}, to="data")
    assert strictly_equal(back, rows)
