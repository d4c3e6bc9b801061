"""file_diff."""

from __future__ import annotations

from typing import Any

import pytest
from tools_fs_support import FS

from llmspell_tools_fs.diffing import MAX_INPUT_BYTES


async def test_diff_of_two_files(fs: FS) -> None:
    out = await fs.call("file_diff", {"old_path": "notes/todo.txt", "new_path": "notes/done.txt"})
    assert out == {
        "old_path": str(fs.work / "notes" / "todo.txt"),
        "new_path": str(fs.work / "notes" / "done.txt"),
        "identical": False,
        "binary": False,
        "diff": "--- notes/todo.txt\n+++ notes/done.txt\n@@ -1,2 +1,2 @@\n"
                "-TODO buy milk\n+buy milk\n fix the bike\n",
        "added": 1,
        "removed": 1,
        "truncated": False,
    }


async def test_identical_files(fs: FS) -> None:
    (fs.work / "copy.txt").write_text("TODO buy milk\nfix the bike\n")
    out = await fs.call("file_diff", {"old_path": "notes/todo.txt", "new_path": "copy.txt"})
    assert out["identical"] is True and out["diff"] == ""
    assert out["added"] == out["removed"] == 0


async def test_context_lines_and_counts(fs: FS) -> None:
    old = [f"line {i}\n" for i in range(1, 21)]
    new = list(old)
    new[9] = "changed\n"
    new.append("-- a new line that starts with dashes\n")
    (fs.work / "a.txt").write_text("".join(old))
    (fs.work / "b.txt").write_text("".join(new))
    out = await fs.call("file_diff", {"old_path": "a.txt", "new_path": "b.txt",
                                      "context_lines": 0})
    assert out["diff"].splitlines() == [
        "--- a.txt", "+++ b.txt", "@@ -10 +10 @@", "-line 10", "+changed",
        "@@ -20,0 +21 @@", "+-- a new line that starts with dashes"]
    assert out["added"] == 2 and out["removed"] == 1
    wide = await fs.call("file_diff", {"old_path": "a.txt", "new_path": "b.txt",
                                       "context_lines": 100})
    assert wide["diff"].count("@@ ") == 1


async def test_missing_final_newline_is_marked(fs: FS) -> None:
    (fs.work / "a.txt").write_text("x\ny")
    (fs.work / "b.txt").write_text("x\nz\n")
    out = await fs.call("file_diff", {"old_path": "a.txt", "new_path": "b.txt"})
    assert "-y\n\\ No newline at end of file\n+z\n" in out["diff"]


async def test_output_is_bounded(fs: FS) -> None:
    (fs.work / "a.txt").write_text("".join(f"a{i}\n" for i in range(500)))
    (fs.work / "b.txt").write_text("".join(f"b{i}\n" for i in range(500)))
    out = await fs.call("file_diff", {"old_path": "a.txt", "new_path": "b.txt",
                                      "max_chars": 200})
    assert out["truncated"] is True and 0 < len(out["diff"]) <= 200
    assert out["diff"].endswith("\n")
    assert out["added"] == 500 and out["removed"] == 500  # counted over the whole diff


async def test_binary_and_large_files(fs: FS) -> None:
    (fs.work / "a.bin").write_bytes(b"\0\1\2")
    (fs.work / "b.bin").write_bytes(b"\0\1\3")
    out = await fs.call("file_diff", {"old_path": "a.bin", "new_path": "b.bin"})
    assert out["binary"] is True and out["identical"] is False and out["diff"] == ""
    (fs.work / "big.txt").write_bytes(b"x" * (MAX_INPUT_BYTES + 1))
    err = await fs.error("file_diff", {"old_path": "big.txt", "new_path": "a.bin"})
    assert err.code == "tool_error" and err.details["reason"] == "too_large"
    err = await fs.error("file_diff", {"old_path": "nope.txt", "new_path": "a.bin"})
    assert err.code == "not_found"


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        ({"old_path": "a"}, None, "'new_path' is a required property"),
        ({"old_path": "a", "new_path": 2}, "new_path", "not of type 'string'"),
        ({"old_path": "a", "new_path": "b", "context_lines": -1}, "context_lines",
         "less than the minimum of 0"),
        ({"old_path": "a", "new_path": "b", "context_lines": 101}, "context_lines",
         "greater than the maximum of 100"),
        ({"old_path": "a", "new_path": "b", "max_chars": 0}, "max_chars",
         "less than the minimum of 1"),
        ({"old_path": "a", "new_path": "b", "encoding": "nope"}, "encoding",
         "unknown text encoding"),
    ],
)
async def test_diff_invalid_args(fs: FS, args: dict[str, Any], field: str | None,
                                 fragment: str) -> None:
    err = await fs.error("file_diff", args)
    assert err.code == "invalid_args" and fragment in err.message
    assert err.message.startswith("tool 'file_diff': ")
    if field:
        assert err.details["argument"] == field
