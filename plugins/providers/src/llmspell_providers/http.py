"""The client layer every HTTP provider shares: one httpx client per trio run, JSON requests with
retries, server-sent-event streams, rate limits, and failures mapped to ``provider_error``.

Retries (tenacity) cover 408, 409, 429 and 5xx answers and transport failures (refused or broken
connections, timeouts): exponential backoff with full jitter, or exactly what the server asks for
in ``retry-after-ms``/``Retry-After`` (up to ``retry_after_max`` seconds; a longer demand fails
at once). A server's ``x-should-retry`` header overrides the status rule. A stream is retried
only until its first event arrives.

httpx connections belong to the event loop that opened them, so clients are kept per trio run
and closed by a system task when that run ends; a cancelled request closes its connection.
"""

from __future__ import annotations

import email.utils
import functools
import json
import math
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import attrs
import httpx
import tenacity
import trio
from httpx_sse import EventSource, ServerSentEvent

from llmspell.errors import LlmspellError
from llmspell_providers.ratelimit import RateLimiter
from llmspell_providers.spec import HttpSettings

RETRY_STATUSES = frozenset({408, 409, 429})
#: The most requests one httpx client serves at once (see :meth:`HttpClient.lease`).
REQUESTS_PER_CLIENT = 8


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every client of the process (loading the CA bundle takes ~50 ms)."""
    return httpx.create_ssl_context()


@attrs.define(eq=False)
class _Pool:
    client: httpx.AsyncClient
    busy: int = 0


class HttpFailure(Exception):
    """A failed attempt, before the retry decision: status (``None`` for transport failures),
    the provider's own message, whether it may be retried and the delay the server asked for."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        reason: str = "http",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        self.reason = reason


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date);
    ``None`` when absent or unreadable."""
    raw = headers.get("retry-after-ms")
    if raw:
        try:
            value = float(raw) / 1000.0
            if math.isfinite(value) and value >= 0:
                return value
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        value = float(raw)
        return value if math.isfinite(value) and value >= 0 else None
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def error_message(body: bytes, limit: int = 300) -> str:
    """The provider's own error message from an error body (the OpenAI, Anthropic and Gemini
    shapes: ``{"error": {"message": ...}}``, ``{"error": "..."}``, ``{"message": ...}``), else the
    start of the body."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            return err["message"]
        if isinstance(err, str):
            return err
    text = body.decode("utf-8", "replace").strip()
    return text[:limit] + ("..." if len(text) > limit else "") or "(empty body)"


def status_failure(response: httpx.Response, body: bytes) -> HttpFailure:
    """The failure for a non-2xx ``response`` whose body has been read."""
    status = response.status_code
    retryable = status in RETRY_STATUSES or status >= 500
    should = response.headers.get("x-should-retry")
    if should in ("true", "false"):
        retryable = should == "true"
    return HttpFailure(
        error_message(body),
        status=status,
        retryable=retryable,
        retry_after=parse_retry_after(response.headers),
    )


def transport_failure(exc: httpx.TransportError, settings: HttpSettings) -> HttpFailure:
    """The failure for a connection that could not be made, timed out or broke."""
    if isinstance(exc, httpx.TimeoutException):
        kind = "connect" if isinstance(exc, httpx.ConnectTimeout) else "read"
        limit = settings.connect_timeout if kind == "connect" else settings.timeout
        return HttpFailure(
            f"timed out after {limit:g} s ({kind})", retryable=True, reason="timeout"
        )
    if isinstance(exc, httpx.ConnectError):
        return HttpFailure(
            f"cannot connect to {settings.base_url}: {exc}", retryable=True, reason="connect"
        )
    return HttpFailure(
        f"connection failed: {type(exc).__name__}: {exc}", retryable=True, reason="transport"
    )


def _retry_wait(settings: HttpSettings) -> Callable[[tenacity.RetryCallState], float]:
    backoff = tenacity.wait_random_exponential(
        multiplier=settings.backoff_initial, max=settings.backoff_max
    )

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, HttpFailure) and exc.retry_after is not None:
            return exc.retry_after
        return float(backoff(state))

    return wait


def _retryable(settings: HttpSettings) -> Callable[[BaseException], bool]:
    def check(exc: BaseException) -> bool:
        if not isinstance(exc, HttpFailure) or not exc.retryable:
            return False
        return exc.retry_after is None or exc.retry_after <= settings.retry_after_max

    return check


class HttpClient:
    """POSTs JSON to one provider's ``base_url`` with its headers, limits and retries.

    ``provider`` names the provider in errors. ``headers`` is called for every request so that a
    key is read from the environment when needed and never stored in a printable field.
    """

    def __init__(
        self,
        provider: str,
        settings: HttpSettings,
        headers: Callable[[], dict[str, str]],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.provider = provider
        self.settings = settings
        self._headers = headers
        self._transport = transport
        self.limiter = RateLimiter(settings.requests_per_minute, settings.tokens_per_minute)
        self._pools: dict[object, list[_Pool]] = {}

    def __repr__(self) -> str:
        return f"HttpClient({self.provider!r}, {self.settings.base_url!r})"

    # --- clients per trio run -----------------------------------------------------------------

    def _open_client(self) -> httpx.AsyncClient:
        s = self.settings
        return httpx.AsyncClient(
            base_url=s.base_url.rstrip("/") + "/",
            verify=tls_context() if s.base_url.startswith("https:") else False,
            timeout=httpx.Timeout(s.timeout, connect=s.connect_timeout),
            transport=self._transport,
            follow_redirects=False,
        )

    @contextmanager
    def lease(self) -> Iterator[httpx.AsyncClient]:
        """A client of this trio run for one request (or one stream, for as long as it is
        open). The run's clients are opened on demand and closed when the run ends.

        httpcore's connection pool does work proportional to requests x connections on every
        change, so a pool never serves more than :data:`REQUESTS_PER_CLIENT` requests at once:
        the least busy client is leased, and a new one opened when all are full.
        """
        token = trio.lowlevel.current_trio_token()
        pools = self._pools.get(token)
        if pools is None:
            pools = self._pools[token] = []
            trio.lowlevel.spawn_system_task(self._close_at_run_end, token, pools)
        pool = min(pools, key=lambda p: p.busy, default=None)
        if pool is None or pool.busy >= REQUESTS_PER_CLIENT:
            pool = _Pool(self._open_client())
            pools.append(pool)
        pool.busy += 1
        try:
            yield pool.client
        finally:
            pool.busy -= 1

    async def _close_at_run_end(self, token: object, pools: list[_Pool]) -> None:
        try:
            await trio.sleep_forever()
        finally:
            self._pools.pop(token, None)
            with trio.CancelScope(shield=True):
                for pool in pools:
                    try:
                        await pool.client.aclose()
                    except Exception:  # a system task must not crash the run it outlives
                        pass

    # --- requests -----------------------------------------------------------------------------

    def error(self, failure: HttpFailure, model: str, attempts: int) -> LlmspellError:
        """``provider_error`` for the last failure of a call."""
        status = f" {failure.status}" if failure.status is not None else ""
        tries = f" (after {attempts} attempts)" if attempts > 1 else ""
        return LlmspellError(
            "provider_error",
            f"{self.provider}{status}: {failure.message}{tries}",
            {
                "provider": self.provider,
                "model": model,
                "status": failure.status,
                "reason": failure.reason,
                "attempts": attempts,
                "retry_after": failure.retry_after,
            },
        )

    def _retrying(self) -> tenacity.AsyncRetrying:
        s = self.settings
        return tenacity.AsyncRetrying(
            stop=tenacity.stop_after_attempt(s.max_retries + 1),
            wait=_retry_wait(s),
            retry=tenacity.retry_if_exception(_retryable(s)),
            sleep=trio.sleep,
            reraise=True,
        )

    async def post_json(
        self, path: str, body: dict[str, Any], *, model: str, estimated_tokens: int = 0
    ) -> tuple[dict[str, Any], Callable[[int], None]]:
        """POST ``body`` and return the decoded JSON object answered, and a function to call
        with the tokens the reply really used (for the token rate limit)."""
        attempts = 0
        try:
            async for attempt in self._retrying():
                with attempt:
                    attempts += 1
                    await self.limiter.acquire(estimated_tokens)
                    data = await self._post_once(path, body)
        except HttpFailure as failure:
            raise self.error(failure, model, attempts) from None
        return data, lambda used: self.limiter.settle(estimated_tokens, used)

    async def _post_once(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            with self.lease() as client:
                response = await client.post(path, json=body, headers=self._headers())
                content = response.content
        except httpx.TransportError as exc:
            raise transport_failure(exc, self.settings) from None
        if response.status_code >= 300:
            raise status_failure(response, content)
        try:
            data = json.loads(content)
        except ValueError as exc:
            raise HttpFailure(
                f"answered with malformed JSON ({exc}): {error_message(content, 120)}",
                status=response.status_code,
                reason="malformed",
            ) from None
        if not isinstance(data, dict):
            raise HttpFailure(
                f"answered with JSON that is not an object: {content[:120]!r}",
                status=response.status_code,
                reason="malformed",
            )
        return data

    @asynccontextmanager
    async def stream_events(
        self, path: str, body: dict[str, Any], *, model: str, estimated_tokens: int = 0
    ) -> AsyncIterator[AsyncIterator[ServerSentEvent]]:
        """POST ``body`` and yield the server-sent events of the answer. Connecting and a
        non-2xx status are retried; once events flow, a broken connection or a timeout raises
        ``provider_error``. Leaving the block (also by cancellation) closes the connection."""
        attempts = 0
        response: httpx.Response | None = None
        with self.lease() as client:
            try:
                async for attempt in self._retrying():
                    with attempt:
                        attempts += 1
                        await self.limiter.acquire(estimated_tokens)
                        response = await self._open_stream(client, path, body)
            except HttpFailure as failure:
                raise self.error(failure, model, attempts) from None
            assert response is not None
            try:
                yield self._events(response, model, attempts)
            finally:
                with trio.CancelScope(shield=True):
                    await response.aclose()

    async def _open_stream(
        self, client: httpx.AsyncClient, path: str, body: dict[str, Any]
    ) -> httpx.Response:
        request = client.build_request(
            "POST", path, json=body, headers={"accept": "text/event-stream", **self._headers()}
        )
        try:
            response = await client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise transport_failure(exc, self.settings) from None
        if response.status_code >= 300:
            try:
                content = await response.aread()
            except httpx.TransportError as exc:
                raise transport_failure(exc, self.settings) from None
            finally:
                await response.aclose()
            raise status_failure(response, content)
        kind = response.headers.get("content-type", "")
        if "text/event-stream" not in kind:
            content = await response.aread()
            await response.aclose()
            raise HttpFailure(
                f"answered a stream request with {kind or 'no content type'}: "
                f"{error_message(content, 120)}",
                status=response.status_code,
                reason="malformed",
            )
        return response

    async def _events(
        self, response: httpx.Response, model: str, attempts: int
    ) -> AsyncIterator[ServerSentEvent]:
        try:
            async for event in EventSource(response).aiter_sse():
                yield event
        except httpx.TransportError as exc:
            failure = transport_failure(exc, self.settings)
            failure.message = f"stream broke: {failure.message}"
            raise self.error(failure, model, attempts) from None


def decode_event(event: ServerSentEvent, provider: str, model: str) -> Any:
    """The JSON data of a server-sent event, or ``provider_error`` naming the bad data."""
    try:
        return json.loads(event.data)
    except ValueError as exc:
        raise LlmspellError(
            "provider_error",
            f"{provider}: malformed JSON in a stream event ({exc}): {event.data[:120]!r}",
            {"provider": provider, "model": model, "reason": "malformed"},
        ) from None


def stream_incomplete(provider: str, model: str) -> LlmspellError:
    """The error for a stream that ended without the protocol's final event."""
    return LlmspellError(
        "provider_error",
        f"{provider}: the stream ended before the reply was complete",
        {"provider": provider, "model": model, "reason": "incomplete"},
    )
