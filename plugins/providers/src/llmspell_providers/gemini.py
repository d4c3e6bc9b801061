"""The Gemini protocol: ``POST {base_url}/models/{model}:generateContent``, and
``:streamGenerateContent?alt=sse`` for streams. The key goes in the ``x-goog-api-key`` header,
never in the URL.

How the kernel's requests map onto it:

- System messages (joined by blank lines) -> ``systemInstruction``; user and tool messages ->
  ``user`` turns, assistant ones -> ``model`` turns, consecutive turns of one role merged.
- Assistant tool calls -> ``functionCall`` parts ``{name, args}``; tool results ->
  ``functionResponse`` parts ``{name, response}``. A result is the JSON text the agent wrote: an
  object is sent as the response, anything else (or non-JSON text) as ``{"result": value}``. The
  name is the tool message's ``name``, else that of the call with its ``tool_call_id``.
- Ids: Gemini's function calls normally have none, so calls get ``call_{i}`` (``i``: position in
  the reply), ``call_{i}_{digest}`` when the call carries a thought signature. Such synthesized
  ids are never sent back (the API matches responses by name and order); an id the API gave is
  kept and echoed in ``functionCall`` and ``functionResponse``.
- Thought signatures: thinking models sign their function calls and Gemini 3 rejects a replayed
  call without its signature. Signatures are remembered by call id (the last
  :data:`SIGNATURES_KEPT`) and sent back with the call; when one is unknown (a conversation from
  elsewhere, a restarted process) the first call of a model turn carries Google's documented
  ``skip_thought_signature_validator`` sentinel, for models that need it (Gemini 3 and later,
  and version-less aliases such as ``gemini-flash-latest``).
- Tools -> ``tools: [{functionDeclarations: [...]}]``; schemas are reduced to the subset of
  OpenAPI Gemini accepts by :func:`gemini_schema`. ``tool_choice`` -> ``toolConfig``
  ``functionCallingConfig``: ``auto`` -> ``AUTO``, ``none`` -> ``NONE``, ``required`` -> ``ANY``,
  a tool's name -> ``ANY`` with ``allowedFunctionNames``.
- ``generationConfig``: ``temperature``, ``maxOutputTokens``, ``seed``, ``stopSequences``.
- Structured output without tools: ``responseMimeType: application/json`` and
  ``responseSchema`` (reduced like tool schemas; the agent validates the answer against the
  full schema). Gemini 2.x refuses a JSON response type together with function calling, so
  *with* tools the output goes through an output function exactly as on Anthropic
  (:func:`llmspell_providers.anthropic.output_tool`): mode ``ANY``, its arguments become the
  reply's text.
- Usage: ``promptTokenCount`` (+ ``toolUsePromptTokenCount``) in, ``candidatesTokenCount`` +
  ``thoughtsTokenCount`` out (thinking is billed as output).
- Finish: ``STOP`` -> stop (tool_calls when the reply has calls), ``MAX_TOKENS`` -> length, the
  safety family -> content_filter, a prompt blocked before any candidate -> content_filter with
  no text; ``MALFORMED_FUNCTION_CALL`` and its kin raise ``provider_error``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote

import httpx
from httpx_sse import ServerSentEvent

from llmspell.errors import LlmspellError
from llmspell.messages import Message, ToolCall, Usage
from llmspell.providers import (
    ChatRequest,
    ChatResponse,
    StreamChunk,
    ToolCallDelta,
)
from llmspell_providers.anthropic import OutputTool, output_tool
from llmspell_providers.base import HttpProvider
from llmspell_providers.http import decode_event, stream_incomplete
from llmspell_providers.prices import PriceTable
from llmspell_providers.spec import ProviderSpec

#: Gemini's finish reasons -> the kernel's (anything not listed: ``stop``).
FINISH = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "LANGUAGE": "content_filter",
}

#: Finish reasons that mean the model failed to produce a usable function call.
FAILED_CALLS = frozenset({"MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL",
                          "TOO_MANY_TOOL_CALLS"})

#: Google's documented placeholder for a function call whose thought signature is unknown.
SKIP_SIGNATURE = "skip_thought_signature_validator"

#: How many thought signatures a provider remembers (by call id).
SIGNATURES_KEPT = 4096

_SYNTHETIC_ID = re.compile(r"call_\d+(_[0-9a-f]{12})?\Z")
_VERSION = re.compile(r"gemini-(\d+)")

#: Keys of Gemini's ``Schema`` that :func:`gemini_schema` keeps from a JSON schema.
_COPIED = ("title", "description", "pattern", "minimum", "maximum", "minItems", "maxItems",
           "minLength", "maxLength", "minProperties", "maxProperties")
#: The ``format`` values Gemini accepts, by type.
_FORMATS = {"STRING": {"enum", "date-time"}, "INTEGER": {"int32", "int64"},
            "NUMBER": {"float", "double"}}


def gemini_schema(schema: Any, root: Mapping[str, Any] | None = None,
                  refs: frozenset[str] = frozenset()) -> dict[str, Any]:
    """``schema`` (JSON Schema) reduced to the OpenAPI subset Gemini accepts, which rejects
    unknown keys: types become upper case (``["string", "null"]`` -> ``STRING`` + ``nullable``),
    local ``$ref``\\ s are inlined (a recursive one becomes a bare ``OBJECT``), ``allOf`` is
    merged, ``oneOf`` becomes ``anyOf``, ``const`` a one-value ``enum``; ``enum`` is kept only
    for strings and ``format`` only where Gemini knows it. Everything else
    (``additionalProperties``, ``$schema``, ``default``, ``examples``, ``not``,
    ``patternProperties`` ...) is dropped."""
    if not isinstance(schema, Mapping):
        return {}
    root = schema if root is None else root
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target = _resolve(root, ref)
        if target is None or ref in refs:
            return {"type": "OBJECT"}
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return gemini_schema({**target, **rest}, root, refs | {ref})
    if isinstance(schema.get("allOf"), list):
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            if isinstance(part, Mapping) and isinstance(part.get("$ref"), str):
                part = _resolve(root, part["$ref"]) or {}
            if not isinstance(part, Mapping):
                continue
            for key, value in part.items():
                if key == "properties" and isinstance(value, Mapping):
                    merged["properties"] = {**merged.get("properties", {}), **value}
                elif key == "required" and isinstance(value, list):
                    merged["required"] = [*merged.get("required", []), *value]
                else:
                    merged.setdefault(key, value)
        schema = merged
    out: dict[str, Any] = {}
    kind = schema.get("type")
    types = [kind] if isinstance(kind, str) else [t for t in kind or () if isinstance(t, str)]
    nullable = "null" in types or schema.get("nullable") is True
    types = [t.upper() for t in types if t != "null"]
    if len(types) == 1:
        out["type"] = types[0]
    elif len(types) > 1:
        out["anyOf"] = [{"type": t} for t in types]
    elif isinstance(schema.get("properties"), Mapping):
        out["type"] = "OBJECT"
    elif "items" in schema:
        out["type"] = "ARRAY"
    for key in _COPIED:
        if key in schema:
            out[key] = schema[key]
    values = schema.get("enum")
    if "const" in schema:
        values = [schema["const"]]
    if isinstance(values, list) and values:
        if None in values:
            nullable = True
        strings = [v for v in values if v is not None]
        if strings and all(isinstance(v, str) for v in strings):
            out["enum"] = strings
            out.setdefault("type", "STRING")
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in _FORMATS.get(out.get("type", ""), ()):
        out["format"] = fmt
    if isinstance(schema.get("properties"), Mapping):
        out["properties"] = {name: gemini_schema(sub, root, refs)
                             for name, sub in schema["properties"].items()}
        required = [r for r in schema.get("required") or () if r in out["properties"]]
        if required:
            out["required"] = list(dict.fromkeys(required))
        ordering = schema.get("propertyOrdering")
        if isinstance(ordering, list) and all(isinstance(p, str) for p in ordering):
            out["propertyOrdering"] = ordering
    if isinstance(schema.get("items"), Mapping):
        out["items"] = gemini_schema(schema["items"], root, refs)
    variants = schema.get("anyOf", schema.get("oneOf"))
    if isinstance(variants, list):
        subs = []
        for variant in variants:
            if isinstance(variant, Mapping) and variant.get("type") == "null":
                nullable = True
            else:
                subs.append(gemini_schema(variant, root, refs))
        if len(subs) == 1 and "type" not in out:
            out.update(subs[0])
        elif subs:
            out["anyOf"] = subs
    if nullable:
        out["nullable"] = True
    return out


def _resolve(root: Mapping[str, Any], ref: str) -> Mapping[str, Any] | None:
    """The target of a local ``$ref`` (``#/$defs/X``, ``#/definitions/X`` ...), or ``None``."""
    if not ref.startswith("#"):
        return None
    node: Any = root
    for token in ref[1:].split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or token not in node:
            return None
        node = node[token]
    return node if isinstance(node, Mapping) else None


def declaration(name: str, description: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """A ``functionDeclaration``; a tool without parameters gets no ``parameters`` (Gemini
    rejects an object schema with no properties)."""
    out: dict[str, Any] = {"name": name}
    if description:
        out["description"] = description
    schema = gemini_schema(parameters)
    if schema.get("properties"):
        schema["type"] = "OBJECT"
        out["parameters"] = schema
    return out


def tool_response(content: str) -> dict[str, Any]:
    """A tool message's content as a ``functionResponse.response`` object."""
    try:
        value = json.loads(content)
    except ValueError:
        return {"result": content}
    return value if isinstance(value, dict) else {"result": value}


def usage_of(data: dict[str, Any] | None) -> Usage:
    data = data or {}
    return Usage(
        int(data.get("promptTokenCount") or 0) + int(data.get("toolUsePromptTokenCount") or 0),
        int(data.get("candidatesTokenCount") or 0) + int(data.get("thoughtsTokenCount") or 0),
    )


def needs_signature(model: str) -> bool:
    """Whether ``model`` rejects a replayed function call without a thought signature:
    Gemini 3 and later, and version-less ``gemini-`` aliases (they point at current models)."""
    name = model.rsplit("/", 1)[-1]
    found = _VERSION.match(name)
    if found:
        return int(found.group(1)) >= 3
    return name.startswith("gemini-")


class GeminiProvider(HttpProvider):
    """Gemini ``generateContent`` with function calling, JSON-schema output and SSE streaming
    (see the module docstring for the mapping)."""

    protocol = "gemini"

    def __init__(
        self,
        spec: ProviderSpec,
        prices: PriceTable,
        *,
        env: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(spec, prices, env=env, transport=transport)
        self._signatures: OrderedDict[str, str] = OrderedDict()

    # --- keys -----------------------------------------------------------------------------------

    def auth_headers(self, key: str | None) -> dict[str, str]:
        return {"x-goog-api-key": key} if key else {}

    # --- requests -------------------------------------------------------------------------------

    @staticmethod
    def model_path(model: str) -> str:
        """``models/{model}``; a full resource name (``tunedModels/x``) is kept as it is."""
        name = model if "/" in model else f"models/{model}"
        return quote(name, safe="/-._~@")

    def _output(self, request: ChatRequest) -> OutputTool | None:
        """The output function: only with tools (else the JSON response mode is used)."""
        return output_tool(request) if request.tools else None

    def wire_contents(self, request: ChatRequest) -> tuple[str, list[dict[str, Any]]]:
        """The system instruction text and the ``contents`` of ``request``."""
        system: list[str] = []
        contents: list[dict[str, Any]] = []
        names: dict[str, str] = {}
        sign = needs_signature(request.model)
        for message in request.messages:
            parts: list[dict[str, Any]] = []
            if message.role == "system":
                if message.content:
                    system.append(message.content)
                continue
            if message.role == "tool":
                name = message.name or names.get(message.tool_call_id or "")
                if not name:
                    raise LlmspellError(
                        "invalid_value",
                        f"{self.name}: a tool result (call id {message.tool_call_id!r}) names "
                        f"no tool, and Gemini needs the name",
                        {"provider": self.name, "tool_call_id": message.tool_call_id},
                    )
                response: dict[str, Any] = {"name": name,
                                            "response": tool_response(message.content)}
                if message.tool_call_id and not _SYNTHETIC_ID.match(message.tool_call_id):
                    response["id"] = message.tool_call_id
                parts.append({"functionResponse": response})
            else:
                if message.content:
                    parts.append({"text": message.content})
                for i, call in enumerate(message.tool_calls):
                    names[call.id] = call.name
                    function: dict[str, Any] = {"name": call.name, "args": call.arguments}
                    if not _SYNTHETIC_ID.match(call.id):
                        function["id"] = call.id
                    part: dict[str, Any] = {"functionCall": function}
                    signature = self._signatures.get(call.id)
                    if signature is None and i == 0 and sign:
                        signature = SKIP_SIGNATURE
                    if signature is not None:
                        part["thoughtSignature"] = signature
                    parts.append(part)
            if not parts:
                continue
            role = "model" if message.role == "assistant" else "user"
            if contents and contents[-1]["role"] == role:
                contents[-1]["parts"].extend(parts)
            else:
                contents.append({"role": role, "parts": parts})
        return "\n\n".join(system), contents

    def chat_body(self, request: ChatRequest, stream: bool) -> tuple[str, dict[str, Any]]:
        system, contents = self.wire_contents(request)
        body: dict[str, Any] = {"contents": contents}
        out = self._output(request)
        declarations = [declaration(t.name, t.description, t.parameters) for t in request.tools]
        choice = request.tool_choice
        if out is not None:
            declarations.append(declaration(out.name, out.description, out.schema))
            if choice == "none":
                choice = out.name
            elif choice in (None, "auto", "required"):
                choice = "required"
            system = "\n\n".join(t for t in (system, out.instruction) if t)
        if system:
            body["systemInstruction"] = {"parts": [{"text": system}]}
        if declarations:
            body["tools"] = [{"functionDeclarations": declarations}]
            config: dict[str, Any] | None = None
            if choice in ("auto", "none", "required"):
                config = {"mode": {"auto": "AUTO", "none": "NONE", "required": "ANY"}[choice]}
            elif choice is not None:
                config = {"mode": "ANY", "allowedFunctionNames": [choice]}
            if config is not None:
                body["toolConfig"] = {"functionCallingConfig": config}
        generation: dict[str, Any] = {}
        if request.temperature is not None:
            generation["temperature"] = request.temperature
        if request.max_tokens is not None:
            generation["maxOutputTokens"] = request.max_tokens
        if request.seed is not None:
            generation["seed"] = request.seed
        if request.stop:
            generation["stopSequences"] = list(request.stop)
        if request.output_schema is not None and out is None:
            generation["responseMimeType"] = "application/json"
            generation["responseSchema"] = gemini_schema(request.output_schema)
        if generation:
            body["generationConfig"] = generation
        method = ":streamGenerateContent?alt=sse" if stream else ":generateContent"
        return self.model_path(request.model) + method, body

    # --- replies --------------------------------------------------------------------------------

    def _read_parts(
        self, parts: list[dict[str, Any]], out: OutputTool | None, first: int, request: ChatRequest
    ) -> tuple[str, list[ToolCall]]:
        """The text and the tool calls of some parts; calls are numbered from ``first``. The
        output function's arguments become text; thoughts are skipped; signatures are kept."""
        text: list[str] = []
        calls: list[ToolCall] = []
        for part in parts:
            if "functionCall" in part:
                call = part["functionCall"]
                name = call["name"]
                arguments = call.get("args") or {}
                if not isinstance(arguments, dict):
                    raise self.malformed(request, f"the args of function call {name!r} are not "
                                                  f"an object: {json.dumps(arguments)[:120]}")
                if out is not None and name == out.name:
                    text.append(out.answer(arguments))
                    continue
                signature = part.get("thoughtSignature")
                index = first + len(calls)
                call_id = call.get("id")
                if not call_id:
                    call_id = f"call_{index}"
                    if signature:
                        call_id += "_" + hashlib.sha256(signature.encode()).hexdigest()[:12]
                if signature:
                    self._remember(str(call_id), signature)
                calls.append(ToolCall(str(call_id), name, arguments))
            elif isinstance(part.get("text"), str) and not part.get("thought"):
                text.append(part["text"])
        return "".join(text), calls

    def _remember(self, call_id: str, signature: str) -> None:
        self._signatures[call_id] = signature
        self._signatures.move_to_end(call_id)
        while len(self._signatures) > SIGNATURES_KEPT:
            self._signatures.popitem(last=False)

    def _finish(self, reason: str, candidate: dict[str, Any], calls: list[ToolCall],
                request: ChatRequest) -> str:
        if reason in FAILED_CALLS:
            detail = candidate.get("finishMessage") or "no usable function call"
            raise LlmspellError(
                "provider_error",
                f"{self.name}: the model failed to call a function ({reason}): {detail}",
                {"provider": self.name, "model": request.model, "reason": "malformed",
                 "finish_reason": reason},
            )
        return "tool_calls" if calls else FINISH.get(reason, "stop")

    def _error(self, data: dict[str, Any], request: ChatRequest) -> LlmspellError:
        err = data["error"]
        message = err.get("message") if isinstance(err, dict) else str(err)
        return LlmspellError(
            "provider_error",
            f"{self.name}: error in the stream: {message}",
            {"provider": self.name, "model": request.model, "reason": "stream_error"},
        )

    def parse_reply(self, data: dict[str, Any], request: ChatRequest) -> ChatResponse:
        usage = usage_of(data.get("usageMetadata"))
        model = str(data.get("modelVersion") or request.model)
        candidates = data.get("candidates")
        if not isinstance(candidates, list) or not candidates:
            if (data.get("promptFeedback") or {}).get("blockReason"):
                return ChatResponse(Message("assistant", ""), usage, "content_filter", model)
            raise self.malformed(request, f"no candidates in {json.dumps(data)[:160]}")
        candidate = candidates[0]
        parts = (candidate.get("content") or {}).get("parts") or []
        text, calls = self._read_parts(parts, self._output(request), 0, request)
        finish = self._finish(candidate.get("finishReason") or "STOP", candidate, calls, request)
        return ChatResponse(Message("assistant", text, tool_calls=tuple(calls)), usage, finish,
                            model)

    async def parse_stream(
        self, events: AsyncIterator[ServerSentEvent], request: ChatRequest
    ) -> AsyncIterator[StreamChunk]:
        """Every event is a whole ``GenerateContentResponse`` chunk; the stream ends with the
        connection. Text parts stream as text; a function call arrives whole, as one
        :class:`ToolCallDelta`. A stream that ends before any ``finishReason`` is incomplete."""
        out = self._output(request)
        calls: list[ToolCall] = []
        usage: Usage | None = None
        finish: str | None = None
        async for event in events:
            data = decode_event(event, self.name, request.model)
            if not isinstance(data, dict):
                raise self.malformed(request, f"stream event is not an object: {event.data[:80]}")
            if "error" in data:
                raise self._error(data, request)
            if data.get("usageMetadata"):
                usage = usage_of(data["usageMetadata"])
            candidates = data.get("candidates") or []
            if not candidates and (data.get("promptFeedback") or {}).get("blockReason"):
                finish = "content_filter"
            for candidate in candidates[:1]:
                parts = (candidate.get("content") or {}).get("parts") or []
                text, new = self._read_parts(parts, out, len(calls), request)
                deltas = tuple(
                    ToolCallDelta(len(calls) + i, c.id, c.name, json.dumps(c.arguments))
                    for i, c in enumerate(new)
                )
                calls.extend(new)
                if text or deltas:
                    yield StreamChunk(text=text, tool_deltas=deltas)
                if candidate.get("finishReason"):
                    finish = self._finish(candidate["finishReason"], candidate, calls, request)
        if finish is None:
            raise stream_incomplete(self.name, request.model)
        if calls:
            finish = "tool_calls"
        yield StreamChunk(tool_calls=tuple(calls), usage=usage or Usage(), finish_reason=finish)
