"""Client-side rate limits: token buckets for requests and model tokens per minute."""

from __future__ import annotations

import time
from collections.abc import Callable

import attrs
import trio


@attrs.define
class TokenBucket:
    """A bucket of ``per_minute`` units refilled continuously, holding at most one minute's worth.

    :meth:`acquire` reserves units at once (no other task can take them while this one waits)
    and sleeps until the bucket has covered the reservation; a cancelled wait gives the units
    back. Units may go negative through :meth:`adjust` when a request cost more than estimated;
    later callers then wait longer.
    """

    per_minute: float
    clock: Callable[[], float] = time.monotonic
    _level: float = attrs.field(init=False)
    _stamp: float = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._level = self.per_minute
        self._stamp = self.clock()

    @property
    def rate(self) -> float:
        """Units per second."""
        return self.per_minute / 60.0

    def _refill(self) -> None:
        now = self.clock()
        self._level = min(self.per_minute, self._level + (now - self._stamp) * self.rate)
        self._stamp = now

    def reserve(self, units: float) -> float:
        """Take ``units`` now and return the seconds to wait before using them. A request larger
        than the whole bucket waits for a full bucket instead of forever."""
        self._refill()
        units = min(units, self.per_minute)
        self._level -= units
        return 0.0 if self._level >= 0 else -self._level / self.rate

    def adjust(self, units: float) -> None:
        """Take ``units`` more (or give back, when negative) after the fact."""
        self._refill()
        self._level = min(self.per_minute, self._level - units)

    async def acquire(self, units: float = 1.0) -> float:
        """Reserve ``units`` and sleep until they are covered; the seconds waited."""
        delay = self.reserve(units)
        if delay > 0:
            try:
                await trio.sleep(delay)
            except BaseException:
                self.adjust(-min(units, self.per_minute))
                raise
        return delay


@attrs.define
class RateLimiter:
    """Requests-per-minute and tokens-per-minute limits of one provider (either may be off).

    Tokens are reserved from an estimate before a request and corrected with the usage the
    provider reports afterwards.
    """

    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    _requests: TokenBucket | None = attrs.field(init=False, default=None)
    _tokens: TokenBucket | None = attrs.field(init=False, default=None)

    def __attrs_post_init__(self) -> None:
        if self.requests_per_minute:
            self._requests = TokenBucket(self.requests_per_minute)
        if self.tokens_per_minute:
            self._tokens = TokenBucket(self.tokens_per_minute)

    async def acquire(self, estimated_tokens: int) -> float:
        """Wait for one request and ``estimated_tokens``; the seconds waited."""
        waited = 0.0
        if self._requests is not None:
            waited += await self._requests.acquire(1)
        if self._tokens is not None:
            waited += await self._tokens.acquire(estimated_tokens)
        return waited

    def settle(self, estimated_tokens: int, actual_tokens: int) -> None:
        """Correct the token bucket once the real usage is known."""
        if self._tokens is not None and actual_tokens:
            self._tokens.adjust(actual_tokens - estimated_tokens)
