"""The work behind the archive tools (imported when one of them runs): reading zip and tar
members, the checks that refuse unsafe entries, the extractor and the archive writers.

See :mod:`llmspell_tools_fs.archives` for the tools and their limits.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from llmspell.errors import LlmspellError
from llmspell_tools_fs.archives import MAX_ENTRIES, MAX_LINK_CHARS, MAX_LIST_SCAN_BYTES
from llmspell_tools_fs.listing import MAX_DEPTH
from llmspell_tools_fs.paths import (
    CHUNK_BYTES,
    SAFE_OPEN_FLAGS,
    all_roots,
    inside,
    invalid_arg,
    iso_time,
    open_regular,
    raise_os,
    resolve,
    tool_error,
    write_all,
)
from llmspell_tools_fs.walk import Walk

_TAR_MODES = {"tar": "w", "tar.gz": "w:gz", "tar.bz2": "w:bz2", "tar.xz": "w:xz"}
_DRIVE = re.compile(r"^[A-Za-z]:")


@contextlib.contextmanager
def _archive_errors(name: str, shown: str) -> Iterator[None]:
    """Turn the many ways a damaged archive fails into one ``tool_error`` (reason
    ``corrupt``)."""
    import tarfile
    import zipfile
    import zlib

    try:
        yield
    except LlmspellError:
        raise
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, RuntimeError,
            NotImplementedError, ValueError) as exc:
        raise tool_error(name, f"archive {shown!r} is damaged or unsupported: {exc}", "corrupt",
                         path=shown) from None
    except OSError as exc:
        raise_os(name, exc, shown)
    except Exception as exc:  # lzma.LZMAError, bz2 errors ...
        if type(exc).__module__ in ("lzma", "_lzma", "bz2", "_bz2", "gzip"):
            raise tool_error(name, f"archive {shown!r} is damaged: {exc}", "corrupt",
                             path=shown) from None
        raise


# --- reading archives -----------------------------------------------------------------------


@attrs.define
class Member:
    """One entry of an archive, whatever its format. ``kind`` is file, dir, symlink, hardlink
    or other (device, FIFO ...); ``link`` is a link's target."""

    name: str
    kind: str
    size: int
    mode: int
    mtime: float | None
    link: str | None = None
    compressed_size: int | None = None
    raw: Any = None


def _zip_members(zf: Any, limit: int) -> tuple[list[Member], bool]:
    infos = zf.infolist()
    members: list[Member] = []
    for info in infos[:limit]:
        mode = (info.external_attr >> 16) & 0xFFFF
        fmt = stat.S_IFMT(mode)
        link = None
        if info.is_dir():
            kind = "dir"
        elif fmt == stat.S_IFLNK:
            kind = "symlink"
            if info.file_size <= MAX_LINK_CHARS:
                link = zf.read(info).decode("utf-8", "replace")
            else:
                link = "\0too long"
        elif fmt in (0, stat.S_IFREG):
            kind = "file"
        else:
            kind = "other"
        try:
            mtime = time.mktime((*info.date_time, 0, 0, -1))
        except (OverflowError, ValueError):
            mtime = None
        bits = stat.S_IMODE(mode) or (0o755 if kind == "dir" else 0o644)  # none from DOS/Windows
        members.append(Member(info.filename, kind, info.file_size, bits, mtime,
                              link, info.compress_size, info))
    return members, len(infos) > limit


def _tar_members(tf: Any, limit: int, byte_limit: int) -> tuple[list[Member], bool]:
    """The first ``limit`` members, stopping early once their declared sizes pass
    ``byte_limit`` (so a compressed bomb is not decompressed just to be refused)."""
    members: list[Member] = []
    declared = 0
    while True:
        info = tf.next()
        if info is None:
            return members, False
        if len(members) >= limit:
            return members, True
        if info.isreg():
            kind = "file"
        elif info.isdir():
            kind = "dir"
        elif info.issym():
            kind = "symlink"
        elif info.islnk():
            kind = "hardlink"
        else:
            kind = "other"
        members.append(Member(info.name, kind, info.size, stat.S_IMODE(info.mode),
                              float(info.mtime), info.linkname or None, None, info))
        declared += info.size if kind == "file" else 0
        if declared > byte_limit:
            return members, True


@contextlib.contextmanager
def _open_archive(name: str, path: Path, shown: str, fmt: str | None) -> Iterator[tuple[str,
                                                                                       Any]]:
    """The archive at the resolved ``path`` opened for reading: ``("zip", ZipFile)`` or
    ``("tar", TarFile)``; the format is detected from the content unless ``fmt`` is given."""
    import tarfile
    import zipfile

    fd, _ = open_regular(name, path, shown)
    with os.fdopen(fd, "rb") as handle, _archive_errors(name, shown):
        if fmt is None:
            fmt = "zip" if zipfile.is_zipfile(handle) else "tar"
            handle.seek(0)
        if fmt == "zip":
            if not zipfile.is_zipfile(handle):
                raise tool_error(name, f"{shown!r} is not a zip archive", "format", path=shown)
            handle.seek(0)
            with zipfile.ZipFile(handle) as zf:
                yield "zip", zf
        else:
            try:
                tf = tarfile.open(fileobj=handle, mode="r:*")
            except tarfile.ReadError:
                raise tool_error(name, f"{shown!r} is not a zip or tar archive (plain, gzip, "
                                 "bzip2 or xz)", "format", path=shown) from None
            with tf:
                yield "tar", tf


def _safe_parts(name: str) -> list[str] | str:
    """The path components of an entry name, or the reason it is unsafe. Backslashes count as
    separators (archives made on Windows)."""
    if "\0" in name:
        return "its name contains a NUL character"
    text = name.replace("\\", "/")
    if text.startswith("/") or _DRIVE.match(text):
        return "its name is an absolute path"
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        return "its name contains a '..' component"
    return parts


def _unsafe_reason(member: Member, dest: Path, names: dict[str, Member],
                   links: set[tuple[str, ...]]) -> str | None:
    """Why extracting ``member`` into ``dest`` is refused, or ``None``. ``names`` maps the
    normalized names of earlier entries, ``links`` holds the parts of earlier symlinks."""
    parts = _safe_parts(member.name)
    if isinstance(parts, str):
        return parts
    if not parts and member.kind != "dir":
        return "its name is empty"
    for i in range(1, len(parts)):
        if tuple(parts[:i]) in links:
            return f"it would be written through the symlink entry {'/'.join(parts[:i])!r}"
    if member.kind == "other":
        return "it is a device file, FIFO or other special file"
    if member.kind == "symlink":
        target = (member.link or "").replace("\\", "/")
        if not target or "\0" in target:
            return "its link target is empty or malformed"
        if target.startswith("/") or _DRIVE.match(target):
            return f"it is a symlink to the absolute path {target!r}"
        joined = posixpath.normpath(posixpath.join(*parts[:-1], target)) if parts[:-1] else \
            posixpath.normpath(target)
        if joined == ".." or joined.startswith("../"):
            return f"it is a symlink leading out of the destination ({target!r})"
    if member.kind == "hardlink":
        target_parts = _safe_parts(member.link or "")
        if isinstance(target_parts, str) or not target_parts:
            return "it is a hard link leading out of the destination"
        earlier = names.get("/".join(target_parts))
        if earlier is None or earlier.kind != "file":
            return f"it is a hard link to {member.link!r}, which is not an earlier file entry"
    if member.raw is not None and hasattr(member.raw, "issym"):
        import tarfile

        data_filter = getattr(tarfile, "data_filter", None)  # Python >= 3.11.4
        if data_filter is not None:
            try:
                data_filter(member.raw, str(dest))
            except tarfile.FilterError as exc:
                return f"the tar 'data' filter refuses it ({exc})"
    return None


def _member_json(member: Member, unsafe: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": member.name,
        "type": member.kind,
        "size": member.size,
        "modified": iso_time(member.mtime),
    }
    if member.compressed_size is not None:
        out["compressed_size"] = member.compressed_size
    if member.link is not None and member.kind in ("symlink", "hardlink"):
        out["link_target"] = member.link
    if unsafe:
        out["unsafe"] = unsafe
    return out


# --- archive_list ---------------------------------------------------------------------------


def list_archive(policy: Any, shown: str, limit: int) -> dict[str, Any]:
    """The work of ``archive_list`` (run in a worker thread)."""
    name = "archive_list"
    path = resolve(policy, shown)
    with _open_archive(name, path, shown, None) as (fmt, archive):
        if fmt == "zip":
            members, truncated = _zip_members(archive, limit)
        else:
            members, truncated = _tar_members(archive, limit, MAX_LIST_SCAN_BYTES)
            fmt = _tar_format(archive)
    dest = path.parent / f".{os.urandom(8).hex()}"  # where extraction would happen
    names: dict[str, Member] = {}
    links: set[tuple[str, ...]] = set()
    entries = []
    for member in members:
        entries.append(_member_json(member, _unsafe_reason(member, dest, names, links)))
        _remember(member, names, links)
    return {
        "path": str(path),
        "format": fmt,
        "entries": entries,
        "count": len(entries),
        "total_size": sum(m.size for m in members if m.kind == "file"),
        "truncated": truncated,
    }


def _remember(member: Member, names: dict[str, Member], links: set[tuple[str, ...]]) -> None:
    parts = _safe_parts(member.name)
    if isinstance(parts, list):
        names["/".join(parts)] = member
        if member.kind == "symlink":
            links.add(tuple(parts))


def _tar_format(tf: Any) -> str:
    compression = {"GzipFile": "tar.gz", "BZ2File": "tar.bz2", "LZMAFile": "tar.xz"}
    return compression.get(type(tf.fileobj).__name__, "tar")


# --- archive_extract ------------------------------------------------------------------------


def extract_archive(policy: Any, shown: str, dest_shown: str, overwrite: bool, max_entries: int,
                    max_bytes: int) -> dict[str, Any]:
    """The work of ``archive_extract`` (run in a worker thread)."""
    name = "archive_extract"
    path = resolve(policy, shown)
    dest = resolve(policy, dest_shown, write=True)
    if os.path.lexists(dest) and not dest.is_dir():
        raise tool_error(name, f"destination {dest_shown!r} is not a directory",
                         "not_a_directory", path=dest_shown)
    with _open_archive(name, path, shown, None) as (fmt, archive):
        if fmt == "zip":
            members, too_many = _zip_members(archive, max_entries)
        else:
            members, too_many = _tar_members(archive, max_entries, max_bytes)
            fmt = _tar_format(archive)
        if too_many and len(members) >= max_entries:
            raise tool_error(name, f"archive {shown!r} has more than {max_entries} entries",
                             "too_many_entries", path=shown, limit=max_entries)
        declared = sum(m.size for m in members if m.kind == "file")
        if declared > max_bytes:
            raise _too_large(shown, max_bytes)
        _check_members(name, members, dest, overwrite)
        extractor = _Extractor(dest=dest, overwrite=overwrite, max_bytes=max_bytes,
                               shown=shown, archive=archive, fmt=fmt)
        extractor.run(members)
    return {
        "path": str(path),
        "destination": str(dest),
        "format": fmt,
        "entries": len(members),
        "files": extractor.files,
        "directories": extractor.directories,
        "links": extractor.links,
        "bytes": extractor.written,
    }


def _too_large(shown: str, limit: int) -> LlmspellError:
    return tool_error("archive_extract", f"archive {shown!r} would write more than {limit} bytes",
                      "too_large", path=shown, limit=limit)


def _unsafe(member: Member, reason: str) -> LlmspellError:
    return LlmspellError(
        "tool_error",
        f"tool 'archive_extract': refusing the archive: entry {member.name!r}: {reason}",
        {"tool": "archive_extract", "reason": "unsafe_entry", "entry": member.name,
         "problem": reason},
        hint="nothing was extracted; archive_list shows every entry and why it is unsafe",
    )


def _check_members(name: str, members: list[Member], dest: Path, overwrite: bool) -> None:
    """Refuse the whole archive if any entry is unsafe, or (without ``overwrite``) if any file
    it would write exists already."""
    names: dict[str, Member] = {}
    links: set[tuple[str, ...]] = set()
    for member in members:
        reason = _unsafe_reason(member, dest, names, links)
        if reason:
            raise _unsafe(member, reason)
        _remember(member, names, links)
        parts = _safe_parts(member.name)
        assert isinstance(parts, list)
        target = dest.joinpath(*parts)
        if member.kind != "dir" and os.path.lexists(target):
            if target.is_dir() and not target.is_symlink():
                raise tool_error(name, f"entry {member.name!r} would replace the directory "
                                 f"{str(target)!r}", "is_directory", entry=member.name)
            if not overwrite:
                raise LlmspellError(
                    "tool_error",
                    f"tool {name!r}: entry {member.name!r} would replace the existing file "
                    f"{str(target)!r}",
                    {"tool": name, "reason": "exists", "entry": member.name},
                    hint="pass `overwrite: true` to replace existing files",
                )


@attrs.define
class _Extractor:
    """Writes checked members below ``dest``, counting the bytes really written and recording
    everything it creates so that a failure can undo it."""

    dest: Path
    overwrite: bool
    max_bytes: int
    shown: str
    archive: Any
    fmt: str
    written: int = 0
    files: int = 0
    directories: int = 0
    links: int = 0
    created: list[Path] = attrs.field(factory=list)
    extracted: dict[str, Path] = attrs.field(factory=dict)

    def run(self, members: list[Member]) -> None:
        try:
            if not self.dest.is_dir():
                self._mkdirs(self.dest, [], top=True)
            for member in members:
                try:
                    self._extract(member)
                except OSError as exc:
                    raise tool_error(
                        "archive_extract",
                        f"cannot extract entry {member.name!r}: {exc.strerror or exc}",
                        "os_error", entry=member.name,
                    ) from None
        except BaseException:
            self._undo()
            raise

    def _undo(self) -> None:
        for path in reversed(self.created):
            try:
                if path.is_dir() and not path.is_symlink():
                    os.rmdir(path)
                else:
                    os.unlink(path)
            except OSError:
                pass

    def _mkdirs(self, base: Path, parts: list[str], *, top: bool = False) -> Path:
        """Create ``base/parts...`` one level at a time, refusing to pass through anything that
        is not a real directory (a symlink planted by an earlier entry or present on disk)."""
        if top:
            missing = []
            probe = base
            while not os.path.lexists(probe):
                missing.append(probe)
                probe = probe.parent
            for path in reversed(missing):
                os.mkdir(path)
                self.created.append(path)
            return base
        current = base
        for part in parts:
            current = current / part
            try:
                st = os.lstat(current)
            except FileNotFoundError:
                os.mkdir(current, 0o755)
                self.created.append(current)
                continue
            if not stat.S_ISDIR(st.st_mode):
                raise tool_error("archive_extract", f"cannot create directory "
                                 f"{str(current)!r}: something else is in the way",
                                 "unsafe_entry" if stat.S_ISLNK(st.st_mode) else "exists",
                                 path=str(current))
        return current

    def _extract(self, member: Member) -> None:
        parts = _safe_parts(member.name)
        assert isinstance(parts, list)
        if member.kind == "dir":
            if parts:
                path = self._mkdirs(self.dest, parts)
                if path in self.created:
                    os.chmod(path, (member.mode & 0o755) | 0o700)
                    self.directories += 1
            return
        parent = self._mkdirs(self.dest, parts[:-1])
        target = parent / parts[-1]
        real_parent = Path(os.path.realpath(parent))
        if not inside(real_parent, (Path(os.path.realpath(self.dest)),)):
            raise _unsafe(member, "its directory resolves outside the destination")
        if member.kind == "symlink":
            self._symlink(member, target, real_parent)
        elif member.kind == "hardlink":
            link_parts = _safe_parts(member.link or "")
            assert isinstance(link_parts, list)
            source = self.extracted.get("/".join(link_parts))
            if source is None:
                raise _unsafe(member, "its hard link target was not extracted")
            fd, _ = open_regular("archive_extract", source, member.name)
            with os.fdopen(fd, "rb") as handle:
                self._write_file(member, target, handle)
            self.links += 1
        else:
            with self._open_member(member) as handle:
                self._write_file(member, target, handle)
            self.files += 1
            self.extracted["/".join(parts)] = target

    @contextlib.contextmanager
    def _open_member(self, member: Member) -> Iterator[Any]:
        if self.fmt == "zip":
            with self.archive.open(member.raw) as handle:
                yield handle
        else:
            handle = self.archive.extractfile(member.raw)
            if handle is None:
                raise _unsafe(member, "it has no data")
            with handle:
                yield handle

    def _symlink(self, member: Member, target: Path, real_parent: Path) -> None:
        link = (member.link or "").replace("\\", "/")
        final = Path(os.path.realpath(real_parent / link))
        if not inside(final, (Path(os.path.realpath(self.dest)),)):
            raise _unsafe(member, f"it is a symlink leading out of the destination ({link!r})")
        self._make_room(member, target)
        os.symlink(link, target)
        self.created.append(target)
        self.links += 1

    def _make_room(self, member: Member, target: Path) -> None:
        if os.path.lexists(target):
            if not self.overwrite:
                raise tool_error("archive_extract", f"entry {member.name!r} would replace an "
                                 "existing file (the archive names it twice?)", "exists",
                                 entry=member.name)
            if target.is_dir() and not target.is_symlink():
                raise tool_error("archive_extract", f"entry {member.name!r} would replace a "
                                 "directory", "is_directory", entry=member.name)

    def _write_file(self, member: Member, target: Path, handle: Any) -> None:
        self._make_room(member, target)
        existed = os.path.lexists(target)
        temp = target.parent / f".llmspell-{os.urandom(8).hex()}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | SAFE_OPEN_FLAGS, 0o600)
        self.created.append(temp)
        try:
            while True:
                chunk = handle.read(CHUNK_BYTES)
                if not chunk:
                    break
                self.written += len(chunk)
                if self.written > self.max_bytes:
                    raise _too_large(self.shown, self.max_bytes)
                write_all(fd, chunk)
            os.fchmod(fd, (member.mode & 0o755) | 0o600)
        finally:
            os.close(fd)
        if member.mtime is not None:
            with contextlib.suppress(OSError, OverflowError, ValueError):
                os.utime(temp, (member.mtime, member.mtime))
        os.replace(temp, target)
        if existed:  # replaced (overwrite): an undo must not delete the user's file
            self.created.pop()
        else:
            self.created[-1] = target


# --- archive_create -------------------------------------------------------------------------


def create_archive(policy: Any, shown: str, sources: list[str], fmt: str, overwrite: bool,
                   max_bytes: int) -> dict[str, Any]:
    """The work of ``archive_create`` (run in a worker thread)."""
    name = "archive_create"
    out = resolve(policy, shown, write=True)
    if os.path.lexists(out):
        if out.is_dir():
            raise tool_error(name, f"{shown!r} is a directory", "is_directory", path=shown)
        if not overwrite:
            raise LlmspellError(
                "tool_error", f"tool {name!r}: {shown!r} already exists",
                {"tool": name, "reason": "exists", "path": shown},
                hint="pass `overwrite: true` to replace it",
            )
    if not out.parent.is_dir():
        raise LlmspellError("not_found",
                            f"tool {name!r}: the directory of {shown!r} does not exist",
                            {"tool": name, "path": shown})
    temp = out.parent / f".llmspell-{os.urandom(8).hex()}.tmp"
    plan = _plan(policy, sources, {out, temp}, max_bytes)
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | SAFE_OPEN_FLAGS, 0o644)
        with os.fdopen(fd, "wb") as handle:
            if fmt == "zip":
                _write_zip(handle, plan, max_bytes)
            else:
                _write_tar(handle, plan, fmt, max_bytes)
        os.replace(temp, out)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise_os(name, exc, shown)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return {
        "path": str(out),
        "format": fmt,
        "entries": len(plan.items),
        "files": sum(1 for i in plan.items if i.kind == "file"),
        "directories": sum(1 for i in plan.items if i.kind == "dir"),
        "bytes": plan.total,
        "size": os.stat(out).st_size,
        "skipped": plan.skipped,
    }


@attrs.define
class _Item:
    arcname: str
    path: Path
    kind: str  # file or dir
    st: os.stat_result


@attrs.define
class _Plan:
    items: list[_Item] = attrs.field(factory=list)
    skipped: list[dict[str, str]] = attrs.field(factory=list)
    total: int = 0

    def add(self, item: _Item) -> None:
        self.items.append(item)
        if item.kind == "file":
            self.total += item.st.st_size


def _plan(policy: Any, sources: list[str], exclude: set[Path], max_bytes: int) -> _Plan:
    """What goes into the archive, checked against the roots and the bounds before anything is
    written."""
    name = "archive_create"
    plan = _Plan()
    roots = all_roots(policy)
    seen: set[str] = set()
    for index, source in enumerate(sources):
        path = resolve(policy, source)
        try:
            st = os.stat(path)
        except OSError as exc:
            raise_os(name, exc, source)
        base = path.name or "root"
        if base in seen:
            raise invalid_arg(name, "sources", f"two sources are both stored as {base!r} "
                              f"(item {index})")
        seen.add(base)
        if stat.S_ISDIR(st.st_mode):
            plan.add(_Item(base, path, "dir", st))
            walk = Walk(path, max_depth=MAX_DEPTH, include_hidden=True,
                        max_scanned=MAX_ENTRIES + 1, exclude=frozenset(exclude))
            for entry in walk:
                arcname = f"{base}/{entry.rel}"
                if entry.kind in ("dir", "file"):
                    plan.add(_Item(arcname, entry.path, entry.kind, entry.st))
                elif entry.kind == "symlink":
                    _add_link(plan, roots, exclude, entry.path, arcname)
                else:
                    plan.skipped.append({"path": arcname, "reason": "special_file"})
                _check_bounds(plan, max_bytes)
            if walk.truncated:
                raise _too_many()
        elif stat.S_ISREG(st.st_mode):
            if path in exclude:
                raise invalid_arg(name, "sources", f"{source!r} is the archive being written")
            plan.add(_Item(base, path, "file", st))
        else:
            plan.skipped.append({"path": base, "reason": "special_file"})
        _check_bounds(plan, max_bytes)
    return plan


def _add_link(plan: _Plan, roots: tuple[Path, ...], exclude: set[Path], link: Path,
              arcname: str) -> None:
    target = Path(os.path.realpath(link))
    if not inside(target, roots):
        plan.skipped.append({"path": arcname, "reason": "symlink_outside_roots"})
        return
    try:
        st = os.stat(target)
    except OSError:
        plan.skipped.append({"path": arcname, "reason": "dangling_symlink"})
        return
    if not stat.S_ISREG(st.st_mode) or target in exclude:
        plan.skipped.append({"path": arcname, "reason": "symlink_not_to_a_file"})
        return
    plan.add(_Item(arcname, target, "file", st))


def _too_many() -> LlmspellError:
    return tool_error("archive_create", f"the sources hold more than {MAX_ENTRIES} entries",
                      "too_many_entries", limit=MAX_ENTRIES)


def _check_bounds(plan: _Plan, max_bytes: int) -> None:
    if len(plan.items) > MAX_ENTRIES:
        raise _too_many()
    if plan.total > max_bytes:
        raise tool_error("archive_create", f"the sources hold more than {max_bytes} bytes",
                         "too_large", limit=max_bytes)


def _zip_time(mtime: float) -> tuple[int, int, int, int, int, int]:
    stamp = time.localtime(max(mtime, 315532800 + 86400))  # zip cannot store before 1980
    return (max(stamp.tm_year, 1980), stamp.tm_mon, stamp.tm_mday, stamp.tm_hour,
            stamp.tm_min, stamp.tm_sec)


def _copy_item(item: _Item, out: Any, budget: list[int]) -> None:
    """Copy a planned file's bytes into ``out``, re-opening it safely; fail if the sources grew
    beyond the budget meanwhile."""
    fd, _ = open_regular("archive_create", item.path, item.arcname)
    try:
        while True:
            chunk = os.read(fd, CHUNK_BYTES)
            if not chunk:
                break
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise tool_error("archive_create", "the sources grew beyond the byte limit "
                                 "while being archived", "too_large")
            out.write(chunk)
    finally:
        os.close(fd)


def _write_zip(handle: Any, plan: _Plan, max_bytes: int) -> None:
    import zipfile

    budget = [max_bytes]
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for item in plan.items:
            if item.kind == "dir":
                info = zipfile.ZipInfo(item.arcname + "/", _zip_time(item.st.st_mtime))
                info.external_attr = ((stat.S_IFDIR | stat.S_IMODE(item.st.st_mode)) << 16) \
                    | 0x10
                zf.writestr(info, b"")
                continue
            info = zipfile.ZipInfo(item.arcname, _zip_time(item.st.st_mtime))
            info.external_attr = (stat.S_IFREG | stat.S_IMODE(item.st.st_mode)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.file_size = item.st.st_size
            with zf.open(info, "w", force_zip64=item.st.st_size > 1 << 30) as out:
                _copy_item(item, out, budget)


def _write_tar(handle: Any, plan: _Plan, fmt: str, max_bytes: int) -> None:
    import tarfile

    budget = [max_bytes]
    with tarfile.open(fileobj=handle, mode=_TAR_MODES[fmt],  # type: ignore[call-overload]
                      format=tarfile.PAX_FORMAT) as tf:
        for item in plan.items:
            info = tarfile.TarInfo(item.arcname)
            info.mtime = int(item.st.st_mtime)
            info.mode = stat.S_IMODE(item.st.st_mode)
            if item.kind == "dir":
                info.type = tarfile.DIRTYPE
                tf.addfile(info)
                continue
            fd, st = open_regular("archive_create", item.path, item.arcname)
            with os.fdopen(fd, "rb") as source:
                info.size = st.st_size
                budget[0] -= st.st_size
                if budget[0] < 0:
                    raise tool_error("archive_create", "the sources grew beyond the byte limit "
                                     "while being archived", "too_large")
                tf.addfile(info, source)
