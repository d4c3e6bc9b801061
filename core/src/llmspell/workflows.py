"""Workflows: deterministic agents made of steps. A workflow is an agent: it can be nested,
wrapped as a tool (``agent_tool``), handed off to, and run by ``SpellRun.run_agent``.

Every step runs through :meth:`Workflow.run_step`, which applies the step's options:

- ``timeout``: seconds for one attempt of the step (the hooks' own time excluded); running out
  cancels the attempt and fails it with code ``timeout``.
- ``retry``: a :class:`RetryPolicy`; a failed attempt is tried again after a backoff delay until
  ``attempts`` are used up, then the last error is raised with ``details["attempts"]``.
- ``on_error``: what a step's final failure does: ``"fail"`` raises it (and, in a parallel
  workflow, cancels the sibling branches), ``"continue"`` makes ``{"error": {code, message,
  details}}`` the step's output and goes on. ``None`` takes the workflow's ``on_error``.

Each attempt passes through the ``before``/``after_workflow_step`` hooks on its own (named
``workflow/step``; ``ctx.metadata["attempt"]`` counts from 1) and emits
``workflow.step.started`` then ``workflow.step.finished`` or ``workflow.step.failed``; between
attempts ``workflow.step.retrying`` says which attempt failed and the delay before the next.
"""

from __future__ import annotations

import abc
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import attrs
import trio

from llmspell.conditions import Condition
from llmspell.errors import LlmspellError
from llmspell.lifecycle import HookContext, HookPoint
from llmspell.messages import Result, Usage
from llmspell.operations import enter_operation, exit_operation
from llmspell.registry import check_name
from llmspell.tools import Tool

if TYPE_CHECKING:
    from llmspell.runtime import SpellRun

StepFunction = Callable[[Any, "SpellRun"], Awaitable[Any] | Any]
#: A predicate: a function ``fn(value, run)`` (sync or async) or a declarative :class:`Condition`.
Predicate = Callable[[Any, "SpellRun"], Awaitable[Any] | Any] | Condition

#: ``on_error`` values of steps and workflows; loops also take ``"break"``.
ON_ERROR = ("fail", "continue")
LOOP_ON_ERROR = ("fail", "continue", "break")
#: ``Step.input`` words (besides ``{"step": name}`` and a function).
INPUTS = ("previous", "original")
#: Codes never retried by default: the run or a hook decided, not a passing failure.
NOT_RETRIED = frozenset({"cancelled", "hook_cancelled", "limit", "budget_exceeded"})


def _invalid(message: str, **details: Any) -> LlmspellError:
    return LlmspellError("invalid_args", message, details)


@attrs.define(frozen=True)
class RetryPolicy:
    """Retry a failing step: at most ``attempts`` attempts in all (the first included); the
    delay before attempt ``n + 1`` is ``backoff * multiplier ** (n - 1)`` seconds, capped at
    ``max_delay``. Only errors whose code is in ``on`` are retried (default: every code except
    ``cancelled``, ``hook_cancelled`` and ``limit``)."""

    attempts: int = 3
    backoff: float = 0.0
    multiplier: float = 2.0
    max_delay: float | None = None
    on: tuple[str, ...] | None = None

    def __attrs_post_init__(self) -> None:
        if self.attempts < 1:
            raise _invalid(f"retry attempts must be at least 1, got {self.attempts}")
        if self.backoff < 0 or self.multiplier < 1:
            raise _invalid("retry backoff must be >= 0 and multiplier >= 1")
        if self.max_delay is not None and self.max_delay < 0:
            raise _invalid("retry max_delay must be >= 0")

    def delay(self, failed: int) -> float:
        """Seconds to wait after the ``failed``-th attempt (counting from 1) failed."""
        delay = self.backoff * self.multiplier ** (failed - 1)
        return min(delay, self.max_delay) if self.max_delay is not None else delay

    def retries(self, error: LlmspellError) -> bool:
        """Whether ``error`` may be retried."""
        return error.code in self.on if self.on is not None else error.code not in NOT_RETRIED


def _check_input(step: Step, attribute: Any, value: Any) -> None:
    if value in INPUTS or callable(value):
        return
    if isinstance(value, dict) and set(value) == {"step"} and isinstance(value["step"], str):
        return
    raise _invalid(
        f"step {step.name!r}: input must be 'previous', 'original', {{'step': name}} or a "
        f"function, got {value!r}", step=step.name,
    )


def _check_timeout(step: Step, attribute: Any, value: Any) -> None:
    if value is not None and not value > 0:
        raise _invalid(f"step {step.name!r}: timeout must be > 0 seconds, got {value!r}")


def _check_on_error(step: Step, attribute: Any, value: Any) -> None:
    if value is not None and value not in ON_ERROR:
        raise _invalid(f"step {step.name!r}: on_error must be one of {ON_ERROR}, got {value!r}")


@attrs.define(frozen=True)
class Step:
    """One step: ``target`` is an agent (a workflow included), a :class:`Tool` (called with the
    input as its argument object), or a function ``fn(input, run)`` (sync or async).

    ``timeout``, ``retry`` and ``on_error`` are described in the module docstring. ``input``
    (sequential workflows only) picks what the step receives: ``"previous"`` (the previous
    step's output, the default), ``"original"`` (the workflow's input), ``{"step": name}`` (the
    output of an earlier step of that name) or a function ``fn(view, run)`` of ``view = {"input":
    workflow input, "previous": previous output, "outputs": {step name: output}}``.
    """

    name: str = attrs.field(validator=lambda _, __, v: check_name("step", v))
    target: Any
    timeout: float | None = attrs.field(default=None, validator=_check_timeout, kw_only=True)
    retry: RetryPolicy | None = attrs.field(default=None, kw_only=True)
    on_error: str | None = attrs.field(default=None, validator=_check_on_error, kw_only=True)
    input: Any = attrs.field(default="previous", validator=_check_input, kw_only=True)


class Workflow(abc.ABC):
    """Base of the workflow kinds. Subclasses implement :meth:`execute` and run each step with
    :meth:`run_step`; running a workflow goes through the ``workflow`` hooks
    (``SpellRun.run_agent``). ``on_error`` is the default of its steps."""

    hook_kind = "workflow"
    on_error_choices: tuple[str, ...] = ON_ERROR

    def __init__(self, name: str, description: str = "", *, on_error: str = "fail") -> None:
        self.name = check_name("workflow", name)
        self.description = description
        if on_error not in self.on_error_choices:
            raise _invalid(
                f"workflow {name!r}: on_error must be one of {self.on_error_choices}, "
                f"got {on_error!r}", workflow=name,
            )
        self.on_error = on_error

    async def run(self, input: Any, run: SpellRun) -> Result:
        return await self.execute(input, run)

    @abc.abstractmethod
    async def execute(self, input: Any, run: SpellRun) -> Result:
        """Run the steps on ``input`` and return the workflow's result."""

    def policy(self, step: Step) -> str:
        """The effective ``on_error`` of ``step`` in this workflow."""
        return step.on_error or self.on_error

    async def run_step(self, step: Step, input: Any, run: SpellRun) -> Any:
        """Run one step with its timeout, retries and error strategy (see the module
        docstring); returns its output (an agent's ``Result`` whole), or ``{"error": ...}``
        when it failed and its strategy is ``"continue"``; otherwise raises its error."""
        label = f"{self.name}/{step.name}"
        base = {"workflow": self.name, "step": step.name}
        retry = step.retry
        attempts = retry.attempts if retry is not None else 1
        policy = self.policy(step)
        attempt = 0
        while True:
            attempt += 1
            token = enter_operation(
                run, await run.emit("workflow.step.started", {**base, "attempt": attempt})
            )
            try:
                ctx = HookContext(
                    HookPoint.BEFORE_WORKFLOW_STEP, "workflow_step", label, input,
                    run_id=run.run_id, metadata={"attempt": attempt, **base},
                )
                try:
                    output = await run.hooks.guard(
                        "workflow_step", label, input, self._operation(step, run), ctx=ctx
                    )
                except LlmspellError as err:
                    if retry is not None and attempt < attempts and retry.retries(err):
                        delay = retry.delay(attempt)
                        await run.emit(
                            "workflow.step.retrying",
                            {**base, "attempt": attempt, "delay": delay, "error": err.to_dict()},
                        )
                        exit_operation(token)
                        token = None
                        await trio.sleep(delay)
                        continue
                    if retry is not None:
                        if "attempts" in err.details and err.details["attempts"] != attempt:
                            err.details.setdefault("cause_attempts", err.details["attempts"])
                        err.details["attempts"] = attempt
                    await run.emit(
                        "workflow.step.failed",
                        {**base, "attempt": attempt, "error": err.to_dict(), "on_error": policy},
                    )
                    if policy == "continue":
                        return {"error": err.to_dict()}
                    raise
                await run.emit("workflow.step.finished", {**base, "attempt": attempt})
                return output
            finally:
                exit_operation(token)

    def _operation(self, step: Step, run: SpellRun) -> Callable[[Any], Awaitable[Any]]:
        target = step.target

        async def call(value: Any) -> Any:
            if isinstance(target, Tool):
                return await run.call_tool(target, value)
            if hasattr(target, "run") and hasattr(target, "name"):
                return await run.run_agent(target, value)
            out = target(value, run)
            return await out if inspect.isawaitable(out) else out

        if step.timeout is None:
            return call
        seconds = step.timeout

        async def timed(value: Any) -> Any:
            with trio.move_on_after(seconds):
                return await call(value)
            raise LlmspellError(
                "timeout",
                f"step {self.name}/{step.name} did not finish within {seconds:g} s",
                {"workflow": self.name, "step": step.name, "seconds": seconds},
            )

        return timed


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


def _result(value: Any, outputs: list[Any]) -> Result:
    usage, agents = _summary(outputs)
    return Result(text=value if isinstance(value, str) else "", data=value, usage=usage,
                  agents=agents)


async def _test(predicate: Predicate, value: Any, run: SpellRun) -> bool:
    if isinstance(predicate, Condition):
        return await predicate.test(value, run)
    out = predicate(value, run)
    return bool(await out if inspect.isawaitable(out) else out)


class Sequential(Workflow):
    """Steps in order; each step's input is chosen by its ``input`` option (default: the
    previous step's output; an agent's ``Result`` passes on its ``data`` if set, else its
    ``text``). The result's ``data`` is the last output."""

    def __init__(
        self, name: str, steps: list[Step], description: str = "", *, on_error: str = "fail"
    ) -> None:
        super().__init__(name, description, on_error=on_error)
        self.steps = list(steps)
        seen: set[str] = set()
        for step in self.steps:
            ref = step.input.get("step") if isinstance(step.input, dict) else None
            if ref is not None and ref not in seen:
                raise _invalid(
                    f"workflow {name!r}: step {step.name!r} takes the output of step {ref!r}, "
                    f"which is not an earlier step (earlier: {sorted(seen)})",
                    workflow=name, step=step.name,
                )
            seen.add(step.name)

    async def execute(self, input: Any, run: SpellRun) -> Result:
        value = input
        outputs: list[Any] = []
        by_name: dict[str, Any] = {}
        for step in self.steps:
            out = await self.run_step(step, await self._input(step, input, value, by_name, run),
                                      run)
            outputs.append(out)
            value = by_name[step.name] = _value(out)
        return _result(value, outputs)

    @staticmethod
    async def _input(
        step: Step, original: Any, previous: Any, by_name: dict[str, Any], run: SpellRun
    ) -> Any:
        choice = step.input
        if choice == "previous":
            return previous
        if choice == "original":
            return original
        if isinstance(choice, dict):
            return by_name[choice["step"]]
        out = choice({"input": original, "previous": previous, "outputs": dict(by_name)}, run)
        return await out if inspect.isawaitable(out) else out


class Parallel(Workflow):
    """Branches run concurrently on the same input, at most ``max_concurrency`` at a time.

    ``data`` maps branch names to their outputs. With ``on_error="fail"`` (``fail_fast``, the
    default) the first failing branch cancels the others and its error is raised; with
    ``"continue"`` (``fail_fast=False``) every branch runs and a failed one's entry is
    ``{"error": {code, message, details}}``. A branch's own ``on_error`` overrides.
    """

    def __init__(
        self,
        name: str,
        branches: list[Step],
        *,
        max_concurrency: int | None = None,
        fail_fast: bool = True,
        on_error: str | None = None,
        description: str = "",
    ) -> None:
        super().__init__(
            name, description, on_error=on_error or ("fail" if fail_fast else "continue")
        )
        names = [b.name for b in branches]
        if len(set(names)) != len(names):
            raise _invalid(
                f"workflow {name!r}: branch names must be unique, got {names}", workflow=name
            )
        if max_concurrency is not None and (
            isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int)
            or max_concurrency < 1
        ):
            raise _invalid(
                f"workflow {name!r}: max_concurrency must be an integer >= 1, got "
                f"{max_concurrency!r}", workflow=name,
            )
        self.branches = list(branches)
        self.max_concurrency = max_concurrency

    @property
    def fail_fast(self) -> bool:
        return self.on_error == "fail"

    async def execute(self, input: Any, run: SpellRun) -> Result:
        limiter = trio.CapacityLimiter(self.max_concurrency or max(1, len(self.branches)))
        outputs: dict[str, Any] = {}

        async def branch(step: Step) -> None:
            async with limiter:
                outputs[step.name] = await self.run_step(step, input, run)

        try:
            async with trio.open_nursery() as nursery:
                for step in self.branches:
                    nursery.start_soon(branch, step)
        except BaseExceptionGroup as group:
            from llmspell.runtime import single_error

            raise single_error(group) from None
        data = {b.name: _value(outputs[b.name]) for b in self.branches}
        usage, agents = _summary(list(outputs.values()))
        return Result(data=data, usage=usage, agents=agents)


class Conditional(Workflow):
    """The step of the first branch whose predicate (a function or a :class:`Condition`)
    holds for the input, else ``default``; with neither, the input passes through unchanged.
    Predicates are tested in order and only until one holds."""

    def __init__(
        self,
        name: str,
        branches: list[tuple[Predicate, Step]],
        default: Step | None = None,
        description: str = "",
        *,
        on_error: str = "fail",
    ) -> None:
        super().__init__(name, description, on_error=on_error)
        self.branches = list(branches)
        self.default = default

    async def execute(self, input: Any, run: SpellRun) -> Result:
        chosen = self.default
        for predicate, step in self.branches:
            if await _test(predicate, input, run):
                chosen = step
                break
        if chosen is None:
            return _result(input, [])
        out = await self.run_step(chosen, input, run)
        return _result(_value(out), [out])


class Loop(Workflow):
    """``body`` runs repeatedly, each output feeding the next iteration, while ``while_``
    holds for the current value (checked before each iteration) and until ``until`` holds for
    the output (checked after each), at most ``max_iterations`` times. ``data`` is the last
    value.

    ``on_error`` (default for the body): ``"fail"`` raises the body's error, ``"break"`` ends
    the loop with the last value before the failing iteration, ``"continue"`` makes
    ``{"error": ...}`` the value of that iteration and goes on (``until`` sees it).
    """

    on_error_choices = LOOP_ON_ERROR

    def __init__(
        self,
        name: str,
        body: Step,
        *,
        until: Predicate | None = None,
        while_: Predicate | None = None,
        max_iterations: int = 10,
        on_error: str = "fail",
        description: str = "",
    ) -> None:
        super().__init__(name, description, on_error=on_error)
        if isinstance(max_iterations, bool) or not isinstance(max_iterations, int) \
                or max_iterations < 1:
            raise _invalid(
                f"workflow {name!r}: max_iterations must be an integer >= 1, got "
                f"{max_iterations!r}", workflow=name,
            )
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
            try:
                out = await self.run_step(self.body, value, run)
            except LlmspellError:
                if self.policy(self.body) == "break":
                    break
                raise
            outputs.append(out)
            value = _value(out)
            if self.until is not None and await _test(self.until, value, run):
                break
        return _result(value, outputs)
