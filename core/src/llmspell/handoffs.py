"""Handoffs: an agent transfers control of a conversation to another agent.

An agent with ``handoffs`` offers its model one tool per target, ``transfer_to_<name>``. When the
model calls it (and no hook refused the call), the agent stops; the target continues the
conversation, and its answer is the run's answer. :class:`Handoff` says what is passed on; the
:class:`Incoming` record carries it to the target through a context variable, so the target is
still run with :meth:`llmspell.runtime.SpellRun.run_agent` (hooks and events apply).
"""

from __future__ import annotations

import contextvars
from typing import Any

import attrs

from llmspell.errors import LlmspellError
from llmspell.messages import Message
from llmspell.tools import Tool, ToolContext

#: Prefix of the name of a handoff's tool.
TRANSFER_PREFIX = "transfer_to_"


def _keep_last(_: Any, __: Any, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise LlmspellError(
            "invalid_value", f"handoff keep_last must be a positive integer, got {value!r}",
            {"field": "keep_last"},
        )


def _state_keys(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not all(isinstance(k, str) and k for k in value):
        raise LlmspellError(
            "invalid_value",
            f"handoff state_keys must be a list of key names, got {value!r}",
            {"field": "state_keys"},
        )
    return tuple(value)


@attrs.define(frozen=True)
class Handoff:
    """A possible transfer to ``agent`` (any agent; an :class:`~llmspell.agents.LLMAgent`
    continues the conversation itself, other agents get the latest user message as input).

    ``keep_last``: pass only the last N messages (widened so that a tool call stays with its
    results; the latest user message is always included); ``None`` passes all of them.
    ``state_keys``: state keys (read from the sending agent's ``state_scope``; missing keys are
    left out) passed to the target as a system message and as values for its instruction
    template. ``description`` is shown to the model; it defaults to the target's.
    """

    agent: Any
    keep_last: int | None = attrs.field(default=None, validator=_keep_last)
    state_keys: tuple[str, ...] = attrs.field(default=(), converter=_state_keys)
    description: str | None = None

    @property
    def tool_name(self) -> str:
        return TRANSFER_PREFIX + str(self.agent.name)

    def tool(self) -> Tool:
        """The ``transfer_to_<name>`` tool; it returns ``{"transferred_to": name}``."""
        target = str(self.agent.name)
        about = self.description or getattr(self.agent, "description", "") or ""

        async def transfer(args: dict[str, Any], ctx: ToolContext) -> Any:
            return {"transferred_to": target}

        return Tool(
            name=self.tool_name,
            description=f"Hand the conversation over to the agent {target!r}"
            + (f": {about}" if about else "."),
            run=transfer,
            category="handoff",
        )


def as_handoff(value: Any) -> Handoff:
    """A :class:`Handoff`, or an agent meaning ``Handoff(agent)``."""
    if isinstance(value, Handoff):
        return value
    if not isinstance(getattr(value, "name", None), str) or not hasattr(value, "run"):
        raise LlmspellError(
            "invalid_value", f"a handoff target must be an agent, got {value!r}",
            {"field": "handoffs"},
        )
    return Handoff(value)


def handoff_list(values: Any) -> list[Handoff]:
    """The converter of ``LLMAgent.handoffs``."""
    return [as_handoff(v) for v in values or ()]


@attrs.define(eq=False)
class Incoming:
    """What a handoff hands to its target ``agent``.

    ``messages`` is the passed conversation (no system messages), ``state`` the passed state
    values, ``input`` the text of its latest user message, ``chain`` the agents so far and
    ``limit`` the entry agent's ``max_handoffs``. The target sets ``offset`` to the index of its
    own first new message in its result's ``messages``.
    """

    agent: Any
    messages: list[Message]
    state: dict[str, Any]
    input: str
    chain: list[str]
    limit: int
    offset: int | None = None

    @property
    def depth(self) -> int:
        """Handoffs so far, this one included."""
        return len(self.chain)


INCOMING: contextvars.ContextVar[Incoming | None] = contextvars.ContextVar(
    "llmspell_handoff", default=None
)


def take_incoming(agent: Any) -> Incoming | None:
    """The handoff addressed to ``agent`` in this task, consumed (it is seen only once)."""
    incoming = INCOMING.get()
    if incoming is None or incoming.agent is not agent:
        return None
    INCOMING.set(None)
    return incoming
