"""hooks-ratelimit: token buckets per provider and per tool, waiting on trio's clock (driven by
``autojump_clock``, so every wait is exact and instant), ``max_wait`` failing with ``limit``,
cancellation, buckets shared by the runs of a kernel, settings, and spells in both engines."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

import llmspell.config
from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.messages import Message, Usage
from llmspell.providers import ChatRequest
from llmspell.runtime import SpellRun
from llmspell.testing import Reply, ScriptedProvider
from llmspell_hooks import ratelimit

Clock = trio.testing.MockClock


def load(toml: str, *, provider: ScriptedProvider | None = None, **kw: Any) -> Kernel:
    toml = "[plugins.hooks-ratelimit]\nenabled = true\n" + toml
    kernel = Kernel.load(env={}, config=llmspell.config.parse(tomllib.loads(toml)), **kw)
    provider = provider if provider is not None else ScriptedProvider(default="ok")
    kernel.providers.add(provider.name, provider, replace=True)
    return kernel


def request(chars: int = 4, **kw: Any) -> ChatRequest:
    return ChatRequest(model="m", messages=[Message("user", "x" * chars)], **kw)


def waits(run: SpellRun) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    run.hooks.register(
        "after_event_emit",
        lambda ctx: seen.append(ctx.output.data) if ctx.name == "ratelimit.waited" else None,
    )
    return seen


async def echo_at(run: SpellRun, text: str = "hi") -> float:
    assert await run.call_tool("echo", {"text": text}) == text
    return trio.current_time()


def test_hooks_ratelimit_is_off_by_default() -> None:
    assert ratelimit.llmspell_default_enabled is False
    kernel = Kernel.load(env={})
    assert "hooks-ratelimit" not in kernel.plugins and ratelimit.limiter(kernel) is None


# --- tools ----------------------------------------------------------------------------------


async def test_tool_calls_wait_for_their_bucket(autojump_clock: Clock) -> None:
    kernel = load("[plugins.hooks-ratelimit.tools]\necho = {calls_per_minute = 2}\n")
    start = trio.current_time()
    async with SpellRun.open(kernel) as run:
        seen = waits(run)
        times = [await echo_at(run) - start for _ in range(4)]
        assert await run.call_tool("calculator", {"expression": "1 + 1"}) == 2  # no limit
    assert times == [0.0, 0.0, 30.0, 60.0]
    assert seen == [
        {"bucket": "tools.echo", "limit": "calls_per_minute", "kind": "tool_call",
         "name": "echo", "seconds": 30.0},
    ] * 2


async def test_the_default_tool_entry_gives_every_tool_its_own_bucket(
    autojump_clock: Clock,
) -> None:
    kernel = load("[plugins.hooks-ratelimit.tools]\ndefault = {calls_per_minute = 1}\n"
                  "calculator = {calls_per_minute = 60}\n")
    start = trio.current_time()
    async with SpellRun.open(kernel) as run:
        assert await echo_at(run) == start
        for _ in range(3):
            await run.call_tool("calculator", {"expression": "2"})
        assert trio.current_time() == start  # its own, larger bucket
        assert await run.call_tool("uuid", {}) is not None  # a bucket of its own too
        assert trio.current_time() == start
        assert await echo_at(run) == start + 60


async def test_a_wait_beyond_max_wait_fails_with_limit_at_once(autojump_clock: Clock) -> None:
    kernel = load("max_wait = 45\n[plugins.hooks-ratelimit.tools]\n"
                  "echo = {calls_per_minute = 1}\n")
    start = trio.current_time()
    async with SpellRun.open(kernel) as run:
        await echo_at(run)
        with pytest.raises(LlmspellError) as caught:
            await run.call_tool("echo", {"text": "hi"})
        assert trio.current_time() == start  # failed without waiting
        await trio.sleep(20)  # now the wait is 40 s: within max_wait, and nothing was taken
        assert await echo_at(run) == pytest.approx(start + 60)
    err = caught.value
    assert err.code == "limit"
    assert err.message == (
        "rate limit tools.echo (calls_per_minute = 1) would hold tool_call 'echo' for 60 s, "
        "more than max_wait = 45 s"
    )
    assert err.details == {"bucket": "tools.echo", "limit": "calls_per_minute",
                           "per_minute": 1.0, "wait": 60.0, "max_wait": 45.0,
                           "kind": "tool_call", "name": "echo"}


async def test_an_entry_may_set_its_own_max_wait(autojump_clock: Clock) -> None:
    kernel = load("max_wait = 1000\n[plugins.hooks-ratelimit.tools]\n"
                  "echo = {calls_per_minute = 1, max_wait = 0}\n"
                  "default = {calls_per_minute = 1}\n")
    async with SpellRun.open(kernel) as run:
        await echo_at(run)
        with pytest.raises(LlmspellError, match="max_wait = 0 s"):
            await echo_at(run)
        await run.call_tool("uuid", {})
        await run.call_tool("uuid", {})  # waits 60 s, within the global max_wait


async def test_a_cancelled_wait_gives_its_place_back(autojump_clock: Clock) -> None:
    kernel = load("[plugins.hooks-ratelimit.tools]\necho = {calls_per_minute = 1}\n")
    start = trio.current_time()
    async with SpellRun.open(kernel) as run:
        await echo_at(run)
        with trio.move_on_after(10) as scope:
            await echo_at(run)
        assert scope.cancelled_caught
        # the cancelled call's reservation is returned: the next call waits 50 s, not 110 s
        assert await echo_at(run) == pytest.approx(start + 60)


async def test_concurrent_calls_queue_behind_each_other(autojump_clock: Clock) -> None:
    kernel = load("max_wait = 300\n[plugins.hooks-ratelimit.tools]\n"
                  "echo = {calls_per_minute = 1}\n")
    start = trio.current_time()
    done: list[float] = []
    async with SpellRun.open(kernel) as run:
        async with trio.open_nursery() as nursery:
            for i in range(3):
                nursery.start_soon(lambda i=i: echo_and_record(run, done, str(i)))
    assert sorted(t - start for t in done) == pytest.approx([0.0, 60.0, 120.0])


async def echo_and_record(run: SpellRun, done: list[float], text: str) -> None:
    done.append(await echo_at(run, text))


async def test_buckets_are_shared_by_the_runs_of_a_kernel(autojump_clock: Clock) -> None:
    toml = "[plugins.hooks-ratelimit.tools]\necho = {calls_per_minute = 1}\n"
    kernel, other = load(toml), load(toml)
    start = trio.current_time()
    async with SpellRun.open(kernel) as first:
        await echo_at(first)
    async with SpellRun.open(other) as elsewhere:  # another kernel: buckets of its own
        assert await echo_at(elsewhere) == start
    async with SpellRun.open(kernel) as second:
        assert await echo_at(second) == start + 60


# --- providers ------------------------------------------------------------------------------


async def test_model_calls_wait_for_requests_per_minute(autojump_clock: Clock) -> None:
    kernel = load("[plugins.hooks-ratelimit.providers]\nscripted = {requests_per_minute = 6}\n")
    start = trio.current_time()
    async with SpellRun.open(kernel) as run:
        seen = waits(run)
        for _ in range(6):
            await run.llm_call("scripted/a", request())
            await trio.sleep(0)
        assert trio.current_time() == start
        await run.llm_call("scripted/b", request())  # one bucket for the provider
        assert trio.current_time() == start + 10
    assert seen == [{"bucket": "providers.scripted", "limit": "requests_per_minute",
                     "kind": "llm_call", "name": "scripted/b", "seconds": 10.0}]


async def test_tokens_are_estimated_then_corrected_by_the_usage(autojump_clock: Clock) -> None:
    provider = ScriptedProvider(default=Reply("ok", usage=Usage(40, 20, 0.0)))
    kernel = load("[plugins.hooks-ratelimit.providers]\nscripted = {tokens_per_minute = 120}\n",
                  provider=provider)
    assert ratelimit.estimate_tokens(request(160)) == 40
    assert ratelimit.estimate_tokens(request(160, max_tokens=10)) == 50
    start = trio.current_time()
    async with SpellRun.open(kernel) as run:
        await run.llm_call("scripted/m", request(160))  # reserves 40, used 60: 60 left
        await run.llm_call("scripted/m", request(160))  # reserves 40, used 60: 0 left
        assert trio.current_time() == start
        await run.llm_call("scripted/m", request(160))  # needs 40 at 2 per second
        assert trio.current_time() == start + 20


async def test_a_model_entry_beats_its_providers_and_default_covers_the_rest(
    autojump_clock: Clock,
) -> None:
    kernel = load(
        "[plugins.hooks-ratelimit.providers]\n"
        '"scripted/big" = {requests_per_minute = 1}\n'
        "scripted = {requests_per_minute = 2}\n"
        "default = {requests_per_minute = 3}\n"
    )
    other = ScriptedProvider(name="other", default="ok")
    kernel.providers.add("other", other)
    start = trio.current_time()
    async with SpellRun.open(kernel) as run:
        async def at(model: str) -> float:
            await run.llm_call(model, request())
            return trio.current_time() - start

        assert [await at("scripted/big"), await at("scripted/big")] == [0, 60]
        # scripted/small uses the provider's bucket, full after a minute
        assert [await at("scripted/small") for _ in range(3)] == [60, 60, 90]
        assert [await at("other/x") for _ in range(4)] == [90, 90, 90, 110]
    lim = ratelimit.limiter(kernel)
    assert lim is not None
    assert sorted(lim.buckets) == ["providers.other", "providers.scripted",
                                   "providers.scripted/big"]


async def test_a_cache_hit_uses_up_no_rate_limit(tmp_path: Path) -> None:
    """(No autojump clock: the cache works in a thread.) With ``max_wait = 0`` a second
    provider call would fail at once; the hits never reach the limiter."""
    provider = ScriptedProvider(default="ok")
    kernel = load(
        "[plugins.hooks-ratelimit.providers]\nscripted = {requests_per_minute = 1, max_wait = 0}\n"
        f'[plugins.hooks-cache]\nenabled = true\npath = "{tmp_path / "c.db"}"\n',
        provider=provider,
    )
    async with SpellRun.open(kernel) as run:
        for _ in range(3):
            assert (await run.llm_call("scripted/m", request())).text == "ok"
        with pytest.raises(LlmspellError) as caught:
            await run.llm_call("scripted/m", request(8))
    assert caught.value.code == "limit"
    assert len(provider.requests) == 1


# --- settings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "key", "problem"),
    [
        ("max_wiat = 3", "plugins.hooks-ratelimit.max_wiat", "did you mean 'max_wait'"),
        ("max_wait = -1", "plugins.hooks-ratelimit.max_wait", "must be 0 or more seconds"),
        ("providers = 3", "plugins.hooks-ratelimit.providers", "must be dict"),
        ("[plugins.hooks-ratelimit.providers]\nopenai = 60",
         "plugins.hooks-ratelimit.providers.openai", "must be a table"),
        ("[plugins.hooks-ratelimit.providers]\nopenai = {requests_per_minut = 60}",
         "plugins.hooks-ratelimit.providers.openai.requests_per_minut", "did you mean"),
        ("[plugins.hooks-ratelimit.providers]\nopenai = {requests_per_minute = 0}",
         "plugins.hooks-ratelimit.providers.openai.requests_per_minute", "greater than 0"),
        ("[plugins.hooks-ratelimit.providers]\nopenai = {max_wait = 3}",
         "plugins.hooks-ratelimit.providers.openai.requests_per_minute", "is missing"),
        ("[plugins.hooks-ratelimit.tools]\nweb_fetch = {requests_per_minute = 3}",
         "plugins.hooks-ratelimit.tools.web_fetch.requests_per_minute", "not a known setting"),
        ("[plugins.hooks-ratelimit.tools]\nweb_fetch = {calls_per_minute = 'lots'}",
         "plugins.hooks-ratelimit.tools.web_fetch.calls_per_minute", "must be float"),
        ("[plugins.hooks-ratelimit.tools]\nweb_fetch = {calls_per_minute = 5, max_wait = -5}",
         "plugins.hooks-ratelimit.tools.web_fetch.max_wait", "must be 0 or more"),
    ],
)
def test_bad_settings_are_config_errors_naming_the_key(toml: str, key: str, problem: str) -> None:
    with pytest.raises(LlmspellError) as caught:
        load(toml + "\n")
    assert caught.value.code == "config_error"
    assert caught.value.details["key"] == key
    assert problem in caught.value.message


def test_settings_become_rules() -> None:
    kernel = load(
        "max_wait = 5\n"
        "[plugins.hooks-ratelimit.providers]\n"
        "openai = {requests_per_minute = 60, tokens_per_minute = 90000}\n"
        "[plugins.hooks-ratelimit.tools]\n"
        "web_fetch = {calls_per_minute = 30, max_wait = 120}\n"
    )
    lim = ratelimit.limiter(kernel)
    assert lim is not None
    assert lim.providers == {"openai": ratelimit.Rule(60.0, 90000.0, 5.0)}
    assert lim.tools == {"web_fetch": ratelimit.Rule(30.0, None, 120.0)}
    assert lim.for_model("anthropic/claude") is None and lim.for_tool("echo") is None


# --- spells ---------------------------------------------------------------------------------

SPELLS = {
    "lua": """
local waited = {}
Event.on("ratelimit.waited", function(event) waited[#waited + 1] = event.data.seconds end)
for i = 1, 3 do Tool.call("echo", {text = "hi"}) end
Tool.call("uuid", {})
local ok, err = pcall(Tool.call, "uuid", {})
for i = 1, 100 do
  if #waited >= 1 then break end
  Task.sleep(0.001)
end
return {waited = waited, ok = ok, code = err.code, bucket = err.details.bucket,
        wait = err.details.wait}
""",
    "js": """
const waited = [];
Event.on("ratelimit.waited", (event) => { waited.push(event.data.seconds); });
for (let i = 0; i < 3; i++) { await Tool.call("echo", {text: "hi"}); }
await Tool.call("uuid", {});
let out = {ok: true};
try { await Tool.call("uuid", {}); }
catch (err) {
  out = {ok: false, code: err.code, bucket: err.details.bucket, wait: err.details.wait};
}
for (let i = 0; i < 100 && waited.length < 1; i++) { await Task.sleep(0.001); }
export default {waited, ...out};
""",
}


@pytest.mark.parametrize("lang", ["lua", "js"])
async def test_a_spell_waits_then_hits_max_wait(autojump_clock: Clock, lang: str) -> None:
    kernel = load("[plugins.hooks-ratelimit.tools]\n"
                  "echo = {calls_per_minute = 2}\nuuid = {calls_per_minute = 1, max_wait = 0}\n")
    start = trio.current_time()
    async with SpellRun.open(kernel, name=f"limits.{lang}") as run:
        out = await kernel.engines.get(lang).run(SPELLS[lang], f"limits.{lang}", run)
    # two echo calls at once, the third after 30 s; the second uuid call may not wait at all
    assert out == {"waited": [30], "ok": False, "code": "limit", "bucket": "tools.uuid",
                   "wait": 60}
    assert 30 <= trio.current_time() - start < 31
