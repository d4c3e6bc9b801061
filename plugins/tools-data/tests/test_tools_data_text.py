"""text_diff and table_render through the real kernel path."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import trio

from llmspell_tools_data.tables import MAX_COLUMNS
from llmspell_tools_data.text_diff import MAX_LINES

if TYPE_CHECKING:
    from conftest import Tools

# --- text_diff ------------------------------------------------------------------------------


async def test_text_diff_unified(tools: Tools) -> None:
    old = "".join(f"line {i}\n" for i in range(1, 11))
    new = old.replace("line 2\n", "line two\n").replace("line 9\n", "")
    result = await tools.call(
        "text_diff", {"old": old, "new": new, "context": 1, "old_label": "a.txt",
                      "new_label": "b.txt"}
    )
    assert result == {
        "diff": "--- a.txt\n+++ b.txt\n"
        "@@ -1,3 +1,3 @@\n line 1\n-line 2\n+line two\n line 3\n"
        "@@ -8,3 +8,2 @@\n line 8\n-line 9\n line 10\n",
        "added": 1,
        "removed": 2,
        "equal": False,
        "truncated": False,
    }


async def test_text_diff_equal_texts(tools: Tools) -> None:
    assert await tools.call("text_diff", {"old": "a\nb\n", "new": "a\nb\n"}) == {
        "diff": "", "added": 0, "removed": 0, "equal": True, "truncated": False,
    }
    assert (await tools.call("text_diff", {"old": "", "new": ""}))["equal"] is True
    # an ndiff lists every line, changed or not
    result = await tools.call("text_diff", {"old": "a\nb", "new": "a\nb", "format": "ndiff"})
    assert (result["diff"], result["equal"], result["added"]) == ("  a\n  b\n", True, 0)


async def test_text_diff_marks_a_missing_final_newline(tools: Tools) -> None:
    result = await tools.call("text_diff", {"old": "a\nb", "new": "a\nb\n"})
    assert result["diff"] == (
        "--- old\n+++ new\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"
    )
    assert (result["added"], result["removed"], result["equal"]) == (1, 1, False)


async def test_text_diff_counts_lines_that_look_like_headers(tools: Tools) -> None:
    result = await tools.call("text_diff", {"old": "--x\n", "new": "++y\n"})
    assert result["diff"] == "--- old\n+++ new\n@@ -1 +1 @@\n---x\n+++y\n"
    assert (result["added"], result["removed"]) == (1, 1)


async def test_text_diff_from_and_to_empty(tools: Tools) -> None:
    result = await tools.call("text_diff", {"old": "", "new": "x\ny\n"})
    assert result["diff"] == "--- old\n+++ new\n@@ -0,0 +1,2 @@\n+x\n+y\n"
    assert (result["added"], result["removed"]) == (2, 0)


async def test_text_diff_ndiff(tools: Tools) -> None:
    result = await tools.call(
        "text_diff", {"old": "one\ntwo\nthree\n", "new": "one\ntoo\nthree\nfour\n",
                      "format": "ndiff"}
    )
    assert result == {
        "diff": "  one\n- two\n?  ^\n+ too\n?  ^\n  three\n+ four\n",
        "added": 2,
        "removed": 1,
        "equal": False,
        "truncated": False,
    }


async def test_text_diff_ndiff_stays_fast_on_large_changed_blocks(tools: Tools) -> None:
    # difflib's intraline matching is quadratic in a changed block; large blocks are listed
    # plainly (2000 x 2000 lines would take minutes otherwise)
    old = "".join(f"old line number {i}\n" for i in range(2000))
    new = "".join(f"new line number {i}\n" for i in range(2000))
    with trio.fail_after(60):
        result = await tools.call("text_diff", {"old": old, "new": new, "format": "ndiff",
                                                "max_chars": 1000})
    assert (result["added"], result["removed"], result["truncated"]) == (2000, 2000, True)
    assert result["diff"].startswith("- old line number 0\n- old line number 1\n")


async def test_text_diff_truncates_at_whole_lines(tools: Tools) -> None:
    old = "".join(f"{i}\n" for i in range(1000))
    result = await tools.call("text_diff", {"old": old, "new": "", "max_chars": 100})
    assert result["truncated"] is True
    assert len(result["diff"]) <= 100
    assert result["diff"].endswith("\n")
    assert result["diff"].startswith("--- old\n+++ new\n@@ -1,1000 +0,0 @@\n-0\n-1\n")
    assert (result["removed"], result["added"]) == (1000, 0)  # counts cover everything


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        ({"old": "x\n" * (MAX_LINES + 1)}, "old", f"the limit is {MAX_LINES}"),
        ({"new": "x\n" * (MAX_LINES + 1)}, "new", f"the limit is {MAX_LINES}"),
        ({"format": "context"}, "format", "'context' is not one of ['unified', 'ndiff']"),
        ({"context": -1}, "context", "less than the minimum of 0"),
        ({"context": 1001}, "context", "greater than the maximum of 1000"),
        ({"old_label": "a\nb"}, "old_label", "does not match"),
        ({"new_label": "x" * 201}, "new_label", "is too long"),
        ({"max_chars": 99}, "max_chars", "less than the minimum of 100"),
        ({"old": 1}, "old", "1 is not of type 'string'"),
    ],
)
async def test_text_diff_invalid_args(
    tools: Tools, args: dict[str, Any], argument: str, fragment: str
) -> None:
    err = await tools.invalid("text_diff", {"old": "a", "new": "b", **args}, argument)
    assert fragment in err.message


async def test_text_diff_needs_both_texts(tools: Tools) -> None:
    err = await tools.invalid("text_diff", {"old": "a"}, None)
    assert "'new' is a required property" in err.message


# --- table_render ---------------------------------------------------------------------------

ROWS = [
    {"name": "Ann", "age": 34, "note": "a|b"},
    {"name": "Bob", "age": 2.5, "note": "two\nlines"},
    {"name": "Ünï", "city": "Oslo", "note": None},
]


async def test_table_render_markdown(tools: Tools) -> None:
    result = await tools.call("table_render", {"rows": ROWS})
    assert result == {
        "text": "| name | age | note         | city |\n"
        "| ---- | --: | ------------ | ---- |\n"
        "| Ann  |  34 | a\\|b         |      |\n"
        "| Bob  | 2.5 | two<br>lines |      |\n"
        "| Ünï  |     |              | Oslo |\n",
        "rows": 3,
        "total_rows": 3,
        "truncated": False,
    }


async def test_table_render_text(tools: Tools) -> None:
    result = await tools.call(
        "table_render", {"rows": ROWS, "format": "text", "columns": ["note", "age", "name"]}
    )
    assert result["text"] == (
        "note       age  name\n"
        "---------  ---  ----\n"
        "a|b         34  Ann\n"
        "two lines  2.5  Bob\n"
        "                Ünï\n"
    )


async def test_table_render_html_escapes(tools: Tools) -> None:
    rows = [{"<b>": "x & <y>", "n": 1}, {"<b>": '"q"', "n": None}]
    result = await tools.call("table_render", {"rows": rows, "format": "html"})
    assert result["text"] == (
        "<table>\n  <thead>\n    <tr>\n      <th>&lt;b&gt;</th>\n"
        '      <th style="text-align: right">n</th>\n    </tr>\n  </thead>\n  <tbody>\n'
        "    <tr>\n      <td>x &amp; &lt;y&gt;</td>\n"
        '      <td style="text-align: right">1</td>\n    </tr>\n'
        "    <tr>\n      <td>&quot;q&quot;</td>\n"
        '      <td style="text-align: right"></td>\n    </tr>\n'
        "  </tbody>\n</table>\n"
    )


async def test_table_render_rows_as_arrays(tools: Tools) -> None:
    args = {"rows": [["a", 1, True], ["b", None]], "headers": ["k", "v", "flag"]}
    result = await tools.call("table_render", args)
    assert result["text"] == (
        "| k   |   v | flag |\n"
        "| --- | --: | ---- |\n"
        "| a   |   1 | true |\n"
        "| b   |     |      |\n"
    )
    result = await tools.call("table_render", {**args, "columns": ["flag", "k"],
                                               "format": "text"})
    assert result["text"] == "flag  k\n----  -\ntrue  a\n      b\n"


async def test_table_render_cells(tools: Tools) -> None:
    rows = [
        {"v": {"a": [1, None]}, "w": "x" * 50, "wide": "日本"},
        {"v": [], "w": "", "wide": "ab"},
    ]
    result = await tools.call("table_render", {"rows": rows, "max_cell_chars": 10,
                                               "format": "text"})
    assert result["text"] == (
        "v           w           wide\n"
        "----------  ----------  ----\n"
        '{"a":[1,n…  xxxxxxxxx…  日本\n'  # wide characters count twice
        "[]                      ab\n"
    )


async def test_table_render_bounds_rows(tools: Tools) -> None:
    rows = [{"n": i} for i in range(30)]
    result = await tools.call("table_render", {"rows": rows, "max_rows": 3})
    assert result == {
        "text": "|   n |\n| --: |\n|   0 |\n|   1 |\n|   2 |\n",
        "rows": 3,
        "total_rows": 30,
        "truncated": True,
    }


async def test_table_render_empty(tools: Tools) -> None:
    assert await tools.call("table_render", {"rows": []}) == {
        "text": "", "rows": 0, "total_rows": 0, "truncated": False,
    }
    result = await tools.call("table_render", {"rows": [], "headers": ["a", "b"]})
    assert result["text"] == "| a   | b   |\n| --- | --- |\n"
    result = await tools.call("table_render", {"rows": [], "columns": ["x"]})
    assert result["text"] == "| x   |\n| --- |\n"


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        ({"rows": [{"a": 1}, [1]]}, "rows", "mix objects and arrays"),
        ({"rows": [[1, 2]]}, "headers", "rows given as arrays need 'headers'"),
        ({"rows": [[1, 2, 3]], "headers": ["a", "b"]}, "rows",
         "row 1 has 3 cells but there are 2 headers"),
        ({"rows": [[1]], "headers": ["a", "a"]}, "headers", "header names must be unique"),
        ({"rows": [{"a": 1}], "headers": ["a"]}, "headers",
         "only for rows given as arrays; choose object keys with 'columns'"),
        ({"rows": [{"a": 1}], "columns": ["b"]}, "columns",
         "unknown column 'b'; the columns are 'a'"),
        ({"rows": [{f"c{i}": i for i in range(MAX_COLUMNS + 1)}]}, "rows",
         f"{MAX_COLUMNS + 1} columns; the limit is {MAX_COLUMNS}"),
        ({"rows": [{"a": float("nan")}]}, "rows", "nan at /0/a is not a JSON number"),
        ({"rows": [1]}, "rows/0", "1 is not of type 'object', 'array'"),
        ({"rows": [], "format": "latex"}, "format", "'latex' is not one of"),
        ({"rows": [], "max_rows": 0}, "max_rows", "less than the minimum of 1"),
        ({"rows": [], "max_cell_chars": 10_001}, "max_cell_chars", "greater than the maximum"),
        ({"rows": [], "columns": []}, "columns", "should be non-empty"),
    ],
)
async def test_table_render_invalid_args(
    tools: Tools, args: dict[str, Any], argument: str, fragment: str
) -> None:
    err = await tools.invalid("table_render", args, argument)
    assert fragment in err.message


async def test_table_render_needs_rows(tools: Tools) -> None:
    err = await tools.invalid("table_render", {"format": "text"}, None)
    assert "'rows' is a required property" in err.message
