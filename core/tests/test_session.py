"""Task semantics of the script session and the host operation table, driven from Python
callbacks (the engines drive the same code from Lua and JS)."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from llmspell.errors import LlmspellError
from llmspell.runtime import SpellRun
from llmspell.scripting import HOST_OPS, ScriptSession, api_table
from llmspell.scripting.hostops import call_op
from llmspell.testing import make_kernel


def cb(fn: Any, name: str = "cb") -> Any:
    fn.name = name
    return fn


async def test_all_returns_results_in_list_order() -> None:
    async with SpellRun.open(make_kernel()) as run:
        session = ScriptSession(run)

        def sleeper(seconds: float, value: Any) -> Any:
            async def go() -> Any:
                await trio.sleep(seconds)
                return value

            return cb(go)

        start = trio.current_time()
        out = await session.all([sleeper(0.2, "a"), sleeper(0.1, "b"), sleeper(0.2, "c")])
        assert out == ["a", "b", "c"]
        assert trio.current_time() - start < 0.35
        await session.finish()


async def test_all_fails_fast_and_cancels_siblings() -> None:
    finished: list[str] = []
    async with SpellRun.open(make_kernel()) as run:
        session = ScriptSession(run)

        async def slow() -> None:
            await trio.sleep(5)
            finished.append("slow")  # pragma: no cover - must be cancelled

        async def bad() -> None:
            await trio.sleep(0.01)
            raise LlmspellError("tool_error", "bad one")

        with trio.fail_after(2):
            with pytest.raises(LlmspellError) as info:
                await session.all([cb(slow), cb(bad)])
        assert info.value.message == "bad one"
        await session.finish()
    assert finished == []


async def test_race_returns_the_winner_and_cancels_the_rest() -> None:
    async with SpellRun.open(make_kernel()) as run:
        session = ScriptSession(run)

        async def fast() -> str:
            await trio.sleep(0.01)
            return "fast"

        async def slow() -> str:
            await trio.sleep(5)
            return "slow"

        with trio.fail_after(2):
            assert await session.race([cb(slow), cb(fast)]) == "fast"
        loser = next(r for r in session.tasks.values() if r.cancelled)
        with pytest.raises(LlmspellError) as info:
            loser.outcome()
        assert info.value.code == "cancelled"
        await session.finish()  # a cancelled loser does not fail the spell


async def test_timeout_cancels_the_task_with_code_timeout(autojump_clock: Any) -> None:
    reached: list[str] = []
    async with SpellRun.open(make_kernel()) as run:
        session = ScriptSession(run)

        async def long() -> None:
            await trio.sleep(10)
            reached.append("after sleep")  # pragma: no cover

        with pytest.raises(LlmspellError) as info:
            await session.timeout(1.5, cb(long))
        assert info.value.code == "timeout"
        await session.finish()
    assert reached == []


async def test_an_unwaited_failed_task_fails_the_spell_at_the_end() -> None:
    async with SpellRun.open(make_kernel()) as run:
        session = ScriptSession(run)

        async def bad() -> None:
            raise LlmspellError("tool_error", "background failure")

        session.spawn(bad, "bad")
        with pytest.raises(LlmspellError, match="background failure"):
            await session.finish()


async def test_waiting_observes_a_failure_so_the_spell_does_not_fail() -> None:
    async with SpellRun.open(make_kernel()) as run:
        session = ScriptSession(run)

        async def bad() -> None:
            raise LlmspellError("tool_error", "handled")

        record = session.spawn(bad, "bad")
        with pytest.raises(LlmspellError, match="handled"):
            await session.wait(record)
        await session.finish()


async def test_host_ops_table_and_calls() -> None:
    names = {entry["name"] for entry in api_table()}
    assert {"tool.call", "agent.run", "state.get", "event.emit", "task.sleep", "hook.on"} <= names
    async with SpellRun.open(make_kernel()) as run:
        session = ScriptSession(run)
        await call_op(session, "state.set", ["k", [1, {}], "spell"])
        assert await call_op(session, "state.get", ["k", "spell"]) == [1, {}]
        with pytest.raises(LlmspellError) as info:
            await call_op(session, "state.gte", ["k"])
        assert "did you mean 'state.get'" in info.value.message
        with pytest.raises(LlmspellError, match=r"takes 1\.\.2 arguments"):
            await call_op(session, "state.get", [])
        with pytest.raises(LlmspellError, match="seconds must be a number"):
            await call_op(session, "task.sleep", [-1])
        assert HOST_OPS["task.sleep"].waits and not HOST_OPS["print"].waits
        await session.finish()


async def test_cancelling_the_caller_cancels_what_all_race_and_timeout_started() -> None:
    finished: list[str] = []
    async with SpellRun.open(make_kernel()) as run:
        session = ScriptSession(run)

        def long(label: str) -> Any:
            async def go() -> None:
                await trio.sleep(5)
                finished.append(label)  # pragma: no cover - must be cancelled

            return cb(go, label)

        async def caller() -> None:
            await session.all([long("all-member")])

        async def racer() -> None:
            await session.race([long("race-member")])

        async def timer() -> None:
            await session.timeout(10, long("timeout-member"))

        outer = [session.spawn(cb(fn), fn.__name__) for fn in (caller, racer, timer)]
        await trio.sleep(0.05)
        for record in outer:
            session.cancel(record)
        with trio.fail_after(2):
            await session.finish()
        assert all(r.done.is_set() for r in session.tasks.values())
        assert sum(r.cancelled for r in session.tasks.values()) == 6
    assert finished == []
