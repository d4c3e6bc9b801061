"""Pieces of the shared client layer: rate-limit buckets, Retry-After parsing, error bodies,
the token estimate."""

from __future__ import annotations

import email.utils

import pytest
import trio
import trio.testing

from llmspell_providers.base import estimate_tokens
from llmspell_providers.http import error_message, parse_retry_after
from llmspell_providers.ratelimit import RateLimiter, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_minute_of_burst_then_paces() -> None:
    clock = FakeClock()
    bucket = TokenBucket(60, clock=clock)  # one unit per second
    assert [bucket.reserve(1) for _ in range(60)] == [0.0] * 60
    assert bucket.reserve(1) == pytest.approx(1.0)
    assert bucket.reserve(1) == pytest.approx(2.0)  # reservations queue up
    clock.now = 10.0
    assert bucket.reserve(1) == 0.0  # 10 refilled, 2 were owed


def test_bucket_corrections_and_oversized_requests() -> None:
    clock = FakeClock()
    bucket = TokenBucket(600, clock=clock)  # 10 per second
    assert bucket.reserve(100) == 0.0
    bucket.adjust(600)  # the call used far more than estimated
    assert bucket.reserve(10) == pytest.approx((100 + 10) / 10)
    clock.now = 1000.0
    assert bucket.reserve(10_000) == 0.0  # larger than the bucket: waits for a full one only


async def test_limiter_waits_in_virtual_time_and_refunds_cancelled_waits(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limiter = RateLimiter(requests_per_minute=2)
    limiter._requests.clock = trio.current_time  # type: ignore[union-attr]
    limiter._requests._stamp = trio.current_time()  # type: ignore[union-attr]
    assert await limiter.acquire(0) == 0.0
    assert await limiter.acquire(0) == 0.0
    start = trio.current_time()
    assert await limiter.acquire(0) == pytest.approx(30.0)
    assert trio.current_time() - start == pytest.approx(30.0, abs=0.01)
    with trio.move_on_after(1):
        await limiter.acquire(0)  # would wait 30 s: cancelled, its unit given back
    assert limiter._requests.reserve(1) == pytest.approx(29.0, abs=0.01)  # type: ignore[union-attr]


def test_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "x", "retry-after": "2"}) == 2.0
    date = email.utils.formatdate(1_000_010.0, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=1_000_000.0) == pytest.approx(10.0)
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({"retry-after": "-1"}) is None
    assert parse_retry_after({}) is None


def test_error_messages_of_each_protocol() -> None:
    assert error_message(b'{"error": {"message": "bad model"}}') == "bad model"
    assert error_message(b'{"type": "error", "error": {"type": "x", "message": "slow"}}') == "slow"
    assert error_message(b'{"error": "plain"}') == "plain"
    assert error_message(b"<html>502 Bad Gateway</html>") == "<html>502 Bad Gateway</html>"
    assert error_message(b"") == "(empty body)"


def test_token_estimate_counts_the_output_budget_of_the_body() -> None:
    body = {"messages": [{"content": "x" * 400}]}
    base = estimate_tokens(body, None)
    assert estimate_tokens(body, 50) == base + 50
    assert estimate_tokens({**body, "max_tokens": 70}, None) > base + 69
    gemini = {**body, "generationConfig": {"maxOutputTokens": 90}}
    assert estimate_tokens(gemini, None) > base + 89
