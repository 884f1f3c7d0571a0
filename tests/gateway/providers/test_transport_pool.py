"""The upstream connection pool: a burst beyond it waits (boundedly) for a connection,
without eating the target's connect timeout; the session opens and closes with the
process."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from apps.gateway.providers import transport
from apps.gateway.providers.base import UpstreamError
from apps.gateway.providers.registry import get_adapter
from apps.gateway.sessions import SESSIONS
from tests.fakes.runner import FakeUpstream
from tests.gateway.providers.support import REQUEST, target


async def _burst(tgt: Any, n: int) -> list[object]:
    adapter = get_adapter("openai")
    # One connection: every request after the first waits for it.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
        return await asyncio.gather(
            *(adapter.chat(session, tgt, REQUEST) for _ in range(n)), return_exceptions=True
        )


def test_a_burst_beyond_the_pool_waits_for_a_free_connection(
    openai_fake: FakeUpstream, settings: Any
) -> None:
    settings.GATEWAY_UPSTREAM_POOL_TIMEOUT = 10
    openai_fake.set_default(delay=0.1)
    # The last of 6 waits about 0.5 s for the connection: more than the connect timeout,
    # which bounds connecting alone.
    tgt = target(openai_fake, "openai", connect_timeout=0.2)

    results = asyncio.run(_burst(tgt, 6))

    assert [type(r).__name__ for r in results if isinstance(r, BaseException)] == []
    assert len(openai_fake.requests) == 6


def test_the_wait_for_a_connection_is_bounded(openai_fake: FakeUpstream, settings: Any) -> None:
    settings.GATEWAY_UPSTREAM_POOL_TIMEOUT = 0.2
    openai_fake.set_default(delay=2.0)
    tgt = target(openai_fake, "openai", connect_timeout=0.2)

    started = time.monotonic()
    results = asyncio.run(_burst(tgt, 2))
    elapsed = time.monotonic() - started

    errors = [r for r in results if isinstance(r, UpstreamError)]
    assert len(errors) == 1 and errors[0].kind == "timeout" and errors[0].retryable
    assert elapsed < 5


def test_open_and_close_are_idempotent() -> None:
    async def cycle() -> tuple[bool, bool]:
        await transport.open()
        await transport.open()
        session = SESSIONS.get()
        same = SESSIONS.get() is session
        await transport.close()
        await transport.close()
        return same, session.closed

    assert asyncio.run(cycle()) == (True, True)


def test_the_connector_is_sized_from_settings(settings: Any) -> None:
    settings.GATEWAY_UPSTREAM_CONNECTIONS = 7

    async def sized() -> int:
        await transport.open()
        try:
            return SESSIONS.get().connector.limit  # type: ignore[union-attr]
        finally:
            await transport.close()

    assert asyncio.run(sized()) == 7
