"""file_move, file_copy and file_delete."""

from __future__ import annotations

import os
import stat
from typing import Any

import pytest
from tools_fs_support import FS, SECRET

from llmspell.security import SecurityPolicy

# --- file_move ------------------------------------------------------------------------------


async def test_move_file(fs: FS) -> None:
    out = await fs.call("file_move", {"source": "notes/todo.txt", "destination": "todo.txt"})
    assert out == {"source": str(fs.work / "notes" / "todo.txt"),
                   "destination": str(fs.work / "todo.txt"), "type": "file", "replaced": False}
    assert not (fs.work / "notes" / "todo.txt").exists()
    assert (fs.work / "todo.txt").read_text().startswith("TODO")


async def test_move_directory(fs: FS) -> None:
    out = await fs.call("file_move", {"source": "notes", "destination": "memos"})
    assert out["type"] == "dir"
    assert sorted(os.listdir(fs.work / "memos")) == ["done.txt", "old.txt", "todo.txt"]
    err = await fs.error("file_move", {"source": "memos", "destination": "memos/inner"})
    assert err.code == "tool_error" and err.details["reason"] == "into_itself"


async def test_move_overwrite_rule(fs: FS) -> None:
    err = await fs.error("file_move", {"source": "notes/todo.txt",
                                       "destination": "notes/done.txt"})
    assert err.code == "tool_error" and err.details["reason"] == "exists"
    assert err.hint and "overwrite" in err.hint
    assert (fs.work / "notes" / "done.txt").read_text() == "buy milk\nfix the bike\n"
    out = await fs.call("file_move", {"source": "notes/todo.txt",
                                      "destination": "notes/done.txt", "overwrite": True})
    assert out["replaced"] is True
    assert (fs.work / "notes" / "done.txt").read_text().startswith("TODO")
    (fs.work / "adir").mkdir()
    err = await fs.error("file_move", {"source": "notes/old.txt", "destination": "adir",
                                       "overwrite": True})
    assert err.code == "tool_error" and err.details["reason"] == "is_directory"


async def test_move_symlink_moves_the_link(fs: FS) -> None:
    (fs.work / "abs_out").symlink_to(fs.secret)
    out = await fs.call("file_move", {"source": "abs_out", "destination": "notes/link"})
    assert out["type"] == "symlink"
    assert (fs.work / "notes" / "link").is_symlink()
    assert fs.secret.read_text() == SECRET  # the target stays where it is
    err = await fs.error("file_read", {"path": "notes/link"})  # and is still out of reach
    assert err.code == "permission_denied"


async def test_move_refuses_roots_and_missing_sources(fs: FS) -> None:
    nested = SecurityPolicy(read_roots=[fs.work / "notes"], write_roots=[fs.work])
    err = await fs.error("file_move", {"source": "notes", "destination": "x"}, nested)
    assert err.code == "permission_denied" and err.details["reason"] == "root"
    err = await fs.error("file_move", {"source": str(fs.work), "destination": "x"})
    assert err.code == "permission_denied"
    assert fs.work.is_dir() and (fs.work / "notes").is_dir()
    err = await fs.error("file_move", {"source": "nope", "destination": "x"})
    assert err.code == "not_found"
    err = await fs.error("file_move", {"source": "notes/old.txt", "destination": "no/dir/x"})
    assert err.code == "not_found"
    err = await fs.error("file_move", {"source": "notes/old.txt",
                                       "destination": "notes/old.txt"})
    assert err.code == "tool_error" and err.details["reason"] == "same_path"


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        ({"source": "a"}, None, "'destination' is a required property"),
        ({"destination": "a"}, None, "'source' is a required property"),
        ({"source": "a", "destination": 1}, "destination", "not of type 'string'"),
        ({"source": "a", "destination": "b", "overwrite": "no"}, "overwrite",
         "not of type 'boolean'"),
        ({"source": "a", "destination": "b", "force": True}, None, "'force' was unexpected"),
    ],
)
async def test_move_invalid_args(fs: FS, args: dict[str, Any], field: str | None,
                                 fragment: str) -> None:
    err = await fs.error("file_move", args)
    assert err.code == "invalid_args" and fragment in err.message
    if field:
        assert err.details["argument"] == field


# --- file_copy ------------------------------------------------------------------------------


async def test_copy_file_keeps_mode_and_time(fs: FS) -> None:
    src = fs.work / "notes" / "todo.txt"
    os.chmod(src, 0o600)
    os.utime(src, (1_600_000_000, 1_600_000_000))
    out = await fs.call("file_copy", {"source": "notes/todo.txt", "destination": "copy.txt"})
    assert out == {"source": str(src), "destination": str(fs.work / "copy.txt"), "type": "file",
                   "files": 1, "directories": 0, "bytes": 27, "skipped": []}
    copy = fs.work / "copy.txt"
    assert copy.read_text() == src.read_text()
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert copy.stat().st_mtime == 1_600_000_000


async def test_copy_from_a_read_root(fs: FS) -> None:
    out = await fs.call("file_copy", {"source": "../ro/data.txt", "destination": "data.txt"})
    assert out["bytes"] == 10 and (fs.work / "data.txt").read_text() == "read only\n"


async def test_copy_overwrite_rule(fs: FS) -> None:
    err = await fs.error("file_copy", {"source": "notes/todo.txt",
                                       "destination": "notes/done.txt"})
    assert err.code == "tool_error" and err.details["reason"] == "exists"
    assert (fs.work / "notes" / "done.txt").read_text() == "buy milk\nfix the bike\n"
    await fs.call("file_copy", {"source": "notes/todo.txt", "destination": "notes/done.txt",
                                "overwrite": True})
    assert (fs.work / "notes" / "done.txt").read_text().startswith("TODO")
    err = await fs.error("file_copy", {"source": "notes/todo.txt", "destination": "notes",
                                       "overwrite": True})
    assert err.code == "tool_error" and err.details["reason"] == "is_directory"


async def test_copy_tree(fs: FS) -> None:
    (fs.work / "notes" / "sub").mkdir()
    (fs.work / "notes" / "sub" / "deep.txt").write_text("deep")
    (fs.work / "notes" / "sub" / "out").symlink_to(fs.secret)
    (fs.work / "notes" / ".hidden").write_text("h")
    err = await fs.error("file_copy", {"source": "notes", "destination": "backup"})
    assert err.code == "tool_error" and err.details["reason"] == "is_directory"
    assert err.hint and "recursive" in err.hint
    out = await fs.call("file_copy", {"source": "notes", "destination": "backup",
                                      "recursive": True})
    assert out["type"] == "dir" and out["files"] == 5 and out["directories"] == 1
    assert out["skipped"] == [{"path": "sub/out", "reason": "symlink"}]
    assert (fs.work / "backup" / "sub" / "deep.txt").read_text() == "deep"
    assert (fs.work / "backup" / ".hidden").read_text() == "h"
    assert not os.path.lexists(fs.work / "backup" / "sub" / "out")
    err = await fs.error("file_copy", {"source": "notes", "destination": "backup",
                                       "recursive": True, "overwrite": True})
    assert err.code == "tool_error" and err.details["reason"] == "exists"
    err = await fs.error("file_copy", {"source": "notes", "destination": "notes/inner",
                                       "recursive": True})
    assert err.code == "tool_error" and err.details["reason"] == "into_itself"


async def test_copy_is_bounded_and_leaves_nothing_behind(fs: FS) -> None:
    (fs.work / "big").mkdir()
    for i in range(3):
        (fs.work / "big" / f"{i}.bin").write_bytes(b"x" * 1000)
    err = await fs.error("file_copy", {"source": "big", "destination": "big2",
                                       "recursive": True, "max_bytes": 2500})
    assert err.code == "tool_error" and err.details["reason"] == "too_large"
    assert not (fs.work / "big2").exists()
    err = await fs.error("file_copy", {"source": "big/0.bin", "destination": "one.bin",
                                       "max_bytes": 999})
    assert err.details["reason"] == "too_large"
    assert sorted(os.listdir(fs.work)) == ["big", "link_dir_out", "link_out", "notes"]


async def test_copy_refuses_special_files_and_missing_sources(fs: FS) -> None:
    os.mkfifo(fs.work / "fifo")
    err = await fs.error("file_copy", {"source": "fifo", "destination": "x"})
    assert err.code == "tool_error" and err.details["reason"] == "not_regular"
    err = await fs.error("file_copy", {"source": "missing", "destination": "x"})
    assert err.code == "not_found"


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        ({"source": "a"}, None, "'destination' is a required property"),
        ({"source": 5, "destination": "b"}, "source", "not of type 'string'"),
        ({"source": "a", "destination": "b", "max_bytes": -1}, "max_bytes",
         "less than the minimum of 0"),
        ({"source": "a", "destination": "b", "recursive": 1}, "recursive",
         "not of type 'boolean'"),
    ],
)
async def test_copy_invalid_args(fs: FS, args: dict[str, Any], field: str | None,
                                 fragment: str) -> None:
    err = await fs.error("file_copy", args)
    assert err.code == "invalid_args" and fragment in err.message
    if field:
        assert err.details["argument"] == field


# --- file_delete ----------------------------------------------------------------------------


async def test_delete_needs_approval(fs: FS) -> None:
    err = await fs.error("file_delete", {"path": "notes/old.txt"}, fs.unapproved)
    assert err.code == "permission_denied"
    assert err.details == {"tool": "file_delete", "reason": "approval"}
    assert (fs.work / "notes" / "old.txt").exists()
    out = await fs.call("file_delete", {"path": "notes/old.txt"})  # auto_approve=True
    assert out == {"path": str(fs.work / "notes" / "old.txt"), "type": "file", "deleted": True}
    assert not (fs.work / "notes" / "old.txt").exists()


async def test_delete_directories(fs: FS) -> None:
    (fs.work / "empty").mkdir()
    assert (await fs.call("file_delete", {"path": "empty"}))["type"] == "dir"
    assert not (fs.work / "empty").exists()
    err = await fs.error("file_delete", {"path": "notes"})
    assert err.code == "tool_error" and err.details["reason"] == "not_empty"
    assert err.hint and "recursive" in err.hint
    (fs.work / "notes" / "sub").mkdir()
    (fs.work / "notes" / "sub" / "escape").symlink_to(fs.outside)
    out = await fs.call("file_delete", {"path": "notes", "recursive": True})
    assert out["type"] == "dir" and not (fs.work / "notes").exists()
    assert fs.secret.read_text() == SECRET and (fs.outside / "sub" / "inner.txt").exists()


async def test_delete_a_symlink_deletes_the_link_only(fs: FS) -> None:
    out = await fs.call("file_delete", {"path": "link_out"})
    assert out["type"] == "symlink"
    assert not os.path.lexists(fs.work / "link_out")
    assert fs.secret.read_text() == SECRET
    out = await fs.call("file_delete", {"path": "link_dir_out", "recursive": True})
    assert out["type"] == "symlink"
    assert (fs.outside / "sub" / "inner.txt").exists()


async def test_delete_refuses_roots(fs: FS) -> None:
    for path in (str(fs.work), ".", "notes/.."):
        err = await fs.error("file_delete", {"path": path, "recursive": True})
        assert err.code == "permission_denied", path
    nested = SecurityPolicy(read_roots=[fs.work / "notes" / "keep"], write_roots=[fs.work],
                            auto_approve=True)
    (fs.work / "notes" / "keep").mkdir()
    err = await fs.error("file_delete", {"path": "notes", "recursive": True}, nested)
    assert err.code == "permission_denied" and err.details["reason"] == "root"
    assert "holding the root" in err.message
    assert (fs.work / "notes" / "todo.txt").exists()


async def test_delete_missing(fs: FS) -> None:
    err = await fs.error("file_delete", {"path": "notes/nope"})
    assert err.code == "not_found"


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        ({}, None, "'path' is a required property"),
        ({"path": ["a"]}, "path", "not of type 'string'"),
        ({"path": "a", "recursive": "true"}, "recursive", "not of type 'boolean'"),
    ],
)
async def test_delete_invalid_args(fs: FS, args: dict[str, Any], field: str | None,
                                   fragment: str) -> None:
    err = await fs.error("file_delete", args)
    assert err.code == "invalid_args" and fragment in err.message
    if field:
        assert err.details["argument"] == field
