"""hooks-cost: tokens and cost of every model call of a run, and budgets that stop the run.

On by default. ``after_llm_call`` adds each reply's usage (streams included: the assembled reply
carries the usage of the stream's last chunk) to the run's totals, overall and per model string.
``before_llm_call`` refuses a model call with code ``budget_exceeded`` once a budget of
``[plugins.hooks-cost]`` is used up. The call that crosses a budget completes and its reply is
returned; it emits ``cost.budget_exceeded``; every model call after it fails.

Python API: :func:`totals` (a run's :class:`Totals`, during and after the run) and
:func:`settings` (a kernel's :class:`Settings`).

Cheap by design (it is in the default set): ``after_llm_call`` is a plain function doing two
dictionary look-ups and four additions to the model's totals (the run's are added up when read);
it becomes awaitable only when an event must be emitted.
``before_llm_call`` exists only in kernels with a budget: :func:`llmspell_configure` registers
it there, as a second plugin object (:data:`BUDGET_HOOKS`); elsewhere a model call has no before
hook of this plugin at all.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import attrs

from llmspell.errors import LlmspellError
from llmspell.lifecycle import HookContext, hookimpl

if TYPE_CHECKING:
    from llmspell.config import Config
    from llmspell.kernel import Kernel

llmspell_default_enabled = True

NAME = "hooks-cost"
#: The budgets, in the order they are checked.
BUDGETS = ("max_cost", "max_tokens", "max_input_tokens", "max_output_tokens")
KEYS = ("enabled", *BUDGETS, "updates")
#: Before the other built-in hooks: a refused call never reaches the cache or a rate limit.
PRIORITY = 50
#: the name of the per-kernel plugin object holding the budget check (kernels with a budget)
BUDGET_HOOKS = "hooks-cost:budgets"


@attrs.define(frozen=True)
class Settings:
    """The ``[plugins.hooks-cost]`` settings of one kernel (``None``: no such budget)."""

    max_cost: float | None = None
    max_tokens: int | None = None
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    #: emit ``cost.updated`` after every model call
    updates: bool = False
    budgets: tuple[tuple[str, float], ...] = attrs.field(init=False)

    @budgets.default
    def _budgets(self) -> tuple[tuple[str, float], ...]:
        return tuple(
            (name, limit)
            for name in BUDGETS
            if (limit := getattr(self, name)) is not None
        )


@attrs.define
class ModelTotals:
    """Usage summed over calls. ``cost`` sums the known costs in US dollars; calls whose
    provider reported no price count in ``unpriced_calls`` (and add nothing to ``cost``)."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    unpriced_calls: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def add(self, input_tokens: int, output_tokens: int, cost: float | None) -> None:
        self.calls += 1
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        if cost is None:
            self.unpriced_calls += 1
        else:
            self.cost += cost

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.total_tokens,
            "cost": self.cost,
            "unpriced_calls": self.unpriced_calls,
        }


@attrs.define
class Totals:
    """A run's totals: every model call, and per model string (``provider/model``).

    ``calls``, ``input_tokens``, ``output_tokens``, ``total_tokens``, ``cost`` and
    ``unpriced_calls`` are those of :attr:`models` added up (when read: a model call updates
    only its model's :class:`ModelTotals`). ``skipped_calls`` counts calls a hook answered
    without the provider (a cache hit): they cost nothing and add no tokens. ``exceeded`` lists
    the budgets used up, in the order they were crossed.
    """

    run_id: str = ""
    skipped_calls: int = 0
    models: dict[str, ModelTotals] = attrs.field(factory=dict)
    exceeded: list[str] = attrs.field(factory=list)

    @property
    def calls(self) -> int:
        return sum(m.calls for m in self.models.values())

    @property
    def input_tokens(self) -> int:
        return sum(m.input_tokens for m in self.models.values())

    @property
    def output_tokens(self) -> int:
        return sum(m.output_tokens for m in self.models.values())

    @property
    def total_tokens(self) -> int:
        return sum(m.input_tokens + m.output_tokens for m in self.models.values())

    @property
    def cost(self) -> float:
        return sum((m.cost for m in self.models.values()), 0.0)

    @property
    def unpriced_calls(self) -> int:
        return sum(m.unpriced_calls for m in self.models.values())

    def spent(self, budget: str) -> float:
        """What ``budget`` (``max_cost``, ``max_tokens`` ...) counts, so far."""
        if budget == "max_cost":
            return self.cost
        if budget == "max_tokens":
            return self.total_tokens
        if budget == "max_input_tokens":
            return self.input_tokens
        if budget == "max_output_tokens":
            return self.output_tokens
        raise KeyError(budget)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.total_tokens,
            "cost": self.cost,
            "unpriced_calls": self.unpriced_calls,
            "skipped_calls": self.skipped_calls,
            "models": {name: m.to_dict() for name, m in self.models.items()},
            "exceeded": list(self.exceeded),
        }


_DEFAULT = Settings()
#: kernel -> its settings (a kernel that never configured this module has the defaults)
_settings: weakref.WeakKeyDictionary[Any, Settings] = weakref.WeakKeyDictionary()
#: run -> its totals; kept as long as the run object lives, so they can be read after it ended
_totals: weakref.WeakKeyDictionary[Any, Totals] = weakref.WeakKeyDictionary()


class _Live:
    """What the hooks need of a run that is open: its totals (and their per-model dict) and its
    kernel's budgets."""

    __slots__ = ("budgets", "models", "totals", "updates")

    def __init__(self, totals: Totals, config: Settings) -> None:
        self.totals = totals
        self.models = totals.models
        self.budgets = config.budgets
        self.updates = config.updates


#: run_id -> the open run's record, for the hooks' one cheap look-up per call; dropped at
#: spell_end (or when the run object is collected, should a run end without spell_end)
_live: dict[str | None, _Live] = {}


def settings(kernel: Kernel) -> Settings:
    """The settings ``kernel`` loaded this plugin with (defaults if it did not)."""
    return _settings.get(kernel, _DEFAULT)


def totals(run: Any) -> Totals | None:
    """The totals of ``run`` (a :class:`~llmspell.runtime.SpellRun`), during the run and after
    it; a zero :class:`Totals` for a run that made no model call yet; ``None`` when its kernel
    did not load ``hooks-cost``."""
    found = _totals.get(run)
    if found is not None:
        return found
    if run.kernel not in _settings:
        return None
    return Totals(run_id=run.run_id)


def _start(ctx: HookContext) -> _Live | None:
    """The record of the run of ``ctx``, made at its first model call."""
    run = ctx.run
    if run is None or ctx.run_id is None:
        return None
    spent = _totals.get(run)
    if spent is None:
        spent = _totals[run] = Totals(run_id=run.run_id)
    live = _live[ctx.run_id] = _Live(spent, _settings.get(run.kernel, _DEFAULT))
    weakref.finalize(run, _live.pop, ctx.run_id, None)
    return live


# --- plugin hooks ---------------------------------------------------------------------------


@hookimpl
def llmspell_configure(config: Config, kernel: Kernel) -> None:
    table = config.plugin(NAME)
    table.check_keys(KEYS)
    values: dict[str, Any] = {"max_cost": table.positive("max_cost", None)}
    for key in BUDGETS[1:]:
        value = table.get(key, int, None)
        if value is not None and value <= 0:
            raise table.error(key, f"must be a whole number greater than 0, got {value!r}")
        values[key] = value
    values["updates"] = table.get("updates", bool, False)
    chosen = _settings[kernel] = Settings(**values)
    pm = kernel.pm
    old = pm.get_plugin(BUDGET_HOOKS)
    if old is not None:
        pm.unregister(old)
    if chosen.budgets:
        pm.register(_Budgets(), name=BUDGET_HOOKS)
    kernel.hooks.invalidate()


class _Budgets:
    """The budget check of the kernels that have a budget."""

    __slots__ = ()

    @hookimpl(priority=PRIORITY)
    def llmspell_before_llm_call(self, ctx: HookContext) -> None:
        live = _live.get(ctx.run_id)
        if live is None:
            return  # no model call yet: nothing spent
        spent = live.totals
        for budget, limit in live.budgets:
            if spent.spent(budget) >= limit:
                raise _exceeded(ctx.run, ctx.name, spent, budget, limit)


@hookimpl(priority=PRIORITY)
def llmspell_after_llm_call(ctx: HookContext) -> Awaitable[None] | None:
    usage = getattr(ctx.output, "usage", None)
    if usage is None:
        return None
    live = _live.get(ctx.run_id)
    if live is None:
        live = _start(ctx)
        if live is None:
            return None  # not in a run
    spent = live.totals
    if ctx.skipped:
        spent.skipped_calls += 1
        return None
    model = live.models.get(ctx.name)
    if model is None:
        model = live.models[ctx.name] = ModelTotals()
    # ModelTotals.add, inlined; the run's figures are its models' added up when read
    model.calls += 1
    model.input_tokens += usage.input_tokens
    model.output_tokens += usage.output_tokens
    cost = usage.cost
    if cost is None:
        model.unpriced_calls += 1
    else:
        model.cost += cost
    if not live.budgets:
        return _announce(ctx.run, ctx.name, spent, [], True) if live.updates else None
    crossed = [
        (budget, limit)
        for budget, limit in live.budgets
        if budget not in spent.exceeded and spent.spent(budget) >= limit
    ]
    if not crossed and not live.updates:
        return None
    spent.exceeded.extend(budget for budget, _ in crossed)
    return _announce(ctx.run, ctx.name, spent, crossed, live.updates)


@hookimpl
def llmspell_spell_end(ctx: HookContext) -> None:
    if ctx.run_id is not None:
        _live.pop(ctx.run_id, None)


# --- helpers --------------------------------------------------------------------------------


def _amount(budget: str, value: float) -> str:
    return f"${value:.6g}" if budget == "max_cost" else f"{int(value)} tokens"


def _exceeded(run: Any, model: str, spent: Totals, budget: str, limit: float) -> LlmspellError:
    used = spent.spent(budget)
    return LlmspellError(
        "budget_exceeded",
        f"run {run.name!r} used up its {budget} budget: spent {_amount(budget, used)} of "
        f"{_amount(budget, limit)}; model call to {model!r} refused",
        {
            "budget": budget,
            "limit": limit,
            "spent": used,
            "model": model,
            "run_id": run.run_id,
            "totals": spent.to_dict(),
        },
        hint=f"raise {budget} in [plugins.{NAME}] of llmspell.toml",
    )


async def _announce(
    run: Any, model: str, spent: Totals, crossed: list[tuple[str, float]], updates: bool
) -> None:
    for budget, limit in crossed:
        await run.emit(
            "cost.budget_exceeded",
            {
                "budget": budget,
                "limit": limit,
                "spent": spent.spent(budget),
                "model": model,
                "run_id": run.run_id,
            },
        )
    if updates:
        await run.emit("cost.updated", spent.to_dict())
