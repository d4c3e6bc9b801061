"""Shared helpers of the file tools: confining paths to the policy's roots, opening files safely,
display paths, ISO times and the errors every tool raises.

Every path a tool touches goes through :func:`resolve` (the policy's ``check_path``: symlinks and
``..`` resolved, refused outside the roots) and the tool then works on the *returned* path.
:func:`resolve_entry` is the variant for operations on a directory entry itself (stat, move,
delete): it confines the entry's parent directory and keeps the last name, so that a symlink is
handled as a link instead of being followed.
"""

from __future__ import annotations

import datetime as _dt
import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

from llmspell.errors import LlmspellError

#: Flags added to every ``os.open`` of a file: never follow a symlink in the last component (the
#: path was resolved already, so a link there now is a race), never block on a FIFO.
SAFE_OPEN_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)

#: Size of the chunks in which files are read and copied.
CHUNK_BYTES = 1024 * 1024


# --- errors ---------------------------------------------------------------------------------


def invalid_arg(tool: str, argument: str, problem: str, **details: Any) -> LlmspellError:
    """The ``invalid_args`` error of the conventions: ``tool 'T': argument 'F': problem``."""
    return LlmspellError(
        "invalid_args",
        f"tool {tool!r}: argument {argument!r}: {problem}",
        {"tool": tool, "argument": argument, **details},
    )


def tool_error(
    tool: str, message: str, reason: str, *, hint: str | None = None, **details: Any
) -> LlmspellError:
    """A ``tool_error`` whose details carry the tool and a ``reason`` word."""
    return LlmspellError(
        "tool_error", f"tool {tool!r}: {message}", {"tool": tool, "reason": reason, **details},
        hint=hint,
    )


def not_found(tool: str, path: str, what: str = "file or directory") -> LlmspellError:
    return LlmspellError(
        "not_found", f"tool {tool!r}: no {what} {path!r}", {"tool": tool, "path": path}
    )


def refused(tool: str, message: str, reason: str, **details: Any) -> LlmspellError:
    """A ``permission_denied`` raised by a tool's own safety rule (not by the policy helpers)."""
    return LlmspellError(
        "permission_denied", f"tool {tool!r}: {message}", {"tool": tool, "reason": reason,
                                                          **details}
    )


_OS_REASONS = {
    errno.ENOTDIR: ("is not a directory (or a parent is not)", "not_a_directory"),
    errno.EISDIR: ("is a directory", "is_directory"),
    errno.EEXIST: ("already exists", "exists"),
    errno.ENOTEMPTY: ("is a directory that is not empty", "not_empty"),
    errno.EACCES: ("is not accessible to this process", "os_permission"),
    errno.EPERM: ("is not accessible to this process", "os_permission"),
    errno.ELOOP: ("changed into a symlink while in use", "symlink"),
    errno.ENOSPC: ("cannot be written: no space left on the device", "no_space"),
    errno.EROFS: ("is on a read-only file system", "read_only"),
    errno.ENAMETOOLONG: ("has a name that is too long", "name_too_long"),
}


def os_failure(tool: str, exc: OSError, path: str) -> LlmspellError:
    """Turn an ``OSError`` about ``path`` (as the caller wrote it) into a clear error."""
    if isinstance(exc, FileNotFoundError):
        return not_found(tool, path)
    what, reason = _OS_REASONS.get(exc.errno or 0, (None, "os_error"))
    if what is None:
        what = f"failed: {exc.strerror or exc}"
    return tool_error(tool, f"{path!r} {what}", reason, path=path,
                      errno=errno.errorcode.get(exc.errno or 0))


def raise_os(tool: str, exc: OSError, path: str) -> NoReturn:
    raise os_failure(tool, exc, path) from None


# --- confinement ----------------------------------------------------------------------------


def all_roots(policy: Any) -> tuple[Path, ...]:
    """Every root of the policy (read and write)."""
    return tuple(policy.read_roots) + tuple(policy.write_roots)


def inside(path: Path, roots: Iterable[Path]) -> bool:
    """Whether the (resolved) ``path`` is one of ``roots`` or lies below one."""
    return any(path == root or path.is_relative_to(root) for root in roots)


def resolve(policy: Any, path: str, *, write: bool = False) -> Path:
    """The resolved path of ``path`` if the policy lets the run read (or ``write``) it; else the
    policy's ``permission_denied``. Open the returned path, never ``path``."""
    return policy.check_path(path, write=write)


def resolve_entry(policy: Any, path: str, *, write: bool = False) -> Path:
    """The directory entry ``path`` names, with its parent directory resolved and confined and
    its last name kept as it is (a symlink stays the link, not its target).

    Used where the entry itself is the subject (stat, move, delete). A path whose last component
    is ``.``/``..`` (or a root of the file system) is resolved completely instead.
    """
    text = path.rstrip("/") or path
    head, name = os.path.split(text)
    if name in ("", ".", ".."):
        return resolve(policy, path, write=write)
    parent = resolve(policy, head or ".", write=write)
    return parent / name


def root_containing(path: Path, roots: Iterable[Path]) -> Path | None:
    """The most specific root that ``path`` lies in, or ``None``."""
    best: Path | None = None
    for root in roots:
        if (path == root or path.is_relative_to(root)) and (
            best is None or len(root.parts) > len(best.parts)
        ):
            best = root
    return best


def display(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` with ``/`` separators (``"."`` for ``base`` itself)."""
    try:
        rel = path.relative_to(base)
    except ValueError:
        return str(path)
    return rel.as_posix() if rel.parts else "."


# --- files ----------------------------------------------------------------------------------


def open_regular(tool: str, path: Path, shown: str, flags: int = os.O_RDONLY,
                 mode: int = 0o666) -> tuple[int, os.stat_result]:
    """Open ``path`` with ``flags`` (plus :data:`SAFE_OPEN_FLAGS`) and return the descriptor and
    its ``fstat``; ``tool_error`` (reason ``not_regular``) unless it is a regular file, so FIFOs,
    devices and sockets are never read or written."""
    try:
        fd = os.open(path, flags | SAFE_OPEN_FLAGS, mode)
    except OSError as exc:
        raise_os(tool, exc, shown)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = file_type(st.st_mode)
            raise tool_error(tool, f"{shown!r} is not a regular file (it is a {kind})",
                             "is_directory" if kind == "dir" else "not_regular", path=shown,
                             type=kind)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def read_bounded(fd: int, limit: int) -> bytes:
    """Up to ``limit`` bytes from ``fd`` (fewer only at end of file)."""
    parts: list[bytes] = []
    left = limit
    while left > 0:
        chunk = os.read(fd, min(left, CHUNK_BYTES))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def file_type(mode: int) -> str:
    """``file``, ``dir``, ``symlink`` or ``other`` (FIFO, socket, device)."""
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    return "other"


def iso_time(timestamp: float | None) -> str | None:
    """A POSIX timestamp as ISO 8601 in UTC (``2024-05-01T12:00:00Z``); ``None`` stays ``None``."""
    if timestamp is None:
        return None
    moment = _dt.datetime.fromtimestamp(timestamp, tz=_dt.UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def check_encoding(tool: str, encoding: str, argument: str = "encoding") -> str:
    """The canonical name of text ``encoding``; ``invalid_args`` if Python does not know it."""
    import codecs

    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise invalid_arg(tool, argument, f"unknown text encoding {encoding!r}") from None
    if not getattr(info, "_is_text_encoding", True):
        raise invalid_arg(tool, argument, f"{encoding!r} is not a text encoding")
    return info.name


def integer(args: dict[str, Any], key: str, default: int) -> int:
    """An integer argument (JSON schema accepts ``2.0`` as an integer) or its default."""
    value = args.get(key)
    return default if value is None else int(value)
