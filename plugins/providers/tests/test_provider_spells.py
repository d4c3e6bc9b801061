"""Spells in both engines talking to an HTTP provider on 127.0.0.1: streaming into the spell,
the error shape of a provider failure, fallback chains — and the key never reaching the spell."""

from __future__ import annotations

from typing import Any

import pytest
from test_openai_wire import KEY, completion, delta, provider

from conftest import Answer, WireServer, sse
from llmspell.runtime import SpellRun
from llmspell.testing import ScriptedProvider, make_kernel

SPELLS = {
    "lua": {
        "stream": """
local agent = Agent.create{name = "w", model = "openai/gpt-4o-mini"}
local pieces = {}
local result = agent:stream("hi", function(piece) pieces[#pieces + 1] = piece end)
return {text = result.text, pieces = pieces, cost = result.usage.cost}
""",
        "error": """
local agent = Agent.create{name = "w", model = "openai/gpt-4o-mini"}
local ok, err = pcall(function() return agent:run("hi") end)
return {ok = ok, code = err.code, status = err.details.status, message = err.message}
""",
        "fallback": """
local agent = Agent.create{name = "w", model = {"openai/gpt-4o-mini", "scripted/backup"}}
return agent:run("hi").text
""",
    },
    "js": {
        "stream": """
const agent = await Agent.create({name: "w", model: "openai/gpt-4o-mini"});
const pieces = [];
const result = await agent.stream("hi", (piece) => { pieces.push(piece); });
export default {text: result.text, pieces, cost: result.usage.cost};
""",
        "error": """
const agent = await Agent.create({name: "w", model: "openai/gpt-4o-mini"});
let out;
try { await agent.run("hi"); out = {ok: true}; }
catch (err) { out = {ok: false, code: err.code, status: err.details.status, message: err.message}; }
export default out;
""",
        "fallback": """
const agent = await Agent.create({name: "w", model: ["openai/gpt-4o-mini", "scripted/backup"]});
export default (await agent.run("hi")).text;
""",
    },
}


async def run_spell(wire: WireServer, lang: str, name: str) -> Any:
    kernel = make_kernel(entry_points=True, provider=ScriptedProvider(default="from backup"))
    kernel.providers.add("openai", provider(wire, max_retries=0), replace=True)
    engine = kernel.engines.get(lang)
    async with SpellRun.open(kernel, name=name) as run:
        return await engine.run(SPELLS[lang][name], f"{name}.{lang}", run)


@pytest.fixture(params=["lua", "js"])
def lang(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_a_spell_streams_a_reply_from_the_wire(wire: WireServer, lang: str) -> None:
    wire.add(sse(delta("Hello"), delta(", "), delta("spell"), delta(finish="stop"),
                 {"choices": [], "usage": {"prompt_tokens": 4, "completion_tokens": 3}},
                 "[DONE]"))
    out = await run_spell(wire, lang, "stream")
    assert out["text"] == "Hello, spell"
    assert out["pieces"] == ["Hello", ", ", "spell"]
    assert out["cost"] == pytest.approx((4 * 0.15 + 3 * 0.6) / 1e6)


async def test_a_provider_failure_reaches_the_spell_as_an_error(
    wire: WireServer, lang: str
) -> None:
    wire.add(Answer(503, {"error": {"message": "overloaded"}}))
    out = await run_spell(wire, lang, "error")
    assert out["ok"] is False and out["code"] == "provider_error" and out["status"] == 503
    assert "overloaded" in out["message"] and KEY not in out["message"]
    assert wire.requests[0].headers["authorization"] == f"Bearer {KEY}"


async def test_a_spell_falls_back_to_the_next_model(wire: WireServer, lang: str) -> None:
    wire.add(Answer(500, {"error": {"message": "down"}}))
    assert await run_spell(wire, lang, "fallback") == "from backup"
    assert len(wire.requests) == 1
    wire.add(Answer(body=completion("from openai")))
    assert await run_spell(wire, lang, "fallback") == "from openai"
