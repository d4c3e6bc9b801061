"""Each lifecycle-hook action (observe, modify, skip, cancel, retry) on a tool call and on an
llm call through the scripted provider; ordering; sync and async implementations."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from llmspell.errors import LlmspellError
from llmspell.lifecycle import (
    Cancel,
    HookContext,
    HookPoint,
    Modify,
    Retry,
    Skip,
    hookimpl,
)
from llmspell.messages import Message
from llmspell.providers import ChatRequest
from llmspell.runtime import SpellRun
from llmspell.testing import Reply, ScriptedProvider, make_kernel
from llmspell.tools import Tool, ToolRegistry


class Counter:
    """A tool that counts its runs and echoes ``text``."""

    def __init__(self) -> None:
        self.runs: list[dict[str, Any]] = []

    def tool(self) -> Tool:
        async def run(args: dict[str, Any], ctx: Any) -> Any:
            self.runs.append(args)
            if args.get("fail"):
                raise RuntimeError("boom")
            return {"echo": args["text"], "run": len(self.runs)}

        return Tool(
            name="counted",
            description="echo and count",
            run=run,
            parameters={
                "type": "object",
                "properties": {"text": {"type": "string"}, "fail": {"type": "boolean"}},
                "required": ["text"],
            },
        )


class ToolPlugin:
    def __init__(self, tool: Tool) -> None:
        self._tool = tool

    @hookimpl
    def llmspell_register_tools(self, registry: ToolRegistry) -> None:
        registry.register(self._tool)


def kernel_with(*hook_plugins: object, provider: ScriptedProvider | None = None):
    counter = Counter()
    plugins = [("counter", ToolPlugin(counter.tool()))]
    plugins += [(f"hooks{i}", p) for i, p in enumerate(hook_plugins)]
    return make_kernel(plugins=plugins, provider=provider), counter


async def call(kernel, args: dict[str, Any]) -> Any:
    async with SpellRun.open(kernel) as run:
        return await run.call_tool("counted", args)


# --- tool call --------------------------------------------------------------------------------


async def test_observe_sees_input_and_output_of_a_tool_call() -> None:
    seen: list[tuple[str, Any, Any]] = []

    class Observer:
        @hookimpl
        def llmspell_before_tool_call(self, ctx: HookContext) -> None:
            seen.append((ctx.point.value, ctx.name, ctx.input))

        @hookimpl
        def llmspell_after_tool_call(self, ctx: HookContext) -> None:
            seen.append((ctx.point.value, ctx.name, ctx.output))

    kernel, _counter = kernel_with(Observer())
    assert await call(kernel, {"text": "hi"}) == {"echo": "hi", "run": 1}
    assert seen == [
        ("before_tool_call", "counted", {"text": "hi"}),
        ("after_tool_call", "counted", {"echo": "hi", "run": 1}),
    ]


async def test_modify_changes_tool_arguments_and_result() -> None:
    class Modifier:
        @hookimpl
        def llmspell_before_tool_call(self, ctx: HookContext) -> Any:
            return Modify({**ctx.input, "text": ctx.input["text"].upper()})

        @hookimpl
        async def llmspell_after_tool_call(self, ctx: HookContext) -> Any:
            await trio.sleep(0)
            return Modify({**ctx.output, "modified": True})

    kernel, counter = kernel_with(Modifier())
    assert await call(kernel, {"text": "hi"}) == {"echo": "HI", "run": 1, "modified": True}
    assert counter.runs == [{"text": "HI"}]


async def test_modified_arguments_are_validated_like_the_original() -> None:
    class Breaker:
        @hookimpl
        def llmspell_before_tool_call(self, ctx: HookContext) -> Any:
            return Modify({"text": 42})

    kernel, counter = kernel_with(Breaker())
    with pytest.raises(LlmspellError) as info:
        await call(kernel, {"text": "hi"})
    assert info.value.code == "invalid_args"
    assert "'text'" in info.value.message
    assert counter.runs == []


async def test_skip_returns_the_hook_result_without_running_the_tool() -> None:
    after: list[bool] = []

    class Cache:
        @hookimpl
        def llmspell_before_tool_call(self, ctx: HookContext) -> Any:
            return Skip({"cached": True})

        @hookimpl
        def llmspell_after_tool_call(self, ctx: HookContext) -> None:
            after.append(ctx.skipped)

    kernel, counter = kernel_with(Cache())
    assert await call(kernel, {"text": "hi"}) == {"cached": True}
    assert counter.runs == []
    assert after == [True]


async def test_cancel_fails_with_hook_cancelled_and_the_reason() -> None:
    class Guard:
        @hookimpl
        def llmspell_before_tool_call(self, ctx: HookContext) -> Any:
            if "secret" in ctx.input["text"]:
                return Cancel("no secrets")
            return None

    kernel, counter = kernel_with(Guard())
    with pytest.raises(LlmspellError) as info:
        await call(kernel, {"text": "a secret"})
    assert info.value.code == "hook_cancelled"
    assert "no secrets" in info.value.message
    assert info.value.details["reason"] == "no secrets"
    assert counter.runs == []
    assert await call(kernel, {"text": "fine"}) == {"echo": "fine", "run": 1}


async def test_after_hook_retry_runs_the_tool_again_until_satisfied() -> None:
    class Retrier:
        @hookimpl
        def llmspell_after_tool_call(self, ctx: HookContext) -> Any:
            if ctx.output["run"] < 3:
                return Retry("not yet")
            return None

    kernel, counter = kernel_with(Retrier())
    assert await call(kernel, {"text": "x"}) == {"echo": "x", "run": 3}
    assert len(counter.runs) == 3


async def test_retry_is_bounded_by_the_policy() -> None:
    class Forever:
        @hookimpl
        def llmspell_after_tool_call(self, ctx: HookContext) -> Any:
            return Retry("never happy")

    kernel, counter = kernel_with(Forever())
    with pytest.raises(LlmspellError) as info:
        await call(kernel, {"text": "x"})
    assert info.value.code == "limit"
    assert "never happy" in info.value.message
    assert len(counter.runs) == 4  # the first run and max_hook_retries=3 retries


async def test_on_error_can_retry_and_recover() -> None:
    errors: list[str] = []

    class Recover:
        @hookimpl
        def llmspell_on_error(self, ctx: HookContext) -> Any:
            errors.append(ctx.error.code)
            if ctx.attempt < 1:
                return Retry("try again")
            return Skip({"fallback": True})

    kernel, counter = kernel_with(Recover())
    assert await call(kernel, {"text": "x", "fail": True}) == {"fallback": True}
    assert errors == ["tool_error", "tool_error"]
    assert len(counter.runs) == 2


async def test_tool_failure_without_hooks_is_a_tool_error_naming_the_tool() -> None:
    kernel, _ = kernel_with()
    with pytest.raises(LlmspellError) as info:
        await call(kernel, {"text": "x", "fail": True})
    assert info.value.code == "tool_error"
    assert "'counted'" in info.value.message and "boom" in info.value.message


# --- llm call ---------------------------------------------------------------------------------


def request(text: str = "hello") -> ChatRequest:
    return ChatRequest(model="", messages=[Message("user", text)])


async def llm(kernel, text: str = "hello") -> Any:
    async with SpellRun.open(kernel) as run:
        return await run.llm_call("scripted/test-model", request(text))


async def test_llm_call_observe_and_modify() -> None:
    seen: list[Any] = []

    class Hooks:
        @hookimpl
        def llmspell_before_llm_call(self, ctx: HookContext) -> Any:
            seen.append((ctx.name, ctx.input.messages[-1].content))
            ctx.input.messages.append(Message("user", "be brief"))
            return Modify(ctx.input)

        @hookimpl
        async def llmspell_after_llm_call(self, ctx: HookContext) -> Any:
            seen.append(ctx.output.text)
            return Modify(attrs_evolve_text(ctx.output, ctx.output.text + "!"))

    provider = ScriptedProvider(["hi there"])
    kernel, _ = kernel_with(Hooks(), provider=provider)
    response = await llm(kernel)
    assert response.text == "hi there!"
    assert seen == [("scripted/test-model", "hello"), "hi there"]
    assert [m.content for m in provider.requests[0].messages] == ["hello", "be brief"]
    assert provider.requests[0].model == "test-model"


def attrs_evolve_text(response: Any, text: str) -> Any:
    import attrs

    return attrs.evolve(response, message=attrs.evolve(response.message, content=text))


async def test_llm_call_skip_answers_without_the_provider() -> None:
    class Cached:
        @hookimpl
        def llmspell_before_llm_call(self, ctx: HookContext) -> Any:
            from llmspell.providers import ChatResponse

            return Skip(ChatResponse(Message("assistant", "from cache")))

    provider = ScriptedProvider(["from provider"])
    kernel, _ = kernel_with(Cached(), provider=provider)
    assert (await llm(kernel)).text == "from cache"
    assert provider.requests == []


async def test_llm_call_cancel() -> None:
    class Budget:
        @hookimpl
        def llmspell_before_llm_call(self, ctx: HookContext) -> Any:
            return Cancel("budget exhausted")

    provider = ScriptedProvider(["never"])
    kernel, _ = kernel_with(Budget(), provider=provider)
    with pytest.raises(LlmspellError) as info:
        await llm(kernel)
    assert info.value.code == "hook_cancelled"
    assert provider.requests == []


async def test_llm_call_retry_on_bad_answer_and_on_provider_error() -> None:
    class Guardrail:
        @hookimpl
        def llmspell_after_llm_call(self, ctx: HookContext) -> Any:
            return Retry("rude") if "rude" in ctx.output.text else None

        @hookimpl
        def llmspell_on_error(self, ctx: HookContext) -> Any:
            return Retry("transient") if ctx.error.code == "provider_error" else None

    provider = ScriptedProvider(
        [
            Reply(error=LlmspellError("provider_error", "503 from upstream")),
            "a rude answer",
            "a kind answer",
        ]
    )
    kernel, _ = kernel_with(Guardrail(), provider=provider)
    assert (await llm(kernel)).text == "a kind answer"
    assert len(provider.requests) == 3


# --- order, sync/async, errors ----------------------------------------------------------------


async def test_priority_orders_plugin_and_runtime_hooks_together() -> None:
    order: list[str] = []

    class Low:
        @hookimpl(priority=-10)
        def llmspell_before_tool_call(self, ctx: HookContext) -> None:
            order.append("plugin-low")

    class High:
        @hookimpl(priority=10)
        async def llmspell_before_tool_call(self, ctx: HookContext) -> None:
            order.append("plugin-high")

    class Zero:
        @hookimpl
        def llmspell_before_tool_call(self, ctx: HookContext) -> None:
            order.append("plugin-zero")

    kernel, _ = kernel_with(Low(), High(), Zero())
    async with SpellRun.open(kernel) as run:
        run.hooks.register(
            "before_tool_call", lambda ctx: order.append("runtime-five"), priority=5
        )
        run.hooks.register("before_tool_call", lambda ctx: order.append("runtime-zero"))
        handle = run.hooks.register(
            HookPoint.BEFORE_TOOL_CALL, lambda ctx: order.append("removed")
        )
        assert run.hooks.unregister(handle)
        await run.call_tool("counted", {"text": "x"})
    assert order == ["plugin-high", "runtime-five", "plugin-zero", "runtime-zero", "plugin-low"]


async def test_runtime_hooks_of_one_run_do_not_leak_into_another() -> None:
    calls: list[str] = []
    kernel, _ = kernel_with()
    async with SpellRun.open(kernel) as run:
        run.hooks.register("before_tool_call", lambda ctx: calls.append("first run"))
        await run.call_tool("counted", {"text": "x"})
    async with SpellRun.open(kernel) as run:
        await run.call_tool("counted", {"text": "x"})
    assert calls == ["first run"]


async def test_script_style_dict_actions_are_understood() -> None:
    kernel, _counter = kernel_with()
    async with SpellRun.open(kernel) as run:
        run.hooks.register(
            "before_tool_call", lambda ctx: {"action": "modify", "input": {"text": "from dict"}}
        )
        run.hooks.register(
            "after_tool_call", lambda ctx: {"action": "modify", "output": ctx.output["echo"]}
        )
        assert await run.call_tool("counted", {"text": "x"}) == "from dict"


async def test_an_action_not_allowed_at_a_point_is_a_plugin_error_naming_the_hook() -> None:
    kernel, counter = kernel_with()
    async with SpellRun.open(kernel) as run:

        def bad_retry(ctx: HookContext) -> Any:
            return Retry("before hooks cannot retry")

        run.hooks.register("before_tool_call", bad_retry, name="bad_retry")
        with pytest.raises(LlmspellError) as info:
            await run.call_tool("counted", {"text": "x"})
    assert info.value.code == "plugin_error"
    assert "bad_retry" in info.value.message and "before_tool_call" in info.value.message
    assert counter.runs == []


async def test_a_hook_that_raises_fails_the_operation_closed() -> None:
    class Broken:
        @hookimpl
        def llmspell_before_tool_call(self, ctx: HookContext) -> None:
            raise ZeroDivisionError("oops")

    kernel, counter = kernel_with(Broken())
    with pytest.raises(LlmspellError) as info:
        await call(kernel, {"text": "x"})
    assert info.value.code == "plugin_error"
    assert "llmspell_before_tool_call" in info.value.message and "oops" in info.value.message
    assert counter.runs == []


async def test_spell_start_and_end_hooks_see_args_and_result() -> None:
    class Spell:
        @hookimpl
        def llmspell_spell_start(self, ctx: HookContext) -> Any:
            return Modify({**ctx.input, "added": 1})

        @hookimpl
        def llmspell_spell_end(self, ctx: HookContext) -> Any:
            return Modify({"wrapped": ctx.output})

    kernel, _ = kernel_with(Spell())
    async with SpellRun.open(kernel, args={"a": 0}) as run:
        assert run.args == {"a": 0, "added": 1}
        run.result = 7
    assert run.result == {"wrapped": 7}


async def test_spell_start_cancel_prevents_the_run() -> None:
    class Deny:
        @hookimpl
        def llmspell_spell_start(self, ctx: HookContext) -> Any:
            return Cancel("maintenance")

    kernel, _ = kernel_with(Deny())
    with pytest.raises(LlmspellError) as info:
        async with SpellRun.open(kernel):
            raise AssertionError("the body must not run")
    assert info.value.code == "hook_cancelled"


async def test_kernel_level_runtime_hooks_reach_every_run_even_open_ones() -> None:
    order: list[str] = []
    kernel, _ = kernel_with()
    kernel.hooks.register("spell_start", lambda ctx: order.append("kernel start"))
    async with SpellRun.open(kernel) as run:
        run.hooks.register("before_tool_call", lambda ctx: order.append("run"))
        await run.call_tool("counted", {"text": "x"})
        kernel.hooks.register("before_tool_call", lambda ctx: order.append("kernel"))
        await run.call_tool("counted", {"text": "y"})
    assert order == ["kernel start", "run", "kernel", "run"]


async def test_a_plugin_registered_while_a_run_is_open_takes_effect() -> None:
    seen: list[str] = []

    class Late:
        @hookimpl
        def llmspell_after_tool_call(self, ctx: HookContext) -> None:
            seen.append(ctx.name)

    kernel, _ = kernel_with()
    async with SpellRun.open(kernel) as run:
        await run.call_tool("counted", {"text": "x"})
        kernel.register_plugin(Late(), "late")
        await run.call_tool("counted", {"text": "y"})
    assert seen == ["counted"]


async def test_on_error_hooks_see_event_emission_failures_without_other_emit_hooks() -> None:
    kernel, _ = kernel_with()
    failures: list[str] = []
    async with SpellRun.open(kernel) as run:
        with pytest.raises(LlmspellError) as info:
            await run.emit("bad topic!", {})
        assert info.value.code == "invalid_value"
        run.hooks.register("on_error", lambda ctx: failures.append(ctx.kind))
        with pytest.raises(LlmspellError):
            await run.emit("bad topic!", {})
    assert failures == ["event_emit"]


def test_a_run_dispatcher_shares_its_parents_chain_until_it_has_hooks_of_its_own() -> None:
    # a run's dispatcher without run-time hooks of its own uses the kernel dispatcher's chain
    # (built once); it sees the parent's changes, and its own hooks come after the parent's
    class Plugin:
        @hookimpl
        def llmspell_before_tool_call(self, ctx: HookContext) -> None:
            return None

    kernel = make_kernel(plugins=[("p", Plugin())])
    parent = kernel.hooks
    child = parent.child()
    point = HookPoint.BEFORE_TOOL_CALL
    assert [e.name for e in child.chain(point)] == [e.name for e in parent.chain(point)]
    assert child.chain(point) is parent.chain(point)
    assert child.chain(HookPoint.AFTER_TOOL_CALL) == ()

    handle = parent.register(point, lambda ctx: None, name="kernel-wide")
    assert [e.name for e in child.chain(point)][-1] == "kernel-wide"
    mine = child.register(point, lambda ctx: None, name="run-only")
    names = [e.name for e in child.chain(point)]
    assert names[-2:] == ["kernel-wide", "run-only"]
    assert "run-only" not in [e.name for e in parent.chain(point)]
    assert child.unregister(mine)
    assert child.chain(point) is parent.chain(point)
    parent.unregister(handle)
    assert "kernel-wide" not in [e.name for e in child.chain(point)]
    assert child.has_hooks("tool_call") and not parent.child().has_hooks("llm_call")


async def test_a_chain_mixing_plain_and_async_hooks_runs_in_order_to_the_first_action() -> None:
    """Plain hooks run without a coroutine; after an async one the rest of the chain goes on
    in order, sees its Modify, and an action from a later plain hook still ends the chain."""
    seen: list[str] = []
    run_times: list[float] = []

    class First:
        @hookimpl(priority=30)
        def llmspell_before_tool_call(self, ctx: HookContext) -> Any:
            seen.append("plain-1")
            run_times.append(ctx.started)
            return Modify({**ctx.input, "text": ctx.input["text"] + "-a"})

    class Second:
        @hookimpl(priority=20)
        async def llmspell_before_tool_call(self, ctx: HookContext) -> Any:
            await trio.sleep(0)
            seen.append("async")
            return Modify({**ctx.input, "text": ctx.input["text"] + "-b"})

    class Third:
        @hookimpl(priority=10)
        def llmspell_before_tool_call(self, ctx: HookContext) -> Any:
            seen.append("plain-2")
            return Skip({"skipped": ctx.input["text"]})

    class Never:
        @hookimpl(priority=0)
        def llmspell_before_tool_call(self, ctx: HookContext) -> Any:
            seen.append("never")

    kernel, counter = kernel_with(First(), Second(), Third(), Never())
    assert await call(kernel, {"text": "x"}) == {"skipped": "x-a-b"}
    assert seen == ["plain-1", "async", "plain-2"]
    assert counter.runs == []
    assert run_times and run_times[0] > 0


async def test_an_async_hook_that_raises_is_a_plugin_error_naming_it() -> None:
    class Broken:
        @hookimpl
        async def llmspell_after_tool_call(self, ctx: HookContext) -> Any:
            await trio.sleep(0)
            raise KeyError("boom")

    kernel, _ = kernel_with(Broken())
    with pytest.raises(LlmspellError) as info:
        await call(kernel, {"text": "x"})
    assert info.value.code == "plugin_error"
    assert "llmspell_after_tool_call" in info.value.message and "KeyError" in info.value.message
