"""The in-process event bus: dotted topics, glob subscriptions, bounded per-subscriber buffers.

Topics are dotted names (``agent.started``, ``workflow.step.finished``); every segment is one or
more of ``A-Z a-z 0-9 _ -``. A subscription pattern is a glob over segments: ``*`` as a whole
segment matches exactly one segment, ``*`` inside a segment matches any characters except ``.``,
and ``**`` as a whole segment matches zero or more segments. No other character is special.

Contracts of :class:`EventBus`:

* every event gets a bus-wide ``seq``, increasing in emission order;
* each subscriber receives the events matching its pattern in emission order, always;
* each subscriber has its own bounded buffer and overflow policy (:data:`OVERFLOW_POLICIES`);
  only a ``block`` subscriber can make a publisher wait, no other subscriber can make it fail;
* ``data`` is shared, not copied: publishers must not mutate it after publishing.

The bus dispatches no hooks and owns no tasks; the runtime wraps it.
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

import attrs
import trio

from llmspell.errors import LlmspellError

__all__ = [
    "OVERFLOW_POLICIES",
    "Event",
    "EventBus",
    "Subscription",
    "TopicPattern",
    "compile_pattern",
    "validate_topic",
]

#: Overflow policy names and what happens when a subscriber's buffer is full.
OVERFLOW_POLICIES: dict[str, str] = {
    "drop_oldest": "discard the oldest buffered event to make room (counted in `dropped`)",
    "drop_newest": "discard the new event for this subscriber (counted in `dropped`)",
    "block": "the publisher waits until the subscriber has room",
    "error": "close the subscription; its receiver gets a `limit` error after draining",
}

_SEGMENT = "[A-Za-z0-9_-]"
_TOPIC_RE = re.compile(rf"{_SEGMENT}+(?:\.{_SEGMENT}+)*")
_PATTERN_SEGMENT_RE = re.compile(r"[A-Za-z0-9_*-]+")
_ROUTE_CACHE_SIZE = 4096


@attrs.frozen
class Event:
    """One published event.

    ``seq`` is the bus-wide emission number (strictly increasing per bus), ``timestamp`` is
    ``time.time()`` at emission, ``data`` is the JSON-like payload as published (not copied).
    """

    topic: str
    data: Any
    seq: int
    timestamp: float
    source: str | None = None


def validate_topic(topic: str) -> str:
    """Return ``topic`` if it is a valid topic, else raise ``LlmspellError("invalid_value")``."""
    if not isinstance(topic, str) or _TOPIC_RE.fullmatch(topic) is None:
        raise LlmspellError(
            "invalid_value",
            f"invalid event topic {topic!r}: expected dot-separated segments of letters, "
            "digits, '_' or '-'",
            {"topic": topic if isinstance(topic, str) else repr(topic)},
            hint="examples: 'agent.started', 'workflow.step.finished'",
        )
    return topic


@attrs.frozen
class TopicPattern:
    """A compiled subscription pattern; :meth:`matches` is a single regex match.

    Strings that are not valid topics never match.
    """

    pattern: str
    _regex: re.Pattern[str] = attrs.field(repr=False)

    def matches(self, topic: str) -> bool:
        """Whether ``topic`` matches this pattern."""
        return self._regex.fullmatch(topic) is not None


def compile_pattern(pattern: str) -> TopicPattern:
    """Compile a glob ``pattern`` (cached); raise ``LlmspellError("invalid_value")`` if malformed.

    Malformed: not a string, an empty segment, a character other than ``A-Z a-z 0-9 _ - *``,
    or ``**`` inside a longer segment (``a**``, ``***``).
    """
    if not isinstance(pattern, str):
        raise _bad_pattern(repr(pattern), "a pattern must be a string")
    return _compile_cached(pattern)


@functools.lru_cache(maxsize=1024)
def _compile_cached(pattern: str) -> TopicPattern:
    segments: list[str] = []
    for seg in pattern.split("."):
        if not seg:
            raise _bad_pattern(pattern, "empty segment")
        if _PATTERN_SEGMENT_RE.fullmatch(seg) is None:
            raise _bad_pattern(
                pattern, f"segment {seg!r} has characters other than letters, digits, _ - *"
            )
        if "**" in seg and seg != "**":
            raise _bad_pattern(pattern, f"'**' must be a whole segment, not {seg!r}")
        if seg == "**" and segments and segments[-1] == "**":
            continue  # '**.**' means the same as '**'
        segments.append(seg)

    any_segments = f"{_SEGMENT}+(?:\\.{_SEGMENT}+)*"
    if segments == ["**"]:
        return TopicPattern(pattern, re.compile(any_segments))
    parts: list[str] = []
    for i, seg in enumerate(segments):
        if seg == "**":
            # leading '**' eats "x." prefixes; elsewhere it eats ".x" suffixes
            parts.append(f"(?:{_SEGMENT}+\\.)*" if i == 0 else f"(?:\\.{_SEGMENT}+)*")
            continue
        if i > 0 and not (i == 1 and segments[0] == "**"):
            parts.append(r"\.")
        if seg == "*":
            parts.append(f"{_SEGMENT}+")
        else:
            parts.append("".join(f"{_SEGMENT}*" if c == "*" else re.escape(c) for c in seg))
    return TopicPattern(pattern, re.compile("".join(parts)))


def _bad_pattern(pattern: str, why: str) -> LlmspellError:
    return LlmspellError(
        "invalid_value",
        f"invalid event pattern {pattern!r}: {why}",
        {"pattern": pattern},
        hint="patterns are dotted segments; '*' matches one segment or part of one, "
        "'**' (a whole segment) matches zero or more segments",
    )


@attrs.define(eq=False)
class Subscription:
    """A subscriber's bounded buffer of events matching ``pattern``, in emission order.

    Receive with :meth:`receive`, :meth:`receive_nowait` or ``async for``. After :meth:`close`
    (or :meth:`EventBus.close`) nothing new is delivered; what is buffered can still be received,
    then receiving raises ``trio.EndOfChannel`` (``async for`` ends). A subscription closed by the
    ``error`` policy raises its ``limit`` error instead, on every receive after draining.

    ``receive`` is a cancellation point but yields to the scheduler only when it has to wait, so a
    consumer drains everything buffered without a task switch per event.
    """

    pattern: str
    buffer: int
    overflow: str
    #: How many events this subscriber lost to overflow.
    dropped: int = attrs.field(default=0, init=False)
    _bus: EventBus | None = attrs.field(default=None, repr=False, alias="bus")
    _matcher: TopicPattern = attrs.field(init=False, repr=False)
    _events: deque[Event] = attrs.field(factory=deque, init=False, repr=False)
    #: events of blocked publishers (``block`` policy), admitted in order as room appears
    _pending: deque[Event] = attrs.field(factory=deque, init=False, repr=False)
    _receivers: trio.lowlevel.ParkingLot = attrs.field(
        factory=trio.lowlevel.ParkingLot, init=False, repr=False
    )
    _publishers: trio.lowlevel.ParkingLot = attrs.field(
        factory=trio.lowlevel.ParkingLot, init=False, repr=False
    )
    _closed: bool = attrs.field(default=False, init=False)
    _error: LlmspellError | None = attrs.field(default=None, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._matcher = compile_pattern(self.pattern)
        if isinstance(self.buffer, bool) or not isinstance(self.buffer, int) or self.buffer < 1:
            raise LlmspellError(
                "invalid_value",
                f"event subscriber buffer must be a positive integer, not {self.buffer!r}",
                {"buffer": repr(self.buffer)},
            )
        if self.overflow not in OVERFLOW_POLICIES:
            valid = ", ".join(OVERFLOW_POLICIES)
            raise LlmspellError(
                "invalid_value",
                f"unknown overflow policy {self.overflow!r}; valid policies: {valid}",
                {"overflow": repr(self.overflow), "valid": list(OVERFLOW_POLICIES)},
            )

    @property
    def closed(self) -> bool:
        """Whether the subscription no longer receives new events."""
        return self._closed

    def receive_nowait(self) -> Event:
        """The next buffered event; ``trio.WouldBlock`` if none yet, ``trio.EndOfChannel`` (or
        the overflow ``limit`` error) if closed and drained."""
        if self._events:
            event = self._events.popleft()
            if self._pending:
                self._events.append(self._pending.popleft())
                self._publishers.unpark_all()
            return event
        if self._closed:
            if self._error is not None:
                raise self._error
            raise trio.EndOfChannel
        raise trio.WouldBlock

    async def receive(self) -> Event:
        """The next event, waiting for one if the buffer is empty; see :meth:`receive_nowait`."""
        await trio.lowlevel.checkpoint_if_cancelled()
        while not self._events and not self._closed:
            await self._receivers.park()
        return self.receive_nowait()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        # receive() inlined: this is the hot path of a draining consumer
        await trio.lowlevel.checkpoint_if_cancelled()
        while not self._events:
            if self._closed:
                if self._error is not None:
                    raise self._error
                raise StopAsyncIteration
            await self._receivers.park()
        return self.receive_nowait()

    def close(self) -> None:
        """Unsubscribe (idempotent). Buffered events stay receivable; blocked publishers are
        released and their not-yet-admitted events are not delivered to this subscriber."""
        if self._closed:
            return
        self._closed = True
        if self._bus is not None:
            self._bus._remove(self)
        self._pending.clear()
        self._receivers.unpark_all()
        self._publishers.unpark_all()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _offer(self, event: Event) -> bool:
        """Deliver ``event`` per the overflow policy; False if a ``block`` buffer is full.

        Invariant: ``_pending`` is non-empty only while the buffer is full.
        """
        events = self._events
        if len(events) < self.buffer:
            events.append(event)
            if self._receivers:
                self._receivers.unpark()
            return True
        overflow = self.overflow
        if overflow == "block":
            return False
        self.dropped += 1
        if overflow == "drop_oldest":
            events.popleft()
            events.append(event)
        elif overflow == "error":
            self._error = LlmspellError(
                "limit",
                f"event subscriber for {self.pattern!r} overflowed its buffer of {self.buffer}",
                {"pattern": self.pattern, "buffer": self.buffer, "topic": event.topic},
                hint="consume events faster, raise the buffer, or choose another overflow policy",
            )
            self.close()
        return True

    async def _wait_admitted(self, event: Event) -> None:
        """Wait until ``event`` (queued in ``_pending``) has entered the buffer or was dropped by
        :meth:`close`."""
        while self._pending and self._pending[0].seq <= event.seq:
            await self._publishers.park()


class EventBus:
    """Routes published events to the subscriptions whose pattern matches the topic.

    The matching subscriptions of each topic are cached; the cache is cleared whenever a
    subscription is added or removed.
    """

    def __init__(self) -> None:
        self._subs: dict[Subscription, None] = {}
        self._routes: dict[str, tuple[Subscription, ...]] = {}
        self._taps: tuple[Callable[[Event], None], ...] = ()
        self._seq = 0

    def tap(self, fn: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``fn(event)`` synchronously with every event published from now on, every
        topic, in emission order, before the event reaches any subscription; return a function
        that removes the tap.

        For observers that must see everything without a buffer or a task (event recorders,
        progress displays). ``fn`` must be quick and must not block or raise: an exception it
        raises propagates to the publisher, and the event reaches no subscription.
        """
        self._taps = (*self._taps, fn)

        def remove() -> None:
            self._taps = tuple(t for t in self._taps if t is not fn)

        return remove

    @property
    def subscribers(self) -> int:
        """The number of open subscriptions (including those of pending :meth:`wait` calls)."""
        return len(self._subs)

    def subscribe(
        self, pattern: str, *, buffer: int = 1024, overflow: str = "drop_oldest"
    ) -> Subscription:
        """Subscribe to events whose topic matches ``pattern`` from now on.

        ``buffer`` (>= 1) bounds the events held for this subscriber; ``overflow`` names the
        policy for a full buffer (:data:`OVERFLOW_POLICIES`). Raises ``invalid_value`` for a
        malformed pattern, buffer or policy.
        """
        sub = Subscription(pattern, buffer, overflow, bus=self)
        self._subs[sub] = None
        self._routes.clear()
        return sub

    async def publish(self, topic: str, data: Any, *, source: str | None = None) -> Event:
        """Emit an event to every matching subscription and return it.

        A cancellation point; yields to the scheduler only while a full ``block`` subscriber
        makes it wait. If cancelled while waiting, the event is still delivered once there is
        room. Raises ``invalid_value`` for an invalid topic.
        """
        await trio.lowlevel.checkpoint_if_cancelled()
        targets = self._routes.get(topic)
        if targets is None:
            targets = self._route(topic)
        self._seq += 1
        event = Event(topic, data, self._seq, time.time(), source)
        for tap in self._taps:
            tap(event)
        blocked: list[Subscription] | None = None
        for sub in targets:
            if not sub._offer(event):
                sub._pending.append(event)  # queued in emission order, admitted as room appears
                blocked = [sub] if blocked is None else [*blocked, sub]
        if blocked is not None:
            for sub in blocked:
                await sub._wait_admitted(event)
        return event

    def publish_nowait(self, topic: str, data: Any, *, source: str | None = None) -> Event:
        """Like :meth:`publish` without waiting: if a matching ``block`` subscriber is full,
        raise ``LlmspellError("limit")`` and deliver the event to no one."""
        targets = self._route(topic)
        for sub in targets:
            if sub.overflow == "block" and (sub._pending or len(sub._events) >= sub.buffer):
                raise LlmspellError(
                    "limit",
                    f"event subscriber for {sub.pattern!r} is full (buffer of {sub.buffer}); "
                    f"cannot publish {topic!r} without waiting",
                    {"pattern": sub.pattern, "buffer": sub.buffer, "topic": topic},
                    hint="use 'await publish(...)' to wait for room",
                )
        event = self._new_event(topic, data, source)
        for tap in self._taps:
            tap(event)
        for sub in targets:
            sub._offer(event)
        return event

    async def wait(self, pattern: str, timeout: float | None = None) -> Event:
        """The next event matching ``pattern`` published after this call.

        Raises ``timeout`` after ``timeout`` seconds (``None``: no limit), ``cancelled`` if the
        bus is closed meanwhile, ``invalid_value`` for a malformed pattern or negative timeout.
        """
        if timeout is not None and not timeout >= 0:
            raise LlmspellError(
                "invalid_value",
                f"wait timeout must be >= 0 seconds, not {timeout!r}",
                {"timeout": timeout},
            )
        with self.subscribe(pattern, buffer=1, overflow="drop_newest") as sub:
            with trio.move_on_after(math.inf if timeout is None else timeout):
                try:
                    return await sub.receive()
                except trio.EndOfChannel:
                    raise LlmspellError(
                        "cancelled",
                        f"event bus closed while waiting for {pattern!r}",
                        {"pattern": pattern},
                    ) from None
        raise LlmspellError(
            "timeout",
            f"no event matching {pattern!r} within {timeout} seconds",
            {"pattern": pattern, "timeout": timeout},
        )

    def close(self) -> None:
        """Close every current subscription (receivers drain, then see the end). The bus stays
        usable: later subscriptions work normally."""
        for sub in list(self._subs):
            sub.close()

    def _remove(self, sub: Subscription) -> None:
        if sub in self._subs:
            del self._subs[sub]
            self._routes.clear()

    def _route(self, topic: str) -> tuple[Subscription, ...]:
        """The cached matching subscriptions of ``topic``, validating it on a cache miss."""
        targets = self._routes.get(topic)
        if targets is None:
            validate_topic(topic)
            targets = _matching(self._subs, topic)
            if len(self._routes) >= _ROUTE_CACHE_SIZE:
                self._routes.clear()
            self._routes[topic] = targets
        return targets

    def _new_event(self, topic: str, data: Any, source: str | None) -> Event:
        self._seq += 1
        return Event(topic, data, self._seq, time.time(), source)


def _matching(subs: Iterable[Subscription], topic: str) -> tuple[Subscription, ...]:
    return tuple(sub for sub in subs if sub._matcher.matches(topic))
