"""``file_move``, ``file_copy`` and ``file_delete``: rearranging entries inside the write roots.

Move and delete act on the directory entry itself (:func:`resolve_entry`): a symlink is moved or
deleted as a link, never its target. Copy reads its source like ``file_read`` does (symlinks
followed only inside the roots). None of them touches a root itself or a tree holding one.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

import trio

from llmspell.errors import LlmspellError
from llmspell.tools import ToolContext, tool
from llmspell_tools_fs.listing import MAX_DEPTH
from llmspell_tools_fs.paths import (
    CHUNK_BYTES,
    SAFE_OPEN_FLAGS,
    all_roots,
    file_type,
    integer,
    not_found,
    open_regular,
    raise_os,
    refused,
    resolve,
    resolve_entry,
    tool_error,
    write_all,
)

CATEGORY = "files"

#: Most bytes one ``file_copy`` copies (``max_bytes`` may lower it).
MAX_COPY_BYTES = 256 * 1024 * 1024
#: Most entries one directory copy creates.
MAX_COPY_ENTRIES = 10_000


def _lstat(name: str, path: Path, shown: str) -> os.stat_result:
    try:
        return os.lstat(path)
    except OSError as exc:
        raise_os(name, exc, shown)


def _refuse_roots(name: str, policy: Any, path: Path, shown: str, action: str) -> None:
    """``permission_denied`` (reason ``root``) if ``path`` is a root or holds one."""
    for root in all_roots(policy):
        if root == path or root.is_relative_to(path):
            which = "a root" if root == path else f"a directory holding the root {str(root)!r}"
            raise refused(name, f"will not {action} {shown!r}: it is {which} of this run",
                          "root", path=shown)


def _exists_error(name: str, shown: str, argument: str = "destination") -> LlmspellError:
    return LlmspellError(
        "tool_error",
        f"tool {name!r}: {shown!r} already exists",
        {"tool": name, "reason": "exists", "path": shown, "argument": argument},
        hint="pass `overwrite: true` to replace it",
    )


def _check_parent(name: str, path: Path, shown: str) -> None:
    if not path.parent.is_dir():
        raise LlmspellError(
            "not_found",
            f"tool {name!r}: the directory of {shown!r} does not exist",
            {"tool": name, "path": shown},
            hint="create it first with dir_create",
        )


# --- file_move ------------------------------------------------------------------------------


@tool(
    name="file_move",
    description="Move or rename a file, directory or symlink inside the write roots. Returns "
    '{"source", "destination", "type", "replaced"}. The destination is the new path itself '
    "(not a directory to move into); an existing destination file is replaced only with "
    "`overwrite: true`, and a directory never. A symlink is moved as a link. Roots themselves "
    "cannot be moved.",
    category=CATEGORY,
    permissions={"fs_write"},
    parameters={
        "type": "object",
        "properties": {
            "source": {
                "type": "string",
                "minLength": 1,
                "maxLength": 4096,
                "description": "The file, directory or symlink to move.",
            },
            "destination": {
                "type": "string",
                "minLength": 1,
                "maxLength": 4096,
                "description": "Its new path (its directory must exist).",
            },
            "overwrite": {
                "type": "boolean",
                "default": False,
                "description": "Replace an existing destination file or symlink.",
            },
        },
        "required": ["source", "destination"],
        "additionalProperties": False,
    },
    example={"source": "notes/todo.txt", "destination": "notes/todo-old.txt"},
)
async def file_move(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    name = "file_move"
    policy = ctx.policy
    src_shown, dst_shown = args["source"], args["destination"]
    overwrite = bool(args.get("overwrite", False))

    def work() -> dict[str, Any]:
        source = resolve_entry(policy, src_shown, write=True)
        destination = resolve_entry(policy, dst_shown, write=True)
        st = _lstat(name, source, src_shown)
        kind = file_type(st.st_mode)
        _refuse_roots(name, policy, source, src_shown, "move")
        _refuse_roots(name, policy, destination, dst_shown, "replace")
        if source == destination:
            raise tool_error(name, f"{src_shown!r} and {dst_shown!r} are the same path",
                             "same_path", source=src_shown, destination=dst_shown)
        if kind == "dir" and destination.is_relative_to(source):
            raise tool_error(name, f"cannot move directory {src_shown!r} into itself",
                             "into_itself", source=src_shown, destination=dst_shown)
        _check_parent(name, destination, dst_shown)
        replaced = os.path.lexists(destination)
        if replaced:
            if not overwrite:
                raise _exists_error(name, dst_shown)
            if stat.S_ISDIR(os.lstat(destination).st_mode):
                raise tool_error(name, f"will not replace directory {dst_shown!r}",
                                 "is_directory", path=dst_shown)
        try:
            os.replace(source, destination)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise_os(name, exc, src_shown)
            import shutil

            try:  # another file system: copy (links as links), then remove
                shutil.move(source, destination)
            except OSError as exc2:
                raise_os(name, exc2, src_shown)
        return {"source": str(source), "destination": str(destination), "type": kind,
                "replaced": replaced}

    return await trio.to_thread.run_sync(work)


# --- file_copy ------------------------------------------------------------------------------


@tool(
    name="file_copy",
    description="Copy a file (or, with `recursive: true`, a directory tree) to a new path inside "
    'the write roots. Returns {"source", "destination", "type", "files", "directories", '
    '"bytes", "skipped": [{"path", "reason"}]}. A file copy is atomic and keeps the permission '
    "bits and modification time; an existing destination file is replaced only with "
    "`overwrite: true`, and a directory is copied only to a path that does not exist yet. "
    "Symlinks and special files inside a copied tree are skipped (listed in `skipped`). At most "
    f"{MAX_COPY_BYTES} bytes and {MAX_COPY_ENTRIES} entries per call.",
    category=CATEGORY,
    permissions={"fs_read", "fs_write"},
    parameters={
        "type": "object",
        "properties": {
            "source": {
                "type": "string",
                "minLength": 1,
                "maxLength": 4096,
                "description": "The file or directory to copy (inside the read or write roots).",
            },
            "destination": {
                "type": "string",
                "minLength": 1,
                "maxLength": 4096,
                "description": "The path of the copy (inside the write roots; its directory "
                "must exist).",
            },
            "overwrite": {
                "type": "boolean",
                "default": False,
                "description": "Replace an existing destination file.",
            },
            "recursive": {
                "type": "boolean",
                "default": False,
                "description": "Allow copying a directory with everything in it.",
            },
            "max_bytes": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_COPY_BYTES,
                "default": MAX_COPY_BYTES,
                "description": "Refuse the copy if it holds more bytes than this.",
            },
        },
        "required": ["source", "destination"],
        "additionalProperties": False,
    },
    example={"source": "notes/todo.txt", "destination": "notes/todo-copy.txt"},
)
async def file_copy(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    name = "file_copy"
    policy = ctx.policy
    src_shown, dst_shown = args["source"], args["destination"]
    overwrite = bool(args.get("overwrite", False))
    recursive = bool(args.get("recursive", False))
    max_bytes = integer(args, "max_bytes", MAX_COPY_BYTES)

    def work() -> dict[str, Any]:
        source = resolve(policy, src_shown)
        destination = resolve(policy, dst_shown, write=True)
        try:
            st = os.stat(source)
        except OSError as exc:
            raise_os(name, exc, src_shown)
        if source == destination:
            raise tool_error(name, f"{src_shown!r} and {dst_shown!r} are the same file",
                             "same_path", source=src_shown, destination=dst_shown)
        _check_parent(name, destination, dst_shown)
        if stat.S_ISDIR(st.st_mode):
            if not recursive:
                raise tool_error(name, f"{src_shown!r} is a directory", "is_directory",
                                 path=src_shown, hint="pass `recursive: true` to copy a tree")
            return _copy_tree(source, destination, src_shown, dst_shown, max_bytes)
        if os.path.lexists(destination):
            if stat.S_ISDIR(os.stat(destination).st_mode):
                raise tool_error(name, f"destination {dst_shown!r} is a directory",
                                 "is_directory", path=dst_shown,
                                 hint="name the new file itself, e.g. 'dir/name.txt'")
            if not overwrite:
                raise _exists_error(name, dst_shown)
        size = _copy_file(source, destination, src_shown, max_bytes, max_bytes)
        return {"source": str(source), "destination": str(destination), "type": "file",
                "files": 1, "directories": 0, "bytes": size, "skipped": []}

    return await trio.to_thread.run_sync(work)


def _too_large(limit: int, shown: str) -> LlmspellError:
    return tool_error("file_copy", f"copying {shown!r} would write more than {limit} bytes",
                      "too_large", path=shown, limit=limit)


def _copy_file(source: Path, destination: Path, shown: str, budget: int, limit: int) -> int:
    """Copy one regular file atomically (temporary file + rename), at most ``budget`` bytes;
    return the bytes copied."""
    fd, st = open_regular("file_copy", source, shown)
    temp = destination.parent / f".llmspell-{os.urandom(8).hex()}.tmp"
    try:
        if st.st_size > budget:
            raise _too_large(limit, shown)
        out = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | SAFE_OPEN_FLAGS, 0o600)
        copied = 0
        try:
            while True:
                chunk = os.read(fd, CHUNK_BYTES)
                if not chunk:
                    break
                copied += len(chunk)
                if copied > budget:  # the file grew while copying
                    raise _too_large(limit, shown)
                write_all(out, chunk)
            os.fchmod(out, stat.S_IMODE(st.st_mode))
        finally:
            os.close(out)
        os.utime(temp, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.replace(temp, destination)
        return copied
    except OSError as exc:
        _unlink_quietly(temp)
        raise_os("file_copy", exc, shown)
    except BaseException:
        _unlink_quietly(temp)
        raise
    finally:
        os.close(fd)


def _has_entries(path: Path) -> bool:
    try:
        with os.scandir(path) as it:
            return any(True for _ in it)
    except OSError:
        return False


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _copy_tree(source: Path, destination: Path, src_shown: str, dst_shown: str,
               limit: int) -> dict[str, Any]:
    from llmspell_tools_fs.walk import Walk

    name = "file_copy"
    if os.path.lexists(destination):
        raise tool_error(name, f"destination {dst_shown!r} already exists; a directory is "
                         "copied only to a new path", "exists", path=dst_shown)
    if destination.is_relative_to(source):
        raise tool_error(name, f"cannot copy directory {src_shown!r} into itself",
                         "into_itself", source=src_shown, destination=dst_shown)
    # measure first, so that nothing is written for a copy that is too large
    walk = Walk(source, max_depth=MAX_DEPTH, include_hidden=True,
                max_scanned=MAX_COPY_ENTRIES + 1)
    entries = list(walk)
    if walk.truncated:
        raise tool_error(name, f"{src_shown!r} holds more than {MAX_COPY_ENTRIES} entries",
                         "too_many_entries", path=src_shown, limit=MAX_COPY_ENTRIES)
    total = sum(e.st.st_size for e in entries if e.kind == "file")
    if total > limit:
        raise _too_large(limit, src_shown)
    for entry in entries:
        if entry.kind == "dir" and entry.depth == MAX_DEPTH and _has_entries(entry.path):
            raise tool_error(name, f"{src_shown!r} is nested deeper than {MAX_DEPTH} levels",
                             "too_deep", path=src_shown, limit=MAX_DEPTH)
    import shutil

    files = directories = copied = 0
    skipped: list[dict[str, str]] = []
    try:
        os.mkdir(destination)
        shutil.copymode(source, destination)
        for entry in entries:
            target = destination / entry.rel
            if entry.kind == "dir":
                os.mkdir(target)
                shutil.copymode(entry.path, target)
                directories += 1
            elif entry.kind == "file":
                copied += _copy_file(entry.path, target, entry.rel, limit - copied, limit)
                files += 1
            else:
                skipped.append({"path": entry.rel, "reason": entry.kind})
    except BaseException as exc:
        shutil.rmtree(destination, ignore_errors=True)
        if isinstance(exc, OSError):
            raise_os(name, exc, dst_shown)
        raise
    return {"source": str(source), "destination": str(destination), "type": "dir",
            "files": files, "directories": directories, "bytes": copied, "skipped": skipped}


# --- file_delete ----------------------------------------------------------------------------


@tool(
    name="file_delete",
    description="Delete a file, a symlink (the link, not its target), an empty directory, or "
    "with `recursive: true` a whole directory tree, inside the write roots. Returns "
    '{"path", "type", "deleted": true}. Needs approval. Roots themselves (and directories '
    "holding a root) are never deleted.",
    category=CATEGORY,
    permissions={"fs_write"},
    requires_approval=True,
    parameters={
        "type": "object",
        "properties": {
            "path": {
                "type": "string",
                "minLength": 1,
                "maxLength": 4096,
                "description": "The file, symlink or directory to delete.",
            },
            "recursive": {
                "type": "boolean",
                "default": False,
                "description": "Delete a non-empty directory with everything in it.",
            },
        },
        "required": ["path"],
        "additionalProperties": False,
    },
    example={"path": "notes/old.txt"},
)
async def file_delete(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    name = "file_delete"
    policy, shown = ctx.policy, args["path"]
    recursive = bool(args.get("recursive", False))

    def work() -> dict[str, Any]:
        target = resolve_entry(policy, shown, write=True)
        try:
            st = os.lstat(target)
        except FileNotFoundError:
            raise not_found(name, shown) from None
        except OSError as exc:
            raise_os(name, exc, shown)
        kind = file_type(st.st_mode)
        _refuse_roots(name, policy, target, shown, "delete")
        try:
            if kind != "dir":
                os.unlink(target)
            elif recursive:
                import shutil

                shutil.rmtree(target)  # never follows symlinks
            else:
                os.rmdir(target)
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                raise tool_error(name, f"directory {shown!r} is not empty", "not_empty",
                                 path=shown, hint="pass `recursive: true` to delete the tree") \
                    from None
            raise_os(name, exc, shown)
        return {"path": str(target), "type": kind, "deleted": True}

    return await trio.to_thread.run_sync(work)
