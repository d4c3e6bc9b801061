"""What llmspell's SQLite files (state, run log, artifacts) share: opening a file with its
pragmas and schema, and the ``state_error`` a storage failure becomes.

Every function here blocks: call it from a worker thread (``trio.to_thread.run_sync``).
``sqlite3`` itself is imported only when a file is opened (start-up time).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from llmspell.errors import LlmspellError

if TYPE_CHECKING:
    import sqlite3

#: the name that opens a private in-memory database
MEMORY = ":memory:"


def open_database(
    path: Path | None,
    *,
    schema: Sequence[str],
    version: int,
    busy_timeout: float = 10.0,
    synchronous: str = "NORMAL",
) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit) to ``path`` (``None``: a
    private in-memory database), usable from any thread one call at a time.

    A file gets its missing parent directories, ``busy_timeout`` (seconds), WAL journal mode and
    ``synchronous``. The ``schema`` statements run in one ``BEGIN IMMEDIATE`` transaction when
    the file's ``user_version`` is below ``version`` (then set to it); a file of a newer
    version is refused. Raises ``sqlite3.Error``/``OSError``; the connection is closed then.
    """
    import sqlite3

    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(MEMORY if path is None else path, timeout=busy_timeout,
                           isolation_level=None, check_same_thread=False)
    try:
        if path is not None:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise sqlite3.OperationalError(
                        f"cannot switch to WAL journal mode (got {mode!r})"
                    )
            conn.execute(f"PRAGMA synchronous = {synchronous}")
        found = conn.execute("PRAGMA user_version").fetchone()[0]
        if found > version:
            raise sqlite3.DatabaseError(
                f"schema version {found} is newer than this llmspell's {version}"
            )
        if found < version:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in schema:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
    except BaseException:
        conn.close()
        raise
    return conn


def rollback(conn: sqlite3.Connection | None) -> bool:
    """End ``conn``'s open transaction, if any. ``False`` when even that failed: the caller
    must then drop (and close) the connection."""
    if conn is None or not conn.in_transaction:
        return True
    import sqlite3

    try:
        conn.execute("ROLLBACK")
    except sqlite3.Error:
        return False
    return True


def storage_error(what: str, where: Path | str | None, operation: str,
                  exc: BaseException) -> LlmspellError:
    """The ``state_error`` for ``exc`` raised while ``operation`` ran on the file ``where`` of
    ``what`` (``"state store"``, ``"run log"`` ...), with a hint for the usual causes."""
    place = MEMORY if where is None else str(where)
    return LlmspellError(
        "state_error",
        f"{what} {place} failed to {operation}: {exc}",
        {"path": place, "operation": operation, "error": str(exc)},
        hint=_hint(what, exc),
    )


def _hint(what: str, exc: BaseException) -> str:
    text = str(exc).lower()
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return f"the file is not a usable SQLite database; move it aside to start a new {what}"
    if "newer than" in text:
        return "use a newer llmspell, or move the file aside"
    if "locked" in text or "busy" in text:
        return f"another process held the {what} too long; retry, or raise busy_timeout"
    if isinstance(exc, OSError) or "unable to open" in text or "readonly" in text:
        return f"check that the {what}'s directory exists (or can be created) and is writable"
    return f"check the {what}'s file and its directory"
