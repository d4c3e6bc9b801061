"""One reply of a local model, generated in a worker thread (everything here blocks).

A request goes one of three ways:

- no tools (or ``tool_choice="none"``): ``create_chat_completion`` with the *text* chat format
  (``text_chat_format``, by default the chat template stored in the GGUF file);
- tools, with ``chat_format = "chatml-function-calling"`` (the default): llmspell's driver of that
  protocol, :mod:`llmspell_local.function_calling`;
- tools, with another llama-cpp-python chat format (``functionary-v2`` ...): that format's
  handler, through ``create_chat_completion``.

Structured output (``output_schema``) constrains the text with a grammar built from the schema.
Every way yields :class:`StreamChunk` pieces and ends with the final chunk; a whole reply is
these chunks collected.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from llmspell.errors import LlmspellError, did_you_mean
from llmspell.messages import Message
from llmspell.providers import ChatRequest, StreamChunk
from llmspell_local import function_calling
from llmspell_local.llama_models import LoadedModel, Stopped, load_model
from llmspell_local.replies import ReplyBuilder
from llmspell_local.session import Session
from llmspell_local.settings import FUNCTION_CALLING, MODEL_TEMPLATE, LocalSettings

#: Temperature of requests that give none (llama-cpp-python's chat default).
DEFAULT_TEMPERATURE = 0.2


@attrs.define(frozen=True)
class Job:
    """What a worker thread needs for one request: the checked model file, the provider's
    settings and the request (its ``model`` is the name after ``local/``)."""

    path: Path
    settings: LocalSettings
    request: ChatRequest


def generate(job: Job, cancel: threading.Event) -> Iterator[StreamChunk]:
    """The chunks of one reply, the last one with tool calls, usage and finish reason. Loads
    the model on first use and holds its lock for the whole reply; raises :class:`Stopped` soon
    after ``cancel`` is set, ``config_error`` for an unknown chat format and ``provider_error``
    for anything llama.cpp fails at."""
    settings = job.settings
    model = load_model(job.path, n_ctx=settings.n_ctx, n_threads=settings.n_threads)
    with model.hold(cancel) as llama:
        session = Session(llama, cancel, sampling(job.request, settings))
        builder = ReplyBuilder(job.request.model)
        try:
            yield from _reply(job, model, session, builder)
            yield builder.final(session.meter.usage())
        except (Stopped, LlmspellError):
            raise
        except Exception as exc:
            raise llama_failure(job, exc) from exc


def sampling(request: ChatRequest, settings: LocalSettings) -> dict[str, Any]:
    """``temperature`` and ``seed`` of a request, with the defaults filled in; seed ``-1``
    becomes a fresh random seed."""
    seed = request.seed if request.seed is not None else settings.seed
    if seed < 0:
        seed = random.randrange(2**31)
    temperature = request.temperature
    return {"temperature": DEFAULT_TEMPERATURE if temperature is None else temperature,
            "seed": seed}


def uses_tools(request: ChatRequest, settings: LocalSettings) -> bool:
    """Whether the reply may call tools: tools given and not ``tool_choice="none"``, and not a
    turn right after tool results under ``auto`` when ``answer_after_tools`` is set."""
    if not request.tools or request.tool_choice == "none":
        return False
    after_results = bool(request.messages) and request.messages[-1].role == "tool"
    return not (settings.answer_after_tools and after_results
                and request.tool_choice in (None, "auto"))


def _reply(
    job: Job, model: LoadedModel, session: Session, builder: ReplyBuilder
) -> Iterator[StreamChunk]:
    request, settings = job.request, job.settings
    max_tokens = request.max_tokens or settings.max_tokens
    tools = uses_tools(request, settings)
    if tools and settings.chat_format == FUNCTION_CALLING:
        yield from function_calling.run(
            session, builder, request.messages, request.tools, request.tool_choice,
            max_tokens=max_tokens, max_calls=settings.max_tool_calls, stop=list(request.stop),
            output_schema=request.output_schema,
        )
        return
    options: dict[str, Any] = {"max_tokens": max_tokens, "stop": list(request.stop)}
    if request.output_schema is not None:
        options["response_format"] = {"type": "json_object", "schema": request.output_schema}
    if tools:
        model.llama.chat_format = chat_format(model, settings, "chat_format")
        options["messages"] = openai_messages(request.messages)
        options["tools"] = [
            {"type": "function",
             "function": {"name": t.name, "description": t.description,
                          "parameters": t.parameters}}
            for t in request.tools
        ]
        choice = request.tool_choice or "auto"
        options["tool_choice"] = (
            choice if choice in ("auto", "required")
            else {"type": "function", "function": {"name": choice}}
        )
    else:
        model.llama.chat_format = chat_format(model, settings, "text_chat_format")
        options["messages"] = text_messages(request.messages)
    for data in session.chat(**options):
        yield from builder.add_llama_chunk(data)
    session.meter.end_pass(builder.finish)


def chat_format(model: LoadedModel, settings: LocalSettings, key: str) -> str:
    """The llama-cpp-python chat format named by setting ``key`` (``"model"``: the one the
    model file brought); ``config_error`` naming the key when llama-cpp-python has no such
    format."""
    name = str(getattr(settings, key))
    if key == "text_chat_format" and name == MODEL_TEMPLATE:
        return model.own_format
    from llama_cpp import llama_chat_format

    if name in model.llama._chat_handlers:
        return name
    try:
        llama_chat_format.get_chat_completion_handler(name)
    except Exception:
        registry = llama_chat_format.LlamaChatCompletionHandlerRegistry()
        known = [*getattr(registry, "_chat_handlers", {}), *model.llama._chat_handlers]
        if key == "text_chat_format":
            known.append(MODEL_TEMPLATE)
        raise settings.table.error(
            key, f"names an unknown chat format {name!r}" + did_you_mean(name, known)
        ) from None
    return name


def text_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Messages for a plain chat template: text only. Tool calls are written out as the
    function-calling protocol writes them, tool results as user turns."""
    names = function_calling.tool_names(messages)
    out = []
    for m in messages:
        if m.role == "tool":
            name = m.name or names.get(m.tool_call_id or "", "tool")
            out.append({"role": "user", "content": function_calling.result_text(name, m.content)})
        elif m.tool_calls:
            parts = [m.content] if m.content else []
            parts.extend(function_calling.call_text(c) for c in m.tool_calls)
            out.append({"role": m.role, "content": "\n".join(parts)})
        else:
            out.append({"role": m.role, "content": m.content})
    return out


def openai_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Messages in the OpenAI chat-completions shape, which llama-cpp-python's tool-calling
    chat handlers take."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "tool":
            out.append({"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content})
            continue
        item: dict[str, Any] = {"role": m.role, "content": m.content}
        if m.tool_calls:
            item["content"] = m.content or None
            item["tool_calls"] = [
                {"id": c.id, "type": "function",
                 "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
                for c in m.tool_calls
            ]
        out.append(item)
    return out


def llama_failure(job: Job, exc: Exception) -> LlmspellError:
    """``provider_error`` for an exception out of llama-cpp-python."""
    text = f"{type(exc).__name__}: {exc}"
    hint = None
    if "context window" in str(exc):
        hint = (f"the prompt does not fit n_ctx={job.settings.n_ctx}: raise "
                f"[providers.local] n_ctx, or send fewer messages")
    return LlmspellError(
        "provider_error",
        f"local: model {job.request.model!r} ({job.path}) failed: {text}",
        {"provider": "local", "model": job.request.model, "path": str(job.path),
         "reason": type(exc).__name__},
        hint=hint,
    )
