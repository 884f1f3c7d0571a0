"""Adapter for Anthropic's Messages API (`base_url` is the bare host).

Requests are translated from OpenAI shape, answers back to OpenAI shape. We pin
`anthropic-version: 2023-06-01`, the version under which sampling parameters are still
accepted, so OpenAI clients' `temperature` keeps working.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import aiohttp
import orjson

from apps.gateway.providers.base import (
    ChatResult,
    EmbeddingResult,
    UpstreamError,
    UpstreamTarget,
    Usage,
)
from apps.gateway.providers.errors import stream_error_from_body
from apps.gateway.providers.sse import SSEEvent
from apps.gateway.providers.transport import (
    TranslatedSSEStream,
    json_headers,
    open_stream,
    post_json,
)
from apps.gateway.translate.anthropic_messages import (
    LEGACY_VERSION,
    anthropic_to_openai_response,
    openai_to_anthropic_request,
)
from apps.gateway.translate.anthropic_stream import AnthropicToOpenAIStream
from apps.gateway.translate.common import TranslationError


def usage_from_anthropic(usage: dict[str, Any], *, reported: bool = True) -> Usage:
    cache_read = usage.get("cache_read_input_tokens") or 0
    cache_write = usage.get("cache_creation_input_tokens") or 0
    return Usage(
        prompt_tokens=(usage.get("input_tokens") or 0) + cache_read + cache_write,
        completion_tokens=usage.get("output_tokens") or 0,
        cached_tokens=cache_read,
        cache_write_tokens=cache_write,
        reported=reported,
    )


def translate_request(request: dict[str, Any], target: UpstreamTarget) -> dict[str, Any]:
    try:
        return openai_to_anthropic_request(
            request, model=target.upstream_model, anthropic_version=LEGACY_VERSION
        )
    except TranslationError as exc:
        raise UpstreamError(str(exc), status=400, kind="client") from None


class AnthropicStream(TranslatedSSEStream):
    _tr: AnthropicToOpenAIStream
    provider = "anthropic"

    def _handle(self, event: SSEEvent) -> Iterable[dict[str, Any]]:
        if not event.data:
            return ()
        data = self._json(event)
        tr = self._tr
        chunks = tr.feed(event.event, data)
        if tr.error is not None:
            raise stream_error_from_body({"error": tr.error}, self.provider)
        self._completion_bytes = tr.output_bytes
        if tr.usage is not None and event.event in ("message_start", "message_delta"):
            counted = usage_from_anthropic(tr.usage, reported=tr.usage_final)
            if tr.usage_final:
                self.usage = counted
            else:
                # Exact input counts arrive up front; keep them in case the stream is cut.
                self._prompt_hint = counted.prompt_tokens
                self._cached_hint = counted.cached_tokens
                self._cache_write_hint = counted.cache_write_tokens
        if tr.done:
            self._done = True
        return chunks


class AnthropicAdapter:
    kind = "anthropic"

    def _headers(self, target: UpstreamTarget) -> dict[str, str]:
        return json_headers(
            target, {"x-api-key": target.api_key, "anthropic-version": LEGACY_VERSION}
        )

    async def chat(
        self, session: aiohttp.ClientSession, target: UpstreamTarget, request: dict[str, Any]
    ) -> ChatResult:
        body = translate_request(request, target)
        body.pop("stream", None)
        response = await post_json(
            session,
            target.base_url + "/v1/messages",
            self._headers(target),
            orjson.dumps(body),
            target,
            self.kind,
        )
        if not isinstance(response, dict) or response.get("type") == "error":
            raise UpstreamError(
                "upstream anthropic sent an unexpected response",
                kind="upstream_error",
                retryable=True,
            )
        result = anthropic_to_openai_response(response, created=int(time.time()))
        return ChatResult(response=result, usage=usage_from_anthropic(response.get("usage") or {}))

    async def chat_stream(
        self, session: aiohttp.ClientSession, target: UpstreamTarget, request: dict[str, Any]
    ) -> AnthropicStream:
        body = translate_request(request, target)
        body["stream"] = True
        resp = await open_stream(
            session,
            target.base_url + "/v1/messages",
            self._headers(target),
            orjson.dumps(body),
            target,
            self.kind,
        )
        return AnthropicStream(resp, request, AnthropicToOpenAIStream(model=target.upstream_model))

    async def embeddings(
        self, session: aiohttp.ClientSession, target: UpstreamTarget, request: dict[str, Any]
    ) -> EmbeddingResult:
        raise UpstreamError("provider does not support embeddings", status=400, kind="client")
