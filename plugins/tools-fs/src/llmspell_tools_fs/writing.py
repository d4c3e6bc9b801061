"""``file_write`` and ``dir_create``: creating and changing files inside the write roots."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import trio

from llmspell.errors import LlmspellError
from llmspell.tools import ToolContext, tool
from llmspell_tools_fs.paths import (
    SAFE_OPEN_FLAGS,
    check_encoding,
    invalid_arg,
    open_regular,
    raise_os,
    resolve,
    tool_error,
    write_all,
)

CATEGORY = "files"

#: Most bytes ``file_write`` writes in one call.
MAX_WRITE_BYTES = 10 * 1024 * 1024
#: Longest ``content`` string accepted (base64 of :data:`MAX_WRITE_BYTES` bytes).
MAX_CONTENT_CHARS = 4 * ((MAX_WRITE_BYTES + 2) // 3)


@tool(
    name="file_write",
    description="Write text (or base64-encoded bytes) to a file inside the write roots. Returns "
    '{"path", "bytes_written", "size", "created", "mode"}. Modes: "overwrite" (default; '
    "atomic: the new content is written to a temporary file in the same directory that then "
    'replaces the old file, keeping its permissions), "append", and "create" (refuses an '
    "existing file). Missing parent directories are made only with `parents: true`. At most "
    f"{MAX_WRITE_BYTES} bytes per call.",
    category=CATEGORY,
    permissions={"fs_write"},
    parameters={
        "type": "object",
        "properties": {
            "path": {
                "type": "string",
                "minLength": 1,
                "maxLength": 4096,
                "description": "The file to write, absolute or relative to the current "
                "directory.",
            },
            "content": {
                "type": "string",
                "maxLength": MAX_CONTENT_CHARS,
                "description": f"The text to write (or base64 with `binary: true`); at most "
                f"{MAX_WRITE_BYTES} bytes once encoded.",
            },
            "mode": {
                "type": "string",
                "enum": ["overwrite", "append", "create"],
                "default": "overwrite",
                "description": "'overwrite' replaces the file (atomically), 'append' adds to its "
                "end, 'create' writes a new file and fails if the path exists.",
            },
            "encoding": {
                "type": "string",
                "default": "utf-8",
                "maxLength": 64,
                "description": "Text encoding to write (any Python codec name); ignored with "
                "`binary: true`.",
            },
            "binary": {
                "type": "boolean",
                "default": False,
                "description": "`content` is base64; its decoded bytes are written as they are.",
            },
            "parents": {
                "type": "boolean",
                "default": False,
                "description": "Create missing parent directories (inside the write roots).",
            },
        },
        "required": ["path", "content"],
        "additionalProperties": False,
    },
    example={"path": "notes/todo.txt", "content": "buy milk\n", "mode": "append"},
)
async def file_write(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    name = "file_write"
    data = _content_bytes(name, args)
    mode = args.get("mode", "overwrite")
    parents = bool(args.get("parents", False))
    policy, shown = ctx.policy, args["path"]

    def work() -> dict[str, Any]:
        path = resolve(policy, shown, write=True)
        ensure_parent(name, path, shown, parents, policy)
        if mode == "overwrite":
            created = _replace_atomically(name, path, shown, data)
        else:
            flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if mode == "create" else os.O_APPEND)
            existed = os.path.lexists(path)
            try:
                fd, _ = open_regular(name, path, shown, flags)
            except LlmspellError as exc:
                if exc.details.get("reason") == "exists":
                    exc.hint = 'use mode "overwrite" or "append" to change an existing file'
                raise
            try:
                write_all(fd, data)
            except OSError as exc:
                raise_os(name, exc, shown)
            finally:
                os.close(fd)
            created = not existed
        st = os.stat(path)
        return {
            "path": str(path),
            "bytes_written": len(data),
            "size": st.st_size,
            "created": created,
            "mode": mode,
        }

    return await trio.to_thread.run_sync(work)


def _content_bytes(name: str, args: dict[str, Any]) -> bytes:
    content: str = args["content"]
    if args.get("binary", False):
        import base64
        import binascii

        try:
            data = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise invalid_arg(name, "content", f"is not valid base64 ({exc})") from None
    else:
        encoding = check_encoding(name, args.get("encoding", "utf-8"))
        try:
            data = content.encode(encoding)
        except UnicodeEncodeError as exc:
            raise invalid_arg(
                name, "content", f"character {content[exc.start]!r} at index {exc.start} "
                f"cannot be encoded as {encoding}"
            ) from None
    if len(data) > MAX_WRITE_BYTES:
        raise invalid_arg(name, "content", f"is {len(data)} bytes; the limit is "
                          f"{MAX_WRITE_BYTES}", limit=MAX_WRITE_BYTES)
    return data


def ensure_parent(name: str, path: Path, shown: str, parents: bool, policy: Any) -> None:
    """Make sure the directory of the resolved ``path`` exists: create it (inside the write
    roots) when ``parents``, else ``not_found`` with a hint."""
    parent = path.parent
    if parent.is_dir():
        return
    if os.path.lexists(parent) and not parent.is_dir():
        raise tool_error(name, f"the parent of {shown!r} is not a directory", "not_a_directory",
                         path=shown)
    if not parents:
        raise LlmspellError(
            "not_found",
            f"tool {name!r}: the directory of {shown!r} does not exist",
            {"tool": name, "path": shown, "directory": str(parent)},
            hint="pass `parents: true` to create it",
        )
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as exc:
        raise_os(name, exc, shown)
    resolve(policy, str(parent), write=True)  # still confined after the creation


def _replace_atomically(name: str, path: Path, shown: str, data: bytes) -> bool:
    """Write ``data`` to a new file next to ``path`` and rename it over ``path``; return whether
    ``path`` did not exist before. An existing file keeps its permission bits."""
    try:
        old = os.stat(path)
    except FileNotFoundError:
        old = None
    except OSError as exc:
        raise_os(name, exc, shown)
    if old is not None and not stat.S_ISREG(old.st_mode):
        kind = "a directory" if stat.S_ISDIR(old.st_mode) else "not a regular file"
        raise tool_error(name, f"{shown!r} is {kind}",
                         "is_directory" if stat.S_ISDIR(old.st_mode) else "not_regular",
                         path=shown)
    temp = path.parent / f".llmspell-{os.urandom(8).hex()}.tmp"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | SAFE_OPEN_FLAGS, 0o666)
    except OSError as exc:
        raise_os(name, exc, shown)
    try:
        try:
            write_all(fd, data)
            if old is not None:
                os.fchmod(fd, stat.S_IMODE(old.st_mode))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except OSError as exc:
        _unlink_quietly(temp)
        raise_os(name, exc, shown)
    except BaseException:
        _unlink_quietly(temp)
        raise
    return old is None


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# --- dir_create -----------------------------------------------------------------------------


@tool(
    name="dir_create",
    description="Create a directory inside the write roots. Returns {\"path\", \"created\"} "
    "(`created` is false when the directory already existed and `exist_ok` allows it). Missing "
    "parent directories are made only with `parents: true`.",
    category=CATEGORY,
    permissions={"fs_write"},
    parameters={
        "type": "object",
        "properties": {
            "path": {
                "type": "string",
                "minLength": 1,
                "maxLength": 4096,
                "description": "The directory to create.",
            },
            "parents": {
                "type": "boolean",
                "default": False,
                "description": "Also create missing parent directories.",
            },
            "exist_ok": {
                "type": "boolean",
                "default": True,
                "description": "Succeed (with `created: false`) if the directory exists; with "
                "false that is an error (reason 'exists').",
            },
        },
        "required": ["path"],
        "additionalProperties": False,
    },
    example={"path": "notes/archive/2024", "parents": True},
)
async def dir_create(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    name = "dir_create"
    policy, shown = ctx.policy, args["path"]
    parents = bool(args.get("parents", False))
    exist_ok = bool(args.get("exist_ok", True))

    def work() -> dict[str, Any]:
        path = resolve(policy, shown, write=True)
        if path.is_dir():
            if not exist_ok:
                raise tool_error(name, f"directory {shown!r} already exists", "exists",
                                 path=shown)
            return {"path": str(path), "created": False}
        if os.path.lexists(path):
            raise tool_error(name, f"{shown!r} exists and is not a directory", "exists",
                             path=shown)
        ensure_parent(name, path, shown, parents, policy)
        try:
            os.mkdir(path)
        except FileExistsError:
            if not (exist_ok and path.is_dir()):
                raise tool_error(name, f"{shown!r} already exists", "exists",
                                 path=shown) from None
            return {"path": str(path), "created": False}
        except OSError as exc:
            raise_os(name, exc, shown)
        return {"path": str(path), "created": True}

    return await trio.to_thread.run_sync(work)
