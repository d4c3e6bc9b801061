"""Every path argument of every tool is confined: no roots, a path outside the roots, ``..``
traversal, symlinks leading out, and writing into a read-only root are all refused with
``permission_denied``, and nothing outside the write root changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tools_fs_support import FS

from llmspell.security import SecurityPolicy

Args = Callable[[str], dict[str, Any]]

#: (tool, argument, mode, args with that argument set to a path)
PATH_ARGUMENTS: list[tuple[str, str, str, Args]] = [
    ("file_read", "path", "read", lambda p: {"path": p}),
    ("file_write", "path", "write", lambda p: {"path": p, "content": "pwned"}),
    ("file_list", "path", "read", lambda p: {"path": p}),
    ("file_search", "path", "read", lambda p: {"pattern": "SECRET", "path": p}),
    ("file_stat", "path", "read", lambda p: {"path": p, "sha256": True}),
    ("file_move", "source", "write",
     lambda p: {"source": p, "destination": "notes/moved.txt"}),
    ("file_move", "destination", "write",
     lambda p: {"source": "notes/todo.txt", "destination": p, "overwrite": True}),
    ("file_copy", "source", "read",
     lambda p: {"source": p, "destination": "notes/copied.txt", "recursive": True}),
    ("file_copy", "destination", "write",
     lambda p: {"source": "notes/todo.txt", "destination": p, "overwrite": True}),
    ("file_delete", "path", "write", lambda p: {"path": p, "recursive": True}),
    ("dir_create", "path", "write", lambda p: {"path": p, "parents": True}),
    ("archive_create", "path", "write",
     lambda p: {"path": p, "sources": ["notes"], "format": "zip", "overwrite": True}),
    ("archive_create", "sources", "read",
     lambda p: {"path": "out.zip", "sources": ["notes", p]}),
    ("archive_extract", "path", "read", lambda p: {"path": p, "destination": "restored"}),
    ("archive_extract", "destination", "write",
     lambda p: {"path": "notes.zip", "destination": p, "overwrite": True}),
    ("archive_list", "path", "read", lambda p: {"path": p}),
    ("file_diff", "old_path", "read", lambda p: {"old_path": p, "new_path": "notes/todo.txt"}),
    ("file_diff", "new_path", "read", lambda p: {"old_path": "notes/todo.txt", "new_path": p}),
]
IDS = [f"{t}.{a}" for t, a, _, _ in PATH_ARGUMENTS]


def _zip(fs: FS) -> None:
    import zipfile

    with zipfile.ZipFile(fs.work / "notes.zip", "w") as zf:
        zf.writestr("notes/a.txt", "a")
    with zipfile.ZipFile(fs.outside / "evil.zip", "w") as zf:
        zf.writestr("a.txt", "from outside")


async def _refused(fs: FS, name: str, args: dict[str, Any], mode: str,
                   policy: SecurityPolicy | None = None) -> None:
    before = fs.outside_snapshot()
    err = await fs.error(name, args, policy)
    assert err.code == "permission_denied", err
    assert err.details.get("mode") == mode, err.details
    assert fs.outside_snapshot() == before


@pytest.mark.parametrize(("name", "argument", "mode", "make"), PATH_ARGUMENTS, ids=IDS)
async def test_absolute_path_outside_the_roots(
    fs: FS, name: str, argument: str, mode: str, make: Args
) -> None:
    _zip(fs)
    target = fs.outside / ("evil.zip" if "archive" in name and mode == "read" else "secret.txt")
    await _refused(fs, name, make(str(target)), mode)


@pytest.mark.parametrize(("name", "argument", "mode", "make"), PATH_ARGUMENTS, ids=IDS)
async def test_dotdot_traversal(fs: FS, name: str, argument: str, mode: str, make: Args) -> None:
    _zip(fs)
    leaf = "evil.zip" if "archive" in name and mode == "read" else "secret.txt"
    await _refused(fs, name, make(f"notes/../../outside/{leaf}"), mode)


@pytest.mark.parametrize(("name", "argument", "mode", "make"), PATH_ARGUMENTS, ids=IDS)
async def test_symlinked_directory_leading_out(
    fs: FS, name: str, argument: str, mode: str, make: Args
) -> None:
    _zip(fs)
    leaf = "evil.zip" if "archive" in name and mode == "read" else "secret.txt"
    await _refused(fs, name, make(f"link_dir_out/{leaf}"), mode)


LINK_FOLLOWERS = [case for case in PATH_ARGUMENTS
                  if case[0] not in ("file_move", "file_delete", "file_stat")]


@pytest.mark.parametrize(("name", "argument", "mode", "make"), LINK_FOLLOWERS,
                         ids=[f"{t}.{a}" for t, a, _, _ in LINK_FOLLOWERS])
async def test_symlinked_file_leading_out(
    fs: FS, name: str, argument: str, mode: str, make: Args
) -> None:
    # tools that act on a file's (or directory's) content follow the link, and are refused;
    # file_move, file_delete and file_stat act on the link itself (see their tests)
    _zip(fs)
    await _refused(fs, name, make("link_out"), mode)
    await _refused(fs, name, make("link_dir_out"), mode)


WRITE_ARGUMENTS = [case for case in PATH_ARGUMENTS if case[2] == "write"]


@pytest.mark.parametrize(("name", "argument", "mode", "make"), WRITE_ARGUMENTS,
                         ids=[f"{t}.{a}" for t, a, _, _ in WRITE_ARGUMENTS])
async def test_writing_into_a_read_only_root(
    fs: FS, name: str, argument: str, mode: str, make: Args
) -> None:
    _zip(fs)
    before = (fs.ro / "data.txt").read_text()
    for target in (fs.ro / "data.txt", fs.ro / "new" / "file.txt"):
        await _refused(fs, name, make(str(target)), "write")
    assert (fs.ro / "data.txt").read_text() == before
    assert sorted(p.name for p in fs.ro.iterdir()) == ["data.txt"]


def _example(fs: FS, name: str) -> dict[str, Any]:
    return dict(fs.kernel.tools.get(name).example or {})


TOOLS = sorted({case[0] for case in PATH_ARGUMENTS})


@pytest.mark.parametrize("name", TOOLS)
async def test_no_roots_at_all(fs: FS, name: str) -> None:
    needed = sorted(fs.kernel.tools.get(name).permissions)
    err = await fs.error(name, _example(fs, name), fs.nothing)
    assert err.code == "permission_denied"
    assert err.details["permission"] == needed[0]
    assert err.details["tool"] == name


WRITERS = ["archive_create", "archive_extract", "dir_create", "file_copy", "file_delete",
           "file_move", "file_write"]


@pytest.mark.parametrize("name", WRITERS)
async def test_writing_tools_need_a_write_root(fs: FS, name: str) -> None:
    err = await fs.error(name, _example(fs, name), fs.read_only)
    assert err.code == "permission_denied"
    assert err.details["permission"] == "fs_write"


@pytest.mark.parametrize("name", ["file_read", "file_list", "file_search", "file_stat",
                                  "file_diff", "archive_list"])
async def test_reading_tools_work_with_a_read_root_only(fs: FS, name: str) -> None:
    import zipfile

    with zipfile.ZipFile("notes.zip", "w") as zf:
        zf.writestr("notes/a.txt", "a")
    assert await fs.call(name, _example(fs, name), fs.read_only)


async def test_the_refusal_names_the_path_and_the_roots(fs: FS) -> None:
    err = await fs.error("file_read", {"path": "../outside/secret.txt"})
    assert err.message == "path '../outside/secret.txt' is outside the roots this run may read"
    assert err.details["resolved"] == str(fs.secret)
    assert str(fs.work) in err.details["roots"]


async def test_reading_a_read_root_and_the_write_root(fs: FS) -> None:
    assert (await fs.call("file_read", {"path": str(fs.ro / "data.txt")}))["content"] == \
        "read only\n"
    assert (await fs.call("file_read", {"path": "../ro/data.txt"}))["content"] == "read only\n"


async def test_symlink_inside_the_roots_is_followed(fs: FS) -> None:
    (fs.work / "notes" / "alias").symlink_to("todo.txt")
    out = await fs.call("file_read", {"path": "notes/alias"})
    assert out["path"] == str(fs.work / "notes" / "todo.txt")
    assert out["content"].startswith("TODO")
    written = await fs.call("file_write", {"path": "notes/alias", "content": "new"})
    assert written["path"] == str(fs.work / "notes" / "todo.txt")
    assert (fs.work / "notes" / "alias").is_symlink()
    assert (fs.work / "notes" / "todo.txt").read_text() == "new"


async def test_dangling_symlink_pointing_out_is_not_a_way_to_create_files(fs: FS) -> None:
    (fs.work / "trap").symlink_to(fs.outside / "created-by-trap.txt")
    for name, args in [
        ("file_write", {"path": "trap", "content": "x"}),
        ("file_write", {"path": "trap", "content": "x", "mode": "create"}),
        ("file_write", {"path": "trap", "content": "x", "mode": "append"}),
        ("dir_create", {"path": "trap"}),
        ("file_copy", {"source": "notes/todo.txt", "destination": "trap"}),
        ("archive_create", {"path": "trap", "sources": ["notes"], "format": "zip"}),
    ]:
        err = await fs.error(name, args)
        assert err.code == "permission_denied", (name, err)
    assert not (fs.outside / "created-by-trap.txt").exists()
