"""SpellRun: cancellation, limits, spawned failures, events and state through hooks, policy."""

from __future__ import annotations

import os
from typing import Any

import pytest
import trio
import trio.testing

from llmspell.errors import LlmspellError
from llmspell.lifecycle import Cancel, HookContext, Modify, hookimpl
from llmspell.runtime import SpellRun
from llmspell.security import Limits, SecurityPolicy
from llmspell.testing import make_kernel
from llmspell.tools import Tool, ToolRegistry


def make_tool(name: str, fn: Any, **kw: Any) -> Tool:
    return Tool(name=name, description=name, run=fn, **kw)


class Tools:
    def __init__(self, *tools: Tool) -> None:
        self.tools = tools

    @hookimpl
    def llmspell_register_tools(self, registry: ToolRegistry) -> None:
        for t in self.tools:
            registry.register(t)


async def test_cancel_cancels_in_flight_host_work() -> None:
    finished: list[str] = []
    started = trio.Event()

    async def slow(args: dict[str, Any], ctx: Any) -> Any:
        started.set()
        try:
            await trio.sleep(30)
        finally:
            finished.append("cleanup ran")
        finished.append("completed")  # pragma: no cover - must not happen
        return None

    kernel = make_kernel(plugins=[("t", Tools(make_tool("slow", slow)))])
    with trio.fail_after(5):
        async with SpellRun.open(kernel) as run:
            run.spawn(run.call_tool, "slow", {})
            run.spawn(run.call_tool, "slow", {})
            await started.wait()
            await trio.testing.wait_all_tasks_blocked()
            run.cancel()
    assert finished == ["cleanup ran", "cleanup ran"]


async def test_wall_time_limit_ends_the_run_with_code_limit(autojump_clock: Any) -> None:
    kernel = make_kernel()
    policy = SecurityPolicy(limits=Limits(wall_seconds=2.0))
    with pytest.raises(LlmspellError) as info:
        async with SpellRun.open(kernel, policy=policy, name="slow.lua"):
            await trio.sleep(10)
    assert info.value.code == "limit"
    assert info.value.details["limit"] == "wall_seconds"
    assert "slow.lua" in info.value.message and "2.0" in info.value.message


async def test_a_failing_spawned_task_fails_the_run_with_its_error() -> None:
    kernel = make_kernel()

    async def bad() -> None:
        raise LlmspellError("tool_error", "spawned task broke")

    with pytest.raises(LlmspellError) as info:
        async with SpellRun.open(kernel) as run:
            run.spawn(bad)
            await trio.sleep(1)
    assert info.value.message == "spawned task broke"


async def test_run_waits_for_spawned_tasks_before_it_ends() -> None:
    kernel = make_kernel()
    done: list[int] = []

    async def later(n: int) -> None:
        await trio.sleep(0.01 * n)
        done.append(n)

    async with SpellRun.open(kernel) as run:
        for n in (3, 1, 2):
            run.spawn(later, n)
    assert done == [1, 2, 3]


async def test_tool_calls_emit_started_and_finished_or_failed_events() -> None:
    async def ok(args: dict[str, Any], ctx: Any) -> Any:
        return 1

    async def bad(args: dict[str, Any], ctx: Any) -> Any:
        raise ValueError("nope")

    kernel = make_kernel(plugins=[("t", Tools(make_tool("ok", ok), make_tool("bad", bad)))])
    async with SpellRun.open(kernel) as run:
        sub = run.events.subscribe("tool.*")
        await run.call_tool("ok", {})
        with pytest.raises(LlmspellError):
            await run.call_tool("bad", {})
        got = [(e.topic, e.data["tool"]) for e in [sub.receive_nowait() for _ in range(4)]]
    assert got == [
        ("tool.started", "ok"),
        ("tool.finished", "ok"),
        ("tool.started", "bad"),
        ("tool.failed", "bad"),
    ]


async def test_state_writes_pass_through_hooks_and_emit_state_changed() -> None:
    class StateHooks:
        @hookimpl
        def llmspell_before_state_write(self, ctx: HookContext) -> Any:
            if ctx.metadata["key"] == "locked":
                return Cancel("read-only key")
            if isinstance(ctx.input, str):
                return Modify(ctx.input.strip())
            return None

    kernel = make_kernel(plugins=[("h", StateHooks())])
    async with SpellRun.open(kernel) as run:
        sub = run.events.subscribe("state.changed")
        await run.state_set("name", "  ada  ")
        assert await run.state_get("name") == "ada"
        with pytest.raises(LlmspellError) as info:
            await run.state_set("locked", 1)
        assert info.value.code == "hook_cancelled"
        assert await run.state_get("locked") is None
        assert await run.state_update("n", lambda v: v + 1, default=0) == 1
        assert await run.state_delete("name") is True
        topics = [sub.receive_nowait().data for _ in range(3)]
    assert topics == [
        {"scope": "global", "key": "name", "op": "set"},
        {"scope": "global", "key": "n", "op": "update"},
        {"scope": "global", "key": "name", "op": "delete"},
    ]


async def test_spell_scope_is_private_to_its_run_and_global_is_shared() -> None:
    kernel = make_kernel()
    from llmspell.state import MemoryBackend

    store = MemoryBackend()
    async with SpellRun.open(kernel, store=store) as run:
        await run.state_set("x", 1, scope="spell")
        await run.state_set("x", 2)
        await run.state_set("x", 3, scope="agent:writer")
        assert await run.state_get("x", scope="spell") == 1
    async with SpellRun.open(kernel, store=store) as run:
        assert await run.state_get("x", scope="spell") is None
        assert await run.state_get("x") == 2
        assert await run.state_keys("agent:writer") == ["x"]
    with pytest.raises(LlmspellError) as info:
        async with SpellRun.open(kernel, store=store) as run:
            await run.state_get("x", scope="agnet:writer")
    assert info.value.code == "invalid_value"


async def test_event_emit_hooks_can_modify_event_data() -> None:
    class Redact:
        @hookimpl
        def llmspell_before_event_emit(self, ctx: HookContext) -> Any:
            if ctx.name == "user.said":
                return Modify({**ctx.input, "secret": "***"})
            return None

    kernel = make_kernel(plugins=[("r", Redact())])
    async with SpellRun.open(kernel) as run:
        sub = run.events.subscribe("user.*")
        await run.emit("user.said", {"text": "hi", "secret": "hunter2"})
        assert sub.receive_nowait().data == {"text": "hi", "secret": "***"}


async def test_tool_permissions_are_checked_against_the_policy() -> None:
    async def spawn(args: dict[str, Any], ctx: Any) -> Any:
        return "spawned"

    kernel = make_kernel(
        plugins=[("t", Tools(make_tool("spawner", spawn, permissions={"process"})))]
    )
    async with SpellRun.open(kernel) as run:
        with pytest.raises(LlmspellError) as info:
            await run.call_tool("spawner", {})
    assert info.value.code == "permission_denied"
    assert "'process'" in info.value.message and info.value.hint
    async with SpellRun.open(kernel, policy=SecurityPolicy(allow_processes=True)) as run:
        assert await run.call_tool("spawner", {}) == "spawned"


async def test_destructive_tools_need_approval() -> None:
    deleted: list[str] = []

    async def delete(args: dict[str, Any], ctx: Any) -> Any:
        deleted.append(args["path"])
        return True

    tool = make_tool(
        "delete",
        delete,
        requires_approval=True,
        parameters={"type": "object", "properties": {"path": {"type": "string"}}},
    )
    kernel = make_kernel(plugins=[("t", Tools(tool))])
    asked: list[dict[str, Any]] = []

    async def deny(t: Tool, args: dict[str, Any]) -> bool:
        asked.append(args)
        return False

    async def allow(t: Tool, args: dict[str, Any]) -> bool:
        return True

    async with SpellRun.open(kernel) as run:
        with pytest.raises(LlmspellError, match="needs approval"):
            await run.call_tool("delete", {"path": "a"})
    async with SpellRun.open(kernel, approver=deny) as run:
        with pytest.raises(LlmspellError, match="refused approval"):
            await run.call_tool("delete", {"path": "b"})
    async with SpellRun.open(kernel, approver=allow) as run:
        await run.call_tool("delete", {"path": "c"})
    async with SpellRun.open(kernel, policy=SecurityPolicy(auto_approve=True)) as run:
        await run.call_tool("delete", {"path": "d"})
    assert asked == [{"path": "b"}]
    assert deleted == ["c", "d"]


def test_check_path_refuses_traversal_and_symlink_escapes(tmp_path: Any) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (tmp_path / "outside.txt").write_text("secret")
    os.symlink(tmp_path / "outside.txt", root / "link.txt")
    policy = SecurityPolicy(read_roots=[root])
    assert policy.check_path(root / "sub" / "f.txt") == (root / "sub" / "f.txt").resolve()
    for bad in (root / ".." / "outside.txt", root / "link.txt", "/etc/passwd"):
        with pytest.raises(LlmspellError) as info:
            policy.check_path(bad)
        assert info.value.code == "permission_denied"
    with pytest.raises(LlmspellError, match="may write"):
        policy.check_path(root / "sub" / "f.txt", write=True)


async def test_check_host_refuses_unlisted_and_loopback_hosts() -> None:
    policy = SecurityPolicy(network_hosts=["localhost", "*.example.org"])
    with pytest.raises(LlmspellError, match="not in this run's allowed"):
        await policy.check_host("evil.test")
    with pytest.raises(LlmspellError, match="non-public address"):
        await policy.check_host("localhost")
    with pytest.raises(LlmspellError, match="non-public address"):
        await SecurityPolicy(network_hosts=["*"]).check_host("127.0.0.1")
    allowed = SecurityPolicy(network_hosts=["localhost"], allow_private_network=True)
    assert "127.0.0.1" in await allowed.check_host("localhost")


def test_a_malformed_tool_schema_is_reported_naming_the_tool() -> None:
    async def run(args: dict[str, Any], ctx: Any) -> Any:
        return None

    with pytest.raises(LlmspellError, match="'broken': parameters must be a JSON schema"):
        make_tool("broken", run, parameters={"type": "string"})
    tool = make_tool("odd", run, parameters={"type": "object", "properties": {"n": {"type": 5}}})
    with pytest.raises(LlmspellError) as info:
        tool.check_schema()
    assert info.value.code == "invalid_value"
    assert "'odd': parameters are not a valid JSON schema" in info.value.message
    with pytest.raises(LlmspellError, match="not a valid JSON schema"):
        tool.validate({"n": 1})


async def test_a_skipped_state_write_changes_nothing_and_emits_no_event() -> None:
    from llmspell.lifecycle import Skip

    class ReadOnly:
        @hookimpl
        def llmspell_before_state_write(self, ctx: HookContext) -> Any:
            return Skip(None) if ctx.metadata["key"] == "frozen" else None

    kernel = make_kernel(plugins=[("ro", ReadOnly())])
    async with SpellRun.open(kernel) as run:
        sub = run.events.subscribe("state.changed")
        await run.state_set("frozen", 1)
        await run.state_set("free", 2)
        assert await run.state_get("frozen") is None
        assert sub.receive_nowait().data["key"] == "free"
        with pytest.raises(trio.WouldBlock):
            sub.receive_nowait()


async def test_a_failed_agent_emits_llm_failed_then_agent_failed_with_the_error() -> None:
    from llmspell.agents import LLMAgent
    from llmspell.testing import Reply, ScriptedProvider

    provider = ScriptedProvider([Reply(error=RuntimeError("down"))])
    agent = LLMAgent(name="broken", model="scripted/m")
    seen: list[tuple[str, Any]] = []
    async with SpellRun.open(make_kernel(provider=provider)) as run:
        run.events.tap(lambda e: seen.append((e.topic, e.data)))
        with pytest.raises(LlmspellError) as info:
            await run.run_agent(agent, "hi")
    topics = [t for t, _ in seen]
    assert topics == ["agent.started", "llm.request", "llm.failed", "agent.failed",
                      "spell.finished"]
    llm_failed, agent_failed = seen[2][1], seen[3][1]
    assert llm_failed["model"] == "scripted/m" and llm_failed["error"]["code"] == "provider_error"
    assert agent_failed == {"agent": "broken", "error": info.value.to_dict()}
