"""hooks-cache: answer a model call from a SQLite cache of earlier replies to the same request.

Off by default (enable with ``[plugins.hooks-cache] enabled = true``). The key is the SHA-256 of
the normalized request: the model string and every field of the
:class:`~llmspell.providers.ChatRequest` (messages, tools, tool choice, output schema,
temperature, max tokens, seed, stop ...) as canonical JSON (sorted keys, no spaces).

- ``before_llm_call`` looks the key up; a hit answers with ``Skip(reply)`` (the provider is not
  called; the reply's usage is 0 tokens and cost 0) and emits ``cache.hit``, a miss emits
  ``cache.miss``.
- ``after_llm_call`` stores every successful reply it did not answer itself.
- Not cached (``cache.bypass``): streamed calls (a reply from the cache could not reach the
  stream's consumer chunk by chunk), and requests with a ``temperature`` above 0 unless
  ``cache_nondeterministic = true``.
- A cache that cannot be read or written (a corrupt file, a lock held too long, a full disk) is
  a miss: the call goes to the provider and a warning is logged (``llmspell.hooks.cache``).

All SQLite work runs in a worker thread (``trio.to_thread.run_sync``). The clock deciding
expiry is :attr:`ResponseCache.clock` (``time.time``), replaceable per kernel:
``cache_for(kernel).clock = fake``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import trio

from llmspell.lifecycle import HookContext, Skip, hookimpl

if TYPE_CHECKING:
    import sqlite3

    from llmspell.config import Config
    from llmspell.kernel import Kernel
    from llmspell.providers import ChatRequest, ChatResponse

llmspell_default_enabled = False

NAME = "hooks-cache"
KEYS = ("enabled", "path", "ttl", "max_entries", "cache_nondeterministic", "lock_timeout")
DEFAULT_FILE = "cache.db"
DEFAULT_TTL = 86400.0
DEFAULT_MAX_ENTRIES = 10000
DEFAULT_LOCK_TIMEOUT = 1.0
#: After hooks-cost (a refused call is not answered from the cache), before hooks-ratelimit
#: (a hit does not use up a rate limit).
PRIORITY = 40
#: Bump when the key's normalization changes: old entries then simply miss.
KEY_VERSION = 1
#: The same failure is logged as a warning at most once per this many seconds.
WARN_EVERY = 60.0
#: The hex digits of the key shown in events.
SHOWN_KEY = 16

log = logging.getLogger("llmspell.hooks.cache")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS llm_cache ("
    " key TEXT PRIMARY KEY,"
    " model TEXT NOT NULL,"
    " response TEXT NOT NULL,"
    " created REAL NOT NULL,"
    " accessed REAL NOT NULL,"
    " hits INTEGER NOT NULL DEFAULT 0)",
    "CREATE INDEX IF NOT EXISTS llm_cache_accessed ON llm_cache (accessed)",
    "CREATE INDEX IF NOT EXISTS llm_cache_created ON llm_cache (created)",
)


# --- keys -----------------------------------------------------------------------------------


def _plain(_inst: Any, _field: Any, value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value


def request_key(model: str, request: ChatRequest) -> str:
    """The cache key of ``request`` to ``model`` (``provider/model``): SHA-256 hex of the
    canonical JSON of the model string and every field of the request."""
    body = attrs.asdict(request, value_serializer=_plain)
    body["model"] = model  # the request holds the provider's name for it; the prefix matters
    if body.get("temperature") is not None:
        body["temperature"] = float(body["temperature"])  # 0 and 0.0 are one request
    body["v"] = KEY_VERSION
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _encode(response: ChatResponse) -> str:
    return json.dumps(
        {
            "message": response.message.to_dict(),
            "finish_reason": response.finish_reason,
            "model": response.model,
            "usage": response.usage.to_dict(),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _decode(text: str) -> ChatResponse:
    from llmspell.messages import Message, Usage
    from llmspell.providers import ChatResponse

    data = json.loads(text)
    # nothing was spent on a reply from the cache
    return ChatResponse(
        Message.from_dict(data["message"]),
        Usage(0, 0, 0.0),
        str(data.get("finish_reason") or "stop"),
        str(data.get("model") or ""),
    )


# --- the cache ------------------------------------------------------------------------------


@attrs.define(frozen=True)
class Lookup:
    """The outcome of :meth:`ResponseCache.get`: ``response`` on a hit; else ``reason`` is
    ``absent``, ``expired`` or ``error``."""

    response: ChatResponse | None
    reason: str
    age: float = 0.0


@attrs.define(eq=False)
class ResponseCache:
    """One kernel's cache: a SQLite file of replies by request key.

    ``ttl`` seconds after it was stored an entry expires (``0``: never); beyond ``max_entries``
    the least recently used entries are evicted. Every method that touches the file has an
    ``async`` form running in a worker thread; failures are logged and reported as misses.
    """

    path: Path
    ttl: float = DEFAULT_TTL
    max_entries: int = DEFAULT_MAX_ENTRIES
    nondeterministic: bool = False
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    #: seconds since the epoch; replace it to control expiry in tests
    clock: Callable[[], float] = time.time
    hits: int = 0
    misses: int = 0
    stores: int = 0
    errors: int = 0
    _conn: sqlite3.Connection | None = attrs.field(default=None, init=False, repr=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)
    _warned: dict[str, float] = attrs.field(factory=dict, init=False, repr=False)

    # --- plumbing ---------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        import sqlite3

        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path, timeout=self.lock_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.lock_timeout * 1000)}")
            for statement in _SCHEMA:
                conn.execute(statement)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def _failed(self, operation: str, exc: BaseException) -> None:
        """Log a failure (a warning at most every WARN_EVERY seconds for the same one) and
        drop the connection so that the next use opens the file again."""
        self.errors += 1
        text = f"{type(exc).__name__}: {exc}"
        now = time.monotonic()
        last = self._warned.get(text)
        if last is None or now - last >= WARN_EVERY:
            self._warned[text] = now
            log.warning("response cache %s: cannot %s, treated as a miss: %s",
                        self.path, operation, text)
        else:
            log.debug("response cache %s: cannot %s: %s", self.path, operation, text)
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # closing a broken connection may fail too
                pass

    def _guarded(self, operation: str, work: Callable[[sqlite3.Connection], Any]) -> Any:
        """``work(conn)`` under the lock; ``None`` (and a warning) when SQLite or the file
        system fails."""
        import sqlite3

        with self._lock:
            try:
                return work(self._connect())
            except (sqlite3.Error, OSError, ValueError, KeyError, TypeError) as exc:
                self._failed(operation, exc)
                return None

    # --- synchronous operations (worker thread) ---------------------------------------------

    def get_sync(self, key: str) -> Lookup:
        """Look ``key`` up; a hit refreshes the entry's last use."""
        now = self.clock()

        def work(conn: sqlite3.Connection) -> Lookup:
            row = conn.execute(
                "SELECT response, created FROM llm_cache WHERE key = ?", (key,)
            ).fetchone()
            if row is None:
                self.misses += 1
                return Lookup(None, "absent")
            text, created = row
            if self.ttl > 0 and now - created >= self.ttl:
                _best_effort(conn, "DELETE FROM llm_cache WHERE key = ?", (key,))
                self.misses += 1
                return Lookup(None, "expired")
            response = _decode(text)
            _best_effort(
                conn, "UPDATE llm_cache SET accessed = ?, hits = hits + 1 WHERE key = ?",
                (now, key),
            )
            self.hits += 1
            return Lookup(response, "hit", max(0.0, now - created))

        found: Lookup | None = self._guarded("read", work)
        return Lookup(None, "error") if found is None else found

    def put_sync(self, key: str, model: str, response: ChatResponse) -> bool:
        """Store ``response`` under ``key``; drop expired entries and evict beyond
        ``max_entries``. ``False`` when the file could not be written."""
        now = self.clock()
        text = _encode(response)

        def work(conn: sqlite3.Connection) -> bool:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "INSERT OR REPLACE INTO llm_cache (key, model, response, created, accessed,"
                    " hits) VALUES (?, ?, ?, ?, ?, 0)",
                    (key, model, text, now, now),
                )
                if self.ttl > 0:
                    conn.execute("DELETE FROM llm_cache WHERE created <= ?", (now - self.ttl,))
                (count,) = conn.execute("SELECT COUNT(*) FROM llm_cache").fetchone()
                if count > self.max_entries:
                    conn.execute(
                        "DELETE FROM llm_cache WHERE key IN (SELECT key FROM llm_cache"
                        " WHERE key != ? ORDER BY accessed, created LIMIT ?)",
                        (key, count - self.max_entries),
                    )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            self.stores += 1
            return True

        return bool(self._guarded("write", work))

    def entries(self) -> int:
        """How many entries the file holds (expired ones included until they are dropped);
        ``-1`` when it cannot be read."""
        count = self._guarded(
            "count", lambda conn: conn.execute("SELECT COUNT(*) FROM llm_cache").fetchone()[0]
        )
        return -1 if count is None else int(count)

    def clear(self) -> None:
        """Remove every entry."""
        self._guarded("clear", lambda conn: conn.execute("DELETE FROM llm_cache"))

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    # --- async forms ------------------------------------------------------------------------

    async def get(self, key: str) -> Lookup:
        return await trio.to_thread.run_sync(self.get_sync, key)

    async def put(self, key: str, model: str, response: ChatResponse) -> bool:
        return await trio.to_thread.run_sync(self.put_sync, key, model, response)

    def bypass_reason(self, request: ChatRequest) -> str | None:
        """Why ``request`` is not cached (``nondeterministic``), or ``None``."""
        temperature = request.temperature
        if temperature is not None and temperature > 0 and not self.nondeterministic:
            return "nondeterministic"
        return None

    def stats(self) -> dict[str, int]:
        return {"hits": self.hits, "misses": self.misses, "stores": self.stores,
                "errors": self.errors}


def _best_effort(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> None:
    """A write a lookup may do (last use, an expired entry): skipped when the file is busy."""
    import sqlite3

    try:
        conn.execute(sql, params)
    except sqlite3.OperationalError as exc:
        log.debug("response cache: skipped %r: %s", sql, exc)


_caches: weakref.WeakKeyDictionary[Any, ResponseCache] = weakref.WeakKeyDictionary()


def cache_for(kernel: Kernel) -> ResponseCache | None:
    """The cache of ``kernel``; ``None`` when it did not load ``hooks-cache``."""
    return _caches.get(kernel)


# --- plugin hooks ---------------------------------------------------------------------------


@hookimpl
def llmspell_configure(config: Config, kernel: Kernel) -> None:
    from llmspell.project import data_dir, project_dir

    table = config.plugin(NAME)
    table.check_keys(KEYS)
    project = project_dir()
    raw = table.get("path", str, "")
    if "path" in table and not raw.strip():
        raise table.error("path", "must not be empty")
    path = Path(raw).expanduser() if raw else data_dir(project) / DEFAULT_FILE
    if not path.is_absolute():
        path = project / path
    ttl = table.get("ttl", float, DEFAULT_TTL)
    if ttl < 0:
        raise table.error("ttl", f"must be 0 (never expire) or more seconds, got {ttl!r}")
    max_entries = table.get("max_entries", int, DEFAULT_MAX_ENTRIES)
    if max_entries < 1:
        raise table.error("max_entries", f"must be at least 1, got {max_entries!r}")
    lock_timeout = table.get("lock_timeout", float, DEFAULT_LOCK_TIMEOUT)
    if lock_timeout < 0:
        raise table.error("lock_timeout", f"must not be negative, got {lock_timeout!r}")
    old = _caches.get(kernel)
    if old is not None:
        old.close()
    _caches[kernel] = ResponseCache(
        path=path,
        ttl=ttl,
        max_entries=max_entries,
        nondeterministic=table.get("cache_nondeterministic", bool, False),
        lock_timeout=lock_timeout,
    )


@hookimpl(priority=PRIORITY)
async def llmspell_before_llm_call(ctx: HookContext) -> Skip | None:
    run = ctx.run
    if run is None:
        return None
    cache = _caches.get(run.kernel)
    if cache is None:
        return None
    model = ctx.name
    reason = "stream" if ctx.metadata.get("stream") else cache.bypass_reason(ctx.input)
    if reason is not None:
        await run.emit("cache.bypass", {"model": model, "reason": reason})
        return None
    key = request_key(model, ctx.input)
    ctx.metadata["cache_key"] = key
    found = await cache.get(key)
    if found.response is None:
        await run.emit("cache.miss", {"key": key[:SHOWN_KEY], "model": model,
                                      "reason": found.reason})
        return None
    await run.emit("cache.hit", {"key": key[:SHOWN_KEY], "model": model,
                                 "age": round(found.age, 3)})
    return Skip(found.response)


@hookimpl(priority=PRIORITY)
async def llmspell_after_llm_call(ctx: HookContext) -> None:
    key = ctx.metadata.get("cache_key")
    if key is None or ctx.skipped or ctx.error is not None or ctx.run is None:
        return
    from llmspell.providers import ChatResponse

    cache = _caches.get(ctx.run.kernel)
    if cache is None or not isinstance(ctx.output, ChatResponse):
        return
    await cache.put(key, ctx.name, ctx.output)
