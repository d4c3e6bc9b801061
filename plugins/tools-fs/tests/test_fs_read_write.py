"""file_read, file_write, file_stat and dir_create."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from typing import Any

import pytest
from tools_fs_support import FS, SECRET

from llmspell_tools_fs.reading import MAX_READ_BYTES
from llmspell_tools_fs.writing import MAX_WRITE_BYTES

# --- file_read ------------------------------------------------------------------------------


async def test_read_text(fs: FS) -> None:
    out = await fs.call("file_read", {"path": "notes/todo.txt"})
    assert out == {
        "path": str(fs.work / "notes" / "todo.txt"),
        "size": 27,
        "encoding": "utf-8",
        "content": "TODO buy milk\nfix the bike\n",
        "bytes_read": 27,
        "truncated": False,
    }


async def test_read_absolute_path_and_unicode(fs: FS) -> None:
    path = fs.work / "uni.txt"
    path.write_text("ünïcødé ✓ 🎉\n", encoding="utf-8")
    out = await fs.call("file_read", {"path": str(path)})
    assert out["content"] == "ünïcødé ✓ 🎉\n"
    assert out["size"] == len("ünïcødé ✓ 🎉\n".encode())


async def test_read_other_encodings(fs: FS) -> None:
    (fs.work / "latin.txt").write_bytes("café\n".encode("latin-1"))
    (fs.work / "utf16.txt").write_bytes("héllo\nwörld\n".encode("utf-16"))
    assert (await fs.call("file_read", {"path": "latin.txt", "encoding": "latin-1"}))[
        "content"] == "café\n"
    assert (await fs.call("file_read", {"path": "utf16.txt", "encoding": "utf-16"}))[
        "content"] == "héllo\nwörld\n"
    lines = await fs.call("file_read", {"path": "utf16.txt", "encoding": "utf-16", "offset": 1})
    assert lines["content"] == "wörld\n"


async def test_read_invalid_utf8_fails_or_is_replaced(fs: FS) -> None:
    (fs.work / "bad.txt").write_bytes(b"ok\xff\xfeend")
    err = await fs.error("file_read", {"path": "bad.txt"})
    assert err.code == "tool_error"
    assert err.details["reason"] == "decode"
    assert "not valid utf-8" in err.message
    assert err.hint and "binary" in err.hint
    out = await fs.call("file_read", {"path": "bad.txt", "errors": "replace"})
    assert out["content"] == "ok\ufffd\ufffdend"


async def test_read_binary_as_base64(fs: FS) -> None:
    data = bytes(range(256)) * 4
    (fs.work / "blob.bin").write_bytes(data)
    out = await fs.call("file_read", {"path": "blob.bin", "binary": True})
    assert base64.b64decode(out["content_base64"]) == data
    assert out["truncated"] is False and out["size"] == 1024 and "content" not in out
    cut = await fs.call("file_read", {"path": "blob.bin", "binary": True, "max_bytes": 10})
    assert base64.b64decode(cut["content_base64"]) == data[:10]
    assert cut["truncated"] is True and cut["bytes_read"] == 10


async def test_read_is_bounded(fs: FS) -> None:
    (fs.work / "big.txt").write_bytes(b"x" * (MAX_READ_BYTES + 100))
    out = await fs.call("file_read", {"path": "big.txt"})
    assert len(out["content"]) == MAX_READ_BYTES
    assert out["truncated"] is True
    assert out["size"] == MAX_READ_BYTES + 100
    small = await fs.call("file_read", {"path": "big.txt", "max_bytes": 5})
    assert small["content"] == "xxxxx" and small["truncated"] is True


async def test_read_cut_never_splits_a_character(fs: FS) -> None:
    (fs.work / "u.txt").write_text("aé€", encoding="utf-8")  # 1 + 2 + 3 bytes
    out = await fs.call("file_read", {"path": "u.txt", "max_bytes": 4})
    assert out["content"] == "aé" and out["truncated"] is True


async def test_read_line_range(fs: FS) -> None:
    (fs.work / "lines.txt").write_text("".join(f"line {i}\n" for i in range(1, 101)))
    out = await fs.call("file_read", {"path": "lines.txt", "offset": 10, "limit": 3})
    assert out["content"] == "line 11\nline 12\nline 13\n"
    assert out["line_start"] == 11 and out["line_count"] == 3 and out["truncated"] is True
    tail = await fs.call("file_read", {"path": "lines.txt", "offset": 98})
    assert tail["content"] == "line 99\nline 100\n"
    assert tail["truncated"] is False and tail["line_count"] == 2
    beyond = await fs.call("file_read", {"path": "lines.txt", "offset": 500, "limit": 5})
    assert beyond["content"] == "" and beyond["line_count"] == 0
    exact = await fs.call("file_read", {"path": "lines.txt", "offset": 0, "limit": 100})
    assert exact["line_count"] == 100 and exact["truncated"] is False


async def test_read_line_range_keeps_whole_lines_within_max_bytes(fs: FS) -> None:
    (fs.work / "lines.txt").write_text("aaaa\nbbbb\ncccc\n")
    out = await fs.call("file_read", {"path": "lines.txt", "limit": 3, "max_bytes": 12})
    assert out["content"] == "aaaa\nbbbb\n" and out["truncated"] is True
    assert out["line_count"] == 2
    (fs.work / "long.txt").write_text("z" * 50 + "\nshort\n")
    first = await fs.call("file_read", {"path": "long.txt", "limit": 2, "max_bytes": 8})
    assert first["content"] == "z" * 8 and first["truncated"] is True


async def test_read_line_range_handles_crlf_and_no_final_newline(fs: FS) -> None:
    (fs.work / "crlf.txt").write_bytes(b"one\r\ntwo\r\nthree")
    out = await fs.call("file_read", {"path": "crlf.txt", "offset": 1})
    assert out["content"] == "two\r\nthree" and out["line_count"] == 2


async def test_read_refuses_directories_and_special_files(fs: FS) -> None:
    err = await fs.error("file_read", {"path": "notes"})
    assert err.code == "tool_error" and err.details["reason"] == "is_directory"
    os.mkfifo(fs.work / "fifo")
    err = await fs.error("file_read", {"path": "fifo"})  # must not block
    assert err.code == "tool_error" and err.details["reason"] == "not_regular"


async def test_read_missing_file(fs: FS) -> None:
    err = await fs.error("file_read", {"path": "notes/nope.txt"})
    assert err.code == "not_found"
    assert err.message == "tool 'file_read': no file or directory 'notes/nope.txt'"


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        ({}, None, "'path' is a required property"),
        ({"path": 3}, "path", "not of type 'string'"),
        ({"path": ""}, "path", "should be non-empty"),
        ({"path": "a", "max_bytes": 0}, "max_bytes", "less than the minimum of 1"),
        ({"path": "a", "max_bytes": MAX_READ_BYTES + 1}, "max_bytes", "greater than the maximum"),
        ({"path": "a", "offset": -1}, "offset", "less than the minimum of 0"),
        ({"path": "a", "errors": "ignore"}, "errors", "is not one of"),
        ({"path": "a", "mode": "r"}, None, "'mode' was unexpected"),
        ({"path": "notes/todo.txt", "encoding": "klingon"}, "encoding",
         "unknown text encoding 'klingon'"),
        ({"path": "notes/todo.txt", "encoding": "base64"}, "encoding", "is not a text encoding"),
        ({"path": "notes/todo.txt", "binary": True, "offset": 2}, "offset",
         "cannot be used with `binary: true`"),
        ({"path": "notes/todo.txt", "binary": True, "limit": 2}, "limit",
         "cannot be used with `binary: true`"),
    ],
)
async def test_read_invalid_args(fs: FS, args: dict[str, Any], field: str | None,
                                 fragment: str) -> None:
    err = await fs.error("file_read", args)
    assert err.code == "invalid_args"
    assert err.message.startswith("tool 'file_read': ")
    assert fragment in err.message
    if field:
        assert f"argument {field!r}" in err.message
        assert err.details["argument"] == field


# --- file_write -----------------------------------------------------------------------------


async def test_write_creates_and_overwrites_atomically(fs: FS) -> None:
    out = await fs.call("file_write", {"path": "notes/new.txt", "content": "hello\n"})
    assert out == {"path": str(fs.work / "notes" / "new.txt"), "bytes_written": 6, "size": 6,
                   "created": True, "mode": "overwrite"}
    target = fs.work / "notes" / "new.txt"
    os.chmod(target, 0o640)
    inode = os.stat(target).st_ino
    again = await fs.call("file_write", {"path": "notes/new.txt", "content": "bye"})
    assert again["created"] is False and again["size"] == 3
    assert target.read_text() == "bye"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640  # permissions kept
    assert os.stat(target).st_ino != inode  # replaced by a new file (atomic rename)
    assert not [p for p in (fs.work / "notes").iterdir() if p.name.startswith(".llmspell-")]


async def test_write_append_and_create_modes(fs: FS) -> None:
    await fs.call("file_write", {"path": "log.txt", "content": "a\n", "mode": "append"})
    out = await fs.call("file_write", {"path": "log.txt", "content": "b\n", "mode": "append"})
    assert out["size"] == 4 and out["created"] is False
    assert (fs.work / "log.txt").read_text() == "a\nb\n"
    created = await fs.call("file_write", {"path": "fresh.txt", "content": "x", "mode": "create"})
    assert created["created"] is True
    err = await fs.error("file_write", {"path": "fresh.txt", "content": "y", "mode": "create"})
    assert err.code == "tool_error" and err.details["reason"] == "exists"
    assert err.hint and "overwrite" in err.hint
    assert (fs.work / "fresh.txt").read_text() == "x"


async def test_write_binary_and_encodings(fs: FS) -> None:
    data = b"\x00\x01\xffbinary"
    out = await fs.call("file_write", {"path": "b.bin", "binary": True,
                                       "content": base64.b64encode(data).decode()})
    assert out["bytes_written"] == len(data)
    assert (fs.work / "b.bin").read_bytes() == data
    await fs.call("file_write", {"path": "l.txt", "content": "café", "encoding": "latin-1"})
    assert (fs.work / "l.txt").read_bytes() == "café".encode("latin-1")


async def test_write_parents(fs: FS) -> None:
    err = await fs.error("file_write", {"path": "a/b/c.txt", "content": "x"})
    assert err.code == "not_found"
    assert err.hint and "parents" in err.hint
    assert not (fs.work / "a").exists()
    out = await fs.call("file_write", {"path": "a/b/c.txt", "content": "x", "parents": True})
    assert out["created"] is True
    assert (fs.work / "a" / "b" / "c.txt").read_text() == "x"


async def test_write_refuses_a_directory_and_a_file_as_parent(fs: FS) -> None:
    err = await fs.error("file_write", {"path": "notes", "content": "x"})
    assert err.code == "tool_error" and err.details["reason"] == "is_directory"
    err = await fs.error("file_write", {"path": "notes/todo.txt/x", "content": "x",
                                        "parents": True})
    assert err.code == "tool_error" and err.details["reason"] == "not_a_directory"
    err = await fs.error("file_write", {"path": "notes", "content": "x", "mode": "append"})
    assert err.code == "tool_error" and err.details["reason"] == "is_directory"


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        ({"path": "x.txt"}, None, "'content' is a required property"),
        ({"content": "x"}, None, "'path' is a required property"),
        ({"path": "x.txt", "content": 5}, "content", "not of type 'string'"),
        ({"path": "x.txt", "content": "x", "mode": "truncate"}, "mode", "is not one of"),
        ({"path": "x.txt", "content": "x", "parents": "yes"}, "parents", "not of type 'boolean'"),
        ({"path": "x.txt", "content": "@@@", "binary": True}, "content", "not valid base64"),
        ({"path": "x.txt", "content": "€", "encoding": "ascii"}, "content",
         "cannot be encoded as ascii"),
        ({"path": "x.txt", "content": "x", "encoding": "nope"}, "encoding",
         "unknown text encoding"),
        ({"path": "x.txt", "content": "é" * (MAX_WRITE_BYTES // 2 + 1)}, "content",
         f"the limit is {MAX_WRITE_BYTES}"),
    ],
)
async def test_write_invalid_args(fs: FS, args: dict[str, Any], field: str | None,
                                  fragment: str) -> None:
    err = await fs.error("file_write", args)
    assert err.code == "invalid_args"
    assert err.message.startswith("tool 'file_write': ")
    assert fragment in err.message
    if field:
        assert err.details["argument"] == field
    assert not (fs.work / "x.txt").exists()


# --- file_stat ------------------------------------------------------------------------------


async def test_stat_file_dir_and_missing(fs: FS) -> None:
    os.chmod(fs.work / "notes" / "todo.txt", 0o640)
    os.utime(fs.work / "notes" / "todo.txt", (1_700_000_000, 1_700_000_000))
    out = await fs.call("file_stat", {"path": "notes/todo.txt", "sha256": True})
    assert out["exists"] is True and out["type"] == "file" and out["size"] == 27
    assert out["mode"] == "0640"
    assert out["modified"] == "2023-11-14T22:13:20Z"
    assert out["is_symlink"] is False
    assert out["sha256"] == hashlib.sha256(b"TODO buy milk\nfix the bike\n").hexdigest()
    assert "created" in out
    d = await fs.call("file_stat", {"path": "notes"})
    assert d["type"] == "dir" and "sha256" not in d
    missing = await fs.call("file_stat", {"path": "notes/none.txt"})
    assert missing == {"path": str(fs.work / "notes" / "none.txt"), "exists": False}


async def test_stat_of_a_root_itself(fs: FS) -> None:
    out = await fs.call("file_stat", {"path": str(fs.ro)})
    assert out["type"] == "dir" and out["path"] == str(fs.ro)
    assert (await fs.call("file_stat", {"path": "."}))["path"] == str(fs.work)


async def test_stat_symlinks(fs: FS) -> None:
    (fs.work / "alias").symlink_to("notes/todo.txt")
    inner = await fs.call("file_stat", {"path": "alias", "sha256": True})
    assert inner["is_symlink"] is True
    assert inner["symlink_target"] == str(fs.work / "notes" / "todo.txt")
    assert inner["target_inside_roots"] is True and inner["type"] == "file"
    assert inner["size"] == 27 and len(inner["sha256"]) == 64
    out = await fs.call("file_stat", {"path": "link_out", "sha256": True})
    assert out["is_symlink"] is True and out["type"] == "symlink"
    assert out["symlink_target"] is None and out["target_inside_roots"] is False
    assert "sha256" not in out
    assert SECRET not in repr(out) and "outside" not in repr(out)


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        ({}, None, "'path' is a required property"),
        ({"path": None}, "path", "not of type 'string'"),
        ({"path": "a", "sha256": "yes"}, "sha256", "not of type 'boolean'"),
        ({"path": "a", "hash": True}, None, "'hash' was unexpected"),
    ],
)
async def test_stat_invalid_args(fs: FS, args: dict[str, Any], field: str | None,
                                 fragment: str) -> None:
    err = await fs.error("file_stat", args)
    assert err.code == "invalid_args" and fragment in err.message
    if field:
        assert err.details["argument"] == field


# --- dir_create -----------------------------------------------------------------------------


async def test_dir_create(fs: FS) -> None:
    out = await fs.call("dir_create", {"path": "made"})
    assert out == {"path": str(fs.work / "made"), "created": True}
    assert (fs.work / "made").is_dir()
    again = await fs.call("dir_create", {"path": "made"})
    assert again["created"] is False
    err = await fs.error("dir_create", {"path": "made", "exist_ok": False})
    assert err.code == "tool_error" and err.details["reason"] == "exists"
    err = await fs.error("dir_create", {"path": "notes/todo.txt"})
    assert err.code == "tool_error" and err.details["reason"] == "exists"


async def test_dir_create_parents(fs: FS) -> None:
    err = await fs.error("dir_create", {"path": "x/y/z"})
    assert err.code == "not_found" and err.hint and "parents" in err.hint
    assert not (fs.work / "x").exists()
    out = await fs.call("dir_create", {"path": "x/y/z", "parents": True})
    assert out["created"] is True and (fs.work / "x" / "y" / "z").is_dir()


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        ({}, None, "'path' is a required property"),
        ({"path": ""}, "path", "should be non-empty"),
        ({"path": "a", "parents": 1}, "parents", "not of type 'boolean'"),
        ({"path": "a", "exist_ok": None}, "exist_ok", "not of type 'boolean'"),
    ],
)
async def test_dir_create_invalid_args(fs: FS, args: dict[str, Any], field: str | None,
                                       fragment: str) -> None:
    err = await fs.error("dir_create", args)
    assert err.code == "invalid_args" and fragment in err.message
    if field:
        assert err.details["argument"] == field
