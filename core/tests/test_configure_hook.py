"""``llmspell_configure`` (a plugin reads its settings once, at load) and ``ctx.run`` (a
lifecycle hook reaches the run it serves)."""

from __future__ import annotations

from typing import Any

import pytest

from llmspell.config import Config, parse
from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.lifecycle import HookContext, hookimpl
from llmspell.runtime import SpellRun


class Counter:
    """Counts tool calls per run; its limit comes from ``[plugins.counter] limit``."""

    def __init__(self) -> None:
        self.limit: int | None = None
        self.kernel: Kernel | None = None
        self.seen: list[tuple[str, str]] = []

    @hookimpl
    def llmspell_configure(self, config: Config, kernel: Kernel) -> None:
        table = config.plugin("counter")
        self.limit = table.get("limit", int, 10)
        if self.limit < 0:
            raise table.error("limit", "must not be negative")
        self.kernel = kernel

    @hookimpl
    def llmspell_before_tool_call(self, ctx: HookContext) -> None:
        assert ctx.run is not None and ctx.run.run_id == ctx.run_id
        self.seen.append((ctx.run.name, ctx.name))


def config(text: str) -> Config:
    import tomllib

    return parse(tomllib.loads(text))


async def test_configure_receives_the_plugin_settings_and_hooks_see_the_run() -> None:
    counter = Counter()
    kernel = Kernel.load(plugins=[("counter", counter)], config=config(
        "[plugins.counter]\nlimit = 3\n"), env={})
    assert counter.limit == 3 and counter.kernel is kernel
    async with SpellRun.open(kernel, name="first") as run:
        await run.call_tool("echo", {"text": "a"})
    async with SpellRun.open(kernel, name="second") as run:
        await run.call_tool("echo", {"text": "b"})
    assert counter.seen == [("first", "echo"), ("second", "echo")]


def test_a_config_error_in_configure_reaches_the_user() -> None:
    with pytest.raises(LlmspellError) as info:
        Kernel.load(plugins=[("counter", Counter())], config=config(
            "[plugins.counter]\nlimit = -1\n"), env={})
    assert info.value.code == "config_error"
    assert "plugins.counter" in info.value.message and "limit" in info.value.message


def test_a_failing_configure_withdraws_the_plugin() -> None:
    class Broken:
        @hookimpl
        def llmspell_configure(self) -> None:
            raise RuntimeError("no settings for you")

        @hookimpl
        def llmspell_before_tool_call(self, ctx: Any) -> None:
            raise AssertionError("a withdrawn plugin's hooks must not run")

    kernel = Kernel.load(plugins=[("broken", Broken())], env={})
    assert "broken" not in kernel.plugins
    failure = next(f for f in kernel.failures if f.name == "broken")
    assert "llmspell_configure failed: RuntimeError: no settings for you" in failure.error


async def test_model_call_hooks_are_told_whether_the_reply_is_streamed() -> None:
    from llmspell.messages import Message
    from llmspell.providers import ChatRequest
    from llmspell.testing import ScriptedProvider, make_kernel

    seen: list[Any] = []

    class Watch:
        @hookimpl
        def llmspell_before_llm_call(self, ctx: HookContext) -> None:
            seen.append(ctx.metadata.get("stream"))

    kernel = make_kernel(plugins=[("watch", Watch())], provider=ScriptedProvider(default="hi"))
    request = ChatRequest(model="x", messages=(Message("user", "hello"),))
    async with SpellRun.open(kernel) as run:
        await run.llm_call("scripted/x", request)
        await run.llm_stream("scripted/x", request, lambda chunk: None)
    assert seen == [False, True]
