"""file_list and file_search."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from tools_fs_support import FS, SECRET

from llmspell_tools_fs.search import MAX_LINE_CHARS


def _tree(work: Path) -> None:
    (work / "src" / "pkg" / "deep").mkdir(parents=True)
    (work / "src" / "main.py").write_text("import os\n# TODO: main\n")
    (work / "src" / "pkg" / "util.py").write_text("def helper():\n    return 1  # todo later\n")
    (work / "src" / "pkg" / "deep" / "x.md").write_text("# Title\nTODO deep\n")
    (work / "src" / ".hidden.py").write_text("TODO hidden\n")
    (work / ".git").mkdir()
    (work / ".git" / "config").write_text("TODO git\n")


# --- file_list ------------------------------------------------------------------------------


async def test_list_directory(fs: FS) -> None:
    os.utime(fs.work / "notes" / "done.txt", (1_700_000_000, 1_700_000_000))
    out = await fs.call("file_list", {"path": "notes"})
    assert out["path"] == str(fs.work / "notes")
    assert out["count"] == 3 and out["truncated"] is False
    assert out["entries"][0] == {"name": "done.txt", "path": "done.txt", "type": "file",
                                 "size": 22, "modified": "2023-11-14T22:13:20Z"}
    assert [e["name"] for e in out["entries"]] == ["done.txt", "old.txt", "todo.txt"]


async def test_list_default_is_the_current_directory_with_symlinks_as_symlinks(fs: FS) -> None:
    out = await fs.call("file_list", {})
    by_name = {e["name"]: e for e in out["entries"]}
    assert set(by_name) == {"link_dir_out", "link_out", "notes"}
    assert by_name["link_out"]["type"] == "symlink"
    assert by_name["link_dir_out"]["type"] == "symlink"
    assert by_name["notes"]["type"] == "dir" and by_name["notes"]["size"] is None


async def test_list_recursive_never_descends_symlinks_out(fs: FS) -> None:
    _tree(fs.work)
    out = await fs.call("file_list", {"recursive": True})
    paths = [e["path"] for e in out["entries"]]
    assert "link_dir_out" in paths
    assert not [p for p in paths if p.startswith("link_dir_out/")]
    assert "src/pkg/deep/x.md" in paths
    assert paths == sorted(paths, key=lambda p: p.split("/"))  # depth first, by name
    assert ".git" not in paths and "src/.hidden.py" not in paths
    assert SECRET not in repr(out) and "inner.txt" not in repr(out)


async def test_list_depth_hidden_and_bounds(fs: FS) -> None:
    _tree(fs.work)
    shallow = await fs.call("file_list", {"path": "src", "recursive": True, "max_depth": 2})
    assert [e["path"] for e in shallow["entries"]] == ["main.py", "pkg", "pkg/deep",
                                                       "pkg/util.py"]
    hidden = await fs.call("file_list", {"path": "src", "include_hidden": True})
    assert [e["name"] for e in hidden["entries"]] == [".hidden.py", "main.py", "pkg"]
    bounded = await fs.call("file_list", {"path": "src", "recursive": True, "max_entries": 2})
    assert bounded["count"] == 2 and bounded["truncated"] is True


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("*.py", ["src/main.py", "src/pkg/util.py"]),
        ("*.{md,py}", ["src/main.py", "src/pkg/deep/x.md", "src/pkg/util.py"]),
        ("src/**/*.py", ["src/main.py", "src/pkg/util.py"]),
        ("src/*/*.py", ["src/pkg/util.py"]),
        ("**/deep/*", ["src/pkg/deep/x.md"]),
        ("[mu]*.py", ["src/main.py", "src/pkg/util.py"]),
        ("[!m]*.py", ["src/pkg/util.py"]),
        ("?.md", ["src/pkg/deep/x.md"]),
        ("pkg", ["src/pkg"]),
        ("*.rs", []),
    ],
)
async def test_list_glob(fs: FS, pattern: str, expected: list[str]) -> None:
    _tree(fs.work)
    out = await fs.call("file_list", {"recursive": True, "pattern": pattern})
    assert [e["path"] for e in out["entries"]] == expected


async def test_list_errors(fs: FS) -> None:
    err = await fs.error("file_list", {"path": "nope"})
    assert err.code == "not_found"
    err = await fs.error("file_list", {"path": "notes/todo.txt"})
    assert err.code == "tool_error" and err.details["reason"] == "not_a_directory"


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        ({"path": 1}, "path", "not of type 'string'"),
        ({"recursive": "yes"}, "recursive", "not of type 'boolean'"),
        ({"max_depth": 0}, "max_depth", "less than the minimum of 1"),
        ({"max_entries": 10**6}, "max_entries", "greater than the maximum"),
        ({"pattern": "[abc"}, "pattern", "malformed glob pattern '[abc'"),
        ({"pattern": "{a,b"}, "pattern", "malformed glob pattern"),
        ({"glob": "*"}, None, "'glob' was unexpected"),
    ],
)
async def test_list_invalid_args(fs: FS, args: dict[str, Any], field: str | None,
                                 fragment: str) -> None:
    err = await fs.error("file_list", args)
    assert err.code == "invalid_args" and fragment in err.message
    assert err.message.startswith("tool 'file_list': ")
    if field:
        assert err.details["argument"] == field


# --- file_search ----------------------------------------------------------------------------


async def test_search_finds_lines(fs: FS) -> None:
    _tree(fs.work)
    out = await fs.call("file_search", {"pattern": "TODO", "path": "src"})
    assert out["path"] == str(fs.work / "src")
    assert out["matches"] == [
        {"path": "main.py", "line": 2, "column": 3, "text": "# TODO: main"},
        {"path": "pkg/deep/x.md", "line": 2, "column": 1, "text": "TODO deep"},
    ]
    assert out["count"] == 2 and out["truncated"] is False
    assert out["files_searched"] == 3


async def test_search_case_glob_hidden_and_depth(fs: FS) -> None:
    _tree(fs.work)
    ci = await fs.call("file_search", {"pattern": "todo", "path": "src", "glob": "*.py",
                                       "case_insensitive": True})
    assert [(m["path"], m["line"]) for m in ci["matches"]] == [("main.py", 2),
                                                              ("pkg/util.py", 2)]
    hidden = await fs.call("file_search", {"pattern": "TODO", "include_hidden": True})
    assert {m["path"] for m in hidden["matches"]} == {
        ".git/config", "src/.hidden.py", "src/main.py", "src/pkg/deep/x.md",
        "notes/todo.txt"}
    flat = await fs.call("file_search", {"pattern": "TODO", "path": "src", "recursive": False})
    assert [m["path"] for m in flat["matches"]] == ["main.py"]
    deep = await fs.call("file_search", {"pattern": "TODO", "path": "src", "max_depth": 2})
    assert [m["path"] for m in deep["matches"]] == ["main.py"]


async def test_search_a_single_file_and_regex_features(fs: FS) -> None:
    (fs.work / "code.py").write_text("def alpha(x):\n    pass\ndef beta():\n    return 'é'\n")
    out = await fs.call("file_search", {"pattern": r"^def (\w+)\(", "path": "code.py"})
    assert [(m["line"], m["text"]) for m in out["matches"]] == [(1, "def alpha(x):"),
                                                               (3, "def beta():")]
    assert out["matches"][0]["path"] == "code.py"
    end = await fs.call("file_search", {"pattern": r"pass$", "path": "code.py"})
    assert [m["line"] for m in end["matches"]] == [2]
    unicode = await fs.call("file_search", {"pattern": r"\p{L}'$", "path": "code.py"})
    assert [m["line"] for m in unicode["matches"]] == [4]
    # lookarounds and \A take the exact line-by-line path
    look = await fs.call("file_search", {"pattern": r"(?<=def )beta", "path": "code.py"})
    assert [m["line"] for m in look["matches"]] == [3]
    start = await fs.call("file_search", {"pattern": r"\A    ", "path": "code.py"})
    assert [m["line"] for m in start["matches"]] == [2, 4]


async def test_search_line_semantics(fs: FS) -> None:
    (fs.work / "crlf.txt").write_bytes(b"one\r\ntwo\r\n\r\nthree\r\n")
    out = await fs.call("file_search", {"pattern": "^$", "path": "crlf.txt"})
    assert [m["line"] for m in out["matches"]] == [3]  # no phantom line after the last
    ends = await fs.call("file_search", {"pattern": "o$", "path": "crlf.txt"})
    assert [m["line"] for m in ends["matches"]] == [2]
    across = await fs.call("file_search", {"pattern": r"one\s+two", "path": "crlf.txt"})
    assert across["matches"] == []  # matching is per line
    (fs.work / "empty.txt").write_text("")
    empty = await fs.call("file_search", {"pattern": "^", "path": "empty.txt"})
    assert empty["matches"] == [] and empty["files_searched"] == 1


async def test_search_bounds(fs: FS) -> None:
    (fs.work / "many.txt").write_text("hit\n" * 50)
    out = await fs.call("file_search", {"pattern": "hit", "path": "many.txt", "max_matches": 7})
    assert out["count"] == 7 and out["truncated"] is True
    assert [m["line"] for m in out["matches"]] == list(range(1, 8))
    long_line = "a" * 2000 + "NEEDLE" + "b" * 2000
    (fs.work / "long.txt").write_text(long_line + "\n")
    hit = (await fs.call("file_search", {"pattern": "NEEDLE", "path": "long.txt"}))[
        "matches"][0]
    assert len(hit["text"]) == MAX_LINE_CHARS and "NEEDLE" in hit["text"]
    assert hit["text_truncated"] is True and hit["column"] == 2001


async def test_search_skips_binary_large_and_outside_files(fs: FS) -> None:
    (fs.work / "d").mkdir()
    (fs.work / "d" / "bin.dat").write_bytes(b"TODO\x00\x01")
    (fs.work / "d" / "big.txt").write_text("TODO\n" * 100)
    (fs.work / "d" / "ok.txt").write_text("TODO ok\n")
    (fs.work / "d" / "out").symlink_to(fs.secret)
    (fs.work / "d" / "in").symlink_to(fs.work / "notes" / "todo.txt")
    os.mkfifo(fs.work / "d" / "pipe")
    out = await fs.call("file_search", {"pattern": "TODO|SECRET", "path": "d",
                                        "max_file_bytes": 100})
    assert [(m["path"], m["text"]) for m in out["matches"]] == [("in", "TODO buy milk"),
                                                               ("ok.txt", "TODO ok")]
    assert out["skipped"] == [{"path": "big.txt", "reason": "too_large"},
                              {"path": "bin.dat", "reason": "binary"},
                              {"path": "out", "reason": "outside_roots"}]
    assert out["skipped_count"] == 3
    assert SECRET not in repr(out)


async def test_search_time_guard(fs: FS) -> None:
    (fs.work / "evil.txt").write_text("a" * 5000 + "!\n")
    err = await fs.error("file_search", {"pattern": "(a|aa)+$", "path": "evil.txt",
                                         "timeout_seconds": 0.2})
    assert err.code == "timeout"
    assert err.details["tool"] == "file_search"
    assert "time budget" in err.message


async def test_search_missing_path(fs: FS) -> None:
    err = await fs.error("file_search", {"pattern": "x", "path": "nope"})
    assert err.code == "not_found"


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        ({}, None, "'pattern' is a required property"),
        ({"pattern": ""}, "pattern", "should be non-empty"),
        ({"pattern": "(unclosed"}, "pattern", "is not a valid regular expression"),
        ({"pattern": "a{2,1}"}, "pattern", "is not a valid regular expression"),
        ({"pattern": "x", "glob": "[x"}, "glob", "malformed glob pattern"),
        ({"pattern": "x", "max_matches": 0}, "max_matches", "less than the minimum of 1"),
        ({"pattern": "x", "timeout_seconds": 0}, "timeout_seconds",
         "less than or equal to the minimum of 0"),
        ({"pattern": "x", "timeout_seconds": 60}, "timeout_seconds", "greater than the maximum"),
        ({"pattern": "x", "case_insensitive": "yes"}, "case_insensitive",
         "not of type 'boolean'"),
    ],
)
async def test_search_invalid_args(fs: FS, args: dict[str, Any], field: str | None,
                                   fragment: str) -> None:
    err = await fs.error("file_search", args)
    assert err.code == "invalid_args" and fragment in err.message, err.message
    assert err.message.startswith("tool 'file_search': ")
    if field:
        assert err.details["argument"] == field
