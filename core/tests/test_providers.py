"""Model strings, fallback chains and the choice of the default model."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import trio

from llmspell.agents import LLMAgent
from llmspell.errors import LlmspellError
from llmspell.messages import Message
from llmspell.providers import (
    ChatRequest,
    ProviderRegistry,
    ProviderStatus,
    StreamChunk,
    model_chain,
)
from llmspell.runtime import SpellRun
from llmspell.testing import Reply, ScriptedProvider, make_kernel


def failing(name: str) -> ScriptedProvider:
    return ScriptedProvider(
        name=name, default=Reply(error=LlmspellError("provider_error", f"{name} is down"))
    )


def request() -> ChatRequest:
    return ChatRequest(model="", messages=[Message("user", "hi")])


async def test_fallback_chain_moves_on_after_a_provider_error_and_says_so() -> None:
    kernel = make_kernel(provider=failing("first"))
    second = ScriptedProvider(["from second"], name="second")
    kernel.providers.add("second", second)
    async with SpellRun.open(kernel) as run:
        events = run.events.subscribe("llm.*")
        response = await run.llm_call(["first/a", "nowhere/b", "second/c"], request())
    assert response.text == "from second"
    assert second.requests[0].model == "c"
    seen = []
    while True:
        try:
            seen.append(events.receive_nowait())
        except (trio.WouldBlock, trio.EndOfChannel):
            break
    fallbacks = [e.data for e in seen if e.topic == "llm.fallback"]
    assert [(f["model"], f["next"]) for f in fallbacks] == [
        ("first/a", "nowhere/b"),
        ("nowhere/b", "second/c"),
    ]
    assert fallbacks[1]["error"]["code"] == "not_found"


async def test_the_last_failure_of_a_chain_lists_every_attempt() -> None:
    kernel = make_kernel(provider=failing("first"))
    kernel.providers.add("second", failing("second"))
    async with SpellRun.open(kernel) as run:
        with pytest.raises(LlmspellError) as info:
            await run.llm_call(["first/a", "second/b"], request())
    assert info.value.message == "second is down"
    assert [a["model"] for a in info.value.details["attempts"]] == ["first/a", "second/b"]


async def test_a_stream_falls_back_only_before_its_first_chunk() -> None:
    kernel = make_kernel(provider=failing("first"))
    kernel.providers.add("second", ScriptedProvider(["hello there"], name="second"))

    class CutStream(ScriptedProvider):
        async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
            yield StreamChunk(text="half ")
            raise LlmspellError("provider_error", "cut")

    kernel.providers.add("broken", CutStream(name="broken"))
    seen: list[str] = []
    async with SpellRun.open(kernel) as run:
        response = await run.llm_stream(
            ["first/a", "second/b"], request(), lambda c: seen.append(c.text)
        )
        assert response.text == "hello there" and "".join(seen) == "hello there"
        with pytest.raises(LlmspellError, match="cut"):
            await run.llm_stream(["broken/a", "second/b"], request(), lambda c: None)


async def test_an_agent_accepts_a_fallback_list() -> None:
    kernel = make_kernel(provider=failing("first"))
    kernel.providers.add("second", ScriptedProvider(["ok"], name="second"))
    agent = LLMAgent(name="a", model=["first/x", "second/y"])
    async with SpellRun.open(kernel) as run:
        result = await run.run_agent(agent, "hi")
    assert result.text == "ok"


def test_model_chain_refuses_what_is_not_model_strings() -> None:
    assert model_chain("a/b") == ("a/b",)
    for bad in ([], ["a/b", 3], "plain"):
        with pytest.raises(LlmspellError) as info:
            model_chain(bad)  # type: ignore[arg-type]
        assert info.value.code == "invalid_value"


class Candidate(ScriptedProvider):
    def __init__(self, name: str, rank: int, usable: bool) -> None:
        super().__init__(name=name)
        self.default_model = f"{name}-model"
        self.default_rank = rank
        self._usable = usable

    def status(self) -> ProviderStatus:
        return ProviderStatus(self._usable, "ready" if self._usable else "KEY is not set")


def test_default_model_prefers_env_then_config_then_best_usable_provider() -> None:
    registry = ProviderRegistry()
    registry.add("hosted", Candidate("hosted", 100, usable=False))
    registry.add("local", Candidate("local", 0, usable=True))
    assert registry.default_model(env={}) == ("local/local-model",)
    assert registry.default_model(["x/y"], env={}) == ("x/y",)
    assert registry.default_model(["x/y"], env={"LLMSPELL_MODEL": "a/b, c/d"}) == ("a/b", "c/d")
    registry.add("better", Candidate("better", 100, usable=True))
    assert registry.default_model(env={}) == ("better/better-model",)


def test_no_usable_provider_says_why_each_is_unusable() -> None:
    registry = ProviderRegistry()
    registry.add("hosted", Candidate("hosted", 100, usable=False))
    with pytest.raises(LlmspellError) as info:
        registry.default_model(env={})
    assert info.value.code == "config_error"
    assert "hosted: KEY is not set" in info.value.message
