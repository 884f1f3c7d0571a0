"""A streamed body records its usage exactly once, however the response ends: finished,
left suspended at a chunk, or closed before it ever started (the client left early)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from apps.gateway.background import BACKGROUND
from apps.gateway.providers.base import Usage
from apps.gateway.streaming import RelayBody, StreamRelay


class FakeUpstream:
    def __init__(self, chunks: int = 3) -> None:
        self.usage = Usage(prompt_tokens=5, completion_tokens=2, reported=False)
        self.chunks = chunks
        self.closed = False

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._gen()

    async def _gen(self) -> AsyncIterator[dict[str, Any]]:
        for i in range(self.chunks):
            yield {"id": "c", "choices": [{"index": 0, "delta": {"content": str(i)}}]}

    async def aclose(self) -> None:
        self.closed = True


def _relay() -> tuple[StreamRelay, FakeUpstream, list[str]]:
    upstream = FakeUpstream()
    recorded: list[str] = []

    async def finalize(status: str, error_type: str, usage: Usage, ttft: int | None) -> None:
        recorded.append(status)

    return StreamRelay(upstream, 0.0, finalize), upstream, recorded  # type: ignore[arg-type]


def test_a_body_closed_before_it_started_still_records_once() -> None:
    async def run() -> list[str]:
        relay, upstream, recorded = _relay()
        body = RelayBody(relay, relay.openai(False, "m"))
        body.close()
        body.close()
        await BACKGROUND.drain()
        assert upstream.closed
        return recorded

    assert asyncio.run(run()) == ["client_closed"]


def test_a_body_left_at_a_chunk_records_once_when_closed() -> None:
    async def run() -> list[str]:
        relay, upstream, recorded = _relay()
        body = RelayBody(relay, relay.openai(False, "m"))
        await anext(aiter(body))  # the client read one chunk, then left
        body.close()
        await BACKGROUND.drain()
        body.close()
        await BACKGROUND.drain()
        assert upstream.closed
        return recorded

    assert asyncio.run(run()) == ["client_closed"]


def test_a_finished_body_records_success_once() -> None:
    async def run() -> list[str]:
        relay, _, recorded = _relay()
        body = RelayBody(relay, relay.openai(False, "m"))
        chunks = [chunk async for chunk in body]
        assert chunks[-1] == b"data: [DONE]\n\n"
        body.close()
        await BACKGROUND.drain()
        return recorded

    assert asyncio.run(run()) == ["success"]
