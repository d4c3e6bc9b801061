"""Artifacts: versioned blobs (text or bytes with a media type) that tools, agents and spells
produce, kept in a SQLite database, by default the project's ``.llmspell/artifacts.db``.

Every :meth:`ArtifactStore.save` of a name adds its next version (1, 2, ...); version numbers
are never reused, not even after a delete. A record holds the content and what describes it:
media type, size, SHA-256, creation time, the run and session that saved it and a JSON object of
metadata. See ``docs/artifacts.md``.
"""

from __future__ import annotations

import json
import os
import re
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import trio

from llmspell.errors import LlmspellError, did_you_mean
from llmspell.sqlite_files import MEMORY, open_database, rollback, storage_error

if TYPE_CHECKING:
    import sqlite3  # imported by the methods that open or use a connection (start-up time)

T = TypeVar("T")

#: Largest content of one artifact version, in bytes (``ArtifactStore.max_bytes`` default).
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
#: Longest artifact name, in characters.
MAX_NAME_CHARS = 256
#: Largest metadata object, in bytes of compact JSON.
MAX_METADATA_BYTES = 64 * 1024
#: Longest media type, in characters.
MAX_MEDIA_TYPE_CHARS = 255
#: Media types of content saved as text and as bytes when the caller names none.
TEXT_DEFAULT = "text/plain"
BYTES_DEFAULT = "application/octet-stream"
#: Where an in-memory store says it lives (in messages and ``ArtifactStore.where``).

#: Version of the table layout, kept in ``PRAGMA user_version``.
SCHEMA_VERSION = 1
TABLE = "llmspell_artifacts"
#: the last version given to each name (so that versions are never reused after a delete)
COUNTERS = "llmspell_artifact_names"
_SCHEMA = (
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        name       TEXT    NOT NULL,
        version    INTEGER NOT NULL,
        media_type TEXT    NOT NULL,
        size       INTEGER NOT NULL,
        sha256     TEXT    NOT NULL,
        created_at REAL    NOT NULL,
        run_id     TEXT,
        session    TEXT,
        metadata   TEXT    NOT NULL,
        is_text    INTEGER NOT NULL,
        content    BLOB    NOT NULL,
        PRIMARY KEY (name, version)
    )""",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_run ON {TABLE} (run_id)",
    f"""CREATE TABLE IF NOT EXISTS {COUNTERS} (
        name         TEXT    NOT NULL PRIMARY KEY,
        last_version INTEGER NOT NULL
    ) WITHOUT ROWID""",
)
#: the columns of an :class:`ArtifactInfo`, in its field order (the content comes last, so
#: listing never reads a blob)
_INFO_COLUMNS = "name, version, media_type, size, sha256, created_at, run_id, session, metadata, " \
    "is_text"

# C0 and C1 control characters, DEL, and the backslash (a path separator somewhere)
_BAD_NAME_CHAR = r"[\x00-\x1f\x7f-\x9f\\]"
_DRIVE = r"[A-Za-z]:(/|$)"
# RFC 6838 restricted names, then optional parameters (token=token or token="quoted")
_NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
_TOKEN = r"[A-Za-z0-9!#$%&'*+.^_`|~-]+"
_PARAM = rf"\s*;\s*({_TOKEN})=({_TOKEN}|\"[^\"\\\x00-\x1f\x7f]*\")"
_MEDIA_TYPE = rf"\s*({_NAME})/({_NAME})((?:{_PARAM})*)\s*"
# (patterns are compiled on first use, by re's cache: start-up time)
#: subtypes whose content is text (besides ``text/*`` and ``+json``/``+xml``/``+yaml``)
_TEXT_SUBTYPES = frozenset({
    "json", "xml", "javascript", "ecmascript", "yaml", "x-yaml", "toml", "x-toml", "ndjson",
    "x-ndjson", "jsonl", "sql", "graphql", "x-sh", "x-python", "x-lua", "csv",
})


def default_artifacts_path(project_dir: str | os.PathLike[str]) -> Path:
    """Where a project's artifacts live: ``<project_dir>/.llmspell/artifacts.db``."""
    from llmspell.project import data_dir

    return data_dir(Path(project_dir)) / "artifacts.db"


def _invalid(argument: str, message: str, **details: Any) -> LlmspellError:
    return LlmspellError("invalid_value", message, {"argument": argument, **details})


def check_name(name: object, argument: str = "name") -> str:
    """``name`` if it is a valid artifact name, else ``invalid_value`` naming ``argument``.

    A name is 1-256 characters of valid Unicode without control characters or backslashes;
    it may be path-like (``reports/2024/summary.md``) but not absolute (``/x``, ``C:/x``), and
    none of its ``/``-separated segments may be empty, ``.`` or ``..``.
    """
    if not isinstance(name, str):
        raise _invalid(argument, f"artifact {argument} must be a string, got "
                       f"{type(name).__name__}")
    problem = None
    if not 1 <= len(name) <= MAX_NAME_CHARS:
        problem = f"must be 1-{MAX_NAME_CHARS} characters long (it has {len(name)})"
    elif (bad := re.search(_BAD_NAME_CHAR, name)) is not None:
        what = "a backslash" if bad.group() == "\\" else f"the control character {bad.group()!r}"
        problem = f"contains {what}"
    elif name.startswith("/") or re.match(_DRIVE, name):
        problem = "is absolute; use a relative, path-like name such as 'reports/summary.md'"
    elif any(part in ("", ".", "..") for part in name.split("/")):
        problem = "has an empty, '.' or '..' segment"
    else:
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            problem = "is not valid Unicode (it holds a lone surrogate)"
    if problem is not None:
        shown = name if len(name) <= 80 else name[:77] + "..."
        raise _invalid(argument, f"artifact {argument} {shown!r} {problem}", name=shown)
    return name


def check_media_type(value: object, argument: str = "media_type") -> str:
    """The normalized ``type/subtype[; param=value ...]`` (type and subtype lower-cased,
    parameters as ``; name=value``), else ``invalid_value`` naming ``argument``."""
    if not isinstance(value, str):
        raise _invalid(argument, f"{argument} must be a string like 'text/plain', got "
                       f"{type(value).__name__}")
    match = re.fullmatch(_MEDIA_TYPE, value) if len(value) <= MAX_MEDIA_TYPE_CHARS else None
    if match is None:
        raise _invalid(argument, f"{argument} {value[:80]!r} is not a media type of the form "
                       "'type/subtype' (e.g. 'text/markdown', 'image/png')", value=value[:80])
    params = "".join(
        f"; {key.lower()}={val}" for key, val in re.findall(_PARAM, match.group(3) or "")
    )
    return f"{match.group(1).lower()}/{match.group(2).lower()}{params}"


def is_textual(media_type: str) -> bool:
    """Whether content of ``media_type`` is text: ``text/*``, JSON, XML, YAML, JavaScript ...
    (``+json``/``+xml``/``+yaml`` suffixes included)."""
    main, _, sub = media_type.partition(";")[0].strip().lower().partition("/")
    return main == "text" or sub in _TEXT_SUBTYPES or sub.endswith(("+json", "+xml", "+yaml"))


def _metadata_text(metadata: object) -> str:
    if metadata is None:
        return "{}"
    if not isinstance(metadata, dict):
        raise _invalid("metadata", f"artifact metadata must be an object, got "
                       f"{type(metadata).__name__}")
    try:
        text = json.dumps(metadata, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        text.encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise _invalid("metadata", f"artifact metadata is not JSON data: {exc}") from None
    if len(text.encode("utf-8")) > MAX_METADATA_BYTES:
        raise LlmspellError(
            "limit",
            f"artifact metadata is {len(text.encode('utf-8'))} bytes of JSON, over the limit "
            f"of {MAX_METADATA_BYTES}",
            {"limit": "artifact_metadata_bytes", "value": MAX_METADATA_BYTES},
        )
    return text


def _optional_text(value: object, argument: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise _invalid(argument, f"{argument} must be a string, got {type(value).__name__}")


def check_version(value: object, argument: str = "version") -> int | None:
    """``None`` or a version number (an integer >= 1; a float with no fraction is accepted),
    else ``invalid_value`` naming ``argument``."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _invalid(argument, f"artifact {argument} must be an integer >= 1, got {value!r}")
    return value


@attrs.frozen
class ArtifactInfo:
    """What describes one version of an artifact (everything but its content).

    ``created_at`` is in Unix seconds; ``run_id`` and ``session`` name the run (and its
    session) that saved it, ``None`` when saved outside a run; ``is_text`` says whether the
    content was saved as a ``str``.
    """

    name: str
    version: int
    media_type: str
    size: int
    sha256: str
    created_at: float
    run_id: str | None
    session: str | None
    metadata: dict[str, Any]
    is_text: bool

    @classmethod
    def _from_row(cls, row: tuple[Any, ...]) -> ArtifactInfo:
        return cls(
            row[0], int(row[1]), row[2], int(row[3]), row[4], float(row[5]), row[6], row[7],
            json.loads(row[8]), bool(row[9]),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON data: ``{name, version, media_type, size, sha256, created_at, run_id, session,
        metadata}`` (what ``Artifact.list`` gives a spell)."""
        return {
            "name": self.name, "version": self.version, "media_type": self.media_type,
            "size": self.size, "sha256": self.sha256, "created_at": self.created_at,
            "run_id": self.run_id, "session": self.session, "metadata": dict(self.metadata),
        }


@attrs.frozen
class Artifact(ArtifactInfo):
    """One version of an artifact with its content: ``data`` is the raw bytes, ``content``
    the value as saved (a ``str`` when it was saved as text, else ``bytes``)."""

    data: bytes = b""

    @property
    def content(self) -> str | bytes:
        return self.data.decode("utf-8") if self.is_text else self.data

    @property
    def encoding(self) -> str:
        """``"text"`` when the content was saved as text, or is valid UTF-8 of a textual media
        type (:func:`is_textual`); else ``"base64"`` (how spells receive it)."""
        if self.is_text:
            return "text"
        if is_textual(self.media_type):
            try:
                self.data.decode("utf-8")
            except UnicodeDecodeError:
                return "base64"
            return "text"
        return "base64"

    def text(self) -> str | None:
        """The content as text when :attr:`encoding` is ``"text"``, else ``None``."""
        return self.data.decode("utf-8") if self.encoding == "text" else None

    def to_dict(self) -> dict[str, Any]:
        """:meth:`ArtifactInfo.to_dict` plus ``content`` (text, or base64 of the bytes) and
        ``encoding`` (``"text"`` or ``"base64"``): what ``Artifact.load`` gives a spell."""
        import base64

        encoding = self.encoding
        content = (
            self.data.decode("utf-8") if encoding == "text"
            else base64.b64encode(self.data).decode("ascii")
        )
        return {**super().to_dict(), "content": content, "encoding": encoding}


#: what listings return (named here: inside ArtifactStore, ``list`` is its method)
Infos = list[ArtifactInfo]


def _to_path(path: str | os.PathLike[str] | None) -> Path | None:
    if path is None or str(path) == MEMORY:
        return None
    return Path(path).expanduser().absolute()


@attrs.define(eq=False)
class ArtifactStore:
    """Versioned artifacts in the SQLite file ``path`` (``None`` or ``":memory:"``: a private
    in-memory database, gone with the store).

    * Content is stored in the database (``BLOB``); each version at most ``max_bytes`` (else
      ``limit``). Names are checked by :func:`check_name`, media types by
      :func:`check_media_type` (both ``invalid_value`` naming the argument).
    * The file runs in WAL mode with a ``busy_timeout`` (seconds); ``save`` numbers versions
      inside ``BEGIN IMMEDIATE``, so concurrent saves of one name, from any task, thread or
      process, get distinct consecutive versions.
    * The connection opens on first use (or ``async with``); missing parent directories are
      created. Every blocking call (SQLite, hashing) runs in a worker thread, one at a time.
    * Storage failures raise ``state_error`` naming the file; so does any call after
      :meth:`aclose`. Missing artifacts and versions raise ``not_found`` naming them.
    """

    path: Path | None = attrs.field(default=None, converter=_to_path)
    max_bytes: int = DEFAULT_MAX_BYTES
    busy_timeout: float = 10.0
    _conn: sqlite3.Connection | None = attrs.field(default=None, init=False, repr=False)
    _finalizer: weakref.finalize[Any, Any] | None = attrs.field(
        default=None, init=False, repr=False
    )
    _lock: trio.Lock = attrs.field(factory=trio.Lock, init=False, repr=False)
    _closed: bool = attrs.field(default=False, init=False, repr=False)

    @property
    def where(self) -> str:
        """The database file, or ``":memory:"``."""
        return MEMORY if self.path is None else str(self.path)

    # --- plumbing ---------------------------------------------------------------------------

    def _error(self, operation: str, exc: BaseException) -> LlmspellError:
        return storage_error("artifact store", self.path, operation, exc)

    def _connect(self) -> sqlite3.Connection:
        """Open the connection once (runs in a worker thread)."""
        if self._conn is not None:
            return self._conn
        conn = open_database(self.path, schema=_SCHEMA, version=SCHEMA_VERSION,
                             busy_timeout=self.busy_timeout)
        self._conn = conn
        # a store nobody closes (the in-memory store of a run) closes its connection when it
        # is collected
        self._finalizer = weakref.finalize(self, conn.close)
        return conn

    def _rollback(self) -> None:
        """End a failed transaction; if even that fails, drop the connection (worker thread)."""
        conn = self._conn
        if not rollback(conn):
            self._conn = None
            assert conn is not None
            conn.close()

    async def _run(self, operation: str, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work(conn)`` in a worker thread, one call at a time."""

        def call() -> T:
            import sqlite3

            try:
                return work(self._connect())
            except (sqlite3.Error, OSError) as exc:
                self._rollback()
                raise self._error(operation, exc) from exc
            except BaseException:
                self._rollback()
                raise

        async with self._lock:
            if self._closed:
                raise LlmspellError(
                    "state_error", f"artifact store {self.where} is closed",
                    {"path": self.where, "operation": operation},
                )
            return await trio.to_thread.run_sync(call)

    def _missing(
        self, conn: sqlite3.Connection, name: str, version: int | None
    ) -> LlmspellError:
        """``not_found`` for ``name`` (``version``): what exists instead (worker thread)."""
        versions = [row[0] for row in conn.execute(
            f"SELECT version FROM {TABLE} WHERE name = ? ORDER BY version", (name,)
        )]
        if versions and version is not None:
            shown = ", ".join(str(v) for v in versions[:20])
            more = f" and {len(versions) - 20} more" if len(versions) > 20 else ""
            return LlmspellError(
                "not_found",
                f"artifact {name!r} has no version {version}; it has version(s) {shown}{more}",
                {"kind": "artifact", "name": name, "version": version, "versions": versions},
            )
        names = [row[0] for row in conn.execute(f"SELECT DISTINCT name FROM {TABLE}")]
        known = did_you_mean(name, names) if names else "; no artifacts are stored"
        return LlmspellError(
            "not_found",
            f"no artifact {name!r}{known}",
            {"kind": "artifact", "name": name},
            hint="llmspell artifacts list shows what is stored",
        )

    # --- operations -------------------------------------------------------------------------

    async def save(
        self,
        name: str,
        content: str | bytes | bytearray | memoryview,
        *,
        media_type: str | None = None,
        metadata: dict[str, Any] | None = None,
        run_id: str | None = None,
        session: str | None = None,
    ) -> ArtifactInfo:
        """Store ``content`` as the next version of ``name`` and describe it.

        A ``str`` is stored as UTF-8 and loads back as a ``str`` (default media type
        ``text/plain``); bytes load back as ``bytes`` (``application/octet-stream``).
        ``metadata`` is a JSON object (at most 64 KiB). Raises ``invalid_value`` naming the
        argument, or ``limit`` when the content is larger than ``max_bytes``.
        """
        name = check_name(name)
        if isinstance(content, str):
            try:
                data, is_text = content.encode("utf-8"), True
            except UnicodeEncodeError:
                raise _invalid("content", f"content of artifact {name!r} is not valid Unicode "
                               "(it holds a lone surrogate)", name=name) from None
        elif isinstance(content, bytes | bytearray | memoryview):
            data, is_text = bytes(content), False
        else:
            raise _invalid("content", f"content of artifact {name!r} must be text or bytes, "
                           f"got {type(content).__name__}", name=name)
        check_size(name, len(data), self.max_bytes)
        media = check_media_type(
            media_type if media_type is not None else (TEXT_DEFAULT if is_text else BYTES_DEFAULT)
        )
        meta = _metadata_text(metadata)
        run_id = _optional_text(run_id, "run_id")
        session = _optional_text(session, "session")

        def work(conn: sqlite3.Connection) -> ArtifactInfo:
            import hashlib

            digest = hashlib.sha256(data).hexdigest()
            created = time.time()
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(
                f"SELECT last_version FROM {COUNTERS} WHERE name = ?", (name,)
            ).fetchone()
            version = 1 if row is None else int(row[0]) + 1
            conn.execute(
                f"INSERT OR REPLACE INTO {COUNTERS} (name, last_version) VALUES (?, ?)",
                (name, version),
            )
            conn.execute(
                f"INSERT INTO {TABLE} ({_INFO_COLUMNS}, content) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (name, version, media, len(data), digest, created, run_id, session, meta,
                 int(is_text), data),
            )
            conn.execute("COMMIT")
            return ArtifactInfo(name, version, media, len(data), digest, created, run_id,
                                session, json.loads(meta), is_text)

        return await self._run("save", work)

    async def load(self, name: str, version: int | None = None) -> Artifact:
        """Version ``version`` of ``name`` (default: the latest), or ``not_found`` naming the
        artifact and version."""
        name, version = check_name(name), check_version(version)

        def work(conn: sqlite3.Connection) -> Artifact:
            if version is None:
                row = conn.execute(
                    f"SELECT {_INFO_COLUMNS}, content FROM {TABLE} WHERE name = ? "
                    "ORDER BY version DESC LIMIT 1", (name,)
                ).fetchone()
            else:
                row = conn.execute(
                    f"SELECT {_INFO_COLUMNS}, content FROM {TABLE} "
                    "WHERE name = ? AND version = ?", (name, version)
                ).fetchone()
            if row is None:
                raise self._missing(conn, name, version)
            info = ArtifactInfo._from_row(row)
            return Artifact(**attrs.asdict(info, recurse=False), data=bytes(row[10]))

        return await self._run("load", work)

    async def list(
        self,
        prefix: str | None = None,
        *,
        run_id: str | None = None,
        session: str | None = None,
        all_versions: bool = False,
    ) -> Infos:
        """The latest version of every name (every version with ``all_versions``), sorted by
        name then version; only names starting with ``prefix`` and versions saved by run
        ``run_id`` or in session ``session`` when given (then "latest" is the latest such
        version)."""
        prefix = _optional_text(prefix, "prefix")
        run_id = _optional_text(run_id, "run_id")
        session = _optional_text(session, "session")
        where: list[str] = ["1"]
        params: list[object] = []
        if prefix:
            where.append("substr(name, 1, ?) = ?")
            params += [len(prefix), prefix]
        if run_id is not None:
            where.append("run_id = ?")
            params.append(run_id)
        if session is not None:
            where.append("session = ?")
            params.append(session)
        cond = " AND ".join(where)
        if all_versions:
            sql = f"SELECT {_INFO_COLUMNS} FROM {TABLE} WHERE {cond} ORDER BY name, version"
        else:
            columns = ", ".join(f"a.{c.strip()}" for c in _INFO_COLUMNS.split(","))
            sql = (
                f"SELECT {columns} FROM {TABLE} AS a JOIN (SELECT name, MAX(version) AS v "
                f"FROM {TABLE} WHERE {cond} GROUP BY name) AS m "
                "ON a.name = m.name AND a.version = m.v ORDER BY a.name"
            )
        rows = await self._run("list", lambda conn: conn.execute(sql, params).fetchall())
        return [ArtifactInfo._from_row(row) for row in rows]

    async def versions(self, name: str) -> Infos:
        """Every version of ``name``, oldest first; ``not_found`` if it has none."""
        name = check_name(name)

        def work(conn: sqlite3.Connection) -> Infos:
            rows = conn.execute(
                f"SELECT {_INFO_COLUMNS} FROM {TABLE} WHERE name = ? ORDER BY version", (name,)
            ).fetchall()
            if not rows:
                raise self._missing(conn, name, None)
            return [ArtifactInfo._from_row(row) for row in rows]

        return await self._run("list versions", work)

    async def delete(self, name: str, version: int | None = None) -> int:
        """Delete version ``version`` of ``name`` (default: every version); the number of
        versions deleted, or ``not_found`` if there was none. Later saves of the name still
        get new version numbers."""
        name, version = check_name(name), check_version(version)

        def work(conn: sqlite3.Connection) -> int:
            if version is None:
                count = conn.execute(f"DELETE FROM {TABLE} WHERE name = ?", (name,)).rowcount
            else:
                count = conn.execute(
                    f"DELETE FROM {TABLE} WHERE name = ? AND version = ?", (name, version)
                ).rowcount
            if count == 0:
                raise self._missing(conn, name, version)
            return int(count)

        return await self._run("delete", work)

    async def aclose(self) -> None:
        """Close the connection. Idempotent; later calls raise ``state_error``."""
        async with self._lock:
            self._closed = True
            conn, self._conn = self._conn, None
            finalizer, self._finalizer = self._finalizer, None
            if finalizer is not None:
                finalizer.detach()
            if conn is not None:
                await trio.to_thread.run_sync(conn.close)

    async def __aenter__(self) -> ArtifactStore:
        """Open the database now, so that a bad path fails here rather than at first use."""
        await self._run("open", lambda conn: None)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def check_size(name: str, size: int, max_bytes: int) -> None:
    """``limit`` naming the artifact when ``size`` bytes are more than ``max_bytes``."""
    if size > max_bytes:
        raise LlmspellError(
            "limit",
            f"artifact {name!r} is {size} bytes, over the limit of {max_bytes} bytes",
            {"limit": "artifact_bytes", "value": max_bytes, "size": size, "name": name},
            hint="save a smaller artifact, or split it into parts",
        )
