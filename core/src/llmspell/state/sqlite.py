"""The SQLite state backend: one WAL-mode database file shared by every process that opens it."""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import trio

from llmspell.errors import LlmspellError
from llmspell.sqlite_files import open_database, rollback, storage_error
from llmspell.state.backend import UpdateFn, closed_error
from llmspell.state.scopes import Scope, check_key, scope_text
from llmspell.state.values import JsonValue, checked_copy, decode_json, encode_json

if TYPE_CHECKING:
    import sqlite3  # imported by the methods that open or use a connection (start-up time)

T = TypeVar("T")

#: Version of the table layout, kept in ``PRAGMA user_version``.
SCHEMA_VERSION = 1
#: The table holding every entry.
TABLE = "llmspell_state"
_CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    scope      TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID
"""


def default_state_path(project_dir: str | os.PathLike[str]) -> Path:
    """Where a project's state lives by default: ``<project_dir>/.llmspell/state.db``."""
    return Path(project_dir) / ".llmspell" / "state.db"


def _to_path(path: str | os.PathLike[str]) -> Path:
    return Path(path).expanduser().absolute()


@attrs.define(eq=False)
class SqliteBackend:
    """A :class:`~llmspell.state.backend.StateBackend` stored in the SQLite file ``path``.

    * One row per (scope, key) in table ``llmspell_state``: the value as compact JSON text and
      ``updated_at`` (Unix seconds). Missing parent directories are created.
    * The database runs in WAL journal mode with ``synchronous=NORMAL`` (readers never block
      the writer; a committed write survives a process crash, the last ones may be lost on a
      power cut) and a ``busy_timeout`` (seconds) for waiting on other processes' locks.
    * ``update`` reads and writes inside ``BEGIN IMMEDIATE``, so concurrent updates from any
      number of tasks, threads or processes on the same file are never lost.
    * The connection is opened on first use (or by ``async with``). All blocking sqlite calls run
      in a worker thread via ``trio.to_thread.run_sync``; a :class:`trio.Lock` makes sure one
      call at a time uses the connection.
    * Any storage failure (unwritable path, corrupt file, lock timeout) raises ``state_error``
      naming the file.
    """

    path: Path = attrs.field(converter=_to_path)
    busy_timeout: float = 10.0
    _conn: sqlite3.Connection | None = attrs.field(default=None, init=False, repr=False)
    _lock: trio.Lock = attrs.field(factory=trio.Lock, init=False, repr=False)
    _closed: bool = attrs.field(default=False, init=False, repr=False)

    # --- plumbing ---------------------------------------------------------------------------

    def _error(self, operation: str, exc: BaseException) -> LlmspellError:
        return storage_error("state store", self.path, operation, exc)

    def _connect(self) -> sqlite3.Connection:
        """Open the connection once (runs in a worker thread)."""
        if self._conn is None:
            self._conn = open_database(self.path, schema=[_CREATE_TABLE],
                                       version=SCHEMA_VERSION, busy_timeout=self.busy_timeout)
        return self._conn

    def _rollback(self) -> None:
        """End a failed transaction; if even that fails, drop the connection (worker thread)."""
        conn = self._conn
        if not rollback(conn):
            self._conn = None
            assert conn is not None
            conn.close()

    async def _run(self, operation: str, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work(conn)`` in a worker thread; the caller must hold ``self._lock``."""
        if self._closed:
            raise closed_error("sqlite")

        def call() -> T:
            import sqlite3

            try:
                return work(self._connect())
            except (sqlite3.Error, OSError) as exc:
                self._rollback()
                raise self._error(operation, exc) from exc

        return await trio.to_thread.run_sync(call)

    async def _locked(self, operation: str, work: Callable[[sqlite3.Connection], T]) -> T:
        async with self._lock:
            return await self._run(operation, work)

    def _decode(self, scope: str, key: str, text: str) -> JsonValue:
        try:
            return decode_json(text)
        except ValueError as exc:
            raise LlmspellError(
                "state_error",
                f"state store {self.path} holds unreadable JSON for {key!r} in {scope!r}: {exc}",
                {"path": str(self.path), "scope": scope, "key": key, "error": str(exc)},
                hint="delete the key (or move the file aside) to recover",
            ) from exc

    # --- StateBackend -----------------------------------------------------------------------

    async def get(self, scope: str | Scope, key: str, default: Any = None) -> Any:
        """See :meth:`StateBackend.get`."""
        name, key = scope_text(scope), check_key(key)
        row = await self._locked(
            "read",
            lambda conn: conn.execute(
                f"SELECT value FROM {TABLE} WHERE scope = ? AND key = ?", (name, key)
            ).fetchone(),
        )
        return default if row is None else self._decode(name, key, row[0])

    async def set(self, scope: str | Scope, key: str, value: JsonValue) -> None:
        """See :meth:`StateBackend.set`."""
        name, key = scope_text(scope), check_key(key)
        text = encode_json(checked_copy(key, value))
        await self._locked(
            "write",
            lambda conn: conn.execute(
                f"INSERT OR REPLACE INTO {TABLE} (scope, key, value, updated_at) "
                "VALUES (?, ?, ?, ?)",
                (name, key, text, time.time()),
            ),
        )

    async def delete(self, scope: str | Scope, key: str) -> bool:
        """See :meth:`StateBackend.delete`."""
        name, key = scope_text(scope), check_key(key)
        count = await self._locked(
            "delete",
            lambda conn: (
                conn.execute(
                    f"DELETE FROM {TABLE} WHERE scope = ? AND key = ?", (name, key)
                ).rowcount
            ),
        )
        return count > 0

    async def keys(self, scope: str | Scope) -> list[str]:
        """See :meth:`StateBackend.keys`."""
        name = scope_text(scope)
        rows = await self._locked(
            "list keys",
            lambda conn: conn.execute(
                f"SELECT key FROM {TABLE} WHERE scope = ?", (name,)
            ).fetchall(),
        )
        return sorted(row[0] for row in rows)

    async def clear(self, scope: str | Scope) -> int:
        """See :meth:`StateBackend.clear`."""
        name = scope_text(scope)
        count: int = await self._locked(
            "clear",
            lambda conn: conn.execute(f"DELETE FROM {TABLE} WHERE scope = ?", (name,)).rowcount,
        )
        return count

    async def scopes(self) -> list[str]:
        """See :meth:`StateBackend.scopes`."""
        rows = await self._locked(
            "list scopes",
            lambda conn: conn.execute(f"SELECT DISTINCT scope FROM {TABLE}").fetchall(),
        )
        return sorted(row[0] for row in rows)

    async def update(self, scope: str | Scope, key: str, fn: UpdateFn, default: Any = None) -> Any:
        """See :meth:`StateBackend.update`.

        ``BEGIN IMMEDIATE`` takes the database's write lock before the read, so no other
        connection, in this process or another, can write between the read and the commit.
        ``fn`` runs in the calling trio task while the lock is held; on any error or
        cancellation the transaction is rolled back (shielded) and nothing is written.
        """
        name, key = scope_text(scope), check_key(key)

        def begin_and_read(conn: sqlite3.Connection) -> str | None:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(
                f"SELECT value FROM {TABLE} WHERE scope = ? AND key = ?", (name, key)
            ).fetchone()
            return None if row is None else str(row[0])

        async with self._lock:
            raw = await self._run("begin an update", begin_and_read)
            try:
                old = copy.deepcopy(default) if raw is None else self._decode(name, key, raw)
                new = checked_copy(key, fn(old))
                text = encode_json(new)

                def write_and_commit(conn: sqlite3.Connection) -> None:
                    conn.execute(
                        f"INSERT OR REPLACE INTO {TABLE} (scope, key, value, updated_at) "
                        "VALUES (?, ?, ?, ?)",
                        (name, key, text, time.time()),
                    )
                    conn.execute("COMMIT")

                await self._run("commit an update", write_and_commit)
            except BaseException:
                with trio.CancelScope(shield=True):
                    await trio.to_thread.run_sync(self._rollback)
                raise
        return new

    async def aclose(self) -> None:
        """Close the connection. Idempotent; later calls raise ``state_error``."""
        async with self._lock:
            self._closed = True
            conn, self._conn = self._conn, None
            if conn is not None:
                await trio.to_thread.run_sync(conn.close)

    async def __aenter__(self) -> SqliteBackend:
        """Open the database now, so that a bad path fails here rather than at first use."""
        await self._locked("open", lambda conn: None)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
