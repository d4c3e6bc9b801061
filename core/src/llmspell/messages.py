"""The data that flows between agents, providers and tools: messages, tool calls, usage, results.

All of it is JSON data at the edges: ``to_dict``/``from_dict`` are the one conversion used by the
script bridges, the providers and the state store.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

Role = Literal["system", "user", "assistant", "tool"]


@attrs.define(frozen=True)
class ToolCall:
    """A model's request to call tool ``name`` with ``arguments`` (decoded JSON object)."""

    id: str
    name: str
    arguments: dict[str, Any] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "arguments": self.arguments}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ToolCall:
        return cls(id=str(data["id"]), name=str(data["name"]), arguments=dict(data["arguments"]))


@attrs.define(frozen=True)
class Message:
    """One chat message. ``tool`` messages carry ``tool_call_id``; assistant ones may carry
    ``tool_calls``."""

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            out["tool_calls"] = [c.to_dict() for c in self.tool_calls]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            out["name"] = self.name
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        return cls(
            role=data["role"],
            content=data.get("content") or "",
            tool_calls=tuple(ToolCall.from_dict(c) for c in data.get("tool_calls") or ()),
            tool_call_id=data.get("tool_call_id"),
            name=data.get("name"),
        )


@attrs.define(frozen=True)
class Usage:
    """Token counts and cost (in US dollars; ``None`` when no price is known)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = None

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        if self.cost is None and other.cost is None:
            cost = None
        else:
            cost = (self.cost or 0.0) + (other.cost or 0.0)
        return Usage(
            self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens, cost
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.total_tokens,
            "cost": self.cost,
        }


@attrs.define
class Result:
    """What an agent or workflow run returns.

    ``text`` is the final answer, ``data`` the structured output (when an output schema was set),
    ``agents`` the chain of agents that handled the run, in order.
    """

    text: str = ""
    data: Any = None
    usage: Usage = attrs.field(factory=Usage)
    tool_calls: list[dict[str, Any]] = attrs.field(factory=list)
    messages: list[Message] = attrs.field(factory=list)
    agents: list[str] = attrs.field(factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "data": self.data,
            "usage": self.usage.to_dict(),
            "tool_calls": list(self.tool_calls),
            "messages": [m.to_dict() for m in self.messages],
            "agents": list(self.agents),
        }
