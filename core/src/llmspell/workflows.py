"""Workflows: deterministic agents made of steps. A workflow is an agent: it can be nested,
wrapped as a tool and run by ``SpellRun.run_agent``."""

from __future__ import annotations

import abc
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import attrs
import trio

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
        outputs = []
        for step in self.steps:
            out = await self.run_step(step, value, run)
            outputs.append(out)
            value = _value(out)
        usage, agents = _summary(outputs)
        text = value if isinstance(value, str) else ""
        return Result(text=text, data=value, usage=usage, agents=agents)


def _value(out: Any) -> Any:
    """A step output as the value passed on: an agent ``Result``'s data, else its text."""
    if isinstance(out, Result):
        return out.data if out.data is not None else out.text
    return out


def _summary(outputs: list[Any]) -> tuple[Usage, list[str]]:
    usage = Usage()
    agents: list[str] = []
    for out in outputs:
        if isinstance(out, Result):
            usage = usage + out.usage
            agents.extend(out.agents)
    return usage, agents


Predicate = Callable[[Any, "SpellRun"], Awaitable[Any] | Any]


async def _test(predicate: Predicate, value: Any, run: SpellRun) -> bool:
    out = predicate(value, run)
    return bool(await out if inspect.isawaitable(out) else out)


class Parallel(Workflow):
    """Branches run concurrently on the same input, at most ``max_concurrency`` at a time.

    ``data`` maps branch names to their outputs. With ``fail_fast`` (default) the first failing
    branch cancels the others and its error is raised; otherwise every branch runs and a failed
    one's entry is ``{"error": {code, message, details}}``.
    """

    def __init__(
        self,
        name: str,
        branches: list[Step],
        *,
        max_concurrency: int | None = None,
        fail_fast: bool = True,
        description: str = "",
    ) -> None:
        super().__init__(name, description)
        names = [b.name for b in branches]
        if len(set(names)) != len(names):
            from llmspell.errors import LlmspellError

            raise LlmspellError(
                "invalid_args", f"workflow {name!r}: branch names must be unique, got {names}",
                {"workflow": name},
            )
        self.branches = list(branches)
        self.max_concurrency = max_concurrency
        self.fail_fast = fail_fast

    async def execute(self, input: Any, run: SpellRun) -> Result:
        from llmspell.errors import LlmspellError

        limiter = trio.CapacityLimiter(self.max_concurrency or max(1, len(self.branches)))
        outputs: dict[str, Any] = {}

        async def branch(step: Step) -> None:
            async with limiter:
                try:
                    outputs[step.name] = await self.run_step(step, input, run)
                except LlmspellError as err:
                    if self.fail_fast:
                        raise
                    outputs[step.name] = {"error": err.to_dict()}

        try:
            async with trio.open_nursery() as nursery:
                for step in self.branches:
                    nursery.start_soon(branch, step)
        except BaseExceptionGroup as group:
            from llmspell.runtime import single_error

            raise single_error(group) from None
        usage, agents = _summary(list(outputs.values()))
        data = {b.name: _value(outputs[b.name]) for b in self.branches}
        return Result(data=data, usage=usage, agents=agents)


class Conditional(Workflow):
    """The step of the first branch whose predicate holds for the input, else ``default``;
    with neither, the input passes through unchanged."""

    def __init__(
        self,
        name: str,
        branches: list[tuple[Predicate, Step]],
        default: Step | None = None,
        description: str = "",
    ) -> None:
        super().__init__(name, description)
        self.branches = list(branches)
        self.default = default

    async def execute(self, input: Any, run: SpellRun) -> Result:
        chosen = self.default
        for predicate, step in self.branches:
            if await _test(predicate, input, run):
                chosen = step
                break
        if chosen is None:
            return Result(text=input if isinstance(input, str) else "", data=input)
        out = await self.run_step(chosen, input, run)
        usage, agents = _summary([out])
        value = _value(out)
        return Result(text=value if isinstance(value, str) else "", data=value, usage=usage,
                      agents=agents)


class Loop(Workflow):
    """``body`` runs repeatedly, each output feeding the next iteration, while ``while_``
    holds for the current value (checked before each iteration) and until ``until`` holds for
    the output (checked after each), at most ``max_iterations`` times. ``data`` is the last
    value."""

    def __init__(
        self,
        name: str,
        body: Step,
        *,
        until: Predicate | None = None,
        while_: Predicate | None = None,
        max_iterations: int = 10,
        description: str = "",
    ) -> None:
        super().__init__(name, description)
        self.body = body
        self.until = until
        self.while_ = while_
        self.max_iterations = max_iterations

    async def execute(self, input: Any, run: SpellRun) -> Result:
        value = input
        outputs: list[Any] = []
        for _ in range(self.max_iterations):
            if self.while_ is not None and not await _test(self.while_, value, run):
                break
            out = await self.run_step(self.body, value, run)
            outputs.append(out)
            value = _value(out)
            if self.until is not None and await _test(self.until, value, run):
                break
        usage, agents = _summary(outputs)
        return Result(text=value if isinstance(value, str) else "", data=value, usage=usage,
                      agents=agents)
