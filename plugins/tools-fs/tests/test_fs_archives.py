"""archive_create, archive_list and archive_extract, including crafted malicious archives."""

from __future__ import annotations

import io
import os
import stat
import struct
import tarfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pytest
from tools_fs_support import FS, SECRET

# --- creating and listing -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["zip", "tar", "tar.gz", "tar.bz2", "tar.xz"])
async def test_create_list_extract_round_trip(fs: FS, fmt: str) -> None:
    notes = fs.work / "notes"
    (notes / "sub").mkdir()
    (notes / "sub" / "deep.txt").write_text("deep")
    (notes / "alias.txt").symlink_to("todo.txt")  # inside the roots: stored as the file
    (notes / "escape").symlink_to(fs.secret)  # outside: skipped
    (notes / "escape_dir").symlink_to(fs.outside)  # outside: skipped
    os.chmod(notes / "todo.txt", 0o640)
    out = await fs.call("archive_create", {"path": f"backup.{fmt}", "sources": ["notes"]})
    assert out["format"] == fmt and out["path"] == str(fs.work / f"backup.{fmt}")
    assert out["files"] == 5 and out["directories"] == 2 and out["entries"] == 7
    assert out["bytes"] == 27 + 22 + 10 + 4 + 27
    assert out["size"] == (fs.work / f"backup.{fmt}").stat().st_size
    assert sorted(s["path"] for s in out["skipped"]) == ["notes/escape", "notes/escape_dir"]
    assert {s["reason"] for s in out["skipped"]} == {"symlink_outside_roots"}

    listing = await fs.call("archive_list", {"path": f"backup.{fmt}"})
    assert listing["format"] == fmt and listing["truncated"] is False
    names = [e["name"].rstrip("/") for e in listing["entries"]]
    assert sorted(names) == ["notes", "notes/alias.txt", "notes/done.txt", "notes/old.txt",
                             "notes/sub", "notes/sub/deep.txt", "notes/todo.txt"]
    assert listing["total_size"] == out["bytes"]
    assert not [e for e in listing["entries"] if "unsafe" in e]

    extracted = await fs.call("archive_extract", {"path": f"backup.{fmt}",
                                                  "destination": "restored"})
    assert extracted["files"] == 5 and extracted["bytes"] == out["bytes"]
    assert extracted["format"] == fmt
    restored = fs.work / "restored" / "notes"
    assert (restored / "sub" / "deep.txt").read_text() == "deep"
    assert (restored / "alias.txt").read_text() == (notes / "todo.txt").read_text()
    assert not (restored / "alias.txt").is_symlink()
    assert not os.path.lexists(restored / "escape")
    assert stat.S_IMODE((restored / "todo.txt").stat().st_mode) == 0o640
    for path in fs.work.joinpath("restored").rglob("*"):
        assert SECRET not in (path.read_text() if path.is_file() else "")


async def test_create_from_files_and_a_read_root(fs: FS) -> None:
    out = await fs.call("archive_create", {"path": "mixed.tar.gz",
                                           "sources": ["notes/todo.txt", "../ro/data.txt"]})
    assert out["files"] == 2 and out["directories"] == 0
    with tarfile.open(fs.work / "mixed.tar.gz") as tf:
        assert sorted(tf.getnames()) == ["data.txt", "todo.txt"]
        member = tf.getmember("data.txt")
        assert member.uid == 0 and member.uname == ""  # no owner leaked
        assert tf.extractfile(member).read() == b"read only\n"  # type: ignore[union-attr]


async def test_create_never_includes_itself(fs: FS) -> None:
    out = await fs.call("archive_create", {"path": "notes/self.zip", "sources": ["notes"]})
    with zipfile.ZipFile(fs.work / "notes" / "self.zip") as zf:
        names = zf.namelist()
    assert "notes/self.zip" not in names and out["files"] == 3
    assert not [n for n in names if ".llmspell-" in n]


async def test_create_rules(fs: FS) -> None:
    err = await fs.error("archive_create", {"path": "out.rar", "sources": ["notes"]})
    assert err.code == "invalid_args" and err.details["argument"] == "format"
    await fs.call("archive_create", {"path": "out.rar", "sources": ["notes"], "format": "zip"})
    assert zipfile.is_zipfile(fs.work / "out.rar")
    err = await fs.error("archive_create", {"path": "out.rar", "sources": ["notes"],
                                            "format": "zip"})
    assert err.code == "tool_error" and err.details["reason"] == "exists"
    await fs.call("archive_create", {"path": "out.rar", "sources": ["notes/todo.txt"],
                                     "format": "tar", "overwrite": True})
    assert tarfile.is_tarfile(fs.work / "out.rar")
    err = await fs.error("archive_create", {"path": "x.zip",
                                            "sources": ["notes/todo.txt", "../ro/../work/notes/"
                                                        "todo.txt"]})
    assert err.code == "invalid_args" and err.details["argument"] == "sources"
    err = await fs.error("archive_create", {"path": "x.zip", "sources": ["nope"]})
    assert err.code == "not_found"
    err = await fs.error("archive_create", {"path": "no/such/dir/x.zip", "sources": ["notes"]})
    assert err.code == "not_found"


async def test_create_is_bounded(fs: FS) -> None:
    (fs.work / "notes" / "big.bin").write_bytes(b"x" * 5000)
    err = await fs.error("archive_create", {"path": "x.zip", "sources": ["notes"],
                                            "max_bytes": 4000})
    assert err.code == "tool_error" and err.details["reason"] == "too_large"
    assert not (fs.work / "x.zip").exists()
    assert not [p for p in fs.work.iterdir() if p.name.startswith(".llmspell-")]


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        ({"path": "x.zip"}, None, "'sources' is a required property"),
        ({"path": "x.zip", "sources": []}, "sources", "should be non-empty"),
        ({"path": "x.zip", "sources": "notes"}, "sources", "not of type 'array'"),
        ({"path": "x.zip", "sources": [1]}, "sources/0", "not of type 'string'"),
        ({"path": "x.zip", "sources": ["notes"], "format": "rar"}, "format", "is not one of"),
        ({"path": "x.7z", "sources": ["notes"]}, "format", "cannot tell the format"),
    ],
)
async def test_create_invalid_args(fs: FS, args: dict[str, Any], field: str | None,
                                   fragment: str) -> None:
    err = await fs.error("archive_create", args)
    assert err.code == "invalid_args" and fragment in err.message, err.message
    if field:
        assert err.details["argument"] == field


async def test_list_bounds_and_errors(fs: FS) -> None:
    with zipfile.ZipFile(fs.work / "many.zip", "w") as zf:
        for i in range(20):
            zf.writestr(f"f{i:02}.txt", "x" * i)
    out = await fs.call("archive_list", {"path": "many.zip", "max_entries": 5})
    assert out["count"] == 5 and out["truncated"] is True
    assert out["entries"][3] == {"name": "f03.txt", "type": "file", "size": 3,
                                 "modified": out["entries"][3]["modified"],
                                 "compressed_size": 3}
    err = await fs.error("archive_list", {"path": "notes/todo.txt"})
    assert err.code == "tool_error" and err.details["reason"] == "format"
    (fs.work / "broken.zip").write_bytes((fs.work / "many.zip").read_bytes()[:-30])
    err = await fs.error("archive_list", {"path": "broken.zip"})
    assert err.code == "tool_error"
    err = await fs.error("archive_list", {"path": "missing.zip"})
    assert err.code == "not_found"


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        ({}, None, "'path' is a required property"),
        ({"path": "a.zip", "max_entries": 0}, "max_entries", "less than the minimum of 1"),
    ],
)
async def test_list_invalid_args(fs: FS, args: dict[str, Any], field: str | None,
                                 fragment: str) -> None:
    err = await fs.error("archive_list", args)
    assert err.code == "invalid_args" and fragment in err.message
    if field:
        assert err.details["argument"] == field


# --- extracting: the ordinary rules ---------------------------------------------------------


async def test_extract_overwrite_rule(fs: FS) -> None:
    with zipfile.ZipFile(fs.work / "a.zip", "w") as zf:
        zf.writestr("notes/todo.txt", "from the archive")
        zf.writestr("notes/new.txt", "new")
    err = await fs.error("archive_extract", {"path": "a.zip", "destination": "."})
    assert err.code == "tool_error" and err.details["reason"] == "exists"
    assert err.hint and "overwrite" in err.hint
    assert not (fs.work / "notes" / "new.txt").exists()  # nothing was written
    out = await fs.call("archive_extract", {"path": "a.zip", "destination": ".",
                                            "overwrite": True})
    assert out["files"] == 2
    assert (fs.work / "notes" / "todo.txt").read_text() == "from the archive"


async def test_extract_strips_dangerous_mode_bits(fs: FS) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("tool.sh")
        info.size = 2
        info.mode = 0o6777
        tf.addfile(info, io.BytesIO(b"hi"))
    (fs.work / "m.tar").write_bytes(buf.getvalue())
    await fs.call("archive_extract", {"path": "m.tar", "destination": "m"})
    assert stat.S_IMODE((fs.work / "m" / "tool.sh").stat().st_mode) == 0o755


async def test_extract_keeps_safe_symlinks_and_hardlinks(fs: FS) -> None:
    (fs.work / "ok.tar.gz").write_bytes(_tar(("file", "pkg/real.txt", b"real"),
                                             ("symlink", "pkg/alias", "real.txt"),
                                             ("hardlink", "pkg/hard", "pkg/real.txt"),
                                             mode="w:gz"))
    out = await fs.call("archive_extract", {"path": "ok.tar.gz", "destination": "x"})
    assert out["links"] == 2 and out["files"] == 1
    assert os.readlink(fs.work / "x" / "pkg" / "alias") == "real.txt"
    assert (fs.work / "x" / "pkg" / "hard").read_bytes() == b"real"


async def test_extract_into_a_file_is_refused(fs: FS) -> None:
    with zipfile.ZipFile(fs.work / "a.zip", "w") as zf:
        zf.writestr("a.txt", "a")
    err = await fs.error("archive_extract", {"path": "a.zip", "destination": "notes/todo.txt"})
    assert err.code == "tool_error" and err.details["reason"] == "not_a_directory"


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        ({"path": "a.zip"}, None, "'destination' is a required property"),
        ({"path": "a.zip", "destination": "d", "max_bytes": -5}, "max_bytes",
         "less than the minimum of 0"),
        ({"path": "a.zip", "destination": "d", "max_entries": 10**9}, "max_entries",
         "greater than the maximum"),
        ({"path": "a.zip", "destination": "d", "overwrite": "y"}, "overwrite",
         "not of type 'boolean'"),
    ],
)
async def test_extract_invalid_args(fs: FS, args: dict[str, Any], field: str | None,
                                    fragment: str) -> None:
    err = await fs.error("archive_extract", args)
    assert err.code == "invalid_args" and fragment in err.message
    if field:
        assert err.details["argument"] == field


# --- extracting: malicious archives ---------------------------------------------------------


#: An entry of a crafted archive: ("file", name, data), ("symlink", name, target),
#: ("hardlink", name, target) or ("special", name, tar type).
Spec = tuple[str, str, Any]


def _tar_file(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tf.addfile(info, io.BytesIO(data))


def _tar(*entries: Spec, mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:  # type: ignore[call-overload]
        for kind, name, value in entries:
            if kind == "file":
                _tar_file(tf, name, value)
                continue
            info = tarfile.TarInfo(name)
            if kind == "special":
                info.type = value
                info.devmajor, info.devminor = 1, 3
            else:
                info.type = tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE
                info.linkname = value
            tf.addfile(info)
    return buf.getvalue()


def _zip(*entries: Spec) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings(), \
            zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore")  # "Duplicate name": some attacks name an entry twice
        for kind, name, value in entries:
            if kind == "symlink":
                info = zipfile.ZipInfo(name)
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                info.create_system = 3
                zf.writestr(info, value)
            else:
                zf.writestr(name, value)
    return buf.getvalue()


MALICIOUS: dict[str, tuple[str, bytes, str]] = {
    # name: (file name, archive bytes, a fragment of the refusal)
    "zip_dotdot": ("evil.zip", _zip(("file", "ok.txt", "ok"), ("file", "../evil.txt", "evil")),
                   "'..' component"),
    "zip_deep_dotdot": ("evil.zip", _zip(("file", "a/../../../evil.txt", "e")),
                        "'..' component"),
    "zip_backslash_dotdot": ("evil.zip", _zip(("file", "..\\evil.txt", "e")),
                             "'..' component"),
    "zip_absolute": ("evil.zip", _zip(("file", "/tmp/x", "e")), "absolute path"),
    "zip_drive_letter": ("evil.zip", _zip(("file", "C:/evil.txt", "e")), "absolute path"),
    "zip_symlink_out_then_file": (
        "evil.zip",
        _zip(("symlink", "passwd", "/etc/passwd"), ("file", "passwd", "root::0:0::/:/bin/sh")),
        "symlink to the absolute path '/etc/passwd'"),
    "zip_relative_symlink_out": (
        "evil.zip",
        _zip(("symlink", "up", "../../outside"), ("file", "up/evil.txt", "e")),
        "symlink leading out of the destination"),
    "tar_dotdot": ("evil.tar", _tar(("file", "../evil.txt", b"evil")), "'..' component"),
    "tar_absolute": ("evil.tar", _tar(("file", "/tmp/x", b"evil")), "absolute path"),
    "tar_symlink_etc_passwd_then_file": (
        "evil.tar.gz",
        _tar(("symlink", "passwd", "/etc/passwd"), ("file", "passwd", b"root::0:0::/:/bin/sh"),
             mode="w:gz"),
        "symlink to the absolute path '/etc/passwd'"),
    "tar_symlink_dir_then_file_through_it": (
        "evil.tar",
        _tar(("symlink", "d", "../../outside"), ("file", "d/evil.txt", b"evil")),
        "symlink leading out of the destination"),
    "tar_inner_symlink_then_file_through_it": (
        "evil.tar",
        _tar(("symlink", "d", "."), ("file", "d/evil.txt", b"evil")),
        "written through the symlink entry 'd'"),
    "tar_chained_symlinks": (
        "evil.tar",
        _tar(("symlink", "a", "."), ("symlink", "a/b", "../../outside")),
        "written through the symlink entry 'a'"),
    "tar_hardlink_out": ("evil.tar", _tar(("hardlink", "h", "../../outside/secret.txt")),
                         "hard link leading out"),
    "tar_hardlink_absolute": ("evil.tar", _tar(("hardlink", "h", "/etc/passwd")),
                              "hard link leading out"),
    "tar_char_device": ("evil.tar", _tar(("file", "fine.txt", b"fine"),
                                         ("special", "dev", tarfile.CHRTYPE)), "device file"),
    "tar_block_device": ("evil.tar", _tar(("special", "dev", tarfile.BLKTYPE)), "device file"),
    "tar_fifo": ("evil.tar", _tar(("special", "fifo", tarfile.FIFOTYPE)), "FIFO"),
}


def _work_snapshot(work: Path) -> dict[str, bytes | str]:
    out: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(work):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            out[str(path)] = (path.read_bytes() if path.is_file() and not path.is_symlink()
                              else "other")
    return out


def _describe(path: Path) -> tuple[bool, bool, bytes | None]:
    if not os.path.lexists(path):
        return (False, False, None)
    is_file = path.is_file() and not path.is_symlink()
    return (True, is_file, path.read_bytes() if is_file else None)


@pytest.mark.parametrize("case", sorted(MALICIOUS))
async def test_malicious_archives_are_refused(fs: FS, case: str) -> None:
    filename, data, fragment = MALICIOUS[case]
    (fs.work / filename).write_bytes(data)
    before_out, before_work = fs.outside_snapshot(), _work_snapshot(fs.work)
    before_tmp_x = _describe(Path("/tmp/x"))
    err = await fs.error("archive_extract", {"path": filename, "destination": "dest/inner"})
    assert err.code == "tool_error"
    assert err.details["reason"] == "unsafe_entry", err
    assert fragment in err.message, err.message
    assert err.hint and "nothing was extracted" in err.hint
    assert fs.outside_snapshot() == before_out
    assert _work_snapshot(fs.work) == before_work  # not even the destination was made
    assert _describe(Path("/tmp/x")) == before_tmp_x
    # archive_list shows the same entries without extracting, and says which are unsafe
    listing = await fs.call("archive_list", {"path": filename})
    assert [e for e in listing["entries"] if "unsafe" in e]


async def test_extract_refuses_writing_through_a_symlink_on_disk(fs: FS) -> None:
    (fs.work / "dest").mkdir()
    (fs.work / "dest" / "planted").symlink_to(fs.outside)
    (fs.work / "p.zip").write_bytes(_zip(("file", "planted/evil.txt", "evil")))
    (fs.work / "p.tar").write_bytes(_tar(("file", "planted/evil.txt", b"evil")))
    before = fs.outside_snapshot()
    err = await fs.error("archive_extract", {"path": "p.zip", "destination": "dest"})
    assert err.code == "tool_error" and err.details["reason"] == "unsafe_entry"
    err = await fs.error("archive_extract", {"path": "p.tar", "destination": "dest"})
    assert err.code == "tool_error" and err.details["reason"] == "unsafe_entry"
    assert "'data' filter" in err.message  # the standard library's check, before writing
    assert fs.outside_snapshot() == before
    assert sorted(os.listdir(fs.work / "dest")) == ["planted"]


async def test_extract_replaces_a_planted_file_symlink_instead_of_following_it(fs: FS) -> None:
    (fs.work / "dest").mkdir()
    (fs.work / "dest" / "f.txt").symlink_to(fs.secret)
    (fs.work / "p.zip").write_bytes(_zip(("file", "f.txt", "new")))
    err = await fs.error("archive_extract", {"path": "p.zip", "destination": "dest"})
    assert err.details["reason"] == "exists"
    await fs.call("archive_extract", {"path": "p.zip", "destination": "dest",
                                      "overwrite": True})
    assert fs.secret.read_text() == SECRET
    assert not (fs.work / "dest" / "f.txt").is_symlink()
    assert (fs.work / "dest" / "f.txt").read_text() == "new"


def _bomb(size: int) -> bytes:
    return _zip(("file", "zeros.bin", b"\0" * size))


async def test_zip_bomb_over_the_limit_is_refused(fs: FS) -> None:
    data = _bomb(8 * 1024 * 1024)
    assert len(data) < 64 * 1024  # a high compression ratio
    (fs.work / "bomb.zip").write_bytes(data)
    err = await fs.error("archive_extract", {"path": "bomb.zip", "destination": "b",
                                             "max_bytes": 1024 * 1024})
    assert err.code == "tool_error" and err.details["reason"] == "too_large"
    assert not (fs.work / "b").exists()


async def test_many_small_entries_over_the_byte_limit_are_refused(fs: FS) -> None:
    parts = [("file", f"part{i}.bin", b"\0" * 1000) for i in range(10)]
    (fs.work / "parts.zip").write_bytes(_zip(*parts))
    err = await fs.error("archive_extract", {"path": "parts.zip", "destination": "b",
                                             "max_bytes": 5000})
    assert err.details["reason"] == "too_large"
    assert not (fs.work / "b").exists()
    err = await fs.error("archive_extract", {"path": "parts.zip", "destination": "b",
                                             "max_entries": 9})
    assert err.details["reason"] == "too_many_entries"
    out = await fs.call("archive_extract", {"path": "parts.zip", "destination": "b",
                                            "max_entries": 10, "max_bytes": 10_000})
    assert out["bytes"] == 10_000


def _lie_about_sizes(data: bytes, claimed: int) -> bytes:
    """Rewrite every uncompressed size in the local and central headers to ``claimed`` (the
    CRC stays that of the real data): the headers say the entry is small."""
    out = bytearray(data)
    pos = 0
    while (pos := out.find(b"PK\x03\x04", pos)) >= 0:
        struct.pack_into("<I", out, pos + 22, claimed)
        pos += 4
    pos = 0
    while (pos := out.find(b"PK\x01\x02", pos)) >= 0:
        struct.pack_into("<I", out, pos + 24, claimed)
        pos += 4
    return bytes(out)


async def test_zip_bomb_with_lying_headers_writes_nothing_beyond_the_limit(fs: FS) -> None:
    data = _lie_about_sizes(_bomb(4 * 1024 * 1024), 100)
    (fs.work / "liar.zip").write_bytes(data)
    listing = await fs.call("archive_list", {"path": "liar.zip"})
    assert listing["entries"][0]["size"] == 100  # the headers lie
    err = await fs.error("archive_extract", {"path": "liar.zip", "destination": "b",
                                             "max_bytes": 1000})
    assert err.code == "tool_error"
    assert err.details["reason"] in ("too_large", "corrupt")
    assert not (fs.work / "b").exists()  # the partial file was removed


async def test_tar_gz_bomb_is_refused_without_decompressing_it_all(fs: FS) -> None:
    (fs.work / "bomb.tar.gz").write_bytes(
        _tar(("file", "zeros", b"\0" * (16 * 1024 * 1024)), mode="w:gz"))
    err = await fs.error("archive_extract", {"path": "bomb.tar.gz", "destination": "b",
                                             "max_bytes": 1024 * 1024})
    assert err.details["reason"] == "too_large"
    assert not (fs.work / "b").exists()


async def test_failed_extraction_removes_what_it_created(fs: FS) -> None:
    data = _zip(("file", "tree/a.txt", "a"), ("file", "tree/sub/b.txt", "b"),
                ("file", "tree/zeros.bin", b"\0" * 200_000))
    (fs.work / "t.zip").write_bytes(_lie_about_sizes(data, 10))
    (fs.work / "dest").mkdir()
    (fs.work / "dest" / "keep.txt").write_text("keep")
    err = await fs.error("archive_extract", {"path": "t.zip", "destination": "dest",
                                             "max_bytes": 1000})
    assert err.code == "tool_error"
    assert sorted(os.listdir(fs.work / "dest")) == ["keep.txt"]
