"""csv_query and csv_stats through the real kernel path."""

from __future__ import annotations

import math
import statistics
from typing import TYPE_CHECKING, Any

import pytest

from llmspell_tools_data.csv_data import MAX_COLUMNS, MAX_ROWS

if TYPE_CHECKING:
    from conftest import Tools

PEOPLE = (
    "name,age,city,score\n"
    "Ann,34,Oslo,9.5\n"
    "bob,25,Rome,\n"
    "Cid,41,oslo,7\n"
    "Dee,n/a,Paris,10\n"
    "Eve,9,Rome,8.25\n"
)


async def names(tools: Tools, **args: Any) -> list[str]:
    result = await tools.call("csv_query", {"csv": PEOPLE, "columns": ["name"], **args})
    return [r["name"] for r in result["rows"]]


# --- csv_query ------------------------------------------------------------------------------


async def test_csv_query_returns_objects(tools: Tools) -> None:
    result = await tools.call("csv_query", {"csv": PEOPLE})
    assert result == {
        "columns": ["name", "age", "city", "score"],
        "total_rows": 5,
        "matched": 5,
        "returned": 5,
        "truncated": False,
        "delimiter": ",",
        "rows": [
            {"name": "Ann", "age": "34", "city": "Oslo", "score": "9.5"},
            {"name": "bob", "age": "25", "city": "Rome", "score": ""},
            {"name": "Cid", "age": "41", "city": "oslo", "score": "7"},
            {"name": "Dee", "age": "n/a", "city": "Paris", "score": "10"},
            {"name": "Eve", "age": "9", "city": "Rome", "score": "8.25"},
        ],
    }


async def test_csv_query_filters_sorts_selects_and_writes_csv(tools: Tools) -> None:
    result = await tools.call(
        "csv_query",
        {
            "csv": PEOPLE,
            "where": [{"column": "city", "op": "eq", "value": "OSLO", "ignore_case": True}],
            "sort": [{"column": "age", "order": "desc"}],
            "columns": ["age", "name"],
            "format": "csv",
        },
    )
    assert result == {
        "columns": ["age", "name"],
        "total_rows": 5,
        "matched": 2,
        "returned": 2,
        "truncated": False,
        "delimiter": ",",
        "csv": "age,name\n41,Cid\n34,Ann\n",
    }


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ([{"column": "age", "op": "eq", "value": 34}], ["Ann"]),
        ([{"column": "age", "op": "eq", "value": "34.0"}], ["Ann"]),  # numeric: 34 == 34.0
        ([{"column": "age", "op": "ne", "value": 34}], ["bob", "Cid", "Dee", "Eve"]),
        ([{"column": "age", "op": "gt", "value": 30}], ["Ann", "Cid"]),
        # numeric, not text order: "9" < 30
        ([{"column": "age", "op": "lt", "value": 30}], ["bob", "Eve"]),
        ([{"column": "age", "op": "le", "value": 25}], ["bob", "Eve"]),
        ([{"column": "age", "op": "ge", "value": 41}], ["Cid"]),
        # an ordering against a number never matches a non-numeric or empty cell
        ([{"column": "score", "op": "lt", "value": 100}], ["Ann", "Cid", "Dee", "Eve"]),
        ([{"column": "score", "op": "ge", "value": 9.5}], ["Ann", "Dee"]),
        # text against text: string order
        ([{"column": "city", "op": "lt", "value": "P"}], ["Ann"]),
        ([{"column": "name", "op": "ge", "value": "a"}], ["bob"]),
        ([{"column": "name", "op": "ge", "value": "a", "ignore_case": True}],
         ["Ann", "bob", "Cid", "Dee", "Eve"]),
        ([{"column": "city", "op": "contains", "value": "slo"}], ["Ann", "Cid"]),
        ([{"column": "city", "op": "startswith", "value": "o"}], ["Cid"]),
        ([{"column": "city", "op": "startswith", "value": "o", "ignore_case": True}],
         ["Ann", "Cid"]),
        ([{"column": "city", "op": "endswith", "value": "me"}], ["bob", "Eve"]),
        ([{"column": "score", "op": "contains", "value": 5}], ["Ann", "Eve"]),
        ([{"column": "name", "op": "in", "value": ["Ann", "Eve", "Zed"]}], ["Ann", "Eve"]),
        ([{"column": "score", "op": "in", "value": [10, 7.0]}], ["Cid", "Dee"]),
        ([{"column": "score", "op": "empty"}], ["bob"]),
        ([{"column": "score", "op": "empty", "value": True}], ["bob"]),
        ([{"column": "score", "op": "empty", "value": False}], ["Ann", "Cid", "Dee", "Eve"]),
        ([{"column": "age", "op": "eq", "value": "n/a"}], ["Dee"]),
        ([{"column": "age", "op": "gt", "value": 20}, {"column": "city", "op": "eq",
                                                      "value": "Rome"}], ["bob"]),
        ([], ["Ann", "bob", "Cid", "Dee", "Eve"]),
    ],
)
async def test_csv_query_conditions(
    tools: Tools, where: list[dict[str, Any]], expected: list[str]
) -> None:
    assert await names(tools, where=where) == expected


async def test_csv_query_match_any(tools: Tools) -> None:
    where = [{"column": "age", "op": "gt", "value": 40}, {"column": "name", "op": "eq",
                                                          "value": "Eve"}]
    assert await names(tools, where=where, match="any") == ["Cid", "Eve"]
    assert await names(tools, where=where, match="all") == []


async def test_csv_query_booleans_compare_as_true_false(tools: Tools) -> None:
    text = "k,flag\na,true\nb,false\nc,TRUE\n"
    args = {"csv": text, "where": [{"column": "flag", "op": "eq", "value": True}]}
    assert [r["k"] for r in (await tools.call("csv_query", args))["rows"]] == ["a"]
    args["where"][0]["ignore_case"] = True  # type: ignore[index]
    assert [r["k"] for r in (await tools.call("csv_query", args))["rows"]] == ["a", "c"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        # numbers numerically, then text, empty cells last
        ([{"column": "age"}], ["Eve", "bob", "Ann", "Cid", "Dee"]),
        ([{"column": "age", "order": "desc"}], ["Cid", "Ann", "bob", "Eve", "Dee"]),
        ([{"column": "score"}], ["Cid", "Eve", "Ann", "Dee", "bob"]),
        ([{"column": "score", "order": "desc"}], ["Dee", "Ann", "Eve", "Cid", "bob"]),
        ([{"column": "name"}], ["Ann", "Cid", "Dee", "Eve", "bob"]),
        # stable multi-key sort; text order is by code point ("bob" > "Eve")
        ([{"column": "city"}, {"column": "name", "order": "desc"}],
         ["Ann", "Dee", "bob", "Eve", "Cid"]),
        ([{"column": "city", "order": "desc"}, {"column": "age"}],
         ["Cid", "Eve", "bob", "Dee", "Ann"]),
    ],
)
async def test_csv_query_sorts(
    tools: Tools, sort: list[dict[str, Any]], expected: list[str]
) -> None:
    assert await names(tools, sort=sort) == expected


async def test_csv_query_pages(tools: Tools) -> None:
    args = {"csv": PEOPLE, "columns": ["name"], "sort": [{"column": "name"}],
            "offset": 1, "limit": 2}
    result = await tools.call("csv_query", args)
    assert result["rows"] == [{"name": "Cid"}, {"name": "Dee"}]
    assert (result["matched"], result["returned"], result["truncated"]) == (5, 2, True)
    result = await tools.call("csv_query", {**args, "offset": 3})
    assert result["rows"] == [{"name": "Eve"}, {"name": "bob"}]
    assert result["truncated"] is False
    result = await tools.call("csv_query", {**args, "offset": 10})
    assert (result["rows"], result["returned"], result["truncated"]) == ([], 0, False)


async def test_csv_query_default_limit(tools: Tools) -> None:
    text = "n\n" + "".join(f"{i}\n" for i in range(250))
    result = await tools.call("csv_query", {"csv": text})
    assert (result["returned"], result["matched"], result["truncated"]) == (100, 250, True)
    assert result["rows"][-1] == {"n": "99"}


@pytest.mark.parametrize(
    ("text", "delimiter", "rows"),
    [
        ("a;b\n1;2\n3;4\n", ";", [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]),
        ("a\tb\n1\t2\n", "\t", [{"a": "1", "b": "2"}]),
        ("a|b\n1|2\n", "|", [{"a": "1", "b": "2"}]),
        ("city;pop\nOslo, NO;700\n", ";", [{"city": "Oslo, NO", "pop": "700"}]),
        ('x,y\n"1,5",2\n', ",", [{"x": "1,5", "y": "2"}]),
        ("name\nAnn\nBob\n", ",", [{"name": "Ann"}, {"name": "Bob"}]),
        ("a;b;c", ";", []),  # a header alone
    ],
)
async def test_csv_query_detects_the_delimiter(
    tools: Tools, text: str, delimiter: str, rows: list[dict[str, str]]
) -> None:
    result = await tools.call("csv_query", {"csv": text})
    assert (result["delimiter"], result["rows"]) == (delimiter, rows)


async def test_csv_query_uses_a_given_delimiter(tools: Tools) -> None:
    result = await tools.call("csv_query", {"csv": "a;b,c\n1;2,3\n", "delimiter": ";"})
    assert result["rows"] == [{"a": "1", "b,c": "2,3"}]
    result = await tools.call(
        "csv_query", {"csv": "a;b,c\n1;2,3\n", "delimiter": ",", "format": "csv"}
    )
    assert result["csv"] == "a;b,c\n1;2,3\n"


async def test_csv_query_parsing_rules(tools: Tools) -> None:
    text = (
        "\ufeff name , ,name,\n"  # BOM, spaces, an empty name, a repeated one
        "1,2\n"  # short: padded
        "\n"  # blank: skipped
        '3,"multi\nline","say ""hi""",4,5\n'  # quoted newline and quotes; extra cell dropped
    )
    result = await tools.call("csv_query", {"csv": text})
    assert result["columns"] == ["name", "column_2", "name_2", "column_4"]
    assert result["rows"] == [
        {"name": "1", "column_2": "2", "name_2": "", "column_4": ""},
        {"name": "3", "column_2": "multi\nline", "name_2": 'say "hi"', "column_4": "4"},
    ]


async def test_csv_query_csv_output_quotes_when_needed(tools: Tools) -> None:
    text = 'a,b\n"x,y","q""r"\n"line\nbreak",plain\n'
    result = await tools.call("csv_query", {"csv": text, "format": "csv"})
    assert result["csv"] == text


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        ({"columns": ["name", "nope"]}, "columns",
         "unknown column 'nope'; the columns are 'name', 'age', 'city', 'score'"),
        ({"where": [{"column": "Name", "op": "eq", "value": 1}]}, "where",
         "condition 1: unknown column 'Name'"),
        ({"where": [{"column": "age", "op": "gt", "value": 1},
                    {"column": "age", "op": "in", "value": 3}]}, "where",
         "condition 2: op 'in' takes an array of values"),
        ({"where": [{"column": "age", "op": "eq"}]}, "where",
         "condition 1: op 'eq' needs a 'value'"),
        ({"where": [{"column": "age", "op": "eq", "value": [1]}]}, "where",
         "op 'eq' takes a single value, not an array (use op 'in')"),
        ({"where": [{"column": "age", "op": "empty", "value": "yes"}]}, "where",
         "op 'empty' takes a boolean value"),
        ({"sort": [{"column": "zzz"}]}, "sort", "unknown column 'zzz'"),
        ({"delimiter": '"'}, "delimiter", "'\"' cannot be a CSV delimiter"),
        ({"delimiter": ";;"}, "delimiter", "is too long"),
        ({"limit": 0}, "limit", "less than the minimum of 1"),
        ({"limit": 10_001}, "limit", "greater than the maximum of 10000"),
        ({"offset": -1}, "offset", "less than the minimum of 0"),
        ({"format": "xml"}, "format", "'xml' is not one of ['objects', 'csv']"),
        ({"where": [{"column": "a", "op": "like", "value": "x"}]}, "where/0/op",
         "'like' is not one of"),
        ({"sort": [{"column": "age", "order": "up"}]}, "sort/0/order", "'up' is not one of"),
        ({"columns": []}, "columns", "should be non-empty"),
        ({"csv": 'a,b\n"x"y,2\n'}, "csv", "malformed CSV at line 2: ',' expected after '\"'"),
        ({"csv": 'a,b\n"open,2\n'}, "csv", "malformed CSV at line 2: unexpected end of data"),
        ({"csv": ""}, "csv", "the CSV text has no header row"),
        ({"csv": "\n\n"}, "csv", "the CSV text has no header row"),
        ({"csv": "a\n" + "x" * 200_000 + "\n"}, "csv", "field larger than field limit"),
    ],
)
async def test_csv_query_invalid_args(
    tools: Tools, args: dict[str, Any], argument: str, fragment: str
) -> None:
    err = await tools.invalid("csv_query", {"csv": PEOPLE, **args}, argument)
    assert fragment in err.message


async def test_csv_query_needs_csv(tools: Tools) -> None:
    err = await tools.invalid("csv_query", {"where": []}, None)
    assert "'csv' is a required property" in err.message


async def test_csv_query_bounds_the_rows_and_columns(tools: Tools) -> None:
    text = "n\n" + "1\n" * (MAX_ROWS + 1)
    err = await tools.invalid("csv_query", {"csv": text}, "csv")
    assert f"the CSV has more than {MAX_ROWS} rows" in err.message
    text = ",".join(f"c{i}" for i in range(MAX_COLUMNS + 1)) + "\n"
    err = await tools.invalid("csv_stats", {"csv": text}, "csv")
    assert f"the CSV has {MAX_COLUMNS + 1} columns; the limit is {MAX_COLUMNS}" in err.message


# --- csv_stats ------------------------------------------------------------------------------

STATS_CSV = (
    "id,price,ok,when,label,blank,mixed\n"
    "1,2.5,true,2024-01-05,b,,1\n"
    "2,,False,2023-12-31T23:00:00+00:00,a,,x\n"
    "3,4,TRUE,2024-02-01,b,,\n"
    "4,-1e2,false,2024-01-01T10:00:00,,,2\n"
)


async def test_csv_stats(tools: Tools) -> None:
    result = await tools.call("csv_stats", {"csv": STATS_CSV, "top": 2})
    assert result["rows"] == 4
    assert result["delimiter"] == ","
    by_name = {c["name"]: c for c in result["columns"]}
    assert list(by_name) == ["id", "price", "ok", "when", "label", "blank", "mixed"]
    assert by_name["id"] == {
        "name": "id", "type": "integer", "count": 4, "empty": 0, "distinct": 4,
        "distinct_capped": False, "min": 1, "max": 4, "mean": 2.5, "median": 2.5,
        "stdev": statistics.stdev([1, 2, 3, 4]),
        "top": [{"value": "1", "count": 1}, {"value": "2", "count": 1}],
    }
    price = by_name["price"]
    assert (price["type"], price["count"], price["empty"]) == ("number", 3, 1)
    assert (price["min"], price["max"], price["median"]) == (-100.0, 4, 2.5)
    assert math.isclose(price["mean"], (2.5 + 4 - 100) / 3)
    assert math.isclose(price["stdev"], statistics.stdev([2.5, 4, -100]))
    ok = by_name["ok"]
    assert (ok["type"], ok["count"], ok["distinct"], ok["min"], ok["mean"]) == (
        "boolean", 4, 4, None, None
    )
    when = by_name["when"]
    assert when["type"] == "date"
    # compared as instants: 2023-12-31T23:00Z is the earliest
    assert (when["min"], when["max"]) == ("2023-12-31T23:00:00+00:00", "2024-02-01")
    assert by_name["label"]["type"] == "text"
    assert by_name["label"]["top"] == [{"value": "b", "count": 2}, {"value": "a", "count": 1}]
    assert (by_name["label"]["count"], by_name["label"]["empty"]) == (3, 1)
    assert by_name["blank"] == {
        "name": "blank", "type": "empty", "count": 0, "empty": 4, "distinct": 0,
        "distinct_capped": False, "min": None, "max": None, "mean": None, "median": None,
        "stdev": None, "top": [],
    }
    assert (by_name["mixed"]["type"], by_name["mixed"]["min"]) == ("text", None)


async def test_csv_stats_single_value_has_no_stdev(tools: Tools) -> None:
    result = await tools.call("csv_stats", {"csv": "x\n7\n"})
    column = result["columns"][0]
    assert (column["type"], column["mean"], column["median"], column["stdev"]) == (
        "integer", 7.0, 7, None
    )


async def test_csv_stats_columns_and_top(tools: Tools) -> None:
    text = "a,b\n" + "x,1\n" * 3 + "y,2\n" * 3 + "z,3\n"
    result = await tools.call("csv_stats", {"csv": text, "columns": ["b", "a"], "top": 0})
    assert [c["name"] for c in result["columns"]] == ["b", "a"]
    assert result["columns"][1]["top"] == []
    result = await tools.call("csv_stats", {"csv": text, "columns": ["a"], "top": 5})
    assert result["columns"][0]["top"] == [
        {"value": "x", "count": 3}, {"value": "y", "count": 3}, {"value": "z", "count": 1},
    ]


async def test_csv_stats_bounds_distinct_values(tools: Tools) -> None:
    text = "v\n" + "".join(f"{i % 10}\n" for i in range(100)) + "new\n"
    result = await tools.call("csv_stats", {"csv": text, "max_distinct": 10, "top": 1})
    column = result["columns"][0]
    assert (column["distinct"], column["distinct_capped"]) == (10, True)
    assert column["top"] == [{"value": "0", "count": 10}]
    assert column["count"] == 101


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        ({"columns": ["nope"]}, "columns", "unknown column 'nope'"),
        ({"top": 101}, "top", "greater than the maximum of 100"),
        ({"top": -1}, "top", "less than the minimum of 0"),
        ({"max_distinct": 0}, "max_distinct", "less than the minimum of 1"),
        ({"csv": 'a\n"x'}, "csv", "malformed CSV at line 2: unexpected end of data"),
        ({"csv": 3}, "csv", "3 is not of type 'string'"),
        ({"delimiter": "\n"}, "delimiter", "cannot be a CSV delimiter"),
    ],
)
async def test_csv_stats_invalid_args(
    tools: Tools, args: dict[str, Any], argument: str, fragment: str
) -> None:
    err = await tools.invalid("csv_stats", {"csv": STATS_CSV, **args}, argument)
    assert fragment in err.message
