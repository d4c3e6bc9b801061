"""Loading plugins: entry points of group ``llmspell``, filtered by environment variables.

``LLMSPELL_LOAD_PLUGINS``: when set, a comma-separated allowlist of entry-point names to load
(set but empty: load none). ``LLMSPELL_DISABLE_PLUGINS``: comma-separated names never to load.
A plugin that fails to import, or that implements a hook that does not exist, is recorded as a
:class:`PluginFailure` and left out; it never takes the caller down.

Finding the entry points means reading the metadata of every installed distribution
(``importlib.metadata``, which also imports the ``email`` package to parse it): about as long
as the rest of the kernel's start. The list found is kept in a small cache file (see
:func:`entry_point_list`) that is used only while the installed distributions are exactly as
they were when it was written.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
import stat
import sys
import time
from collections.abc import Collection, Mapping
from functools import reduce
from pathlib import Path
from typing import Any

import attrs
import pluggy

from llmspell import hookspecs
from llmspell.hookspecs import PROJECT

ENTRY_POINT_GROUP = "llmspell"
#: entry points of this group name plugins of group ``llmspell`` that are off by default, so
#: that the loader need not import them to read their ``llmspell_default_enabled``
DEFAULT_OFF_GROUP = "llmspell.default_off"
LOAD_ENV = "LLMSPELL_LOAD_PLUGINS"
DISABLE_ENV = "LLMSPELL_DISABLE_PLUGINS"
#: where llmspell keeps its caches (set but empty: keep none)
CACHE_ENV = "LLMSPELL_CACHE_DIR"
#: bump when the cache file's format changes
CACHE_FORMAT = 3


@attrs.define(frozen=True)
class PluginInfo:
    """A loaded plugin: its name, the distribution that provides it and the hooks it implements."""

    name: str
    package: str
    version: str
    hooks: tuple[str, ...]


@attrs.define(frozen=True)
class PluginFailure:
    """A plugin that could not be loaded, and why."""

    name: str
    package: str
    version: str
    error: str


def _names(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {n.strip() for n in value.split(",") if n.strip()}


def new_plugin_manager() -> pluggy.PluginManager:
    """A pluggy manager that knows every llmspell hookspec."""
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def unknown_hooks(pm: pluggy.PluginManager, plugin: object) -> list[str]:
    """Messages for hook implementations of ``plugin`` that match no hookspec."""
    problems = []
    for caller in pm.get_hookcallers(plugin) or []:
        if caller.spec is None:
            import difflib  # only for a misspelt hook (start-up time)

            specs = [
                n for n in dir(pm.hook)
                if n.startswith("llmspell_") and getattr(pm.hook, n).spec is not None
            ]
            close = difflib.get_close_matches(caller.name, specs, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(f"implements unknown hook {caller.name!r}{hint}")
    return problems


class PluginLoader:
    """Registers plugins into a pluggy manager and remembers what loaded and what failed."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self.loaded: dict[str, PluginInfo] = {}
        self.failures: list[PluginFailure] = []

    def register(
        self, plugin: object, name: str, *, package: str = "", version: str = ""
    ) -> PluginInfo | None:
        """Register ``plugin`` under ``name``; on a validation error record a failure instead."""
        try:
            self.pm.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            self.failures.append(PluginFailure(name, package, version, str(exc)))
            return None
        problems = unknown_hooks(self.pm, plugin)
        if problems:
            self.pm.unregister(plugin)
            self.failures.append(PluginFailure(name, package, version, "; ".join(problems)))
            return None
        hooks = tuple(sorted(c.name for c in self.pm.get_hookcallers(plugin) or []))
        info = PluginInfo(name, package, version, hooks)
        self.loaded[name] = info
        return info

    def load_entry_points(
        self,
        env: Mapping[str, str],
        *,
        enable: Collection[str] = (),
        disable: Collection[str] = (),
    ) -> None:
        """Load every entry point of group ``llmspell`` that the environment filters admit,
        except those in ``disable`` and those off by default unless they are in ``enable``:
        named in group ``llmspell.default_off`` of their distribution (not even imported), or
        whose module says ``llmspell_default_enabled = False``."""
        allow = _names(env.get(LOAD_ENV))
        deny = (_names(env.get(DISABLE_ENV)) or set()) | set(disable)
        off = {row[0] for row in entry_point_list(DEFAULT_OFF_GROUP, env)}
        seen: set[str] = set()
        for name, value, package, version in entry_point_list(ENTRY_POINT_GROUP, env):
            if name in seen:
                continue
            seen.add(name)
            if (allow is not None and name not in allow) or name in deny:
                continue
            if name in off and name not in enable:
                continue
            try:
                plugin: Any = load_entry_point(value)
            except Exception as exc:
                self.failures.append(
                    PluginFailure(
                        name, package, version, f"import failed: {type(exc).__name__}: {exc}"
                    )
                )
                continue
            if getattr(plugin, "llmspell_default_enabled", True) is False and name not in enable:
                continue
            self.register(plugin, name, package=package, version=version)


# --- entry points -----------------------------------------------------------------------------

#: an entry point's value, ``module:attr.attr [extras]`` (``importlib.metadata.EntryPoint``'s)
_VALUE = r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$"


def _simple(name: str) -> bool:
    """Whether ``name`` matches ``[\\w.]+`` (checked without a regular expression)."""
    return name.replace(".", "").replace("_", "a").isalnum() or (bool(name) and not name.strip("."))


#: ``(name, value, distribution name, distribution version)`` of one entry point
EntryPointRow = tuple[str, str, str, str]


def load_entry_point(value: str) -> Any:
    """The object an entry point's ``value`` names, imported now (what
    ``importlib.metadata.EntryPoint.load`` does, without importing ``importlib.metadata``)."""
    module_name, colon, attr = value.partition(":")
    if not (_simple(module_name) and (not colon or _simple(attr))):  # not the usual form
        match = re.match(_VALUE, value)
        if match is None:
            raise ValueError(f"malformed entry point {value!r}")
        module_name, attr = match.group("module"), match.group("attr") or ""
    module = importlib.import_module(module_name)
    return reduce(getattr, filter(None, attr.split(".")), module)


def entry_point_list(group: str, env: Mapping[str, str] | None = None) -> list[EntryPointRow]:
    """The entry points of ``group`` in the order ``importlib.metadata.entry_points`` gives
    them (the first distribution of a name on ``sys.path`` wins).

    They come from a cache file in :func:`cache_dir` (one per Python environment, remembering
    the last :data:`CACHE_LAYOUTS` ``sys.path`` layouts) when it was written for exactly the
    installed distributions there are now (see :class:`_Snapshot`): installing, upgrading or
    removing a package -- or editing an ``entry_points.txt`` in place -- makes the next call
    read the metadata again and rewrite the cache. Without a cache directory, or when it
    cannot be told (another finder of distributions than the standard path finder on
    ``sys.meta_path``), the metadata is read every time. A cache file that cannot be read or
    written is ignored."""
    env = os.environ if env is None else env
    folder = cache_dir(env)
    if folder is None or not _standard_finders():
        return _scan_entry_points(group)[0]
    digest = hashlib.sha256(f"{sys.prefix}\0{group}".encode("utf-8", "surrogatepass"))
    path = folder / f"entry-points-{digest.hexdigest()[:16]}.json"
    cached = _read_cache(path, group)
    if cached is not None:
        return cached
    snapshot = _Snapshot.take()  # before reading the metadata (see _Snapshot)
    rows, infos = _scan_entry_points(group)
    if snapshot is not None and infos is not None:
        snapshot.watch_metadata(infos)
        _write_cache(path, group, snapshot, rows)
    return rows


def cache_dir(env: Mapping[str, str] | None = None) -> Path | None:
    """Where llmspell keeps caches: ``$LLMSPELL_CACHE_DIR`` (set but empty: nowhere, ``None``),
    else ``$XDG_CACHE_HOME/llmspell`` (``~/.cache/llmspell``; ``%LOCALAPPDATA%\\llmspell\\cache``
    on Windows)."""
    env = os.environ if env is None else env
    if CACHE_ENV in env:
        return Path(env[CACHE_ENV]).expanduser() if env[CACHE_ENV] else None
    if sys.platform == "win32" and env.get("LOCALAPPDATA"):
        return Path(env["LOCALAPPDATA"]) / "llmspell" / "cache"
    base = env.get("XDG_CACHE_HOME")
    if base:
        return Path(base) / "llmspell"
    try:
        return Path.home() / ".cache" / "llmspell"
    except RuntimeError:  # no home directory
        return None


def _standard_finders() -> bool:
    """Whether only the standard path finder finds distributions (what :class:`_Snapshot`
    watches)."""
    from importlib.machinery import PathFinder

    return all(
        finder is PathFinder or getattr(finder, "find_distributions", None) is None
        for finder in sys.meta_path
    )


#: a directory or file changed less than this before a snapshot is not trusted to stay as the
#: snapshot saw it
RECENT_NS = 2_000_000_000


def _status(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mode, st.st_ino, st.st_size, st.st_mtime_ns]


def _is_info(name: str, egg: bool) -> bool:
    """Whether ``importlib.metadata`` reads ``name`` in a ``sys.path`` directory as a
    distribution's metadata (an ``.egg`` directory also has an ``EGG-INFO``)."""
    low = name.lower()
    return low.endswith((".dist-info", ".egg-info")) or (egg and low == "egg-info")


class _Snapshot:
    """What ``importlib.metadata`` reads to find the distributions and their entry points.

    - every ``sys.path`` entry, with its status (mode, inode, size, modification time): a
      directory's changes whenever an entry is added, removed or renamed in it (installing,
      upgrading or removing a package), a zip file's whenever its contents change;
    - for a directory, the names of the ``*.dist-info``/``*.egg-info`` in it (not read again
      while its status is unchanged) and the status of the ``entry_points.txt`` of each (a file
      created, deleted, replaced or edited in place);
    - the status of the ``METADATA``/``PKG-INFO`` of the distributions whose entry points are
      listed (their names and versions).

    A snapshot is taken *before* the metadata is read, so a change while it is read shows in
    the next snapshot; one with anything changed since :data:`RECENT_NS` before it was started
    is not kept at all (a change within one tick of a coarse file-system clock would not
    show)."""

    def __init__(self, entries: list[list[Any]], files: dict[str, list[int] | None]) -> None:
        #: ``[sys.path entry, status or None, info names or None]``
        self.entries = entries
        #: path -> status (``None``: missing)
        self.files = files
        #: when the snapshot was started (``time.time_ns()``)
        self.started = time.time_ns()

    @classmethod
    def take(cls) -> _Snapshot | None:
        entries: list[list[Any]] = []
        files: dict[str, list[int] | None] = {}
        snapshot = cls(entries, files)
        for entry in sys.path:
            if not isinstance(entry, str):
                return None
            root = entry or "."
            status = _status(root)
            names: list[str] | None = None
            if status is not None and stat.S_ISDIR(status[0]):
                try:
                    listing = os.listdir(root)
                except OSError:
                    return None
                egg = root.lower().endswith(".egg")
                names = sorted(n for n in listing if _is_info(n, egg))
                for name in names:
                    target = os.path.join(root, name, "entry_points.txt")
                    files[target] = _status(target)
            entries.append([entry, status, names])
        return snapshot

    def watch_metadata(self, infos: list[str]) -> None:
        """Also watch the metadata files in the ``*.dist-info``/``*.egg-info`` ``infos`` (of
        the distributions whose entry points are listed: their names and versions)."""
        for info in infos:
            for name in ("METADATA", "PKG-INFO"):
                target = os.path.join(info, name)
                self.files[target] = _status(target)

    def recent(self) -> bool:
        """Whether something watched changed too recently to be trusted: within
        :data:`RECENT_NS` before the snapshot was started, or since (the metadata files are
        looked at after they were read)."""
        limit = self.started - RECENT_NS
        statuses = [e[1] for e in self.entries] + list(self.files.values())
        return any(st is not None and st[3] >= limit for st in statuses)

    def to_json(self) -> dict[str, Any]:
        return {"entries": self.entries, "files": self.files}

    @staticmethod
    def still(data: Any) -> bool:
        """Whether the snapshot ``data`` (of :meth:`to_json`) still holds: ``sys.path`` is the
        same, and nothing it watched changed."""
        entries = data["entries"]
        if [e[0] for e in entries] != sys.path:
            return False
        for entry, status, _ in entries:
            if _status(entry or ".") != status:
                return False
        return all(_status(path) == status for path, status in data["files"].items())


#: how many sys.path layouts one cache file remembers (the console script, ``python -c`` in a
#: few directories, a test run with PYTHONPATH ...), the most recently written first
CACHE_LAYOUTS = 8


def _cache_entries(path: Path, group: str) -> list[Any]:
    """The entries of the cache file (``[]`` if it is missing, unreadable or of another
    format)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if (data["format"], data["group"], data["python"]) != (CACHE_FORMAT, group, sys.version):
            return []
        entries = data["layouts"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return entries if isinstance(entries, list) else []


def _read_cache(path: Path, group: str) -> list[EntryPointRow] | None:
    try:
        for entry in _cache_entries(path, group):
            if [e[0] for e in entry["snapshot"]["entries"]] == sys.path:
                if not _Snapshot.still(entry["snapshot"]):
                    return None
                rows = [tuple(row) for row in entry["entry_points"]]
                break
        else:
            return None
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None
    if not all(len(row) == 4 and all(isinstance(v, str) for v in row) for row in rows):
        return None
    return rows


def _write_cache(path: Path, group: str, snapshot: _Snapshot, rows: list[EntryPointRow]) -> None:
    if snapshot.recent():
        return
    mine = {"snapshot": snapshot.to_json(), "entry_points": [list(row) for row in rows]}
    layouts = [mine]
    for entry in _cache_entries(path, group):
        try:
            if [e[0] for e in entry["snapshot"]["entries"]] != sys.path:
                layouts.append(entry)
        except (KeyError, TypeError, IndexError):
            continue
    data = {"format": CACHE_FORMAT, "group": group, "python": sys.version,
            "layouts": layouts[:CACHE_LAYOUTS]}
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, path)  # atomic: a concurrent reader sees the old file or the new one
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass


def _scan_entry_points(group: str) -> tuple[list[EntryPointRow], list[str] | None]:
    """The entry points of ``group`` read from the metadata, and the metadata directories of
    their distributions (``None`` if one of them is not a plain directory)."""
    import importlib.metadata

    rows = []
    infos: list[str] | None = []
    for ep in importlib.metadata.entry_points(group=group):
        dist = ep.dist
        rows.append((ep.name, ep.value, dist.name if dist is not None else "",
                     dist.version if dist is not None else ""))
        info = getattr(dist, "_path", None)  # a PathDistribution's directory
        if info is None or not isinstance(info, os.PathLike) or not os.path.isdir(info):
            infos = None
        elif infos is not None:
            infos.append(os.fspath(info))
    return rows, infos
