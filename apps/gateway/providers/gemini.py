"""Adapter for the Gemini API (generativelanguage; `base_url` is the host root).

Streams use `alt=sse`; Gemini has no end sentinel and simply closes the connection, so a
stream that closes before any `finishReason` arrived counts as cut.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

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
from apps.gateway.providers.media import GEMINI
from apps.gateway.providers.sse import SSEEvent
from apps.gateway.providers.tokens import (
    estimate_completion_tokens,
    estimate_embedding_tokens,
    estimate_prompt_tokens,
)
from apps.gateway.providers.transport import json_headers, open_stream, post_json
from apps.gateway.providers.usage import GuardedStream, checked, usage_dict
from apps.gateway.translate.common import TranslationError
from apps.gateway.translate.gemini import (
    GeminiToOpenAIStream,
    gemini_to_openai_embeddings,
    gemini_to_openai_response,
    openai_to_gemini_embed_request,
    openai_to_gemini_request,
)

API_PREFIX = "/v1beta/models/"


def _model_url(target: UpstreamTarget, method: str) -> str:
    model = quote(target.upstream_model.removeprefix("models/"), safe="-._~")
    return f"{target.base_url}{API_PREFIX}{model}:{method}"


def _client_error(exc: TranslationError) -> UpstreamError:
    return UpstreamError(str(exc), status=400, kind="client")


class GeminiStream(GuardedStream):
    provider = "gemini"
    family = GEMINI

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        request: dict[str, Any],
        translator: GeminiToOpenAIStream,
    ) -> None:
        super().__init__(response, request)
        self._tr = translator

    def _handle(self, event: SSEEvent) -> Iterable[dict[str, Any]]:
        if not event.data:
            return ()
        fragment = self._json(event)
        if not isinstance(fragment, dict):
            return ()
        if fragment.get("error"):
            raise stream_error_from_body(fragment, self.provider)
        tr = self._tr
        chunks = tr.feed(fragment)
        self._completion_bytes = tr.output_bytes
        if fragment.get("usageMetadata"):
            # Usage may come with every fragment; the one with the finishReason is final.
            if tr.done:
                self._take_final(tr.openai_usage)
            else:
                hint = self._hint(tr.openai_usage)
                if hint is not None and hint.prompt_tokens:
                    self._prompt_hint = hint.prompt_tokens
                    self._cached_hint = hint.cached_tokens
        if tr.done:
            self._done = True
        return chunks

    def _on_eof(self) -> Iterable[dict[str, Any]]:
        if not self._done:
            raise self._cut("upstream stream closed before a finishReason")
        return self._patch(self._tr.finish())


class GeminiAdapter:
    kind = "gemini"

    def _headers(self, target: UpstreamTarget) -> dict[str, str]:
        return json_headers(target, {"x-goog-api-key": target.api_key})

    async def _post(
        self,
        session: aiohttp.ClientSession,
        target: UpstreamTarget,
        method: str,
        body: dict[str, Any],
    ) -> dict[str, Any]:
        """POST `…/models/{model}:{method}`; the answer must be a JSON object."""
        response = await post_json(
            session,
            _model_url(target, method),
            self._headers(target),
            orjson.dumps(body),
            target,
            self.kind,
        )
        if not isinstance(response, dict):
            raise UpstreamError(
                "upstream gemini sent an unexpected response",
                kind="upstream_error",
                retryable=True,
            )
        return response

    async def chat(
        self, session: aiohttp.ClientSession, target: UpstreamTarget, request: dict[str, Any]
    ) -> ChatResult:
        try:
            body = openai_to_gemini_request(request)
        except TranslationError as exc:
            raise _client_error(exc) from None
        response = await self._post(session, target, "generateContent", body)
        result = gemini_to_openai_response(
            response, model=target.upstream_model, created=int(time.time())
        )
        usage = checked(
            result["usage"],
            lambda: Usage(
                estimate_prompt_tokens(request, (GEMINI,)), estimate_completion_tokens(result)
            ),
        )
        if not usage.reported:
            result["usage"] = usage_dict(usage)
        return ChatResult(response=result, usage=usage)

    async def chat_stream(
        self, session: aiohttp.ClientSession, target: UpstreamTarget, request: dict[str, Any]
    ) -> GeminiStream:
        try:
            body = openai_to_gemini_request(request)
        except TranslationError as exc:
            raise _client_error(exc) from None
        resp = await open_stream(
            session,
            _model_url(target, "streamGenerateContent") + "?alt=sse",
            self._headers(target),
            orjson.dumps(body),
            target,
            self.kind,
        )
        return GeminiStream(resp, request, GeminiToOpenAIStream(model=target.upstream_model))

    async def embeddings(
        self, session: aiohttp.ClientSession, target: UpstreamTarget, request: dict[str, Any]
    ) -> EmbeddingResult:
        try:
            body = openai_to_gemini_embed_request(request, model=target.upstream_model)
        except TranslationError as exc:
            raise _client_error(exc) from None
        response = await self._post(session, target, "batchEmbedContents", body)
        # Gemini reports no token counts for embeddings, so they are always estimated.
        tokens = estimate_embedding_tokens(request.get("input"))
        result = gemini_to_openai_embeddings(
            response, model=target.upstream_model, prompt_tokens=tokens
        )
        return EmbeddingResult(response=result, usage=Usage(prompt_tokens=tokens, reported=False))
