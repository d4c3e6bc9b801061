"""Tests of the in-process event bus (real trio, no mocks)."""

from __future__ import annotations

import pytest
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from llmspell.errors import LlmspellError
from llmspell.events import (
    OVERFLOW_POLICIES,
    Event,
    EventBus,
    Subscription,
    compile_pattern,
    validate_topic,
)

# --- topics and patterns -------------------------------------------------------------------

PATTERN_TABLE = [
    # (pattern, topic, matches)
    ("agent.started", "agent.started", True),
    ("agent.started", "agent.finished", False),
    ("agent.started", "agent.started.late", False),
    ("agent.*", "agent.started", True),
    ("agent.*", "agent", False),
    ("agent.*", "agent.step.started", False),
    ("*.error", "tool.error", True),
    ("*.error", "error", False),
    ("*.error", "a.tool.error", False),
    ("*", "agent", True),
    ("*", "agent.started", False),
    ("tool.**", "tool", True),
    ("tool.**", "tool.a", True),
    ("tool.**", "tool.a.b", True),
    ("tool.**", "tools.a", False),
    ("tool.**", "agent.tool", False),
    ("**.error", "error", True),
    ("**.error", "a.b.error", True),
    ("**.error", "a.b.error.x", False),
    ("**.error", "errors", False),
    ("**", "a", True),
    ("**", "a.b.c.d", True),
    ("**.**", "a.b", True),
    ("workflow.**.finished", "workflow.finished", True),
    ("workflow.**.finished", "workflow.step.finished", True),
    ("workflow.**.finished", "workflow.a.b.finished", True),
    ("workflow.**.finished", "workflow.step.started", False),
    ("a.**.b.**", "a.b", True),
    ("a.**.b.**", "a.x.b.y.z", True),
    ("a.**.b.**", "a.x.y", False),
    ("**.*", "a", True),
    ("*.**", "a.b.c", True),
    ("agent.start*", "agent.started", True),
    ("agent.start*", "agent.start", True),
    ("agent.start*", "agent.restart", False),
    ("agent.start*", "agent.started.x", False),
    ("*ed.x", "started.x", True),
    ("*ed.x", "start.x", False),
    ("a*b", "ab", True),
    ("a*b", "a-_9b", True),
    ("a*b", "a.b", False),
    ("tool-1.a_b", "tool-1.a_b", True),
]


@pytest.mark.parametrize(("pattern", "topic", "expected"), PATTERN_TABLE)
def test_pattern_table(pattern: str, topic: str, expected: bool) -> None:
    assert compile_pattern(pattern).matches(topic) is expected


@pytest.mark.parametrize(
    # '?' is no wildcard; like any character a topic cannot hold, it is refused
    "pattern",
    ["", ".", "a.", ".a", "a..b", "a**", "**b", "a.***", "a b", "tool?", "a/b", 3],
)
def test_malformed_pattern_raises_invalid_value(pattern: object) -> None:
    with pytest.raises(LlmspellError) as info:
        compile_pattern(pattern)  # type: ignore[arg-type]
    assert info.value.code == "invalid_value"
    assert repr(pattern) in info.value.message


@pytest.mark.parametrize("topic", ["", "a.", ".a", "a..b", "a.*", "a b", "a/b", "é", None])
async def test_invalid_topic_raises_invalid_value(topic: object) -> None:
    with pytest.raises(LlmspellError) as info:
        validate_topic(topic)  # type: ignore[arg-type]
    assert info.value.code == "invalid_value"
    assert repr(topic) in info.value.message
    bus = EventBus()
    with pytest.raises(LlmspellError, match="invalid event topic"):
        await bus.publish(topic, 1)  # type: ignore[arg-type]
    with pytest.raises(LlmspellError, match="invalid event topic"):
        bus.publish_nowait(topic, 1)  # type: ignore[arg-type]


@pytest.mark.parametrize("topic", ["agent", "agent.started", "workflow.step.finished", "a-1.b_2"])
def test_valid_topic_is_returned(topic: str) -> None:
    assert validate_topic(topic) == topic


def test_compile_pattern_is_cached() -> None:
    assert compile_pattern("agent.**") is compile_pattern("agent.**")
    assert compile_pattern("agent.**").pattern == "agent.**"


def test_pattern_never_matches_an_invalid_topic() -> None:
    assert not compile_pattern("**").matches("")
    assert not compile_pattern("**").matches("a..b")
    assert not compile_pattern("a.*").matches("a. ")


# --- property: compiled regex == reference segment matcher ----------------------------------

TOPIC_SEGMENTS = ["a", "b", "ab", "ba", "x-1", "a_b"]
PATTERN_SEGMENTS = ["a", "b", "ab", "x-1", "*", "**", "a*", "*b", "*a*", "x*1"]


def _segment_matches(pattern: str, segment: str) -> bool:
    """Reference: '*' inside a segment matches any run of characters."""
    if not pattern:
        return not segment
    if pattern[0] == "*":
        return any(_segment_matches(pattern[1:], segment[i:]) for i in range(len(segment) + 1))
    return bool(segment) and segment[0] == pattern[0] and _segment_matches(pattern[1:], segment[1:])


def _reference_matches(pattern: list[str], topic: list[str]) -> bool:
    """Reference: segment by segment, '**' consumes zero or more segments."""
    if not pattern:
        return not topic
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_reference_matches(rest, topic[i:]) for i in range(len(topic) + 1))
    return bool(topic) and _segment_matches(head, topic[0]) and _reference_matches(rest, topic[1:])


@st.composite
def _derived_pattern(draw: st.DrawFn, topic: list[str]) -> list[str]:
    """A pattern built by editing ``topic``: mostly matching, sometimes not."""
    pattern: list[str] = []
    i = 0
    while i < len(topic):
        edit = draw(st.sampled_from(["keep", "star", "partial", "globstar", "random"]))
        if edit == "globstar":
            pattern.append("**")
            i += draw(st.integers(0, len(topic) - i))
            continue
        segment = topic[i]
        i += 1
        if edit == "keep":
            pattern.append(segment)
        elif edit == "star":
            pattern.append("*")
        elif edit == "partial":
            start = draw(st.integers(0, len(segment)))
            end = draw(st.integers(start, len(segment)))
            pattern.append(segment[:start] + "*" + segment[end:])
        else:
            pattern.append(draw(st.sampled_from(PATTERN_SEGMENTS)))
    pattern += draw(st.lists(st.sampled_from(PATTERN_SEGMENTS), max_size=2))
    return pattern or ["**"]


@st.composite
def _topic_and_pattern(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    topic = draw(st.lists(st.sampled_from(TOPIC_SEGMENTS), min_size=1, max_size=5))
    pattern = draw(
        st.one_of(
            _derived_pattern(topic),
            st.lists(st.sampled_from(PATTERN_SEGMENTS), min_size=1, max_size=5),
        )
    )
    return topic, pattern


def test_compiled_pattern_agrees_with_reference_matcher() -> None:
    outcomes: set[bool] = set()

    @settings(max_examples=600, deadline=None)
    @given(_topic_and_pattern())
    def check(case: tuple[list[str], list[str]]) -> None:
        topic, pattern = case
        expected = _reference_matches(pattern, topic)
        outcomes.add(expected)
        assert compile_pattern(".".join(pattern)).matches(".".join(topic)) is expected

    check()
    assert outcomes == {True, False}  # the strategy exercises both outcomes


# --- delivery -------------------------------------------------------------------------------


async def test_publish_returns_event_with_increasing_seq_and_fields() -> None:
    bus = EventBus()
    first = await bus.publish("agent.started", {"name": "a"}, source="runtime")
    second = bus.publish_nowait("agent.finished", [1, 2])
    assert isinstance(first, Event)
    assert (first.topic, first.data, first.source) == ("agent.started", {"name": "a"}, "runtime")
    assert second.source is None
    assert second.seq == first.seq + 1
    assert second.timestamp >= first.timestamp > 0


async def test_order_preserved_per_subscriber_with_many_events() -> None:
    bus = EventBus()
    sub = bus.subscribe("n.**", buffer=8, overflow="block")
    received: list[Event] = []

    async def consume() -> None:
        async for event in sub:
            received.append(event)

    async def produce(name: str) -> None:
        for i in range(500):
            await bus.publish(f"n.{name}", i)
            if i % 7 == 0:
                await trio.sleep(0)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(consume)
        async with trio.open_nursery() as producers:
            for name in ("a", "b", "c"):
                producers.start_soon(produce, name)
        await trio.testing.wait_all_tasks_blocked()
        sub.close()

    assert len(received) == 1500
    seqs = [event.seq for event in received]
    assert seqs == sorted(seqs)
    for name in ("a", "b", "c"):
        assert [e.data for e in received if e.topic == f"n.{name}"] == list(range(500))


async def test_publish_and_drain_do_not_yield_per_event() -> None:
    bus = EventBus()
    sub = bus.subscribe("x", buffer=1000, overflow="block")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await trio.sleep(0)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(ticker)
        await trio.sleep(0)
        before = ticks
        for i in range(1000):
            await bus.publish("x", i)
        received = []
        async for event in sub:
            received.append(event.data)
            if len(received) == 1000:
                break
        assert ticks == before  # no task switch while publishing or draining
        nursery.cancel_scope.cancel()
    assert received == list(range(1000))


async def test_two_subscribers_each_get_every_event() -> None:
    bus = EventBus()
    one = bus.subscribe("tool.*")
    two = bus.subscribe("**")
    other = bus.subscribe("agent.*")
    for i in range(3):
        await bus.publish("tool.finished", i)
    assert [one.receive_nowait().data for _ in range(3)] == [0, 1, 2]
    assert [two.receive_nowait().data for _ in range(3)] == [0, 1, 2]
    with pytest.raises(trio.WouldBlock):
        other.receive_nowait()


async def test_subscription_sees_only_events_after_subscribe() -> None:
    bus = EventBus()
    await bus.publish("a", "before")
    sub = bus.subscribe("a")
    await bus.publish("a", "after")
    assert sub.receive_nowait().data == "after"


async def test_blocked_receiver_wakes_on_publish() -> None:
    bus = EventBus()
    sub = bus.subscribe("a")
    got: list[object] = []

    async def consume() -> None:
        got.append((await sub.receive()).data)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(consume)
        await trio.testing.wait_all_tasks_blocked()
        assert got == []
        await bus.publish("a", 42)
    assert got == [42]


async def test_close_stops_delivery_and_unsubscribes() -> None:
    bus = EventBus()
    sub = bus.subscribe("a")
    assert bus.subscribers == 1
    await bus.publish("a", 1)
    sub.close()
    sub.close()  # idempotent
    assert sub.closed
    assert bus.subscribers == 0
    await bus.publish("a", 2)
    assert sub.receive_nowait().data == 1  # what was buffered stays receivable
    with pytest.raises(trio.EndOfChannel):
        sub.receive_nowait()
    with pytest.raises(trio.EndOfChannel):
        await sub.receive()
    assert [event async for event in sub] == []


async def test_close_wakes_a_waiting_receiver_with_end_of_channel() -> None:
    bus = EventBus()
    sub = bus.subscribe("a")
    with pytest.RaisesGroup(trio.EndOfChannel):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(sub.receive)
            await trio.testing.wait_all_tasks_blocked()
            sub.close()


async def test_subscription_is_a_context_manager_that_closes() -> None:
    bus = EventBus()
    with bus.subscribe("a") as sub:
        assert isinstance(sub, Subscription)
        assert bus.subscribers == 1
    assert sub.closed
    assert bus.subscribers == 0


async def test_receive_nowait_raises_would_block_when_empty() -> None:
    sub = EventBus().subscribe("a")
    with pytest.raises(trio.WouldBlock):
        sub.receive_nowait()


async def test_bus_close_ends_every_subscription_after_draining() -> None:
    bus = EventBus()
    one, two = bus.subscribe("a"), bus.subscribe("**")
    await bus.publish("a", 1)
    bus.close()
    assert bus.subscribers == 0
    assert [e.data async for e in one] == [1]
    assert [e.data async for e in two] == [1]
    later = bus.subscribe("a")  # the bus stays usable
    await bus.publish("a", 2)
    assert later.receive_nowait().data == 2


# --- wait -----------------------------------------------------------------------------------


async def test_wait_returns_next_matching_event_published_after_the_call() -> None:
    bus = EventBus()
    await bus.publish("job.done", "too early")
    result: list[Event] = []

    async def waiter() -> None:
        result.append(await bus.wait("job.*"))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await trio.testing.wait_all_tasks_blocked()
        await bus.publish("other", "ignored")
        await bus.publish("job.done", "first")
        await bus.publish("job.done", "second")
    assert [e.data for e in result] == ["first"]
    assert bus.subscribers == 0


async def test_wait_times_out_with_code_timeout(autojump_clock: trio.testing.MockClock) -> None:
    bus = EventBus()
    start = trio.current_time()
    with pytest.raises(LlmspellError) as info:
        await bus.wait("job.*", timeout=5)
    assert trio.current_time() - start == pytest.approx(5)
    assert info.value.code == "timeout"
    assert "'job.*'" in info.value.message and "5 seconds" in info.value.message
    assert bus.subscribers == 0


async def test_wait_within_timeout_returns_event(autojump_clock: trio.testing.MockClock) -> None:
    bus = EventBus()
    result: list[Event] = []

    async def waiter() -> None:
        result.append(await bus.wait("a", timeout=10))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await trio.sleep(9)
        await bus.publish("a", "in time")
    assert result[0].data == "in time"


async def test_wait_rejects_negative_timeout_and_bad_pattern() -> None:
    bus = EventBus()
    with pytest.raises(LlmspellError, match="timeout") as info:
        await bus.wait("a", timeout=-1)
    assert info.value.code == "invalid_value"
    with pytest.raises(LlmspellError) as info:
        await bus.wait("a..b")
    assert info.value.code == "invalid_value"


async def test_wait_is_cancelled_when_bus_closes() -> None:
    bus = EventBus()
    with pytest.RaisesGroup(pytest.RaisesExc(LlmspellError, check=lambda e: e.code == "cancelled")):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(bus.wait, "a")
            await trio.testing.wait_all_tasks_blocked()
            bus.close()


# --- buffers and overflow policies ----------------------------------------------------------


def _drain(sub: Subscription) -> list[object]:
    out = []
    while True:
        try:
            out.append(sub.receive_nowait().data)
        except trio.WouldBlock:
            return out


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"overflow": "drop_first"}, "valid policies: drop_oldest, drop_newest, block, error"),
        ({"buffer": 0}, "buffer must be a positive integer"),
        ({"buffer": True}, "buffer must be a positive integer"),
        ({"buffer": 1.5}, "buffer must be a positive integer"),
    ],
)
def test_invalid_buffer_or_policy_raises_invalid_value(
    kwargs: dict[str, object], fragment: str
) -> None:
    bus = EventBus()
    with pytest.raises(LlmspellError) as info:
        bus.subscribe("a", **kwargs)  # type: ignore[arg-type]
    assert info.value.code == "invalid_value"
    assert fragment in info.value.message
    assert bus.subscribers == 0


def test_overflow_policy_names() -> None:
    assert list(OVERFLOW_POLICIES) == ["drop_oldest", "drop_newest", "block", "error"]
    assert EventBus().subscribe("a").overflow == "drop_oldest"


async def test_drop_oldest_keeps_newest_events_and_counts_dropped() -> None:
    bus = EventBus()
    sub = bus.subscribe("a", buffer=3)
    for i in range(1, 6):
        await bus.publish("a", i)
    assert sub.dropped == 2
    assert _drain(sub) == [3, 4, 5]


async def test_drop_newest_keeps_oldest_events_and_counts_dropped() -> None:
    bus = EventBus()
    sub = bus.subscribe("a", buffer=3, overflow="drop_newest")
    for i in range(1, 6):
        await bus.publish("a", i)
    assert sub.dropped == 2
    assert _drain(sub) == [1, 2, 3]
    await bus.publish("a", 6)  # room again
    assert _drain(sub) == [6]


async def test_error_policy_closes_subscription_with_limit_after_draining() -> None:
    bus = EventBus()
    sub = bus.subscribe("a.*", buffer=2, overflow="error")
    healthy = bus.subscribe("a.*", buffer=2)
    for i in range(1, 4):
        bus.publish_nowait("a.b", i)  # the publisher never fails
    await bus.publish("a.b", 4)
    assert sub.closed and sub.dropped == 1
    assert bus.subscribers == 1
    assert [(await sub.receive()).data, (await sub.receive()).data] == [1, 2]
    with pytest.raises(LlmspellError) as info:
        await sub.receive()
    assert info.value.code == "limit"
    assert info.value.message == "event subscriber for 'a.*' overflowed its buffer of 2"
    assert info.value.details["buffer"] == 2
    with pytest.raises(LlmspellError, match="overflowed"):
        sub.receive_nowait()
    assert _drain(healthy) == [3, 4]


async def test_error_policy_raises_from_async_for_after_buffered_events() -> None:
    bus = EventBus()
    sub = bus.subscribe("a", buffer=1, overflow="error")
    await bus.publish("a", 1)
    await bus.publish("a", 2)
    seen = []
    with pytest.raises(LlmspellError) as info:
        async for event in sub:
            seen.append(event.data)
    assert seen == [1]
    assert info.value.code == "limit"


async def test_block_makes_publish_wait_until_consumer_reads() -> None:
    bus = EventBus()
    sub = bus.subscribe("a", buffer=2, overflow="block")
    published: list[int] = []

    async def producer() -> None:
        for i in range(1, 5):
            await bus.publish("a", i)
            published.append(i)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(producer)
        await trio.testing.wait_all_tasks_blocked()
        assert published == [1, 2]  # the third publish is waiting for room
        assert sub.dropped == 0
        assert (await sub.receive()).data == 1
        await trio.testing.wait_all_tasks_blocked()
        assert published == [1, 2, 3]  # 4 waits: the buffer holds 2 and 3
        assert (await sub.receive()).data == 2
        await trio.testing.wait_all_tasks_blocked()
        assert published == [1, 2, 3, 4]
    assert _drain(sub) == [3, 4]
    assert sub.dropped == 0


async def test_block_keeps_emission_order_across_waiting_publishers() -> None:
    bus = EventBus()
    sub = bus.subscribe("a", buffer=1, overflow="block")
    other = bus.subscribe("a", buffer=10)
    await bus.publish("a", 1)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(bus.publish, "a", 2)
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(bus.publish, "a", 3)
        await trio.testing.wait_all_tasks_blocked()
        assert _drain(other) == [1, 2, 3]  # other subscribers are not held up
        received = [(await sub.receive()).data for _ in range(3)]
    assert received == [1, 2, 3]


async def test_publish_nowait_raises_limit_for_full_block_subscriber() -> None:
    bus = EventBus()
    sub = bus.subscribe("a", buffer=1, overflow="block")
    other = bus.subscribe("a")
    first = bus.publish_nowait("a", 1)
    with pytest.raises(LlmspellError) as info:
        bus.publish_nowait("a", 2)
    assert info.value.code == "limit"
    assert "'a'" in info.value.message
    assert _drain(other) == [1]  # the refused event reached no one
    sub.receive_nowait()
    assert bus.publish_nowait("a", 3).seq == first.seq + 1


async def test_closing_block_subscriber_releases_waiting_publisher() -> None:
    bus = EventBus()
    sub = bus.subscribe("a", buffer=1, overflow="block")
    done: list[Event] = []

    async def producer() -> None:
        await bus.publish("a", 1)
        done.append(await bus.publish("a", 2))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(producer)
        await trio.testing.wait_all_tasks_blocked()
        assert done == []
        sub.close()
    assert [e.data for e in done] == [2]
    assert [e.data async for e in sub] == [1]


async def test_cancelled_blocked_publish_still_delivers_its_event() -> None:
    bus = EventBus()
    sub = bus.subscribe("a", buffer=1, overflow="block")
    await bus.publish("a", 1)
    scope = trio.CancelScope()

    async def producer() -> None:
        with scope:
            await bus.publish("a", 2)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(producer)
        await trio.testing.wait_all_tasks_blocked()
        scope.cancel()
    assert scope.cancelled_caught
    assert _drain(sub) == [1, 2]


async def test_tap_sees_every_event_in_order_before_subscribers_until_removed() -> None:
    bus = EventBus()
    seen: list[tuple[str, int, int]] = []
    with bus.subscribe("a.*") as sub:
        remove = bus.tap(lambda e: seen.append((e.topic, e.seq, len(sub._events))))
        await bus.publish("a.one", 1)
        bus.publish_nowait("b.two", 2)  # no subscriber matches: the tap still sees it
        await bus.publish("a.three", 3)
        remove()
        await bus.publish("a.four", 4)
    # the tap ran before delivery: the subscription held 0, then 1 event when it saw them
    assert seen == [("a.one", 1, 0), ("b.two", 2, 1), ("a.three", 3, 1)]


async def test_tap_exception_reaches_publisher_and_no_subscriber() -> None:
    bus = EventBus()

    def boom(event: Event) -> None:
        raise RuntimeError("tap failed")

    with bus.subscribe("**") as sub:
        bus.tap(boom)
        with pytest.raises(RuntimeError, match="tap failed"):
            await bus.publish("x.y", None)
        with pytest.raises(trio.WouldBlock):
            sub.receive_nowait()
