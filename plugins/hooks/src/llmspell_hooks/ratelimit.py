"""hooks-ratelimit: token-bucket rate limits per provider (requests and tokens per minute) and
per tool (calls per minute).

Off by default. ``before_llm_call`` and ``before_tool_call`` wait (``trio.sleep``: cancellable,
and the run's other tasks go on) until every bucket of the call has room, then emit
``ratelimit.waited``. A call that would have to wait longer than ``max_wait`` fails at once with
code ``limit`` naming the bucket. Buckets belong to the kernel: every run of the process shares
them.

A bucket holds one minute's worth of units and refills continuously. A call takes its units
when it is let through, so later callers queue behind it. Model tokens are not known before the
reply: a call reserves an estimate (four characters per token of its messages plus its
``max_tokens``) and ``after_llm_call`` corrects the bucket with the usage the provider reported.
Time is trio's clock (``trio.current_time``), so tests can drive it with a ``MockClock``.
"""

from __future__ import annotations

import math
import weakref
from typing import TYPE_CHECKING, Any

import attrs
import trio

from llmspell.config import Table
from llmspell.errors import LlmspellError
from llmspell.lifecycle import HookContext, hookimpl

if TYPE_CHECKING:
    from llmspell.config import Config
    from llmspell.kernel import Kernel

llmspell_default_enabled = False

NAME = "hooks-ratelimit"
KEYS = ("enabled", "max_wait", "providers", "tools")
PROVIDER_KEYS = ("requests_per_minute", "tokens_per_minute", "max_wait")
TOOL_KEYS = ("calls_per_minute", "max_wait")
DEFAULT_MAX_WAIT = 60.0
#: The entry of ``providers``/``tools`` for every provider/tool without one of its own.
DEFAULT = "default"
#: After hooks-cost and hooks-cache: a refused call or a cache hit uses up no rate limit.
PRIORITY = 30


@attrs.define
class Bucket:
    """``per_minute`` units, refilled continuously, holding at most one minute's worth.
    ``level`` may go below 0: units reserved by callers still waiting, or tokens a reply used
    beyond its estimate."""

    name: str
    limit: str
    per_minute: float
    level: float = attrs.field(init=False)
    stamp: float | None = attrs.field(default=None, init=False)

    @level.default
    def _full(self) -> float:
        return self.per_minute

    @property
    def rate(self) -> float:
        """Units per second."""
        return self.per_minute / 60.0

    def refill(self, now: float) -> None:
        if self.stamp is not None and now > self.stamp:
            self.level = min(self.per_minute, self.level + (now - self.stamp) * self.rate)
        # a new trio run (another clock) may start from an earlier time: restart from it
        self.stamp = now

    def wait(self, units: float) -> float:
        """Seconds until ``units`` are covered (after :meth:`refill`); a demand larger than
        the bucket counts as a full bucket."""
        units = min(units, self.per_minute)
        return 0.0 if self.level >= units else (units - self.level) / self.rate

    def take(self, units: float) -> None:
        self.level -= min(units, self.per_minute)

    def give(self, units: float) -> None:
        self.level = min(self.per_minute, self.level + min(units, self.per_minute))

    def adjust(self, units: float) -> None:
        """Take ``units`` more (give back, when negative) after the fact."""
        self.level = min(self.per_minute, self.level - units)


@attrs.define(frozen=True)
class Rule:
    """One entry of ``providers`` or ``tools``: its limits per minute and ``max_wait``."""

    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    max_wait: float = DEFAULT_MAX_WAIT


@attrs.define
class Limiter:
    """One kernel's rules and buckets."""

    providers: dict[str, Rule] = attrs.field(factory=dict)
    tools: dict[str, Rule] = attrs.field(factory=dict)
    #: bucket name -> (the rule's max_wait, its buckets)
    buckets: dict[str, tuple[float, list[Bucket]]] = attrs.field(factory=dict)

    def for_model(self, model: str) -> tuple[str, float, list[Bucket]] | None:
        """The name, max_wait and buckets of the calls to ``model`` (``provider/name``): the
        entry of the model string, else of its provider, else ``default`` (one set of buckets
        per provider); ``None`` when no entry applies."""
        provider = model.partition("/")[0]
        if model in self.providers:
            key = model
        elif provider in self.providers:
            key = provider
        elif DEFAULT in self.providers:
            key = provider
        else:
            return None
        name = f"providers.{key}"
        found = self.buckets.get(name)
        if found is None:
            rule = self.providers.get(key) or self.providers[DEFAULT]
            found = self.buckets[name] = (rule.max_wait, _buckets(
                name, ("requests_per_minute", rule.requests_per_minute),
                ("tokens_per_minute", rule.tokens_per_minute),
            ))
        return name, found[0], found[1]

    def for_tool(self, tool: str) -> tuple[str, float, list[Bucket]] | None:
        """Like :meth:`for_model` for the calls of ``tool`` (its entry, else ``default``)."""
        if tool not in self.tools and DEFAULT not in self.tools:
            return None
        name = f"tools.{tool}"
        found = self.buckets.get(name)
        if found is None:
            rule = self.tools.get(tool) or self.tools[DEFAULT]
            found = self.buckets[name] = (rule.max_wait, _buckets(
                name, ("calls_per_minute", rule.requests_per_minute)
            ))
        return name, found[0], found[1]


def _buckets(name: str, *limits: tuple[str, float | None]) -> list[Bucket]:
    return [Bucket(name, limit, value) for limit, value in limits if value is not None]


_limiters: weakref.WeakKeyDictionary[Any, Limiter] = weakref.WeakKeyDictionary()


def limiter(kernel: Kernel) -> Limiter | None:
    """The rules and buckets of ``kernel``; ``None`` when it did not load ``hooks-ratelimit``."""
    return _limiters.get(kernel)


# --- settings -------------------------------------------------------------------------------


def _per_minute(table: Table, key: str) -> float | None:
    value = table.get(key, float, None)
    if value is not None and (value <= 0 or math.isinf(value) or math.isnan(value)):
        raise table.error(key, f"must be a number greater than 0, got {value!r}")
    return value


def _max_wait(table: Table, default: float) -> float:
    value = table.get("max_wait", float, default)
    if value < 0 or math.isnan(value):
        raise table.error("max_wait", f"must be 0 or more seconds, got {value!r}")
    return value


def _rules(table: Table, section: str, keys: tuple[str, ...], max_wait: float) -> dict[str, Rule]:
    raw = table.get(section, dict, {})
    rules: dict[str, Rule] = {}
    for name, body in raw.items():
        if not isinstance(body, dict):
            raise table.error(f"{section}.{name}", f"must be a table, got {body!r}")
        entry = Table(f"{table.path}.{section}.{name}", body, table.source)
        entry.check_keys(keys)
        if section == "tools":
            rule = Rule(_per_minute(entry, "calls_per_minute"), None, _max_wait(entry, max_wait))
            if rule.requests_per_minute is None:
                raise entry.error("calls_per_minute", "is missing")
        else:
            rule = Rule(_per_minute(entry, "requests_per_minute"),
                        _per_minute(entry, "tokens_per_minute"), _max_wait(entry, max_wait))
            if rule.requests_per_minute is None and rule.tokens_per_minute is None:
                raise entry.error("requests_per_minute",
                                  "is missing (give it, tokens_per_minute or both)")
        rules[name] = rule
    return rules


@hookimpl
def llmspell_configure(config: Config, kernel: Kernel) -> None:
    table = config.plugin(NAME)
    table.check_keys(KEYS)
    max_wait = _max_wait(table, DEFAULT_MAX_WAIT)
    _limiters[kernel] = Limiter(
        providers=_rules(table, "providers", PROVIDER_KEYS, max_wait),
        tools=_rules(table, "tools", TOOL_KEYS, max_wait),
    )


# --- waiting --------------------------------------------------------------------------------


def estimate_tokens(request: Any) -> int:
    """A request's tokens before the reply: four characters per token of its messages, plus
    the ``max_tokens`` it may answer with; at least 1."""
    chars = sum(len(m.content) for m in request.messages)
    return max(1, chars // 4 + (request.max_tokens or 0))


async def acquire(
    run: Any, kind: str, name: str, bucket: str, max_wait: float,
    demands: list[tuple[Bucket, float]],
) -> float:
    """Take ``demands`` (buckets and their units), sleeping until they are covered; the seconds
    waited. ``limit`` when that would take longer than ``max_wait`` (nothing is taken then)."""
    now = trio.current_time()
    wait, worst = 0.0, demands[0][0]
    for b, units in demands:
        b.refill(now)
        needed = b.wait(units)
        if needed > wait:
            wait, worst = needed, b
    if wait > max_wait:
        raise LlmspellError(
            "limit",
            f"rate limit {bucket} ({worst.limit} = {worst.per_minute:g}) would hold {kind} "
            f"{name!r} for {wait:.3g} s, more than max_wait = {max_wait:g} s",
            {"bucket": bucket, "limit": worst.limit, "per_minute": worst.per_minute,
             "wait": wait, "max_wait": max_wait, "kind": kind, "name": name},
        )
    for b, units in demands:
        b.take(units)
    if wait <= 0:
        return 0.0
    try:
        await trio.sleep(wait)
    except BaseException:  # cancelled: the units were never used
        for b, units in demands:
            b.give(units)
        raise
    await run.emit("ratelimit.waited", {"bucket": bucket, "limit": worst.limit, "kind": kind,
                                         "name": name, "seconds": wait})
    return wait


@hookimpl(priority=PRIORITY)
async def llmspell_before_llm_call(ctx: HookContext) -> None:
    run = ctx.run
    if run is None:
        return
    rules = _limiters.get(run.kernel)
    found = rules.for_model(ctx.name) if rules is not None else None
    if found is None:
        return
    bucket, max_wait, buckets = found
    demands: list[tuple[Bucket, float]] = []
    for b in buckets:
        if b.limit == "tokens_per_minute":
            tokens = estimate_tokens(ctx.input)
            ctx.metadata["ratelimit_tokens"] = (b, tokens)
            demands.append((b, float(tokens)))
        else:
            demands.append((b, 1.0))
    await acquire(run, "llm_call", ctx.name, bucket, max_wait, demands)


@hookimpl(priority=PRIORITY)
def llmspell_after_llm_call(ctx: HookContext) -> None:
    reserved = ctx.metadata.pop("ratelimit_tokens", None)
    if reserved is None or ctx.skipped:
        return
    bucket, estimate = reserved
    usage = getattr(ctx.output, "usage", None)
    if usage is None:
        return
    bucket.refill(trio.current_time())
    bucket.adjust(usage.input_tokens + usage.output_tokens - estimate)


@hookimpl(priority=PRIORITY)
async def llmspell_before_tool_call(ctx: HookContext) -> None:
    run = ctx.run
    if run is None:
        return
    rules = _limiters.get(run.kernel)
    found = rules.for_tool(ctx.name) if rules is not None else None
    if found is None:
        return
    bucket, max_wait, buckets = found
    await acquire(run, "tool_call", ctx.name, bucket, max_wait, [(b, 1.0) for b in buckets])
