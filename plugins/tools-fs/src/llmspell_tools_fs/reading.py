"""``file_read`` and ``file_stat``: reading a file's content and describing a directory entry."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import trio

from llmspell.errors import LlmspellError
from llmspell.tools import ToolContext, tool
from llmspell_tools_fs.paths import (
    CHUNK_BYTES,
    all_roots,
    check_encoding,
    file_type,
    inside,
    integer,
    invalid_arg,
    iso_time,
    open_regular,
    raise_os,
    resolve,
    resolve_entry,
    tool_error,
)

CATEGORY = "files"

#: Most bytes of content ``file_read`` returns in one call (``max_bytes`` may ask for fewer).
MAX_READ_BYTES = 1024 * 1024
#: Most bytes ``file_read`` scans to skip lines before ``offset`` in a large file.
MAX_SCAN_BYTES = 64 * 1024 * 1024
#: Largest ``offset`` (lines to skip) accepted.
MAX_OFFSET = 100_000_000
#: Most lines a line range may ask for.
MAX_LINES = 100_000
#: Largest file ``file_stat`` hashes when asked for ``sha256``.
MAX_HASH_BYTES = 512 * 1024 * 1024


@tool(
    name="file_read",
    description="Read a file inside the allowed roots and return its content as text (or, with "
    '`binary: true`, as base64). Returns {"path", "size", "content" | "content_base64", '
    '"bytes_read", "truncated", ...}; with a line range ({"offset", "limit"}) also '
    '"line_start" (1-based number of the first line returned) and "line_count". At most '
    f"{MAX_READ_BYTES} bytes are returned per call (`max_bytes` may lower it); `truncated` says "
    "that more follows. Only regular files are read; symlinks are followed only within the roots.",
    category=CATEGORY,
    permissions={"fs_read"},
    parameters={
        "type": "object",
        "properties": {
            "path": {
                "type": "string",
                "minLength": 1,
                "maxLength": 4096,
                "description": "The file to read, absolute or relative to the current directory.",
            },
            "encoding": {
                "type": "string",
                "default": "utf-8",
                "maxLength": 64,
                "description": "Text encoding of the file (any Python codec name, e.g. "
                "'utf-8', 'latin-1', 'utf-16'); ignored with `binary: true`.",
            },
            "errors": {
                "type": "string",
                "enum": ["strict", "replace"],
                "default": "strict",
                "description": "What to do with bytes that are not valid in the encoding: "
                "'strict' fails with reason 'decode', 'replace' puts U+FFFD in their place.",
            },
            "binary": {
                "type": "boolean",
                "default": False,
                "description": "Return the raw bytes as base64 in `content_base64` instead of "
                "decoded text.",
            },
            "offset": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_OFFSET,
                "default": 0,
                "description": "Number of lines to skip before the first line returned (text "
                "only; 0 starts at the first line).",
            },
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_LINES,
                "description": f"Most lines to return (text only; 1 to {MAX_LINES}); without "
                "it, everything after `offset` up to the byte limit.",
            },
            "max_bytes": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_READ_BYTES,
                "default": MAX_READ_BYTES,
                "description": f"Most bytes of content to return (1 to {MAX_READ_BYTES}).",
            },
        },
        "required": ["path"],
        "additionalProperties": False,
    },
    example={"path": "notes/todo.txt"},
)
async def file_read(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    name = "file_read"
    binary = bool(args.get("binary", False))
    encoding = "" if binary else check_encoding(name, args.get("encoding", "utf-8"))
    errors = args.get("errors", "strict")
    offset = integer(args, "offset", 0)
    limit = args.get("limit")
    if binary and (offset or limit is not None):
        field = "offset" if offset else "limit"
        raise invalid_arg(name, field, "a line range needs text; it cannot be used with "
                          "`binary: true`")
    max_bytes = integer(args, "max_bytes", MAX_READ_BYTES)
    policy, shown = ctx.policy, args["path"]

    def work() -> dict[str, Any]:
        path = resolve(policy, shown)
        fd, st = open_regular(name, path, shown)
        try:
            with os.fdopen(fd, "rb", closefd=False) as handle:
                if binary:
                    return _read_binary(handle, path, st.st_size, max_bytes)
                if offset or limit is not None:
                    return _read_lines(handle, path, st.st_size, encoding, errors, offset,
                                       None if limit is None else int(limit), max_bytes, shown)
                return _read_text(handle, path, st.st_size, encoding, errors, max_bytes, shown)
        except OSError as exc:
            raise_os(name, exc, shown)
        finally:
            os.close(fd)

    return await trio.to_thread.run_sync(work)


def _read_binary(handle: Any, path: Path, size: int, max_bytes: int) -> dict[str, Any]:
    import base64

    data = handle.read(max_bytes + 1)
    truncated = len(data) > max_bytes
    data = data[:max_bytes]
    return {
        "path": str(path),
        "size": size,
        "content_base64": base64.b64encode(data).decode("ascii"),
        "bytes_read": len(data),
        "truncated": truncated,
    }


def _decoder(encoding: str, errors: str) -> Any:
    import codecs

    return codecs.getincrementaldecoder(encoding)(errors)


def _decode_failed(shown: str, encoding: str, exc: UnicodeDecodeError) -> Exception:
    return tool_error(
        "file_read",
        f"{shown!r} is not valid {encoding} text ({exc.reason} at byte {exc.start})",
        "decode",
        hint="pass another `encoding`, `errors: \"replace\"`, or `binary: true`",
        path=shown,
        encoding=encoding,
    )


def _read_text(handle: Any, path: Path, size: int, encoding: str, errors: str,
               max_bytes: int, shown: str) -> dict[str, Any]:
    data = handle.read(max_bytes + 1)
    truncated = len(data) > max_bytes
    data = data[:max_bytes]
    try:
        # a cut in the middle of a character keeps the complete ones only
        text = _decoder(encoding, errors).decode(data, final=not truncated)
    except UnicodeDecodeError as exc:
        raise _decode_failed(shown, encoding, exc) from None
    return {
        "path": str(path),
        "size": size,
        "encoding": encoding,
        "content": text,
        "bytes_read": len(data),
        "truncated": truncated,
    }


def _read_lines(handle: Any, path: Path, size: int, encoding: str, errors: str, offset: int,
                limit: int | None, max_bytes: int, shown: str) -> dict[str, Any]:
    """Lines ``offset+1 ..`` (at most ``limit``, at most ``max_bytes`` of them), reading the file
    as a bounded stream so that a range deep in a large file costs no memory.

    Whole lines are returned, except that a first line larger than ``max_bytes`` is cut."""
    import io

    # a text stream rather than byte lines: b"\n" is not a newline in utf-16/32
    stream = io.TextIOWrapper(handle, encoding=encoding, errors=errors, newline="")
    parts: list[str] = []
    used = scanned = number = 0
    line_part = line_used = 0  # where the current line began in ``parts`` / ``used``
    in_line = truncated = False
    try:
        while True:
            piece = stream.readline(CHUNK_BYTES)
            if not piece:
                break
            if not in_line:
                number += 1
                line_part, line_used = len(parts), used
            in_line = not piece.endswith(("\n", "\r"))
            if number <= offset:
                scanned += len(piece)
                if scanned > MAX_SCAN_BYTES:
                    raise tool_error(
                        "file_read",
                        f"line {offset + 1} of {shown!r} lies beyond the first {MAX_SCAN_BYTES} "
                        "characters that a line range may skip",
                        "too_large",
                        path=shown,
                        limit=MAX_SCAN_BYTES,
                    )
                continue
            if limit is not None and number > offset + limit:
                truncated = True
                number -= 1
                break
            cost = len(piece.encode(encoding, "replace"))
            if used + cost > max_bytes:
                truncated = True
                if number > offset + 1:
                    # keep whole lines: drop the beginning of this one
                    del parts[line_part:]
                    used = line_used
                    number -= 1
                else:
                    room = max_bytes - used
                    cut = piece.encode(encoding, "replace")[:room].decode(encoding, "ignore")
                    parts.append(cut)
                    used += len(cut.encode(encoding, "replace"))
                break
            parts.append(piece)
            used += cost
    except UnicodeDecodeError as exc:
        raise _decode_failed(shown, encoding, exc) from None
    finally:
        stream.detach()
    return {
        "path": str(path),
        "size": size,
        "encoding": encoding,
        "content": "".join(parts),
        "bytes_read": used,
        "truncated": truncated,
        "line_start": offset + 1,
        "line_count": max(0, number - offset),
    }


# --- file_stat ------------------------------------------------------------------------------


@tool(
    name="file_stat",
    description="Describe a file, directory or symlink inside the allowed roots. Returns "
    '{"path", "exists"} and, when it exists, {"type" (file/dir/symlink/other), "size", "mode" '
    '(octal string such as "0644"), "modified", "accessed", "created" (ISO 8601 UTC; created '
    'is null where the file system does not record it), "is_symlink", "symlink_target", '
    '"target_inside_roots"} plus "sha256" for a file when asked. A symlink is described as '
    "itself; its target (and the target's type and size) is reported only when it lies inside "
    f"the roots. Hashing reads at most {MAX_HASH_BYTES} bytes.",
    category=CATEGORY,
    permissions={"fs_read"},
    parameters={
        "type": "object",
        "properties": {
            "path": {
                "type": "string",
                "minLength": 1,
                "maxLength": 4096,
                "description": "The file, directory or symlink to describe.",
            },
            "sha256": {
                "type": "boolean",
                "default": False,
                "description": "Also return the SHA-256 of a file's content (hex).",
            },
        },
        "required": ["path"],
        "additionalProperties": False,
    },
    example={"path": "notes/todo.txt", "sha256": True},
)
async def file_stat(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    name = "file_stat"
    policy, shown = ctx.policy, args["path"]
    want_hash = bool(args.get("sha256", False))

    def work() -> dict[str, Any]:
        try:
            entry = resolve_entry(policy, shown)
        except LlmspellError:
            # the parent may lie outside the roots while the path itself is a root
            entry = resolve(policy, shown)
        try:
            lst = os.lstat(entry)
        except FileNotFoundError:
            return {"path": str(entry), "exists": False}
        except OSError as exc:
            raise_os(name, exc, shown)
        out: dict[str, Any] = {"path": str(entry), "exists": True,
                               "is_symlink": stat.S_ISLNK(lst.st_mode)}
        st = lst
        if out["is_symlink"]:
            target = Path(os.path.realpath(entry))
            if inside(target, all_roots(policy)):
                out["symlink_target"] = str(target)
                out["target_inside_roots"] = True
                try:
                    st = os.stat(target)
                except OSError:
                    out["target_exists"] = False
                else:
                    out["target_exists"] = True
            else:
                out["symlink_target"] = None
                out["target_inside_roots"] = False
        kind = file_type(st.st_mode)
        out.update(
            type=kind,
            size=st.st_size,
            mode=f"{stat.S_IMODE(st.st_mode):04o}",
            modified=iso_time(st.st_mtime),
            accessed=iso_time(st.st_atime),
            created=iso_time(getattr(st, "st_birthtime", None)),
        )
        if want_hash and kind == "file":
            out["sha256"] = _sha256(Path(os.path.realpath(entry)), shown)
        return out

    return await trio.to_thread.run_sync(work)


def _sha256(path: Path, shown: str) -> str:
    import hashlib

    fd, st = open_regular("file_stat", path, shown)
    try:
        if st.st_size > MAX_HASH_BYTES:
            raise tool_error("file_stat", f"{shown!r} is larger than the {MAX_HASH_BYTES} bytes "
                             "that may be hashed", "too_large", path=shown, limit=MAX_HASH_BYTES)
        digest = hashlib.sha256()
        left = MAX_HASH_BYTES
        while left > 0:
            chunk = os.read(fd, min(left, CHUNK_BYTES))
            if not chunk:
                break
            digest.update(chunk)
            left -= len(chunk)
        return digest.hexdigest()
    except OSError as exc:
        raise_os("file_stat", exc, shown)
    finally:
        os.close(fd)

