"""Adapter for OpenAI and OpenAI-compatible upstreams (vLLM, Ollama, Gemini's /openai, …).

This is the hot path: requests pass through almost untouched, so the work per request is
one shallow dict copy, one orjson dump and one orjson load. `base_url` ends in `/v1`.
"""

from __future__ import annotations

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
from apps.gateway.providers.tokens import (
    estimate_completion_tokens,
    estimate_embedding_tokens,
    estimate_prompt_tokens,
    text_bytes,
)
from apps.gateway.providers.transport import json_headers, open_stream, post_json
from apps.gateway.providers.usage import GuardedStream, checked, usage_dict

_DONE = b"[DONE]"


class OpenAIStream(GuardedStream):
    """Yields upstream chunks unchanged, the usage chunk (`"choices": []`) included
    (with the gateway's own count in it if the upstream's was garbage)."""

    provider = "openai"

    def _handle(self, event: SSEEvent) -> Iterable[dict[str, Any]]:
        data = event.data
        if data == _DONE:
            self._done = True
            return ()
        chunk = self._json(event)
        if not isinstance(chunk, dict):
            return ()
        if chunk.get("error"):
            raise stream_error_from_body(chunk, self.provider)
        choices = chunk.get("choices")
        if isinstance(choices, list):
            # Count what was streamed, in case usage never arrives (cut or not supported).
            for choice in choices:
                delta = choice.get("delta") if isinstance(choice, dict) else None
                if not isinstance(delta, dict):
                    continue
                content = delta.get("content")
                if content:
                    self._completion_bytes += text_bytes(content)
                reasoning = delta.get("reasoning_content") or delta.get("reasoning")
                if reasoning and isinstance(reasoning, str):
                    self._completion_bytes += text_bytes(reasoning)
                calls = delta.get("tool_calls")
                if calls:
                    for call in calls:
                        function = call.get("function")
                        if function:
                            self._completion_bytes += text_bytes(
                                function.get("arguments") or ""
                            ) + text_bytes(function.get("name") or "")
        # Usage may ride on the last content chunk (some compatible servers): it is read
        # after that chunk's text was counted, so a rejected report falls back to it all.
        usage = chunk.get("usage")
        if usage and not self._take_final(usage):
            return self._patch((chunk,))
        return (chunk,)


class OpenAIAdapter:
    """kind `openai` or `openai_compatible`.

    `max_tokens` is deprecated at OpenAI and rejected by reasoning models, so it is sent as
    `max_completion_tokens`; compatible servers (Ollama) often only know `max_tokens`, so
    they get that instead.
    """

    def __init__(self, kind: str = "openai") -> None:
        self.kind = kind
        self._compatible = kind != "openai"

    def _headers(self, target: UpstreamTarget) -> dict[str, str]:
        auth = {"Authorization": f"Bearer {target.api_key}"} if target.api_key else {}
        return json_headers(target, auth)

    def _body(self, target: UpstreamTarget, request: dict[str, Any]) -> dict[str, Any]:
        body = dict(request)
        body["model"] = target.upstream_model
        if self._compatible:
            if "max_completion_tokens" in body:
                value = body.pop("max_completion_tokens")
                if body.get("max_tokens") is None:
                    body["max_tokens"] = value
        elif "max_tokens" in body:
            value = body.pop("max_tokens")
            if body.get("max_completion_tokens") is None and value is not None:
                body["max_completion_tokens"] = value
        return body

    async def chat(
        self, session: aiohttp.ClientSession, target: UpstreamTarget, request: dict[str, Any]
    ) -> ChatResult:
        body = self._body(target, request)
        body.pop("stream", None)
        body.pop("stream_options", None)
        response = await post_json(
            session,
            target.base_url + "/chat/completions",
            self._headers(target),
            orjson.dumps(body),
            target,
            self.kind,
        )
        if not isinstance(response, dict) or "choices" not in response:
            raise UpstreamError(
                f"upstream {self.kind} sent an unexpected response",
                kind="upstream_error",
                retryable=True,
            )
        counted = checked(
            response.get("usage"),
            lambda: Usage(
                prompt_tokens=estimate_prompt_tokens(request),
                completion_tokens=estimate_completion_tokens(response),
            ),
        )
        if counted.rejected:
            response["usage"] = usage_dict(counted)
        return ChatResult(response=response, usage=counted)

    async def chat_stream(
        self, session: aiohttp.ClientSession, target: UpstreamTarget, request: dict[str, Any]
    ) -> OpenAIStream:
        body = self._body(target, request)
        body["stream"] = True
        # Always ask for usage: billing needs it even when the client did not ask.
        options = body.get("stream_options")
        body["stream_options"] = (
            {**options, "include_usage": True}
            if isinstance(options, dict)
            else {"include_usage": True}
        )
        resp = await open_stream(
            session,
            target.base_url + "/chat/completions",
            self._headers(target),
            orjson.dumps(body),
            target,
            self.kind,
        )
        stream = OpenAIStream(resp, request)
        stream.provider = self.kind
        return stream

    async def embeddings(
        self, session: aiohttp.ClientSession, target: UpstreamTarget, request: dict[str, Any]
    ) -> EmbeddingResult:
        body = dict(request)
        body["model"] = target.upstream_model
        response = await post_json(
            session,
            target.base_url + "/embeddings",
            self._headers(target),
            orjson.dumps(body),
            target,
            self.kind,
        )
        if not isinstance(response, dict) or not isinstance(response.get("data"), list):
            raise UpstreamError(
                f"upstream {self.kind} sent an unexpected response",
                kind="upstream_error",
                retryable=True,
            )
        usage = response.get("usage")
        counted = checked(
            usage,
            lambda: Usage(prompt_tokens=estimate_embedding_tokens(request.get("input"))),
            embedding=True,
        )
        if counted.rejected:
            response["usage"] = {
                "prompt_tokens": counted.prompt_tokens,
                "total_tokens": counted.prompt_tokens,
            }
        return EmbeddingResult(response=response, usage=counted)
