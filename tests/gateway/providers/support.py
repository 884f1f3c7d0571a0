"""Small helpers for driving adapters from plain (non-async) tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp

from apps.gateway.providers.base import ChatStream, UpstreamError, UpstreamTarget
from apps.gateway.providers.registry import get_adapter
from tests.fakes.runner import FakeUpstream

T = TypeVar("T")

REQUEST: dict[str, Any] = {
    "model": "client-alias",
    "messages": [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "What is the weather in Paris?"},
    ],
}


def target(
    fake: FakeUpstream | None, kind: str, model: str = "up-model", **kw: Any
) -> UpstreamTarget:
    base_url = fake.base_url if fake else ""
    return UpstreamTarget(kind, f"{kind}-test", base_url, model, api_key="sk-test-123456", **kw)


def with_session(func: Callable[[aiohttp.ClientSession], Awaitable[T]]) -> T:
    async def main() -> T:
        async with aiohttp.ClientSession() as session:
            return await func(session)

    return asyncio.run(main())


def chat(tgt: UpstreamTarget, request: dict[str, Any] | None = None) -> Any:
    adapter = get_adapter(tgt.provider_kind)
    return with_session(lambda s: adapter.chat(s, tgt, request or REQUEST))


def embeddings(tgt: UpstreamTarget, request: dict[str, Any]) -> Any:
    adapter = get_adapter(tgt.provider_kind)
    return with_session(lambda s: adapter.embeddings(s, tgt, request))


def chat_error(tgt: UpstreamTarget, request: dict[str, Any] | None = None) -> UpstreamError:
    try:
        chat(tgt, request)
    except UpstreamError as exc:
        return exc
    raise AssertionError("expected UpstreamError")


def stream(
    tgt: UpstreamTarget, request: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], ChatStream, UpstreamError | None]:
    """Open and drain a stream: (chunks, stream, error raised by the iterator or None)."""
    adapter = get_adapter(tgt.provider_kind)
    body = {**(request or REQUEST), "stream": True}

    async def run(session: aiohttp.ClientSession) -> Any:
        opened = await adapter.chat_stream(session, tgt, body)
        chunks: list[dict[str, Any]] = []
        try:
            async for item in opened:
                chunks.append(item)
        except UpstreamError as exc:
            return chunks, opened, exc
        return chunks, opened, None

    return with_session(run)


def text_of(chunks: list[dict[str, Any]]) -> str:
    return "".join(
        choice["delta"].get("content") or "" for c in chunks for choice in c.get("choices") or ()
    )


def tool_calls_of(chunks: list[dict[str, Any]]) -> dict[int, dict[str, str]]:
    """Merge streamed tool-call fragments by index, as an OpenAI client does."""
    calls: dict[int, dict[str, str]] = {}
    for c in chunks:
        for choice in c.get("choices") or ():
            for call in choice["delta"].get("tool_calls") or ():
                entry = calls.setdefault(call["index"], {"id": "", "name": "", "arguments": ""})
                entry["id"] = call.get("id") or entry["id"]
                function = call.get("function") or {}
                entry["name"] += function.get("name") or ""
                entry["arguments"] += function.get("arguments") or ""
    return calls


def finish_reasons(chunks: list[dict[str, Any]]) -> list[str]:
    return [
        choice["finish_reason"]
        for c in chunks
        for choice in c.get("choices") or ()
        if choice.get("finish_reason")
    ]
