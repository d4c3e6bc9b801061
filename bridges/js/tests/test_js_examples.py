"""The JavaScript examples in examples/ run (in-process, with the scripted model)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from llmspell.messages import ToolCall
from llmspell.testing import Reply

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def source(name: str) -> str:
    path = EXAMPLES / name
    if not path.exists():
        pytest.skip(f"examples/{name} is missing")
    return path.read_text()


@pytest.fixture
def default_model(monkeypatch):
    monkeypatch.setitem(os.environ, "LLMSPELL_MODEL", "scripted/x")


async def test_hello(js, provider, default_model):
    provider.add("Hello, new llmspell user!")
    out = await js(source("hello.js"), filename="hello.js")
    assert out.output == ["Hello, new llmspell user!"]


async def test_agent_tools(js, provider, default_model):
    provider.add(Reply(tool_calls=[ToolCall("c1", "weather", {"city": "Oslo"})]),
                 "It snows in Oslo, -3 C.")
    out = await js(source("agent_tools.js"), args={"city": "Oslo"}, filename="agent_tools.js")
    assert out.output == ["It snows in Oslo, -3 C."]
    assert out.result == {"tool_calls": 1}
    assert "snow" in provider.requests[1].messages[-1].content


async def test_tasks(js):
    out = await js(source("tasks.js"), args={"n": "2"}, filename="tasks.js")
    assert out.output == ["squares of 1..2: 1, 4", "slow call: stopped (timeout)"]
    assert out.result == {"squares": [1, 4], "runs": 1}


async def test_events(js):
    out = await js(source("events.js"), filename="events.js")
    assert out.output == ["HELLO EVENTS", "hello again", "ready: 42"]
    assert len(out.result["events"]) == 4
