"""The `mock` provider: a REAL, offline demo and test provider (no network at all).

It lets a fresh install answer requests before any upstream key is configured, and lets
tests and benchmarks exercise the gateway deterministically. Every response carries
`system_fingerprint: "cloudfreedom-mock"` so nobody mistakes it for a model.

Answer: `"Mock answer: <first 200 chars of the last user message>"` (directives removed).
Same input, same output. `max_tokens`/`max_completion_tokens` truncates it with
`finish_reason: "length"`. `n` gives n identical choices (streamed interleaved by
`index`), and usage counts each of them. Usage uses the gateway's token estimator (images,
audio and files included, by the OpenAI rule) and is reported; it goes through the same
validation as any upstream's report.

Upstream model presets:
  `mock`, `mock-fast`   no delay
  `mock-slow`           500 ms before the first token, 50 ms between chunks

Directives anywhere in the last user message (`[mock:key=value]`, several allowed):
  `[mock:error=503]`         fail with that HTTP status (429 carries retry_after=1)
  `[mock:latency_ms=200]`    delay before the answer / first chunk
  `[mock:chunk_delay_ms=20]` delay between streamed chunks
  `[mock:chunks=10]`         number of content chunks when streaming (default 8)
  `[mock:tool=get_weather]`  answer with a call to that tool instead of text
  `[mock:cut=3]`             streaming: drop the stream after 3 content chunks
  `[mock:usage=garbage]`     report unbelievable usage (negative, string, float counts)
A `tool_choice` of `"required"` or a named function also produces a tool call.

Embeddings: unit vectors derived from SHAKE-256 of model + text; `dimensions` is honoured
(default 1536) and so is `encoding_format: "base64"`.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from array import array
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp

from apps.gateway.providers.base import (
    ChatResult,
    EmbeddingResult,
    UpstreamError,
    UpstreamTarget,
    Usage,
)
from apps.gateway.providers.embeddings import encode_floats_base64
from apps.gateway.providers.tokens import (
    estimate_embedding_tokens,
    estimate_prompt_tokens,
    estimate_text_tokens,
)
from apps.gateway.providers.usage import checked, usage_dict
from apps.gateway.translate.common import chunk, content_text, dumps_str, usage_chunk

FINGERPRINT = "cloudfreedom-mock"
ANSWER_PREFIX = "Mock answer: "
ECHO_CHARS = 200
DEFAULT_CHUNKS = 8
DEFAULT_DIMENSIONS = 1536
_DIRECTIVE = re.compile(r"\[mock:([a-z_]+)=([^\]]*)\]")
_PRESETS = {"mock-slow": (500, 50)}  # model → (latency ms, per-chunk delay ms)


@dataclass(slots=True)
class MockPlan:
    answer: str
    finish_reason: str
    tool: str | None = None
    tool_arguments: str = ""
    error: int | None = None
    latency_ms: int = 0
    chunk_delay_ms: int = 0
    chunks: int = DEFAULT_CHUNKS
    cut: int | None = None
    choices: int = 1
    garbage_usage: bool = False


def _last_user_text(request: dict[str, Any]) -> str:
    for message in reversed(request.get("messages") or ()):
        if message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


def _int(value: str, default: int) -> int:
    try:
        return max(0, int(value))
    except ValueError:
        return default


def _truncate(text: str, max_tokens: int) -> str:
    raw = text.encode()[: max_tokens * 4]
    return raw.decode("utf-8", "ignore")


def plan_for(target: UpstreamTarget, request: dict[str, Any]) -> MockPlan:
    """Decide the whole answer up front: it depends only on the request and model name."""
    text = _last_user_text(request)
    latency, chunk_delay = _PRESETS.get(target.upstream_model, (0, 0))
    directives = dict(_DIRECTIVE.findall(text))
    echo = " ".join(_DIRECTIVE.sub(" ", text).split())[:ECHO_CHARS] or "(empty)"
    plan = MockPlan(answer=ANSWER_PREFIX + echo, finish_reason="stop")
    plan.latency_ms = _int(directives.get("latency_ms", ""), latency)
    plan.chunk_delay_ms = _int(directives.get("chunk_delay_ms", ""), chunk_delay)
    plan.chunks = max(1, _int(directives.get("chunks", ""), DEFAULT_CHUNKS))
    if "error" in directives:
        plan.error = _int(directives["error"], 500) or 500
    if "cut" in directives:
        plan.cut = _int(directives["cut"], 1)
    plan.garbage_usage = directives.get("usage") == "garbage"
    n = request.get("n")
    plan.choices = n if isinstance(n, int) and n > 1 else 1
    tool = directives.get("tool")
    choice = request.get("tool_choice")
    tools = [t for t in request.get("tools") or () if t.get("type") == "function"]
    if not tool and isinstance(choice, dict):
        tool = (choice.get("function") or {}).get("name")
    if not tool and choice == "required" and tools:
        tool = (tools[0].get("function") or {}).get("name")
    if tool:
        plan.tool = tool
        plan.tool_arguments = dumps_str({"query": echo[:50]})
        plan.answer = ""
        plan.finish_reason = "tool_calls"
        return plan
    limit = request.get("max_completion_tokens") or request.get("max_tokens")
    if isinstance(limit, int) and estimate_text_tokens(plan.answer) > limit:
        plan.answer = _truncate(plan.answer, limit)
        plan.finish_reason = "length"
    return plan


def _error(status: int) -> UpstreamError:
    retryable = status in (408, 409, 429) or status >= 500
    kind = "rate_limited" if status == 429 else "server" if status >= 500 else "client"
    return UpstreamError(
        f"mock provider simulated HTTP {status}",
        status=status,
        kind=kind,
        retryable=retryable,
        retry_after=1.0 if status == 429 else None,
    )


def _ids(target: UpstreamTarget, plan: MockPlan) -> tuple[str, str]:
    digest = hashlib.sha256(f"{target.upstream_model}\x1f{plan.answer}\x1f{plan.tool}".encode())
    hexed = digest.hexdigest()
    return "chatcmpl-mock-" + hexed[:24], "call_mock_" + hexed[24:40]


def _usage(request: dict[str, Any], plan: MockPlan) -> Usage:
    completion = estimate_text_tokens(plan.answer)
    if plan.tool:
        completion += estimate_text_tokens(plan.tool + plan.tool_arguments)
    return Usage(estimate_prompt_tokens(request), completion * plan.choices)


# What `[mock:usage=garbage]` reports: every kind of nonsense a broken upstream has sent.
GARBAGE_USAGE = {
    "prompt_tokens": -1_000,
    "completion_tokens": "12",
    "total_tokens": 1.5,
    "prompt_tokens_details": {"cached_tokens": None},
}


def _reported(request: dict[str, Any], plan: MockPlan) -> tuple[dict[str, Any], Usage]:
    """(the usage object the mock reports, the usage billed after validating it)."""
    raw = dict(GARBAGE_USAGE) if plan.garbage_usage else usage_dict(_usage(request, plan))
    usage = checked(raw, lambda: _usage(request, plan))
    return (usage_dict(usage) if usage.rejected else raw), usage


def _split(text: str, parts: int) -> list[str]:
    """Exactly `parts` pieces (fewer only when the text is shorter)."""
    if not text:
        return []
    parts = max(1, min(parts, len(text)))
    size, extra = divmod(len(text), parts)
    pieces, start = [], 0
    for n in range(parts):
        end = start + size + (1 if n < extra else 0)
        pieces.append(text[start:end])
        start = end
    return pieces


class MockStream:
    """A `ChatStream` over a precomputed plan; sleeps to simulate a slow model."""

    def __init__(self, target: UpstreamTarget, request: dict[str, Any], plan: MockPlan) -> None:
        self.usage = Usage()
        self._target = target
        self._request = request
        self._plan = plan
        self._gen: AsyncIterator[dict[str, Any]] | None = None
        self._sent = ""  # streamed text, to count usage if the stream is cut or closed
        self._finished = False

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        if self._gen is None:
            self._gen = self._run()
        return self._gen

    async def aclose(self) -> None:
        if self._gen is not None:
            try:
                await self._gen.aclose()  # type: ignore[attr-defined]
            except RuntimeError:
                pass
        self._settle(reported=False)

    def _settle(self, *, reported: bool) -> dict[str, Any] | None:
        """Fix `usage` once; returns the usage object to report when the answer is whole."""
        if self._finished:
            return None
        self._finished = True
        if reported:
            raw, self.usage = _reported(self._request, self._plan)
            return raw
        counted = estimate_text_tokens(self._sent) * self._plan.choices
        self.usage = Usage(estimate_prompt_tokens(self._request), counted, reported=False)
        return None

    async def _run(self) -> AsyncIterator[dict[str, Any]]:
        plan = self._plan
        chunk_id, call_id = _ids(self._target, plan)
        created = int(time.time())
        model = self._target.upstream_model
        delay = plan.chunk_delay_ms / 1000

        choices = range(plan.choices)

        def make(
            delta: dict[str, Any], finish: str | None = None, index: int = 0
        ) -> dict[str, Any]:
            data = chunk(chunk_id, created, model, delta, finish, index)
            data["system_fingerprint"] = FINGERPRINT
            return data

        try:
            for index in choices:
                yield make({"role": "assistant", "content": ""}, index=index)
            for n, piece in enumerate(_split(plan.answer, plan.chunks)):
                if plan.cut is not None and n >= plan.cut:
                    self._settle(reported=False)
                    raise UpstreamError(
                        "mock provider simulated a cut stream", kind="stream_cut", retryable=False
                    )
                if delay:
                    await asyncio.sleep(delay)
                self._sent += piece
                for index in choices:
                    yield make({"content": piece}, index=index)
            if plan.tool:
                function = {"name": plan.tool, "arguments": ""}
                call = {"index": 0, "id": call_id, "type": "function", "function": function}
                for index in choices:
                    yield make({"tool_calls": [call]}, index=index)
                for piece in _split(plan.tool_arguments, 2):
                    self._sent += piece
                    delta = {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}
                    for index in choices:
                        yield make(delta, index=index)
            for index in choices:
                yield make({}, plan.finish_reason, index)
            raw = self._settle(reported=True)
            data = usage_chunk(chunk_id, created, model, raw or usage_dict(self.usage))
            data["system_fingerprint"] = FINGERPRINT
            yield data
        finally:
            self._settle(reported=False)


class MockAdapter:
    kind = "mock"

    async def chat(
        self, session: aiohttp.ClientSession, target: UpstreamTarget, request: dict[str, Any]
    ) -> ChatResult:
        plan = plan_for(target, request)
        if plan.latency_ms:
            await asyncio.sleep(plan.latency_ms / 1000)
        if plan.error:
            raise _error(plan.error)
        chunk_id, call_id = _ids(target, plan)
        message: dict[str, Any] = {"role": "assistant", "content": plan.answer or None}
        if plan.tool:
            message["tool_calls"] = [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": plan.tool, "arguments": plan.tool_arguments},
                }
            ]
        raw, usage = _reported(request, plan)
        response = {
            "id": chunk_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": target.upstream_model,
            "system_fingerprint": FINGERPRINT,
            "choices": [
                {
                    "index": index,
                    "message": dict(message),
                    "logprobs": None,
                    "finish_reason": plan.finish_reason,
                }
                for index in range(plan.choices)
            ],
            "usage": raw,
        }
        return ChatResult(response=response, usage=usage)

    async def chat_stream(
        self, session: aiohttp.ClientSession, target: UpstreamTarget, request: dict[str, Any]
    ) -> MockStream:
        plan = plan_for(target, request)
        if plan.latency_ms:
            await asyncio.sleep(plan.latency_ms / 1000)
        if plan.error:
            raise _error(plan.error)
        return MockStream(target, request, plan)

    async def embeddings(
        self, session: aiohttp.ClientSession, target: UpstreamTarget, request: dict[str, Any]
    ) -> EmbeddingResult:
        inputs = request.get("input")
        texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
        dimensions = request.get("dimensions") or DEFAULT_DIMENSIONS
        base64_out = request.get("encoding_format") == "base64"
        data = []
        for index, text in enumerate(texts):
            vector = mock_vector(f"{target.upstream_model}\x1f{text}", dimensions)
            embedding: Any = encode_floats_base64(vector) if base64_out else vector
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        tokens = estimate_embedding_tokens(inputs)
        response = {
            "object": "list",
            "data": data,
            "model": target.upstream_model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        return EmbeddingResult(response=response, usage=Usage(prompt_tokens=tokens, reported=True))


def mock_vector(seed: str, dimensions: int) -> list[float]:
    """A deterministic unit vector: same seed, same vector."""
    raw = array("H", hashlib.shake_256(seed.encode()).digest(2 * dimensions))
    values = [x / 32767.5 - 1.0 for x in raw]
    norm = sum(v * v for v in values) ** 0.5 or 1.0
    return [v / norm for v in values]
