"""Relay an upstream chat stream to the client as SSE, and account for it exactly once.

The relay is a real async generator handed to StreamingHttpResponse (a sync iterator
would be buffered under ASGI). Whatever way it ends — finished, upstream error or cut,
or the client going away (Django cancels the task: CancelledError, or closes the
generator: GeneratorExit) — the `finally` closes the upstream stream and records usage
for what was produced, in a shielded task so a second cancellation cannot lose it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson

from apps.gateway.background import BACKGROUND
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
        self.iterating = True
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
            yield DONE
        except (asyncio.CancelledError, GeneratorExit):
            self.status = "client_closed"
            self.error_type = "client_closed"
            raise
        finally:
            await self._end()

    async def anthropic(self, model: str, input_tokens: int) -> AsyncIterator[bytes]:
        """Anthropic Messages events out, translated from the OpenAI chunks."""
        translator = OpenAIToAnthropicStream(model, input_tokens=input_tokens)
        self.iterating = True
        try:
            try:
                async for chunk in self.upstream:
                    if self.ttft_ms is None:
                        self._first()
                    events = translator.feed(chunk)
                    if events:
                        yield b"".join(format_sse(name, data) for name, data in events)
            except UpstreamError as exc:
                error = self._fail(exc)
                name, data = error_event(error.message, error.anthropic_body()["error"]["type"])
                yield format_sse(name, data)
                return
            usage = _usage_dict(self.upstream.usage)
            yield b"".join(format_sse(name, data) for name, data in translator.finish(usage))
        except (asyncio.CancelledError, GeneratorExit):
            self.status = "client_closed"
            self.error_type = "client_closed"
            raise
        finally:
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
            relay.status = relay.error_type = "client_closed"
            BACKGROUND.run(relay._end())
        else:
            BACKGROUND.run(self.events.aclose())  # type: ignore[attr-defined]


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
