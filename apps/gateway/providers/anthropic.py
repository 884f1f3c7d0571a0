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
from apps.gateway.providers.media import ANTHROPIC
from apps.gateway.providers.sse import SSEEvent
from apps.gateway.providers.tokens import estimate_completion_tokens, estimate_prompt_tokens
from apps.gateway.providers.transport import json_headers, open_stream, post_json
from apps.gateway.providers.usage import GuardedStream, checked, usage_dict
from apps.gateway.translate.anthropic_messages import (
    LEGACY_VERSION,
    anthropic_to_openai_response,
    anthropic_usage_to_openai,
    openai_to_anthropic_request,
)
from apps.gateway.translate.anthropic_stream import AnthropicToOpenAIStream
from apps.gateway.translate.common import TranslationError


def translate_request(request: dict[str, Any], target: UpstreamTarget) -> dict[str, Any]:
    try:
        return openai_to_anthropic_request(
            request, model=target.upstream_model, anthropic_version=LEGACY_VERSION
        )
    except TranslationError as exc:
        raise UpstreamError(str(exc), status=400, kind="client") from None


class AnthropicStream(GuardedStream):
    provider = "anthropic"
    family = ANTHROPIC

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        request: dict[str, Any],
        translator: AnthropicToOpenAIStream,
    ) -> None:
        super().__init__(response, request)
        self._tr = translator

    def _handle(self, event: SSEEvent) -> Iterable[dict[str, Any]]:
        if not event.data:
            return ()
        data = self._json(event)
        if not isinstance(data, dict):
            return ()
        tr = self._tr
        chunks = tr.feed(event.event, data)
        if tr.error is not None:
            raise stream_error_from_body({"error": tr.error}, self.provider)
        self._completion_bytes = tr.output_bytes
        if tr.usage is not None and event.event in ("message_start", "message_delta"):
            raw = anthropic_usage_to_openai(tr.usage)
            if tr.usage_final:
                self._take_final(raw)
            else:
                # Exact input counts arrive up front; keep them in case the stream is cut.
                hint = self._hint(raw)
                if hint is not None:
                    self._prompt_hint = hint.prompt_tokens
                    self._cached_hint = hint.cached_tokens
                    self._cache_write_hint = hint.cache_write_tokens
        if tr.done:
            self._done = True
        return self._patch(chunks)


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
        raw = response.get("usage")
        usage = checked(
            anthropic_usage_to_openai(raw) if isinstance(raw, dict) else raw,
            lambda: Usage(
                estimate_prompt_tokens(request, (ANTHROPIC,)), estimate_completion_tokens(result)
            ),
        )
        if not usage.reported:
            result["usage"] = usage_dict(usage)
        return ChatResult(response=result, usage=usage)

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
