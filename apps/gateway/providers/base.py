"""The contract every provider adapter implements.

The gateway speaks OpenAI Chat Completions internally: a request body is an OpenAI
`/v1/chat/completions` JSON object, a non-streamed answer is an OpenAI `chat.completion`
object and a streamed answer is a sequence of OpenAI `chat.completion.chunk` objects.
Adapters translate to and from their provider's wire format. They never touch the
database, never log secrets or prompts, and raise `UpstreamError` for every failure.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

# Where one attempt goes (provider, model, credential): catalog data, read by the catalog.
from apps.catalog.snapshot import UpstreamTarget as UpstreamTarget


@dataclass(slots=True)
class Usage:
    prompt_tokens: int = 0  # all input tokens, cached ones included
    completion_tokens: int = 0
    cached_tokens: int = 0  # input tokens read from the provider's cache
    cache_write_tokens: int = 0  # input tokens written to the provider's cache
    reported: bool = False  # False when counted by the gateway because the upstream sent none
    # Why the upstream's own report was not believed (garbage counts); "" if it was or none
    # came. Such usage is the gateway's estimate and is logged with the request id.
    rejected: str = ""


class UpstreamError(Exception):
    """A failed attempt. `message` is safe to show a client: no key, no URL with secrets."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        # timeout | connection | rate_limited | server | client | stream_cut | upstream_error
        kind: str = "upstream_error",
        retryable: bool = False,
        retry_after: float | None = None,
        body: Any = None,
        code: str | None = None,  # the provider's error type/code, e.g. "insufficient_quota"
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.kind = kind
        self.retryable = retryable
        self.retry_after = retry_after
        self.body = body
        self.code = code

    def __repr__(self) -> str:
        return (
            f"UpstreamError({self.message!r}, status={self.status}, kind={self.kind!r}, "
            f"retryable={self.retryable}, retry_after={self.retry_after}, code={self.code!r})"
        )


@dataclass(slots=True)
class ChatResult:
    response: dict[str, Any]  # an OpenAI chat.completion object
    usage: Usage


@dataclass(slots=True)
class EmbeddingResult:
    response: dict[str, Any]  # an OpenAI embeddings list object (float vectors)
    usage: Usage


def is_usage_chunk(chunk: dict[str, Any]) -> bool:
    """True for the trailing usage-only chunk (`"choices": []` plus `usage`).

    Every adapter yields it when usage is known. The gateway strips it when the client did
    not ask for `stream_options.include_usage` (the OpenAI adapter always asks upstream).
    """
    return not chunk.get("choices") and chunk.get("usage") is not None


class ChatStream(Protocol):
    """An open upstream stream. Iterate it for OpenAI chunk dicts.

    `usage` is final once iteration ends (or after `aclose()` when the client left):
    reported by the upstream when it sent usage, else counted from what was streamed.
    Errors after the stream opened (cut, mid-stream provider error, read timeout) are
    raised from the iterator as `UpstreamError` with `retryable=False`, after `usage` was
    set, because chunks may already have reached the client.
    """

    usage: Usage

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]: ...

    async def aclose(self) -> None: ...


class ProviderAdapter(Protocol):
    kind: str

    async def chat(
        self, session: aiohttp.ClientSession, target: UpstreamTarget, request: dict[str, Any]
    ) -> ChatResult: ...

    async def chat_stream(
        self, session: aiohttp.ClientSession, target: UpstreamTarget, request: dict[str, Any]
    ) -> ChatStream:
        """Open the stream; raise UpstreamError before returning if the upstream refused it."""
        ...

    async def embeddings(
        self, session: aiohttp.ClientSession, target: UpstreamTarget, request: dict[str, Any]
    ) -> EmbeddingResult: ...
