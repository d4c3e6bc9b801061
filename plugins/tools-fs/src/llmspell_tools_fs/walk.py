"""A bounded directory walk that never follows symlinks, and glob patterns (imported when a
tool that walks runs).

The walk starts at a directory that the policy resolved (so it is a real directory inside the
roots) and descends only into real subdirectories: a symlink is reported as a symlink and never
entered, so the walk cannot leave the tree it started in.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs

from llmspell_tools_fs.listing import DEFAULT_DEPTH, MAX_SCANNED
from llmspell_tools_fs.paths import (
    file_type,
    invalid_arg,
    iso_time,
    raise_os,
    resolve,
    tool_error,
)


@attrs.define
class Entry:
    """One directory entry met by :class:`Walk`: its lexical ``path`` (under the walk's real
    top directory), its ``rel`` path from the top (``/``-separated), and its ``lstat``."""

    path: Path
    rel: str
    st: os.stat_result
    depth: int

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def kind(self) -> str:
        return file_type(self.st.st_mode)


@attrs.define
class Walk:
    """A depth-first walk of ``top`` in name order, at most ``max_depth`` levels deep, looking at
    at most ``max_scanned`` entries (then ``truncated`` is set). Symlinks are yielded, never
    followed; hidden names (leading ``.``) are skipped unless ``include_hidden``; directories
    that cannot be read are counted in ``unreadable`` and skipped."""

    top: Path
    max_depth: int = DEFAULT_DEPTH
    include_hidden: bool = False
    max_scanned: int = MAX_SCANNED
    scanned: int = 0
    unreadable: int = 0
    truncated: bool = False
    #: resolved paths never to yield or enter (e.g. an archive being written inside the tree)
    exclude: frozenset[Path] = frozenset()

    def __iter__(self) -> Iterator[Entry]:
        return self._walk(self.top, "", 1)

    def _walk(self, directory: Path, prefix: str, depth: int) -> Iterator[Entry]:
        try:
            with os.scandir(directory) as it:
                items = sorted(it, key=lambda e: e.name)
        except OSError:
            self.unreadable += 1
            return
        for item in items:
            if not self.include_hidden and item.name.startswith("."):
                continue
            if self.scanned >= self.max_scanned:
                self.truncated = True
                return
            self.scanned += 1
            path = directory / item.name
            if path in self.exclude:
                continue
            try:
                st = item.stat(follow_symlinks=False)
            except OSError:
                continue  # vanished meanwhile
            entry = Entry(path, prefix + item.name, st, depth)
            yield entry
            if stat.S_ISDIR(st.st_mode) and depth < self.max_depth:
                yield from self._walk(path, entry.rel + "/", depth + 1)
            if self.truncated:
                return


# --- globs ----------------------------------------------------------------------------------


def compile_glob(tool: str, argument: str, pattern: str) -> Callable[[Entry], bool]:
    """A test of entries against a glob: ``*`` and ``?`` (not crossing ``/``), ``[...]``
    classes (``[!...]`` negated), ``{a,b}`` alternatives and ``**`` (any number of directories).
    A pattern without ``/`` is matched against the entry's name, one with ``/`` against its path
    relative to the walk's top. ``invalid_args`` naming ``argument`` if it is malformed."""
    text = pattern.removeprefix("./")
    try:
        compiled = re.compile(_translate(text), re.DOTALL)
    except (re.error, ValueError) as exc:
        raise invalid_arg(tool, argument, f"malformed glob pattern {pattern!r}: {exc}") from None
    if "/" in text:
        return lambda entry: compiled.fullmatch(entry.rel) is not None
    return lambda entry: compiled.fullmatch(entry.name) is not None


def _translate(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    braces = 0
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                if pattern.startswith("**/", i):
                    out.append("(?:.*/)?")
                    i += 3
                else:
                    out.append(".*")
                    i += 2
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 2 if pattern.startswith(("[!", "[^"), i) else i + 1)
            if end < 0:
                raise ValueError("'[' is never closed")
            body = pattern[i + 1:end]
            negate = body[:1] in ("!", "^")
            if negate:
                body = body[1:]
            body = body.replace("\\", "\\\\")
            out.append(f"[{'^' if negate else ''}{body}]")
            i = end
        elif c == "{":
            braces += 1
            out.append("(?:")
        elif c == "}" and braces:
            braces -= 1
            out.append(")")
        elif c == "," and braces:
            out.append("|")
        else:
            out.append(re.escape(c))
        i += 1
    if braces:
        raise ValueError("'{' is never closed")
    return "".join(out)


# --- describing entries -------------------------------------------------------------------


def describe(entry: Entry) -> dict[str, Any]:
    """The JSON description of an entry (files and symlinks have a size, directories none)."""
    kind = entry.kind
    return {
        "name": entry.name,
        "path": entry.rel,
        "type": kind,
        "size": None if kind == "dir" else entry.st.st_size,
        "modified": iso_time(entry.st.st_mtime),
    }


def open_directory(tool: str, policy: Any, shown: str) -> Path:
    """The resolved directory ``shown`` (read-checked); ``not_found``/``tool_error`` if it is
    missing or not a directory."""
    top = resolve(policy, shown)
    try:
        st = os.stat(top)
    except OSError as exc:
        raise_os(tool, exc, shown)
    if not stat.S_ISDIR(st.st_mode):
        raise tool_error(tool, f"{shown!r} is not a directory", "not_a_directory", path=shown)
    return top
