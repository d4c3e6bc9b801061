"""Conversation history of agents: where it is kept and how it is cut to fit a context window.

The unit of cutting is a *group*: a user message, or an assistant message together with the
tool messages answering its tool calls (a lone tool message joins the group before it). Cutting
only ever drops or keeps whole groups, so an assistant tool-call message is never separated from
its tool results.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import attrs

from llmspell.errors import LlmspellError
from llmspell.messages import Message

#: Characters per token of the token estimate.
CHARS_PER_TOKEN = 4


def _optional_positive(what: str) -> Any:
    def check(_: Any, __: Any, value: Any) -> None:
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise LlmspellError(
                "invalid_value",
                f"history {what} must be a positive integer or None, got {value!r}",
                {"field": what},
            )

    return check


@attrs.define(frozen=True)
class HistoryPolicy:
    """Keep an agent's conversation across runs, cut to ``max_messages`` messages and/or
    ``max_tokens`` estimated tokens (about four characters per token; see
    :func:`estimate_tokens`). ``None`` means no bound of that kind.

    The stored history never contains system messages (instructions are filled anew on every
    run) and always starts with a user message.
    """

    max_messages: int | None = attrs.field(default=50, validator=_optional_positive("max_messages"))
    max_tokens: int | None = attrs.field(default=None, validator=_optional_positive("max_tokens"))

    def trim(self, messages: Sequence[Message]) -> list[Message]:
        """The newest whole groups of ``messages`` that fit both bounds, starting with a user
        message (possibly none)."""
        kept: list[list[Message]] = []
        count = tokens = 0
        for group in reversed(groups(messages)):
            size = len(group)
            cost = sum(estimate_tokens(m) for m in group)
            if self.max_messages is not None and count + size > self.max_messages:
                break
            if self.max_tokens is not None and tokens + cost > self.max_tokens:
                break
            kept.append(group)
            count += size
            tokens += cost
        kept.reverse()
        while kept and kept[0][0].role != "user":
            kept.pop(0)
        return [m for group in kept for m in group]


def estimate_tokens(message: Message) -> int:
    """About one token per four characters of content and tool-call arguments, plus one."""
    size = len(message.content)
    for call in message.tool_calls:
        size += len(call.name) + len(json.dumps(call.arguments, ensure_ascii=False))
    return size // CHARS_PER_TOKEN + 1


def groups(messages: Sequence[Message]) -> list[list[Message]]:
    """``messages`` cut into groups (see the module docstring); system messages are left out."""
    out: list[list[Message]] = []
    for message in messages:
        if message.role == "system":
            continue
        if message.role == "tool" and out:
            out[-1].append(message)
        else:
            out.append([message])
    return out


def last_messages(messages: Sequence[Message], n: int | None) -> list[Message]:
    """What a handoff passes on: the non-system ``messages``, or with ``n`` the last ``n`` of
    them widened to whole groups; if that does not start with a user message, the latest user
    message before it is put in front (so the receiving agent always sees a request)."""
    parts = groups(messages)
    if n is None:
        return [m for group in parts for m in group]
    kept: list[list[Message]] = []
    count = 0
    for group in reversed(parts):
        if count >= n:
            break
        kept.append(group)
        count += len(group)
    kept.reverse()
    out = [m for group in kept for m in group]
    if not out or out[0].role != "user":
        earlier = parts[: len(parts) - len(kept)]
        user = next((g[0] for g in reversed(earlier) if g[0].role == "user"), None)
        if user is not None:
            out.insert(0, user)
    return out


def to_data(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Messages as JSON data, for the state store."""
    return [m.to_dict() for m in messages]


def from_data(data: Any, where: str) -> list[Message]:
    """Messages read back from the state store; ``state_error`` naming ``where`` if the stored
    value is not a list of messages."""
    if data is None:
        return []
    try:
        return [Message.from_dict(item) for item in data]
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise LlmspellError(
            "state_error",
            f"the history stored at {where} is not a list of messages ({exc})",
            {"where": where},
            hint="delete the key to start a new history",
        ) from None
