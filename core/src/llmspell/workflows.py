"""Workflows: deterministic agents made of steps. A workflow is an agent: it can be nested,
wrapped as a tool and run by ``SpellRun.run_agent``."""

from __future__ import annotations

import abc
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import attrs

from llmspell.messages import Result, Usage
from llmspell.registry import check_name
from llmspell.tools import Tool

if TYPE_CHECKING:
    from llmspell.runtime import SpellRun

StepFunction = Callable[[Any, "SpellRun"], Awaitable[Any] | Any]


@attrs.define(frozen=True)
class Step:
    """One step: ``target`` is an agent (incl. a workflow), a :class:`Tool` (called with the
    input as its argument object), or a function ``fn(input, run)`` (sync or async)."""

    name: str = attrs.field(validator=lambda _, __, v: check_name("step", v))
    target: Any


class Workflow(abc.ABC):
    """Base of the workflow kinds. Subclasses implement :meth:`execute`; running one goes
    through the ``workflow`` hooks (``SpellRun.run_agent``) and each step through the
    ``workflow_step`` hooks (:meth:`run_step`)."""

    hook_kind = "workflow"

    def __init__(self, name: str, description: str = "") -> None:
        self.name = check_name("workflow", name)
        self.description = description

    async def run(self, input: Any, run: SpellRun) -> Result:
        return await self.execute(input, run)

    @abc.abstractmethod
    async def execute(self, input: Any, run: SpellRun) -> Result:
        """Run the steps on ``input`` and return the workflow's result."""

    async def run_step(self, step: Step, input: Any, run: SpellRun) -> Any:
        """Run one step inside the ``workflow_step`` hooks; returns the step's output value
        (an agent's ``Result`` is returned whole)."""

        async def op(value: Any) -> Any:
            target = step.target
            if isinstance(target, Tool):
                return await run.call_tool(target, value)
            if hasattr(target, "run") and hasattr(target, "name"):
                return await run.run_agent(target, value)
            out = target(value, run)
            return await out if inspect.isawaitable(out) else out

        await run.emit("workflow.step.started", {"workflow": self.name, "step": step.name})
        output = await run.hooks.guard(
            "workflow_step", f"{self.name}/{step.name}", input, op, run_id=run.run_id
        )
        await run.emit("workflow.step.finished", {"workflow": self.name, "step": step.name})
        return output


class Sequential(Workflow):
    """Steps in order; each step's output is the next step's input (an agent's ``Result``
    passes on its ``data`` if set, else its ``text``). The result's ``data`` is the last output."""

    def __init__(self, name: str, steps: list[Step], description: str = "") -> None:
        super().__init__(name, description)
        self.steps = list(steps)

    async def execute(self, input: Any, run: SpellRun) -> Result:
        value = input
        usage = Usage()
        agents: list[str] = []
        for step in self.steps:
            out = await self.run_step(step, value, run)
            if isinstance(out, Result):
                usage = usage + out.usage
                agents.extend(out.agents)
                value = out.data if out.data is not None else out.text
            else:
                value = out
        text = value if isinstance(value, str) else ""
        return Result(text=text, data=value, usage=usage, agents=agents)
