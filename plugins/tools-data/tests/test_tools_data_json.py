"""json_query, json_validate and json_diff through the real kernel path."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from llmspell_tools_data.json_diff import MAX_CHANGES
from llmspell_tools_data.support import MAX_DEPTH, MAX_OUTPUT_CHARS

if TYPE_CHECKING:
    from conftest import RecordingServer, Tools

PEOPLE = {
    "people": [
        {"name": "Ann", "age": 34, "city": "Oslo"},
        {"name": "Bob", "age": 25, "city": "Rome"},
        {"name": "Cid", "age": 41, "city": "Oslo"},
    ]
}


def nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


# --- json_query -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("people[?age > `30`].name", ["Ann", "Cid"]),
        ("people[?city == 'Oslo'] | length(@)", 2),
        ("sort_by(people, &age)[0].name", "Bob"),
        ("max_by(people, &age).name", "Cid"),
        ("people[*].{n: name, a: age}", [
            {"n": "Ann", "a": 34}, {"n": "Bob", "a": 25}, {"n": "Cid", "a": 41},
        ]),
        ("sum(people[*].age)", 100),
        ("avg(people[*].age)", 100 / 3),
        ("people[1]", {"name": "Bob", "age": 25, "city": "Rome"}),
        ("people[-1].name", "Cid"),
        ("nothing.here", None),
        ("people[?age > `99`]", []),
        ("`{\"a\": [1, 2]}`.a[1]", 2),
        ("@", PEOPLE),
    ],
)
async def test_json_query(tools: Tools, expression: str, expected: Any) -> None:
    assert await tools.call("json_query", {"expression": expression, "data": PEOPLE}) == {
        "result": expected
    }


async def test_json_query_takes_json_text(tools: Tools) -> None:
    args = {"expression": "a[?b].c", "json": '{"a": [{"b": true, "c": 1}, {"b": false, "c": 2}]}'}
    assert await tools.call("json_query", args) == {"result": [1]}


@pytest.mark.parametrize("data", [None, 0, "text", [1, 2], True, 2.5])
async def test_json_query_over_any_json_value(tools: Tools, data: Any) -> None:
    assert await tools.call("json_query", {"expression": "@", "data": data}) == {"result": data}


@pytest.mark.parametrize(
    ("expression", "position", "fragment"),
    [
        ("people[?age ==]", 14, "invalid token ']'"),
        ("people bar", 7, "Unexpected token: bar 'bar'"),
        ('people."', 7, 'Unclosed " delimiter'),
        ("people[", 7, "Invalid jmespath expression"),
    ],
)
async def test_json_query_syntax_error_names_the_position(
    tools: Tools, expression: str, position: int, fragment: str
) -> None:
    err = await tools.invalid("json_query", {"expression": expression, "data": {}}, "expression")
    assert f"JMESPath syntax error at position {position}: " in err.message
    assert fragment in err.message
    assert err.details["position"] == position
    assert err.hint is not None and err.hint.endswith(f"{expression}\n{' ' * position}^")


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("length(@)", "In function length(), invalid type for value: 5"),
        ("nope(@)", "Unknown function: nope()"),
        ("abs(@, @)", "Expected 1 argument for function abs(), received 2"),
        ("   ", "the expression is empty"),
        ("(" * 4000 + "@" + ")" * 4000, "nested too deeply"),
        ("to_number('1e999')", "the result holds a number JSON cannot hold"),
    ],
)
async def test_json_query_refuses_expressions(
    tools: Tools, expression: str, fragment: str
) -> None:
    err = await tools.invalid("json_query", {"expression": expression, "data": 5}, "expression")
    assert fragment in err.message


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        ({"expression": "a"}, "data", "give exactly one of 'data' (a JSON value) or 'json'"),
        ({"expression": "a", "data": 1, "json": "1"}, "data", "give exactly one of"),
        ({"expression": "a", "json": '{"a": }'}, "json", "invalid JSON at line 1, column 7"),
        ({"expression": "a", "json": "[NaN]"}, "json", "NaN is not valid JSON"),
        ({"expression": "a", "json": "[" * 10_000}, "json", "nested more than 100 levels"),
        ({"expression": "a", "data": nested(MAX_DEPTH + 1)}, "data", "nested more than 100"),
        ({"expression": "a", "data": {"x": float("nan")}}, "data", "nan at /x is not a JSON"),
        ({"expression": 5, "data": 1}, "expression", "5 is not of type 'string'"),
        ({"expression": "a" * 10_001, "data": 1}, "expression", "is too long"),
        ({"expression": "a", "json": 5}, "json", "5 is not of type 'string'"),
    ],
)
async def test_json_query_invalid_args(
    tools: Tools, args: dict[str, Any], argument: str, fragment: str
) -> None:
    err = await tools.invalid("json_query", args, argument)
    assert fragment in err.message


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"data": {}}, "'expression' is a required property"),
        ({"expression": "a", "data": 1, "query": "b"}, "'query' was unexpected"),
    ],
)
async def test_json_query_schema_errors(tools: Tools, args: dict[str, Any], fragment: str) -> None:
    err = await tools.invalid("json_query", args, None)
    assert fragment in err.message


async def test_json_query_result_is_bounded(tools: Tools) -> None:
    data = "x" * (MAX_OUTPUT_CHARS // 2 + 10)
    err = await tools.error("json_query", {"expression": "[@, @]", "data": data})
    assert err.code == "tool_error"
    assert err.details["reason"] == "too_large"
    assert f"the limit is {MAX_OUTPUT_CHARS}" in err.message


# --- json_validate --------------------------------------------------------------------------

PERSON: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "age": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string"}},
        "a/b": {"type": "boolean"},
        "m~n": {"type": "null"},
    },
    "required": ["name", "email"],
    "additionalProperties": False,
}


async def test_json_validate_valid(tools: Tools) -> None:
    data = {"name": "Ann", "age": 3, "tags": ["x"], "email": "a@b.c"}
    schema = {**PERSON, "properties": {**PERSON["properties"], "email": {"type": "string"}}}
    assert await tools.call("json_validate", {"schema": schema, "data": data}) == {
        "valid": True,
        "errors": [],
        "truncated": False,
        "draft": "2020-12",
    }


async def test_json_validate_lists_every_error(tools: Tools) -> None:
    data = {"name": "", "age": -1, "tags": ["ok", 7], "a/b": "no", "m~n": 0, "extra": 1}
    result = await tools.call("json_validate", {"schema": PERSON, "data": data})
    assert result["valid"] is False
    assert result["truncated"] is False
    assert sorted(result["errors"], key=lambda e: (e["path"], e["rule"])) == [
        {
            "path": "",
            "message": "Additional properties are not allowed ('extra' was unexpected)",
            "rule": "additionalProperties",
            "schema_path": "/additionalProperties",
        },
        {
            "path": "",
            "message": "'email' is a required property",
            "rule": "required",
            "schema_path": "/required",
        },
        {
            "path": "/age",
            "message": "-1 is less than the minimum of 0",
            "rule": "minimum",
            "schema_path": "/properties/age/minimum",
        },
        {
            "path": "/a~1b",
            "message": "'no' is not of type 'boolean'",
            "rule": "type",
            "schema_path": "/properties/a~1b/type",
        },
        {
            "path": "/m~0n",
            "message": "0 is not of type 'null'",
            "rule": "type",
            "schema_path": "/properties/m~0n/type",
        },
        {
            "path": "/name",
            "message": "'' should be non-empty",
            "rule": "minLength",
            "schema_path": "/properties/name/minLength",
        },
        {
            "path": "/tags/1",
            "message": "7 is not of type 'string'",
            "rule": "type",
            "schema_path": "/properties/tags/items/type",
        },
    ]


async def test_json_validate_takes_json_text(tools: Tools) -> None:
    result = await tools.call(
        "json_validate", {"schema": {"type": "array", "maxItems": 1}, "json": "[1, 2]"}
    )
    assert result["errors"] == [
        {"path": "", "message": "[1, 2] is too long", "rule": "maxItems",
         "schema_path": "/maxItems"}
    ]


async def test_json_validate_bounds_the_error_count(tools: Tools) -> None:
    args = {"schema": {"items": {"type": "string"}}, "data": list(range(10)), "max_errors": 3}
    result = await tools.call("json_validate", args)
    assert [e["path"] for e in result["errors"]] == ["/0", "/1", "/2"]
    assert result["truncated"] is True
    assert result["valid"] is False
    args["max_errors"] = 10
    result = await tools.call("json_validate", args)
    assert len(result["errors"]) == 10 and result["truncated"] is False


TUPLE_DRAFT7 = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "array",
    "items": [{"type": "string"}, {"type": "integer"}],
}


async def test_json_validate_honours_the_declared_draft(tools: Tools) -> None:
    # draft 7: "items" as an array validates a tuple; in 2020-12 that is not a valid schema
    result = await tools.call("json_validate", {"schema": TUPLE_DRAFT7, "data": ["a", "b"]})
    assert result["draft"] == "7"
    assert result["errors"] == [
        {"path": "/1", "message": "'b' is not of type 'integer'", "rule": "type",
         "schema_path": "/items/1/type"}
    ]
    plain = {k: v for k, v in TUPLE_DRAFT7.items() if k != "$schema"}
    err = await tools.invalid("json_validate", {"schema": plain, "data": ["a", "b"]}, "schema")
    assert "not a valid JSON schema at /items" in err.message
    # draft 4: exclusiveMaximum is a boolean modifier of maximum
    draft4 = {"$schema": "http://json-schema.org/draft-04/schema#", "maximum": 5,
              "exclusiveMaximum": True}
    result = await tools.call("json_validate", {"schema": draft4, "data": 5})
    assert (result["draft"], result["valid"]) == ("4", False)
    assert result["errors"][0]["rule"] == "maximum"
    modern = {"$schema": "https://json-schema.org/draft/2020-12/schema", "exclusiveMaximum": 5}
    result = await tools.call("json_validate", {"schema": modern, "data": 4})
    assert (result["draft"], result["valid"]) == ("2020-12", True)


async def test_json_validate_follows_local_references(tools: Tools) -> None:
    schema = {
        "$id": "https://example.com/root.json",
        "$defs": {
            "pos": {"type": "integer", "minimum": 1},
            "named": {"$id": "named.json", "type": "object", "required": ["name"]},
        },
        "properties": {
            "n": {"$ref": "#/$defs/pos"},
            "who": {"$ref": "https://example.com/named.json"},
            "tree": {"$ref": "#"},
        },
    }
    data = {"n": 0, "who": {}, "tree": {"n": 2, "tree": {"n": -3}}}
    result = await tools.call("json_validate", {"schema": schema, "data": data})
    assert sorted((e["path"], e["rule"]) for e in result["errors"]) == [
        ("/n", "minimum"), ("/tree/tree/n", "minimum"), ("/who", "required"),
    ]


async def test_json_validate_checks_formats_only_when_asked(tools: Tools) -> None:
    args: dict[str, Any] = {"schema": {"type": "string", "format": "ipv4"}, "data": "999.1.1.1"}
    assert (await tools.call("json_validate", args))["valid"] is True
    args["check_formats"] = True
    result = await tools.call("json_validate", args)
    assert result["errors"] == [
        {"path": "", "message": "'999.1.1.1' is not a 'ipv4'", "rule": "format",
         "schema_path": "/format"}
    ]


async def test_json_validate_boolean_schemas(tools: Tools) -> None:
    assert (await tools.call("json_validate", {"schema": True, "data": 1}))["valid"] is True
    result = await tools.call("json_validate", {"schema": False, "data": 1})
    assert result["valid"] is False
    assert result["errors"] == [
        {"path": "", "message": "False schema does not allow 1", "rule": "false",
         "schema_path": ""}
    ]


async def test_json_validate_never_fetches_remote_references(
    tools: Tools, recording_server: RecordingServer
) -> None:
    recording_server.body = b'{"type": "string"}'
    url, requests = recording_server.url, recording_server.requests
    # the server is real and reachable: a plain GET is recorded ...
    import urllib.request

    def fetch() -> bytes:
        with urllib.request.urlopen(f"{url}/probe.json", timeout=10) as answer:
            return bytes(answer.read())

    assert await trio.to_thread.run_sync(fetch) == b'{"type": "string"}'
    assert requests == ["/probe.json"]
    # ... but the validator refuses the reference without asking the server
    schema = {"properties": {"x": {"$ref": f"{url}/s.json"}}}
    err = await tools.invalid("json_validate", {"schema": schema, "data": {"x": 1}}, "schema")
    assert f"reference '{url}/s.json' cannot be resolved" in err.message
    assert "remote schemas are never fetched" in err.message
    assert err.details["ref"] == f"{url}/s.json"
    assert requests == ["/probe.json"]


async def test_json_validate_refuses_file_references(tools: Tools) -> None:
    schema = {"$ref": "file:///etc/passwd"}
    err = await tools.invalid("json_validate", {"schema": schema, "data": 1}, "schema")
    assert "reference 'file:///etc/passwd' cannot be resolved" in err.message
    assert "root:" not in err.message


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        ({"schema": {"type": "nope"}, "data": 1}, "schema", "not a valid JSON schema at /type"),
        ({"schema": {"minimum": "1"}, "data": 1}, "schema", "'1' is not of type 'number'"),
        ({"schema": {"$schema": "http://example.com/mine"}, "data": 1}, "schema",
         "unknown $schema 'http://example.com/mine'"),
        ({"schema": {"$schema": 7}, "data": 1}, "schema", "unknown $schema 7"),
        ({"schema": {"$ref": "#/$defs/missing"}, "data": 1}, "schema",
         "reference '#/$defs/missing' points to nothing in the schema"),
        ({"schema": {"$ref": "#nowhere"}, "data": 1}, "schema",
         "anchor 'nowhere' is not defined in the schema"),
        ({"schema": {"$ref": "other.json"}, "data": 1}, "schema",
         "reference 'other.json' cannot be resolved"),
        ({"schema": {"$ref": "#"}, "data": 1}, "schema", "refers to itself without end"),
        ({"schema": {}, "json": "{'a': 1}"}, "json", "invalid JSON at line 1, column 2"),
        ({"schema": {}}, "data", "give exactly one of"),
        ({"schema": {}, "data": nested(MAX_DEPTH + 1)}, "data", "nested more than"),
        ({"schema": [], "data": 1}, "schema", "[] is not of type 'object', 'boolean'"),
        ({"schema": {}, "data": 1, "max_errors": 0}, "max_errors", "less than the minimum"),
        ({"schema": {}, "data": 1, "max_errors": 1001}, "max_errors", "greater than the max"),
        ({"schema": {}, "data": 1, "check_formats": "yes"}, "check_formats", "not of type"),
    ],
)
async def test_json_validate_invalid_args(
    tools: Tools, args: dict[str, Any], argument: str, fragment: str
) -> None:
    err = await tools.invalid("json_validate", args, argument)
    assert fragment in err.message


async def test_json_validate_requires_a_schema(tools: Tools) -> None:
    err = await tools.invalid("json_validate", {"data": 1}, None)
    assert "'schema' is a required property" in err.message


async def test_json_validate_handles_deep_recursive_data(tools: Tools) -> None:
    schema = {"type": ["array", "integer"], "items": {"$ref": "#"}}
    result = await tools.call("json_validate", {"schema": schema, "data": nested(MAX_DEPTH - 1)})
    assert result["valid"] is True


# --- json_diff ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "changes"),
    [
        ({"a": 1}, {"a": 1}, []),
        ([1, [2, {"x": None}]], [1, [2, {"x": None}]], []),
        (1, 1.0, []),  # JSON numbers: 1 and 1.0 are the same number
        (1, True, [{"op": "replace", "path": "", "old": 1, "new": True}]),
        (0, False, [{"op": "replace", "path": "", "old": 0, "new": False}]),
        (None, 0, [{"op": "replace", "path": "", "old": None, "new": 0}]),
        ("a", ["a"], [{"op": "replace", "path": "", "old": "a", "new": ["a"]}]),
        ({"a": 1, "b": 2}, {"b": 3, "c": 4}, [
            {"op": "remove", "path": "/a", "old": 1},
            {"op": "replace", "path": "/b", "old": 2, "new": 3},
            {"op": "add", "path": "/c", "new": 4},
        ]),
        ({"a/b": {"m~n": 1}}, {"a/b": {"m~n": 2}}, [
            {"op": "replace", "path": "/a~1b/m~0n", "old": 1, "new": 2},
        ]),
        ({"": 1}, {"": 2}, [{"op": "replace", "path": "/", "old": 1, "new": 2}]),
        ([1, 2, 3, 4], [1, 5], [
            {"op": "replace", "path": "/1", "old": 2, "new": 5},
            {"op": "remove", "path": "/3", "old": 4},
            {"op": "remove", "path": "/2", "old": 3},
        ]),
        ([1], [1, 2, [3]], [
            {"op": "add", "path": "/1", "new": 2},
            {"op": "add", "path": "/2", "new": [3]},
        ]),
        # index-wise: an insertion at the front is not detected as such
        (["a", "b"], ["x", "a", "b"], [
            {"op": "replace", "path": "/0", "old": "a", "new": "x"},
            {"op": "replace", "path": "/1", "old": "b", "new": "a"},
            {"op": "add", "path": "/2", "new": "b"},
        ]),
        ({"l": [{"k": 1}]}, {"l": [{"k": 1, "j": [None]}]}, [
            {"op": "add", "path": "/l/0/j", "new": [None]},
        ]),
    ],
)
async def test_json_diff(tools: Tools, old: Any, new: Any, changes: list[Any]) -> None:
    result = await tools.call("json_diff", {"old": old, "new": new})
    assert result == {
        "equal": not changes, "truncated": False, "count": len(changes), "changes": changes
    }


async def test_json_diff_patch_form(tools: Tools) -> None:
    result = await tools.call(
        "json_diff",
        {"old": {"a": [1, 2], "b": 1}, "new": {"a": [1], "c": {"d": None}}, "format": "patch"},
    )
    assert result == {
        "equal": False,
        "truncated": False,
        "count": 3,
        "patch": [
            {"op": "remove", "path": "/b"},
            {"op": "remove", "path": "/a/1"},
            {"op": "add", "path": "/c", "value": {"d": None}},
        ],
    }


async def test_json_diff_bounds_the_changes(tools: Tools) -> None:
    args = {"old": list(range(50)), "new": [-1] * 50, "max_changes": 7}
    result = await tools.call("json_diff", args)
    assert (result["count"], result["truncated"], result["equal"]) == (7, True, False)
    assert [c["path"] for c in result["changes"]] == [f"/{i}" for i in range(7)]
    # equal values never need the limit
    same = await tools.call("json_diff", {"old": [0] * 50, "new": [0.0] * 50, "max_changes": 1})
    assert (same["equal"], same["truncated"], same["changes"]) == (True, False, [])


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        ({"old": nested(MAX_DEPTH + 1), "new": 1}, "old", "nested more than 100"),
        ({"old": 1, "new": [float("inf")]}, "new", "inf at /0 is not a JSON number"),
        ({"old": 1, "new": 2, "format": "merge"}, "format", "'merge' is not one of"),
        ({"old": 1, "new": 2, "max_changes": 0}, "max_changes", "less than the minimum"),
        ({"old": 1, "new": 2, "max_changes": MAX_CHANGES + 1}, "max_changes", "greater than"),
    ],
)
async def test_json_diff_invalid_args(
    tools: Tools, args: dict[str, Any], argument: str, fragment: str
) -> None:
    err = await tools.invalid("json_diff", args, argument)
    assert fragment in err.message


async def test_json_diff_needs_both_values(tools: Tools) -> None:
    err = await tools.invalid("json_diff", {"old": 1}, None)
    assert "'new' is a required property" in err.message


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def apply_patch(document: Any, patch: list[dict[str, Any]]) -> Any:
    """A small, strict RFC 6902 applier (add/remove/replace): every target must exist (or, for
    add, its parent must, with an array index at most the length)."""
    doc = copy.deepcopy(document)
    for op in patch:
        tokens = [_unescape(t) for t in op["path"].split("/")[1:]]
        if not tokens:
            assert op["op"] in ("add", "replace")
            doc = copy.deepcopy(op["value"])
            continue
        parent = doc
        for token in tokens[:-1]:
            parent = parent[int(token)] if isinstance(parent, list) else parent[token]
        last = tokens[-1]
        if isinstance(parent, list):
            index = len(parent) if last == "-" else int(last)
            if op["op"] == "add":
                assert 0 <= index <= len(parent)
                parent.insert(index, copy.deepcopy(op["value"]))
            else:
                assert 0 <= index < len(parent)
                if op["op"] == "remove":
                    del parent[index]
                else:
                    parent[index] = copy.deepcopy(op["value"])
        else:
            assert isinstance(parent, dict)
            if op["op"] == "remove":
                del parent[last]
            else:
                if op["op"] == "replace":
                    assert last in parent
                parent[last] = copy.deepcopy(op["value"])
    return doc


def same(a: Any, b: Any) -> bool:
    """JSON equality, independent of the tool's: booleans are not numbers, 1 == 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


KEYS = st.sampled_from(["a", "b", "c", "d/e", "f~g", ""])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from([0.0, 1.0, 2.5])
    | st.sampled_from(["", "x", "y"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=16,
)


@settings(max_examples=200, deadline=None)
@given(old=VALUES, new=VALUES)
async def test_json_diff_patch_turns_old_into_new(tools: Tools, old: Any, new: Any) -> None:
    result = await tools.call("json_diff", {"old": old, "new": new, "format": "patch"})
    patched = apply_patch(old, result["patch"])
    assert same(patched, new)
    assert result["equal"] == same(old, new)
    assert result["equal"] == (result["patch"] == [])
    # the changes form says the same, with the values it replaces
    changes = (await tools.call("json_diff", {"old": old, "new": new}))["changes"]
    assert [(c["op"], c["path"]) for c in changes] == [
        (p["op"], p["path"]) for p in result["patch"]
    ]
    for change in changes:
        if change["op"] in ("remove", "replace"):
            assert "old" in change
        assert ("new" in change) == (change["op"] != "remove")
