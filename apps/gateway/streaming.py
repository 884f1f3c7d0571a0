"""Relay an upstream chat stream to the client as SSE, and account for it exactly once.

The relay is a real async generator handed to StreamingHttpResponse (a sync iterator
would be buffered under ASGI). Whatever way it ends — finished, upstream error or cut,
or the client going away (Django cancels the task: CancelledError, or closes the
generator: GeneratorExit) — the `finally` closes the upstream stream and records usage
for what was produced, in a shielded task so a second cancellation cannot lose it.

A stream cannot outlive its reservation: billing's sweeper releases a reservation after
`BILLING_RESERVATION_TIMEOUT`, and a settle after that would charge money the budget no
longer holds for it. So a stream's total time is capped (`stream_time_limit`): when the
cap is reached while the relay waits for the upstream, its task is cancelled, the client
gets an error event and the usage produced so far is recorded and settled in time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from django.conf import settings

from apps.billing.budget import reservation_timeout_seconds
from apps.gateway.background import BACKGROUND, REQUESTS, SERVER_STOPPING
from apps.gateway.errors import GatewayError, openai_stream_error
from apps.gateway.providers.base import ChatStream, UpstreamError, Usage, is_usage_chunk
from apps.gateway.translate.anthropic_stream import (
    OpenAIToAnthropicStream,
    error_event,
    format_sse,
)

log = logging.getLogger("cloudfreedom.gateway.streaming")

DONE = b"data: [DONE]\n\n"

# (status, error_type, usage, ttft_ms) → record usage
Finalizer = Callable[[str, str, Usage, int | None], Awaitable[None]]

# Seconds kept between a stream's end and its reservation's expiry: the usage record's
# retries on a database blip (accounting.RECORD_RETRY_DELAYS) and some clock slack.
SETTLE_MARGIN = 30.0


def stream_time_limit() -> float:
    """Seconds a stream may run, counted from the request's start: at most the request
    deadline, and ending before its reservation can expire (with time left to settle)."""
    timeout = float(reservation_timeout_seconds())
    deadline = float(settings.GATEWAY_REQUEST_DEADLINE)
    return min(deadline, timeout - min(SETTLE_MARGIN, timeout / 4))


class StreamRelay:
    def __init__(self, upstream: ChatStream, started: float, finalize: Finalizer) -> None:
        self.upstream = upstream
        self.started = started
        self.finalize = finalize
        self.ttft_ms: int | None = None
        self.status = "success"
        self.error_type = ""
        self.iterating = False  # the response body generator has started
        self.ended = False  # usage recorded (exactly once)
        self.expired = False  # the stream reached its time limit
        self._task: asyncio.Task[Any] | None = None
        self._timer: asyncio.TimerHandle | None = None

    def _start(self) -> None:
        """Mark the body as started and arm the stream's time limit."""
        self.iterating = True
        self._task = asyncio.current_task()
        left = stream_time_limit() - (time.perf_counter() - self.started)
        self._timer = asyncio.get_running_loop().call_later(max(left, 0.0), self._expire)

    def _expire(self) -> None:
        # Cancelling the task interrupts a wait for the upstream (caught in the relay,
        # which then ends the stream) or a send to a client that stopped reading (the
        # response is then closed, which ends the relay the same way).
        self.expired = True
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _ended_by_server(self, exc: asyncio.CancelledError) -> GatewayError | None:
        """After a CancelledError in the relay: the error to send if the gateway ended the
        stream (its time limit, or the server stopping), else None (the client left)."""
        if self.expired:
            self.error_type = "time_limit"
            log.warning("stream_time_limit limit=%.0fs", stream_time_limit())
            error = GatewayError(
                504,
                "The stream reached the gateway's time limit and was ended.",
                code="stream_time_limit",
            )
        elif exc.args and exc.args[0] == SERVER_STOPPING:
            self.error_type = "server_stopping"
            error = GatewayError(
                503, "The server is restarting; please retry the request.", code="server_stopping"
            )
        else:
            return None
        self.status = "error"
        if self._task is not None:
            self._task.uncancel()  # consumed here: the stream ends normally
        return error

    def _closed_early(self) -> None:
        """The body was closed before its end (or cancelled while sending)."""
        if self.expired:
            self.status = "error"
            self.error_type = "time_limit"
        elif REQUESTS.stopping:  # stopped while sending to the client: still the server
            self.status = "error"
            self.error_type = "server_stopping"
        else:
            self.status = "client_closed"
            self.error_type = "client_closed"

    def _first(self) -> None:
        if self.ttft_ms is None:
            self.ttft_ms = int((time.perf_counter() - self.started) * 1000)

    async def _end(self) -> None:
        if self.ended:
            return
        self.ended = True
        if self.status != "success":
            try:
                await self.upstream.aclose()
            except Exception as exc:  # closing a dead socket must not lose the record
                log.warning("upstream_close_failed error=%s", type(exc).__name__)
        usage = self.upstream.usage
        await BACKGROUND.shielded(self.finalize(self.status, self.error_type, usage, self.ttft_ms))

    def _fail(self, exc: UpstreamError) -> GatewayError:
        self.status = "error"
        self.error_type = exc.kind
        log.info("upstream_stream_failed kind=%s status=%s", exc.kind, exc.status)
        return GatewayError(502, exc.message, code=f"upstream_{exc.kind}")

    async def openai(self, include_usage: bool, model: str) -> AsyncIterator[bytes]:
        """OpenAI chunks out; the usage chunk only when the client asked for it.

        Chunks name the public model, as non-streamed answers do."""
        dumps = orjson.dumps
        self._start()
        try:
            try:
                async for chunk in self.upstream:
                    if self.ttft_ms is None:
                        self._first()
                    if not include_usage and is_usage_chunk(chunk):
                        continue
                    chunk["model"] = model
                    yield b"data: " + dumps(chunk) + b"\n\n"
            except UpstreamError as exc:
                yield openai_stream_error(self._fail(exc))
                return
            except asyncio.CancelledError as exc:
                error = self._ended_by_server(exc)
                if error is None:
                    raise
                yield openai_stream_error(error)
                return
            yield DONE
        except (asyncio.CancelledError, GeneratorExit):
            self._closed_early()
            raise
        finally:
            self._stop_timer()
            await self._end()

    async def anthropic(self, model: str, input_tokens: int) -> AsyncIterator[bytes]:
        """Anthropic Messages events out, translated from the OpenAI chunks."""
        translator = OpenAIToAnthropicStream(model, input_tokens=input_tokens)
        self._start()
        try:
            try:
                async for chunk in self.upstream:
                    if self.ttft_ms is None:
                        self._first()
                    events = translator.feed(chunk)
                    if events:
                        yield b"".join(format_sse(name, data) for name, data in events)
            except UpstreamError as exc:
                yield _anthropic_error(self._fail(exc))
                return
            except asyncio.CancelledError as exc:
                error = self._ended_by_server(exc)
                if error is None:
                    raise
                yield _anthropic_error(error)
                return
            usage = _usage_dict(self.upstream.usage)
            yield b"".join(format_sse(name, data) for name, data in translator.finish(usage))
        except (asyncio.CancelledError, GeneratorExit):
            self._closed_early()
            raise
        finally:
            self._stop_timer()
            await self._end()


class RelayBody:
    """The body of a streamed response: the relay's generator plus a `close()` that Django
    calls when the response is closed (also when the client left before, or while, the body
    was sent). A generator that never started, or was left suspended at a `yield`, would
    never run its `finally`; closing it here still records the request's usage, once."""

    def __init__(self, relay: StreamRelay, events: AsyncIterator[bytes]) -> None:
        self.relay = relay
        self.events = events

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.events

    def close(self) -> None:
        relay = self.relay
        if relay.ended:
            return
        if not relay.iterating:
            relay._closed_early()
            BACKGROUND.run(relay._end())
        else:
            BACKGROUND.run(self.events.aclose())  # type: ignore[attr-defined]


def _anthropic_error(error: GatewayError) -> bytes:
    name, data = error_event(error.message, error.anthropic_body()["error"]["type"])
    return format_sse(name, data)


def _usage_dict(usage: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
        "prompt_tokens_details": {
            "cached_tokens": usage.cached_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
        },
    }
