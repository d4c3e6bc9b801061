"""Tests of llmspell.state: scopes, keys, values, the memory and SQLite backends.

Real SQLite files in tmp_path and real subprocesses (core/tests/state_helpers/state_worker.py).
"""

from __future__ import annotations

import enum
import json
import math
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trio
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from llmspell.errors import LlmspellError
from llmspell.state import (
    MAX_KEY_LENGTH,
    MemoryBackend,
    Scope,
    SqliteBackend,
    StateBackend,
    default_state_path,
    parse_scope,
)

WORKER = Path(__file__).parent / "state_helpers" / "state_worker.py"
SCOPES = ["spell", "global", "session:abc-1", "agent:writer", "workflow:etl.v2_X"]


@pytest.fixture(params=["memory", "sqlite"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StateBackend]:
    store: StateBackend = (
        MemoryBackend() if request.param == "memory" else SqliteBackend(tmp_path / "state.db")
    )
    yield store
    await store.aclose()


def assert_same_json(got: Any, want: Any, path: str = "$") -> None:
    """Equal AND of the same type all the way down (1 vs 1.0 vs True, [] vs {}, -0.0 vs 0.0)."""
    assert type(got) is type(want), f"{path}: {type(got).__name__} != {type(want).__name__}"
    if isinstance(want, list):
        assert len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same_json(g, w, f"{path}[{i}]")
    elif isinstance(want, dict):
        assert list(got) == list(want), path
        for name in want:
            assert_same_json(got[name], want[name], f"{path}.{name}")
    elif isinstance(want, float):
        assert got == want and math.copysign(1, got) == math.copysign(1, want), path
    else:
        assert got == want, path


def run_worker(*args: str | Path, timeout: float = 60) -> str:
    done = subprocess.run(
        [sys.executable, str(WORKER), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# --- scopes and keys --------------------------------------------------------------------------


@pytest.mark.parametrize("text", SCOPES)
def test_parse_scope_accepts_every_valid_form_and_round_trips(text: str) -> None:
    scope = parse_scope(text)
    assert str(scope) == text
    assert parse_scope(scope) is scope


def test_parse_scope_accepts_names_of_128_characters() -> None:
    name = "a" * 128
    assert parse_scope(f"session:{name}") == Scope("session", name)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "Spell",
        "spell:x",
        "global:",
        "session",
        "session:",
        "agent:has space",
        "agent:ünï",
        "workflow:a/b",
        "workflow:" + "x" * 129,
        "user:bob",
        "agent:x:y",
    ],
)
def test_parse_scope_rejects_bad_scopes_naming_them_and_listing_valid_forms(bad: str) -> None:
    with pytest.raises(LlmspellError) as info:
        parse_scope(bad)
    err = info.value
    assert err.code == "invalid_value"
    assert repr(bad) in err.message
    for form in ("spell", "global", "session:<id>", "agent:<name>", "workflow:<name>"):
        assert form in err.message
    assert err.details["scope"] == bad


def test_parse_scope_suggests_the_closest_kind() -> None:
    with pytest.raises(LlmspellError) as info:
        parse_scope("sesion:abc")
    assert "did you mean 'session'?" in info.value.message


def test_parse_scope_rejects_non_strings() -> None:
    with pytest.raises(LlmspellError) as info:
        parse_scope(42)  # type: ignore[arg-type]
    assert info.value.code == "invalid_value"
    assert "42" in info.value.message


# --- basic operations, per scope and per backend ---------------------------------------------


@pytest.mark.parametrize("scope", SCOPES)
async def test_set_get_delete_keys_clear_scopes_in_each_scope(
    backend: StateBackend, scope: str
) -> None:
    assert await backend.get(scope, "missing") is None
    assert await backend.get(scope, "missing", "fallback") == "fallback"
    await backend.set(scope, "b", {"n": 1})
    await backend.set(scope, "a", [1, 2])
    await backend.set(scope, "a", [3])  # overwrite
    assert await backend.get(scope, "a") == [3]
    assert await backend.get(scope, "b") == {"n": 1}
    assert await backend.keys(scope) == ["a", "b"]
    assert await backend.scopes() == [scope]
    assert await backend.delete(scope, "a") is True
    assert await backend.delete(scope, "a") is False
    assert await backend.keys(scope) == ["b"]
    await backend.set(scope, "c", None)
    assert await backend.keys(scope) == ["b", "c"]
    assert await backend.get(scope, "c", "fallback") is None  # a stored None is not missing
    assert await backend.clear(scope) == 2
    assert await backend.clear(scope) == 0
    assert await backend.keys(scope) == []
    assert await backend.scopes() == []


async def test_scopes_are_isolated_from_each_other(backend: StateBackend) -> None:
    for i, scope in enumerate(SCOPES):
        await backend.set(scope, "shared", i)
        await backend.set(scope, f"only-{i}", True)
    for i, scope in enumerate(SCOPES):
        assert await backend.get(scope, "shared") == i
        assert await backend.keys(scope) == sorted(["shared", f"only-{i}"])
    assert await backend.get("agent:other", "shared") is None
    assert await backend.scopes() == sorted(SCOPES)
    assert await backend.delete("global", "shared") is True
    assert await backend.get("spell", "shared") == 0
    assert await backend.clear("agent:writer") == 2
    assert await backend.get("session:abc-1", "shared") == 2
    assert await backend.scopes() == sorted(s for s in SCOPES if s != "agent:writer")


async def test_scope_objects_and_scope_text_address_the_same_entries(
    backend: StateBackend,
) -> None:
    await backend.set(Scope("agent", "writer"), "k", 1)
    assert await backend.get("agent:writer", "k") == 1
    assert await backend.keys(Scope("agent", "writer")) == ["k"]


async def test_keys_are_sorted_bare_names_with_unicode(backend: StateBackend) -> None:
    names = ["zeta", "Alpha", "émile", "a.b/c:d", "10", "9", "日本", "key with spaces"]
    for name in names:
        await backend.set("global", name, name)
    assert await backend.keys("global") == sorted(names)
    for name in names:
        assert await backend.get("global", name) == name


async def test_bad_scope_raises_invalid_value_in_every_operation(backend: StateBackend) -> None:
    calls = [
        backend.get("bogus", "k"),
        backend.set("bogus", "k", 1),
        backend.delete("bogus", "k"),
        backend.keys("bogus"),
        backend.clear("bogus"),
        backend.update("bogus", "k", lambda v: v),
    ]
    for call in calls:
        with pytest.raises(LlmspellError) as info:
            await call
        assert info.value.code == "invalid_value"
        assert "'bogus'" in info.value.message
    assert await backend.scopes() == []


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("", "''"),
        ("x" * (MAX_KEY_LENGTH + 1), "'xxxxxxxx"),
        ("line\nbreak", r"'line\nbreak'"),
        ("tab\there", r"'tab\there'"),
        ("del\x7f", r"'del\x7f'"),
        ("nul\x00", r"'nul\x00'"),
        ("sur\ud800", r"'sur\ud800'"),
        (5, "5"),
        (None, "None"),
    ],
)
async def test_bad_keys_raise_invalid_value_naming_the_key(
    backend: StateBackend, key: Any, shown: str
) -> None:
    for call in (
        backend.set("global", key, 1),
        backend.get("global", key),
        backend.delete("global", key),
        backend.update("global", key, lambda v: 1),
    ):
        with pytest.raises(LlmspellError) as info:
            await call
        assert info.value.code == "invalid_value"
        assert f"invalid state key {shown}" in info.value.message
    assert await backend.keys("global") == []


async def test_longest_allowed_key_works(backend: StateBackend) -> None:
    key = "k" * MAX_KEY_LENGTH
    await backend.set("global", key, 1)
    assert await backend.keys("global") == [key]


class Colour(enum.IntEnum):
    RED = 1


def _cycle() -> list[Any]:
    loop: list[Any] = [1]
    loop.append(loop)
    return loop


def _deep(levels: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"items": [1, 2, {3}]}, "state value for 'cfg' at $.items[2] is a set, not JSON data"),
        ((1, 2), "state value for 'cfg' at $ is a tuple, not JSON data"),
        ({"a": {"b": [b"x"]}}, "state value for 'cfg' at $.a.b[0] is a bytes, not JSON data"),
        ({"weird key": object()}, 'at $["weird key"] is an object, not JSON data'),
        ([float("nan")], "at $[0] is a non-finite float (nan)"),
        ({"x": float("inf")}, "at $.x is a non-finite float (inf)"),
        ({"a": {1: "one"}}, "at $.a has the key 1 of type int; JSON object keys must be str"),
        (Colour.RED, "at $ is a Colour, not JSON data"),
        ({"s": "bad\ud800"}, "at $.s is a str with a lone surrogate"),
        ({"c": _cycle()}, "at $.c[1] is a list that contains itself (a cycle)"),
        (_deep(200), "is nested deeper than 128 levels"),
    ],
)
async def test_bad_values_raise_invalid_value_naming_key_and_path(
    backend: StateBackend, value: Any, message: str
) -> None:
    with pytest.raises(LlmspellError) as info:
        await backend.set("global", "cfg", value)
    assert info.value.code == "invalid_value"
    assert message in info.value.message
    assert info.value.details["key"] == "cfg"
    with pytest.raises(LlmspellError) as info:
        await backend.update("global", "cfg", lambda old: value)
    assert message in info.value.message
    assert await backend.keys("global") == []  # nothing stored


async def test_deepest_allowed_nesting_round_trips(backend: StateBackend) -> None:
    value = _deep(127)
    await backend.set("global", "deep", value)
    assert await backend.get("global", "deep") == value


# --- round trips ------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([0, 2**60, -(2**63), 2**64 + 1, 10**40])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=25,
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(value=json_values)
@example(value={"empty_list": [], "empty_dict": {}, "nested": [[], {}, [{}], {"a": []}]})
@example(value=[2**60, -(2**60), 1.0, -0.0, 1e300, 5e-324, True, False, None, 0])
@example(value={"ünïcødé 🎉": '日本語\u2028\t"quoted"\\', "": ""})
@example(value=[])
@example(value={})
async def test_json_values_round_trip_with_types_preserved(
    backend: StateBackend, value: Any
) -> None:
    await backend.set("global", "v", value)
    assert_same_json(await backend.get("global", "v"), value)
    assert_same_json(await backend.update("global", "v", lambda old: old), value)
    assert_same_json(await backend.get("global", "v"), value)


async def test_returned_values_are_copies(backend: StateBackend) -> None:
    await backend.set("global", "cfg", {"items": [1, 2], "meta": {}})
    got = await backend.get("global", "cfg")
    got["items"].append(3)
    got["meta"]["x"] = 1
    assert await backend.get("global", "cfg") == {"items": [1, 2], "meta": {}}
    new = await backend.update("global", "cfg", lambda old: old)
    new["items"].clear()
    assert await backend.get("global", "cfg") == {"items": [1, 2], "meta": {}}


async def test_values_are_copied_on_the_way_in(backend: StateBackend) -> None:
    value: dict[str, Any] = {"items": [1, 2]}
    await backend.set("global", "cfg", value)
    value["items"].append(3)
    value["new"] = True
    assert await backend.get("global", "cfg") == {"items": [1, 2]}

    kept: list[Any] = []

    def grab(old: list[Any]) -> list[Any]:
        old.append("x")  # mutating the argument is allowed: it is a private copy
        kept.append(old)
        return old

    assert await backend.update("global", "lst", grab, default=[]) == ["x"]
    kept[0].append("later")  # the object fn returned is not the stored one
    assert await backend.get("global", "lst") == ["x"]


async def test_update_default_is_copied_not_mutated(backend: StateBackend) -> None:
    default: list[int] = []

    def extend(old: list[int]) -> list[int]:
        old.append(0)
        return [*old, 1]

    await backend.update("global", "l", extend, default)
    assert default == []
    assert await backend.get("global", "l") == [0, 1]


# --- update -----------------------------------------------------------------------------------


async def test_update_uses_default_when_missing_and_returns_new_value(
    backend: StateBackend,
) -> None:
    assert await backend.update("spell", "n", lambda n: n + 1, default=10) == 11
    assert await backend.update("spell", "n", lambda n: n * 2, default=10) == 22
    assert await backend.get("spell", "n") == 22
    assert await backend.update("spell", "none", lambda v: [v]) == [None]


async def test_update_fn_error_propagates_and_writes_nothing(backend: StateBackend) -> None:
    await backend.set("global", "n", 1)

    def boom(old: int) -> int:
        raise ValueError("nope")

    with pytest.raises(ValueError, match="nope"):
        await backend.update("global", "n", boom)
    with pytest.raises(ValueError, match="nope"):
        await backend.update("global", "fresh", boom)
    assert await backend.get("global", "n") == 1
    assert await backend.keys("global") == ["n"]
    assert await backend.update("global", "n", lambda n: n + 1) == 2  # still usable


@pytest.mark.parametrize("tasks", [50])
async def test_concurrent_trio_tasks_lose_no_update(backend: StateBackend, tasks: int) -> None:
    per_task = 4
    seen: list[int] = []

    async def worker() -> None:
        for _ in range(per_task):
            seen.append(await backend.update("global", "counter", lambda n: n + 1, 0))
            await trio.sleep(0)

    async with trio.open_nursery() as nursery:
        for _ in range(tasks):
            nursery.start_soon(worker)
    assert await backend.get("global", "counter") == tasks * per_task
    assert sorted(seen) == list(range(1, tasks * per_task + 1))  # every update saw a new value


async def test_two_sqlite_backends_on_one_file_lose_no_update(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    async with SqliteBackend(path) as one, SqliteBackend(path) as two:

        async def worker(store: SqliteBackend) -> None:
            for _ in range(20):
                await store.update("global", "n", lambda n: n + 1, 0)

        async with trio.open_nursery() as nursery:
            for i in range(10):
                nursery.start_soon(worker, one if i % 2 else two)
        assert await one.get("global", "n") == 200


async def test_cancelled_sqlite_update_rolls_back_and_releases_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    async with SqliteBackend(path) as store:
        await store.set("global", "n", 1)
        with trio.CancelScope() as scope:

            def cancel_midway(old: int) -> int:
                scope.cancel()  # delivered at the commit's checkpoint, inside the transaction
                return old + 100

            await store.update("global", "n", cancel_midway)
        assert scope.cancelled_caught
        assert await store.get("global", "n") == 1
        # the write lock is free again: another connection can write at once
        other = sqlite3.connect(path, timeout=0.5, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        other.close()
        assert await store.update("global", "n", lambda n: n + 1) == 2


# --- lifecycle --------------------------------------------------------------------------------


async def test_closed_backend_raises_state_error(backend: StateBackend) -> None:
    await backend.set("global", "k", 1)
    await backend.aclose()
    await backend.aclose()  # idempotent
    with pytest.raises(LlmspellError) as info:
        await backend.get("global", "k")
    assert info.value.code == "state_error"
    assert "closed" in info.value.message


async def test_backends_implement_the_protocol(tmp_path: Path) -> None:
    assert isinstance(MemoryBackend(), StateBackend)
    assert isinstance(SqliteBackend(tmp_path / "s.db"), StateBackend)


# --- SQLite specifics -------------------------------------------------------------------------


def test_default_state_path_is_in_the_project_llmspell_folder(tmp_path: Path) -> None:
    assert default_state_path(tmp_path) == tmp_path / ".llmspell" / "state.db"
    assert default_state_path(str(tmp_path)) == tmp_path / ".llmspell" / "state.db"


async def test_sqlite_creates_parent_directories_and_uses_wal(tmp_path: Path) -> None:
    path = default_state_path(tmp_path / "project")
    t0 = time.time()
    async with SqliteBackend(path) as store:
        await store.set("global", "k", {"a": 1})
        raw = sqlite3.connect(path)
        try:
            assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            rows = raw.execute(
                "SELECT scope, key, value, updated_at FROM llmspell_state"
            ).fetchall()
        finally:
            raw.close()
    assert path.is_file()
    assert len(rows) == 1
    scope, key, value, updated_at = rows[0]
    assert (scope, key, json.loads(value)) == ("global", "k", {"a": 1})
    assert t0 - 1 <= updated_at <= time.time() + 1


async def test_sqlite_connection_pragmas(tmp_path: Path) -> None:
    store = SqliteBackend(tmp_path / "state.db", busy_timeout=7.5)
    async with store:
        conn = store._conn
        assert conn is not None
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 7500
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_sqlite_unwritable_path_gives_state_error_naming_the_path(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    path = blocker / "sub" / "state.db"
    store = SqliteBackend(path)
    with pytest.raises(LlmspellError) as info:
        await store.set("global", "k", 1)
    assert info.value.code == "state_error"
    assert str(path) in info.value.message
    assert info.value.details["path"] == str(path)
    assert info.value.hint
    with pytest.raises(LlmspellError) as info:
        await store.get("global", "k")  # still failing, still named
    assert str(path) in info.value.message
    await store.aclose()


async def test_sqlite_directory_as_path_gives_state_error(tmp_path: Path) -> None:
    with pytest.raises(LlmspellError) as info:
        async with SqliteBackend(tmp_path):
            pass
    assert info.value.code == "state_error"
    assert str(tmp_path) in info.value.message


async def test_sqlite_corrupt_file_gives_state_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is certainly not an SQLite database\n" * 200)
    store = SqliteBackend(path)
    with pytest.raises(LlmspellError) as info:
        await store.get("global", "k")
    assert info.value.code == "state_error"
    assert str(path) in info.value.message
    assert "move it aside" in (info.value.hint or "")
    await store.aclose()


async def test_sqlite_unreadable_stored_json_gives_state_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    async with SqliteBackend(path) as store:
        await store.set("global", "k", 1)
        raw = sqlite3.connect(path, isolation_level=None)
        raw.execute("UPDATE llmspell_state SET value = '{oops' WHERE key = 'k'")
        raw.close()
        with pytest.raises(LlmspellError) as info:
            await store.get("global", "k")
        assert info.value.code == "state_error"
        assert str(path) in info.value.message and "'k'" in info.value.message
        with pytest.raises(LlmspellError):
            await store.update("global", "k", lambda v: 1)
        await store.set("global", "k", 2)  # overwriting recovers
        assert await store.get("global", "k") == 2


async def test_sqlite_lock_held_too_long_gives_state_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    async with SqliteBackend(path, busy_timeout=0.2) as store:
        raw = sqlite3.connect(path, isolation_level=None)
        raw.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(LlmspellError) as info:
                await store.update("global", "n", lambda n: n + 1, 0)
            assert info.value.code == "state_error"
            assert str(path) in info.value.message
            assert "locked" in info.value.message
        finally:
            raw.execute("ROLLBACK")
            raw.close()
        assert await store.update("global", "n", lambda n: n + 1, 0) == 1


async def test_sqlite_waiting_for_a_lock_does_not_block_the_trio_loop(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    async with SqliteBackend(path) as store:
        await store.set("global", "n", 0)
        raw = sqlite3.connect(path, isolation_level=None)
        raw.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        ticks = 0
        finished_at: list[float] = []

        async def writer() -> None:
            await store.update("global", "n", lambda n: n + 1)
            finished_at.append(trio.current_time())

        async with trio.open_nursery() as nursery:
            nursery.start_soon(writer)
            released = trio.current_time() + 0.4
            while trio.current_time() < released:
                ticks += 1
                await trio.sleep(0.01)
            raw.execute("ROLLBACK")
            raw.close()
        assert ticks >= 10  # the loop kept running while the update waited in a thread
        assert finished_at and finished_at[0] >= released
        assert await store.get("global", "n") == 1


VALUES_FOR_RESTART: dict[str, Any] = {
    "big": 2**60,
    "float": 1.0,
    "negzero": -0.0,
    "empty_list": [],
    "empty_dict": {},
    "text": "ünïcødé 🎉",
    "nested": {"a": [1, 2.5, None, True, {"b": []}]},
}


async def test_sqlite_state_survives_a_process_restart(tmp_path: Path) -> None:
    path = tmp_path / "project" / ".llmspell" / "state.db"
    for key, value in VALUES_FOR_RESTART.items():
        run_worker("write", path, "workflow:etl", key, json.dumps(value))
    # a second, fresh process reads what the first one wrote
    out = run_worker("read", path, "workflow:etl", "nested")
    assert json.loads(out) == VALUES_FOR_RESTART["nested"]
    # and so does this process, with types preserved
    async with SqliteBackend(path) as store:
        assert await store.keys("workflow:etl") == sorted(VALUES_FOR_RESTART)
        assert await store.scopes() == ["workflow:etl"]
        for key, value in VALUES_FOR_RESTART.items():
            assert_same_json(await store.get("workflow:etl", key), value)


def test_concurrent_processes_lose_no_update(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(WORKER),
                "increment",
                str(path),
                "global",
                "counter",
                "100",
                str(go),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    time.sleep(0.5)  # let them all start and wait for the signal, so they really race
    go.touch()
    seen: list[int] = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        seen.extend(json.loads(out))
    assert sorted(seen) == list(range(1, 401))  # each update saw a distinct previous value
    raw = sqlite3.connect(path)
    try:
        stored = raw.execute(
            "SELECT value FROM llmspell_state WHERE scope = 'global' AND key = 'counter'"
        ).fetchone()[0]
    finally:
        raw.close()
    assert json.loads(stored) == 400


def _check_key_by_the_rules(key: object) -> bool:
    """The key rules of check_key, written out (no fast path)."""
    return (
        isinstance(key, str) and 0 < len(key) <= MAX_KEY_LENGTH
        and not any(0 <= ord(c) <= 0x1F or 0x7F <= ord(c) <= 0x9F for c in key)
        and not any(0xD800 <= ord(c) <= 0xDFFF for c in key)
    )


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=20), st.text(alphabet=st.characters(max_codepoint=0x7F)),
                 st.sampled_from(["", "k", "x" * MAX_KEY_LENGTH, "x" * (MAX_KEY_LENGTH + 1),
                                  "a\x7fb", "a\x9fb", "\u00a0", "\ud800", "tab\tkey", "é"])))
def test_check_key_accepts_exactly_the_valid_keys(key: str) -> None:
    from llmspell.state import check_key

    if _check_key_by_the_rules(key):
        assert check_key(key) == key
    else:
        with pytest.raises(LlmspellError) as info:
            check_key(key)
        assert info.value.code == "invalid_value"


def test_scope_text_remembers_only_valid_scopes() -> None:
    from llmspell.state import scope_text

    for _ in range(2):  # the second time from the cache of valid scopes
        assert scope_text("global") == "global"
        assert scope_text("session:abc-1") == "session:abc-1"
        assert scope_text(Scope("agent", "w")) == "agent:w"
        for bad in ("globl", "session:", "agent:a b"):
            with pytest.raises(LlmspellError) as info:
                scope_text(bad)
            assert info.value.code == "invalid_value"
