"""Tool calls with the ``chatml-function-calling`` prompt protocol, driven by llmspell.

The protocol is llama-cpp-python's: a ChatML prompt whose system message lists the functions,
and an assistant turn that starts either with ``message:`` (a text answer) or with one or more
``functions.NAME:`` lines, each followed by the call's JSON arguments. llmspell runs it itself
(llama-cpp-python 0.3 ships it as a chat handler) because that handler:

- constrains a text answer under ``tool_choice="auto"`` by the follow-up grammar, so every text
  answer comes back empty;
- cannot stream when the model picks a tool under ``"auto"``;
- has no ``"required"``;
- drops ``tool`` messages (the model never sees a tool's result) and shows no tool descriptions.

Here, with the same prompt format: a grammar-constrained decision pass (``message:`` or a
function name; only function names for ``"required"``; skipped for a forced tool), then either
free text (or text matching the output schema) or the arguments, constrained by the tool's JSON
schema, then, while ``max_calls`` allows, a follow-up pass that may add another call. A
follow-up call identical to an earlier one, or cut off by ``max_tokens``, is dropped and ends the
reply (SmolLM2-135M never ends a list of calls by itself: it repeats them). Tool
descriptions are shown as the ``description`` of each function's schema; tool results are shown
as user turns ``Result of functions.NAME:``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence

from llmspell.messages import Message, ToolCall
from llmspell.providers import StreamChunk, ToolSpec
from llmspell_local.replies import ReplyBuilder
from llmspell_local.session import Session

IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
#: Token cap of a decision pass (``message:`` or ``functions.NAME:``).
DECISION_TOKENS = 48

_INSTRUCTIONS = (
    "\n\nYou can respond to users messages with either a single message or one or more function "
    "calls."
    "\n\nTo respond with a message begin the message with 'message:', use the following format:"
    "\n\nmessage:\n<message>"
    "\n\nTo respond with one or more function calls begin the message with "
    "'functions.<function_name>:', use the following format:"
    '\n\nfunctions.<function_name>:\n{ "arg1": "value1", "arg2": "value2" }'
    '\nfunctions.<function_name>:\n{ "arg1": "value1", "arg2": "value2" }'
)


def call_text(call: ToolCall) -> str:
    """A tool call as the protocol writes it."""
    return f"functions.{call.name}:\n{json.dumps(call.arguments, ensure_ascii=False)}"


def result_text(name: str, content: str) -> str:
    """A tool's result as the text of the user turn that shows it to the model."""
    return f"Result of functions.{name}:\n{content}"


def tool_names(messages: Sequence[Message]) -> dict[str, str]:
    """Tool call id -> tool name, over the assistant messages (for tool messages without a
    ``name``)."""
    return {c.id: c.name for m in messages for c in m.tool_calls}


def functions_text(tools: Sequence[ToolSpec]) -> str:
    """The part of the system message that lists the functions and the answer format."""
    parts = ["\n\nYou have access to the following functions:\n"]
    for tool in tools:
        schema = dict(tool.parameters)
        if tool.description and "description" not in schema:
            schema = {"description": tool.description, **schema}
        parts.append(f"\nfunctions.{tool.name}:\n{json.dumps(schema, ensure_ascii=False)}\n")
    parts.append(_INSTRUCTIONS)
    return "".join(parts)


def render_prompt(messages: Sequence[Message], tools: Sequence[ToolSpec]) -> str:
    """The ChatML prompt of ``messages`` with ``tools`` listed in the first system message (one
    is added when there is none), ending with the opening of the assistant's turn."""
    listing = functions_text(tools)
    names = tool_names(messages)
    out = []
    if not messages or messages[0].role != "system":
        out.append(f"{IM_START}system\n{listing.lstrip()}{IM_END}\n")
        listing = ""
    for message in messages:
        if message.role == "system":
            out.append(f"{IM_START}system\n{message.content}{listing}{IM_END}\n")
            listing = ""
        elif message.role == "user":
            out.append(f"{IM_START}user\n{message.content}{IM_END}\n")
        elif message.role == "assistant":
            body = [f"message:\n{message.content}"] if message.content else []
            body.extend(call_text(c) for c in message.tool_calls)
            out.append(f"{IM_START}assistant\n" + "\n".join(body) + f"{IM_END}\n")
        else:
            name = message.name or names.get(message.tool_call_id or "", "tool")
            out.append(f"{IM_START}user\n{result_text(name, message.content)}{IM_END}\n")
    out.append(f"{IM_START}assistant\n")
    return "".join(out)


def choice_grammar(names: Sequence[str], *, message: bool, optional: bool = False) -> str:
    """GBNF for a decision pass: ``functions.NAME:`` for one of ``names``, or ``message:`` when
    ``message``; with ``optional``, also nothing (the end of the turn)."""
    options = [json.dumps(f"functions.{n}:") for n in names]
    if message:
        options.append(json.dumps("message:"))
    rule = "(" + " | ".join(options) + ")" + ("?" if optional else "")
    return f"root ::= {rule}\n"


def run(
    session: Session,
    builder: ReplyBuilder,
    messages: Sequence[Message],
    tools: Sequence[ToolSpec],
    tool_choice: str | None,
    *,
    max_tokens: int,
    max_calls: int,
    stop: list[str],
    output_schema: dict[str, object] | None,
) -> Iterator[StreamChunk]:
    """Generate one reply with tools; yields its chunks (text deltas or tool-call fragments) as
    they come. ``tool_choice`` is ``None``/``"auto"``, ``"required"`` or a tool's name (which
    the caller checked); a forced tool gives exactly one call, otherwise up to ``max_calls``.
    The final chunk is the caller's (``builder.final``)."""
    by_name = {t.name: t for t in tools}
    names = list(by_name)
    prompt = render_prompt(messages, tools)

    def budget() -> int:
        return max(1, max_tokens - session.meter.output_tokens)

    if tool_choice in (None, "auto", "required"):
        grammar = choice_grammar(names, message=tool_choice != "required")
        decision = "".join(session.complete(
            prompt, max_tokens=DECISION_TOKENS, stop=[":"], grammar=grammar, temperature=0.0
        ))
        if decision.startswith("message"):
            prompt += "message:\n"
            for piece in session.complete(prompt, max_tokens=budget(), stop=[IM_END, *stop],
                                          schema=output_schema):
                chunk = builder.add_text(piece)
                if chunk is not None:
                    yield chunk
            builder.finish = session.finish
            return
        name = decision.removeprefix("functions.").rstrip(":")
        forced = False
    else:
        name, forced = tool_choice, True
    seen: set[tuple[str, str]] = set()
    calls = 1 if forced else max(1, max_calls)
    for index in range(calls):
        prompt += f"functions.{name}:\n"
        yield builder.add_tool_delta(index, id=f"call_{uuid.uuid4().hex[:16]}", name=name)
        pieces = []
        for piece in session.complete(prompt, max_tokens=budget(), stop=[IM_END],
                                      schema=by_name[name].parameters):
            pieces.append(piece)
            yield builder.add_tool_delta(index, arguments=piece)
        arguments = "".join(pieces)
        if index > 0 and (session.finish == "length" or (name, arguments.strip()) in seen):
            builder.drop_call(index)
            break
        if session.finish == "length" or index + 1 == calls:
            break
        seen.add((name, arguments.strip()))
        prompt += arguments + "\n"
        follow = "".join(session.complete(
            prompt, max_tokens=DECISION_TOKENS, stop=[":"],
            grammar=choice_grammar(names, message=False, optional=True), temperature=0.0,
        ))
        name = follow.removeprefix("functions.").rstrip(":")
        if not follow.startswith("functions.") or name not in by_name:
            break
    builder.finish = "tool_calls"
