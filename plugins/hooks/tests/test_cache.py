"""hooks-cache: a hit avoids the provider call (counted on a real loopback HTTP server), request
keys, TTL with an injected clock, eviction, persistence across kernels, streams and
nondeterministic requests bypassing it, and a broken or locked file treated as a miss."""

from __future__ import annotations

import logging
import sqlite3
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import llmspell.config
from llmspell.agents import LLMAgent
from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.messages import Message
from llmspell.providers import ChatRequest, ToolSpec
from llmspell.runtime import SpellRun
from llmspell.testing import Reply, ScriptedProvider
from llmspell.testing.chat_server import ChatServer
from llmspell_hooks import cache

# --- a tiny OpenAI-compatible server on 127.0.0.1 -------------------------------------------


@pytest.fixture
def server() -> Iterator[ChatServer]:
    """Answers "answer N" (N counts the requests) and records every request."""
    with ChatServer() as chat:
        yield chat


# --- helpers --------------------------------------------------------------------------------


def load(
    tmp_path: Path, settings: str = "", *, extra: str = "",
    provider: ScriptedProvider | None = None, **kw: Any,
) -> Kernel:
    toml = f'[plugins.hooks-cache]\nenabled = true\npath = "{tmp_path / "cache.db"}"\n{settings}'
    config = llmspell.config.parse(tomllib.loads(toml + "\n" + extra))
    kernel = Kernel.load(env={}, config=config, **kw)
    if provider is not None:
        kernel.providers.add(provider.name, provider, replace=True)
    return kernel


def request(text: str = "hi", **kw: Any) -> ChatRequest:
    return ChatRequest(model="m", messages=[Message("user", text)], **kw)


def recorder(run: SpellRun) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []
    run.hooks.register(
        "after_event_emit",
        lambda ctx: seen.append((ctx.name, ctx.output.data)) if ctx.name.startswith("cache.")
        else None,
    )
    return seen


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def the_cache(kernel: Kernel) -> cache.ResponseCache:
    found = cache.cache_for(kernel)
    assert found is not None
    return found


# --- the hit, on the wire -------------------------------------------------------------------


async def test_a_hit_avoids_the_provider_call_on_a_loopback_server(
    server: ChatServer, tmp_path: Path
) -> None:
    provider_table = f'[providers.loop]\nprotocol = "openai"\nbase_url = "{server.url}"\n'
    kernel = load(tmp_path, extra=provider_table)
    agent = LLMAgent(name="asker", model="loop/tiny", instructions="Answer briefly.")
    async with SpellRun.open(kernel) as run:
        seen = recorder(run)
        first = await run.run_agent(agent, "What is trio?")
        second = await run.run_agent(agent, "What is trio?")
    assert len(server.bodies) == 1  # the server saw exactly one request
    assert server.requests[0][0] == "/v1/chat/completions"
    assert first.text == second.text == "answer 1"
    assert first.messages == second.messages
    assert (first.usage.input_tokens, second.usage.input_tokens) == (12, 0)
    assert second.usage.cost == 0.0
    (miss_topic, miss), (hit_topic, hit) = seen
    assert (miss_topic, hit_topic) == ("cache.miss", "cache.hit")
    assert miss == {"key": miss["key"], "model": "loop/tiny", "reason": "absent"}
    assert hit["key"] == miss["key"] and len(hit["key"]) == cache.SHOWN_KEY
    assert hit["model"] == "loop/tiny" and hit["age"] >= 0
    # a different question is a different request
    async with SpellRun.open(kernel) as run:
        third = await run.run_agent(agent, "What is anyio?")
    assert third.text == "answer 2" and len(server.bodies) == 2
    assert the_cache(kernel).stats() == {"hits": 1, "misses": 2, "stores": 2, "errors": 0}


def test_hooks_cache_is_off_by_default(tmp_path: Path) -> None:
    assert cache.llmspell_default_enabled is False
    kernel = Kernel.load(env={})
    assert "hooks-cache" not in kernel.plugins and cache.cache_for(kernel) is None
    assert "hooks-cache" in Kernel.load(env={}, enable=["hooks-cache"]).plugins


# --- keys -----------------------------------------------------------------------------------


def test_the_key_is_a_hash_of_the_normalized_request() -> None:
    tool = ToolSpec("add", "Add.", {"type": "object", "properties": {"a": {}, "b": {}}})
    same = ToolSpec("add", "Add.", {"properties": {"b": {}, "a": {}}, "type": "object"})
    base = request(tools=[tool], temperature=0)
    key = cache.request_key("p/m", base)
    assert len(key) == 64 and int(key, 16) >= 0
    assert cache.request_key("p/m", request(tools=[same], temperature=0.0)) == key
    different = [
        cache.request_key("q/m", base),  # another provider, same model name
        cache.request_key("p/m", request("ho", tools=[tool], temperature=0)),
        cache.request_key("p/m", request(tools=[], temperature=0)),
        cache.request_key("p/m", request(tools=[tool], temperature=0, tool_choice="none")),
        cache.request_key("p/m", request(tools=[tool], temperature=0.2)),
        cache.request_key("p/m", request(tools=[tool], temperature=0, max_tokens=5)),
        cache.request_key("p/m", request(tools=[tool], temperature=0, seed=1)),
        cache.request_key("p/m", request(tools=[tool], temperature=0, stop=["x"])),
        cache.request_key("p/m", request(tools=[tool], temperature=0,
                                         output_schema={"type": "object"})),
    ]
    assert key not in different and len(set(different)) == len(different)


# --- expiry, eviction, persistence ----------------------------------------------------------


async def test_entries_expire_after_ttl_on_the_injected_clock(tmp_path: Path) -> None:
    provider = ScriptedProvider(default=lambda req: f"reply {len(provider.requests)}")
    kernel = load(tmp_path, "ttl = 10", provider=provider)
    clock = the_cache(kernel).clock = Clock()
    async with SpellRun.open(kernel) as run:
        seen = recorder(run)
        assert (await run.llm_call("scripted/m", request())).text == "reply 1"
        clock.now += 9.5
        assert (await run.llm_call("scripted/m", request())).text == "reply 1"
        clock.now += 0.5  # 10 s after it was stored
        assert (await run.llm_call("scripted/m", request())).text == "reply 2"
        assert (await run.llm_call("scripted/m", request())).text == "reply 2"
    assert [(topic, data.get("reason")) for topic, data in seen] == [
        ("cache.miss", "absent"), ("cache.hit", None), ("cache.miss", "expired"),
        ("cache.hit", None),
    ]
    assert seen[1][1]["age"] == 9.5
    assert len(provider.requests) == 2


async def test_ttl_0_never_expires(tmp_path: Path) -> None:
    provider = ScriptedProvider(default="same")
    kernel = load(tmp_path, "ttl = 0", provider=provider)
    clock = the_cache(kernel).clock = Clock()
    async with SpellRun.open(kernel) as run:
        await run.llm_call("scripted/m", request())
        clock.now += 10 * 365 * 86400.0
        await run.llm_call("scripted/m", request())
    assert len(provider.requests) == 1


async def test_max_entries_evicts_the_least_recently_used(tmp_path: Path) -> None:
    provider = ScriptedProvider(default=lambda req: req.messages[-1].content.upper())
    kernel = load(tmp_path, "max_entries = 2", provider=provider)
    clock = the_cache(kernel).clock = Clock()
    async with SpellRun.open(kernel) as run:
        for text in ("a", "b", "a", "c"):  # "a" used again after "b": "b" is evicted
            clock.now += 1
            await run.llm_call("scripted/m", request(text))
        assert the_cache(kernel).entries() == 2
        for text in ("a", "c", "b"):
            clock.now += 1
            assert (await run.llm_call("scripted/m", request(text))).text == text.upper()
    assert [r.messages[-1].content for r in provider.requests] == ["a", "b", "c", "b"]


async def test_the_cache_persists_across_kernels(tmp_path: Path) -> None:
    one = ScriptedProvider(default="from the first kernel")
    first = load(tmp_path, provider=one)
    async with SpellRun.open(first) as run:
        await run.llm_call("scripted/m", request())
    two = ScriptedProvider(default="from the second kernel")
    second = load(tmp_path, provider=two)
    assert the_cache(second) is not the_cache(first)
    async with SpellRun.open(second) as run:
        assert (await run.llm_call("scripted/m", request())).text == "from the first kernel"
    assert (len(one.requests), len(two.requests)) == (1, 0)


# --- what is not cached ---------------------------------------------------------------------


async def test_streams_bypass_the_cache(tmp_path: Path) -> None:
    provider = ScriptedProvider(default=lambda req: f"streamed reply {len(provider.requests)}")
    kernel = load(tmp_path, provider=provider)
    async with SpellRun.open(kernel) as run:
        seen = recorder(run)
        for n in (1, 2):
            pieces: list[str] = []
            response = await run.llm_stream(
                "scripted/m", request(), lambda chunk, p=pieces: p.append(chunk.text)
            )
            assert "".join(pieces) == response.text == f"streamed reply {n}"
        # a stream stores nothing: a plain call afterwards misses
        assert (await run.llm_call("scripted/m", request())).text == "streamed reply 3"
    assert [(t, d.get("reason")) for t, d in seen] == [
        ("cache.bypass", "stream"), ("cache.bypass", "stream"), ("cache.miss", "absent")
    ]


async def test_a_temperature_above_0_is_not_cached_unless_asked(tmp_path: Path) -> None:
    provider = ScriptedProvider(default=lambda req: f"idea {len(provider.requests)}")
    kernel = load(tmp_path, provider=provider)
    async with SpellRun.open(kernel) as run:
        seen = recorder(run)
        texts = [(await run.llm_call("scripted/m", request(temperature=0.8))).text
                 for _ in range(2)]
    assert texts == ["idea 1", "idea 2"]
    assert seen == [("cache.bypass", {"model": "scripted/m", "reason": "nondeterministic"})] * 2

    provider2 = ScriptedProvider(default=lambda req: f"idea {len(provider2.requests)}")
    kernel = load(tmp_path / "2", "cache_nondeterministic = true", provider=provider2)
    async with SpellRun.open(kernel) as run:
        texts = [(await run.llm_call("scripted/m", request(temperature=0.8))).text
                 for _ in range(2)]
    assert texts == ["idea 1", "idea 1"]


async def test_failed_calls_are_not_cached(tmp_path: Path) -> None:
    boom = LlmspellError("provider_error", "overloaded")
    provider = ScriptedProvider([Reply(error=boom), "fine", "not needed"])
    kernel = load(tmp_path, provider=provider)
    async with SpellRun.open(kernel) as run:
        with pytest.raises(LlmspellError):
            await run.llm_call("scripted/m", request())
        assert (await run.llm_call("scripted/m", request())).text == "fine"
        assert (await run.llm_call("scripted/m", request())).text == "fine"
    assert len(provider.requests) == 2


# --- a broken or busy file is a miss --------------------------------------------------------


async def test_a_corrupt_file_is_a_miss_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "cache.db").write_bytes(b"this is not a database, just bytes " * 200)
    provider = ScriptedProvider(default="still answered")
    kernel = load(tmp_path, provider=provider)
    with caplog.at_level(logging.WARNING, logger="llmspell.hooks.cache"):
        async with SpellRun.open(kernel) as run:
            seen = recorder(run)
            for _ in range(2):
                assert (await run.llm_call("scripted/m", request())).text == "still answered"
    assert len(provider.requests) == 2
    assert [(t, d.get("reason")) for t, d in seen] == [("cache.miss", "error")] * 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and "cache.db" in warnings[0] and "not a database" in warnings[0]
    assert "treated as a miss" in warnings[0]
    # the same failure is not repeated as a warning on every call
    assert len(warnings) == len(set(warnings))
    assert the_cache(kernel).errors >= 2


async def test_a_locked_file_is_a_miss_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    provider = ScriptedProvider(default=lambda req: f"reply {len(provider.requests)}")
    kernel = load(tmp_path, "lock_timeout = 0.05", provider=provider)
    async with SpellRun.open(kernel) as run:
        await run.llm_call("scripted/m", request())  # stored
        other = sqlite3.connect(tmp_path / "cache.db", isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            with caplog.at_level(logging.WARNING, logger="llmspell.hooks.cache"):
                seen = recorder(run)
                assert (await run.llm_call("scripted/m", request())).text == "reply 2"
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert seen == [("cache.miss", {"key": seen[0][1]["key"], "model": "scripted/m",
                                        "reason": "error"})]
        assert any("locked" in r.getMessage() for r in caplog.records
                   if r.levelno == logging.WARNING)
        # the lock is gone: the entry stored first is a hit again
        assert (await run.llm_call("scripted/m", request())).text == "reply 1"
    assert len(provider.requests) == 2


# --- settings -------------------------------------------------------------------------------


def test_the_default_file_is_in_the_projects_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMSPELL_PROJECT", str(tmp_path))
    config = llmspell.config.parse({"plugins": {"hooks-cache": {"enabled": True}}})
    found = the_cache(Kernel.load(env={}, config=config))
    assert found.path == tmp_path / ".llmspell" / "cache.db"
    assert (found.ttl, found.max_entries, found.nondeterministic) == (86400.0, 10000, False)
    config = llmspell.config.parse({"plugins": {"hooks-cache": {"path": "x/c.db"}}})
    found = the_cache(Kernel.load(env={}, config=config, enable=["hooks-cache"]))
    assert found.path == tmp_path / "x" / "c.db"


@pytest.mark.parametrize(
    ("line", "key", "problem"),
    [
        ("ttl = -1", "ttl", "must be 0 (never expire) or more seconds"),
        ("ttl = 'a day'", "ttl", "must be float"),
        ("max_entries = 0", "max_entries", "must be at least 1"),
        ("lock_timeout = -2", "lock_timeout", "must not be negative"),
        ("cache_nondeterministic = 'yes'", "cache_nondeterministic", "must be bool"),
        ("path = ''", "path", "must not be empty"),
        ("tll = 5", "tll", "did you mean 'ttl'"),
    ],
)
def test_bad_settings_are_config_errors_naming_the_key(
    tmp_path: Path, line: str, key: str, problem: str
) -> None:
    toml = f"[plugins.hooks-cache]\nenabled = true\n{line}\n"
    with pytest.raises(LlmspellError) as caught:
        Kernel.load(env={}, config=llmspell.config.parse(tomllib.loads(toml)))
    assert caught.value.code == "config_error"
    assert caught.value.details["key"] == f"plugins.hooks-cache.{key}"
    assert problem in caught.value.message


# --- spells ---------------------------------------------------------------------------------

SPELLS = {
    "lua": """
local topics = {}
Event.on("cache.*", function(event) topics[#topics + 1] = event.topic end)
local agent = Agent.create{name = "asker", model = "scripted/m"}
local first = agent:run("What is a spell?")
local second = agent:run("What is a spell?")
for i = 1, 100 do  -- handlers run as tasks of their own: let them run
  if #topics >= 2 then break end
  Task.sleep(0.01)
end
return {first = first.text, second = second.text, topics = topics}
""",
    "js": """
const topics = [];
Event.on("cache.*", (event) => { topics.push(event.topic); });
const agent = await Agent.create({name: "asker", model: "scripted/m"});
const first = await agent.run("What is a spell?");
const second = await agent.run("What is a spell?");
for (let i = 0; i < 100 && topics.length < 2; i++) { await Task.sleep(0.01); }
export default {first: first.text, second: second.text, topics};
""",
}


@pytest.mark.parametrize("lang", ["lua", "js"])
async def test_a_spell_gets_the_cached_reply_and_sees_the_events(
    tmp_path: Path, lang: str
) -> None:
    provider = ScriptedProvider(default=lambda req: f"reply {len(provider.requests)}")
    kernel = load(tmp_path, provider=provider)
    async with SpellRun.open(kernel, name=f"cache.{lang}") as run:
        out = await kernel.engines.get(lang).run(SPELLS[lang], f"cache.{lang}", run)
    assert out == {"first": "reply 1", "second": "reply 1",
                   "topics": ["cache.miss", "cache.hit"]}
    assert len(provider.requests) == 1
