"""HTTP plumbing shared by the adapters: timeouts, JSON POSTs, and the SSE stream base.

Everything that can fail on the wire is turned into `UpstreamError` here, so adapters only
translate payloads.

The upstream connection pool is the session's connector (apps/gateway/sessions.py, sized
by `GATEWAY_UPSTREAM_CONNECTIONS`). When every connection is busy a request waits up to
`GATEWAY_UPSTREAM_POOL_TIMEOUT` seconds for one, on top of (not out of) the target's own
connect timeout. The ASGI lifespan opens and closes the session (`open()`, `close()`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from functools import lru_cache
from typing import Any

import aiohttp
import orjson
from django.conf import settings

from apps.gateway.providers.base import UpstreamError, UpstreamTarget, Usage
from apps.gateway.providers.errors import error_from_exception, error_from_response
from apps.gateway.providers.sse import SSEEvent, SSEParser
from apps.gateway.providers.tokens import estimate_prompt_tokens, tokens_for_bytes
from apps.gateway.sessions import SESSIONS


async def open() -> None:
    """Startup: create this event loop's upstream session (connections are made on
    demand and kept alive). Idempotent."""
    SESSIONS.get()


async def close() -> None:
    """Shutdown: close this event loop's session and its connections. Idempotent."""
    await SESSIONS.close_current()


@lru_cache(maxsize=64)
def _timeout(connect: float, read: float, pool_wait: float) -> aiohttp.ClientTimeout:
    # aiohttp's `connect` covers waiting for a free pooled connection AND connecting;
    # `sock_connect` covers connecting alone. So a burst beyond the pool waits up to
    # `pool_wait` without using up the target's connect timeout, and never for ever.
    return aiohttp.ClientTimeout(
        total=None, connect=pool_wait + connect, sock_connect=connect, sock_read=read
    )


def client_timeout(target: UpstreamTarget) -> aiohttp.ClientTimeout:
    # No total limit: a long stream is fine as long as bytes keep arriving.
    return _timeout(target.connect_timeout, target.timeout, settings.GATEWAY_UPSTREAM_POOL_TIMEOUT)


def json_headers(target: UpstreamTarget, auth: dict[str, str]) -> dict[str, str]:
    headers = {"Content-Type": "application/json", **auth}
    for name, value in target.extra_headers:
        headers[name] = value
    return headers


async def post_json(
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    payload: bytes,
    target: UpstreamTarget,
    provider: str,
) -> Any:
    """POST and return the parsed JSON body; raise UpstreamError for every failure."""
    try:
        async with session.post(
            url, data=payload, headers=headers, timeout=client_timeout(target)
        ) as resp:
            raw = await resp.read()
            status = resp.status
            if status >= 400:
                raise error_from_response(status, resp.headers, raw, provider)
    except UpstreamError:
        raise
    except (TimeoutError, aiohttp.ClientError) as exc:
        # `from None`: the chained exception text can include the URL.
        raise error_from_exception(exc, provider) from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise UpstreamError(
            f"upstream {provider} sent a malformed response",
            status=status,
            kind="upstream_error",
            retryable=True,
        ) from None


async def open_stream(
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    payload: bytes,
    target: UpstreamTarget,
    provider: str,
) -> aiohttp.ClientResponse:
    """POST and return the open response once headers arrived with a success status."""
    try:
        resp = await session.post(
            url, data=payload, headers=headers, timeout=client_timeout(target)
        )
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise error_from_exception(exc, provider) from None
    if resp.status >= 400:
        try:
            raw = await resp.read()
        except (TimeoutError, aiohttp.ClientError):
            raw = b""
        finally:
            resp.release()
        raise error_from_response(resp.status, resp.headers, raw, provider)
    return resp


class SSEChatStream:
    """Base for upstream SSE streams that yield OpenAI chunks (implements `ChatStream`).

    Subclasses implement `_handle(event)` (return the chunks to yield, set `_done` at the
    provider's terminator) and may override `_on_eof()`. The base counts nothing itself:
    subclasses add streamed text bytes to `_completion_bytes` so a stream without usage
    can still be billed.
    """

    provider = "upstream"

    def __init__(self, response: aiohttp.ClientResponse, request: dict[str, Any]) -> None:
        self.usage = Usage()
        self._resp = response
        self._request = request
        self._gen: AsyncIterator[dict[str, Any]] | None = None
        self._done = False
        self._finalized = False
        self._completion_bytes = 0
        self._prompt_hint: int | None = None  # input tokens the upstream already told us
        self._completion_hint = 0
        self._cached_hint = 0
        self._cache_write_hint = 0

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        if self._gen is None:
            self._gen = self._run()
        return self._gen

    async def aclose(self) -> None:
        gen = self._gen
        if gen is not None:
            try:
                await gen.aclose()  # type: ignore[attr-defined]
            except RuntimeError:
                pass  # being iterated by another task; closing the response stops it
        self._resp.close()
        self._finalize()

    def _handle(self, event: SSEEvent) -> Iterable[dict[str, Any]]:
        raise NotImplementedError

    def _json(self, event: SSEEvent) -> Any:
        """The event's JSON payload; a malformed one ends the stream as an upstream error."""
        try:
            return orjson.loads(event.data)
        except orjson.JSONDecodeError:
            raise UpstreamError(
                f"upstream {self.provider} sent a malformed stream event",
                kind="upstream_error",
                retryable=False,
            ) from None

    def _on_eof(self) -> Iterable[dict[str, Any]]:
        """The body ended. Default: without the terminator it is a cut."""
        if not self._done:
            raise self._cut("upstream stream ended before its terminator")
        return ()

    def _cut(self, message: str) -> UpstreamError:
        self._finalize()
        return UpstreamError(f"{message} ({self.provider})", kind="stream_cut", retryable=False)

    async def _run(self) -> AsyncIterator[dict[str, Any]]:
        parser = SSEParser()
        handle = self._handle
        clean = False
        try:
            try:
                async for data in self._resp.content.iter_any():
                    for event in parser.feed(data):
                        for chunk in handle(event):
                            yield chunk
                for event in parser.flush():
                    for chunk in handle(event):
                        yield chunk
            except TimeoutError:
                self._finalize()
                raise UpstreamError(
                    f"upstream {self.provider} stopped sending mid-stream",
                    kind="timeout",
                    retryable=False,
                ) from None
            except aiohttp.ClientError:
                raise self._cut("upstream connection dropped mid-stream") from None
            for chunk in self._on_eof():
                yield chunk
            clean = True
        except UpstreamError:
            self._finalize()
            raise
        finally:
            # A fully read body can go back to the pool; anything else must kill the socket.
            if clean:
                self._resp.release()
            else:
                self._resp.close()
            self._finalize()

    def _finalize(self) -> None:
        if self._finalized:
            return
        self._finalized = True
        if self.usage.reported:
            return
        prompt = self._prompt_hint
        if prompt is None:
            prompt = estimate_prompt_tokens(self._request)
        self.usage = Usage(
            prompt_tokens=prompt,
            completion_tokens=max(self._completion_hint, tokens_for_bytes(self._completion_bytes)),
            cached_tokens=self._cached_hint,
            cache_write_tokens=self._cache_write_hint,
            reported=False,
        )


class TranslatedSSEStream(SSEChatStream):
    """An SSE stream whose events a translator turns into OpenAI chunks (`self._tr`)."""

    def __init__(
        self, response: aiohttp.ClientResponse, request: dict[str, Any], translator: Any
    ) -> None:
        super().__init__(response, request)
        self._tr = translator
