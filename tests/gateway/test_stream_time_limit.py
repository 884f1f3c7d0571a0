"""A stream cannot outlive its reservation: it is ended before the reservation can
expire, and its usage is recorded and settled while the reservation still holds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from apps.billing import tasks as billing_tasks
from apps.billing.models import Budget, LedgerEntry, Reservation, Scope
from apps.gateway.background import BACKGROUND
from apps.gateway.providers.base import Usage
from apps.gateway.streaming import StreamRelay, stream_time_limit
from tests.support.live import World, auth, user_message

from .test_streaming import sse_payloads


@pytest.fixture
def short_reservations(settings: Any) -> None:
    # The live server runs in this process and reads both settings per request.
    settings.BILLING_RESERVATION_TIMEOUT = 4
    settings.GATEWAY_REQUEST_DEADLINE = 600


def test_the_limit_ends_streams_before_their_reservation_expires(settings: Any) -> None:
    settings.GATEWAY_REQUEST_DEADLINE = 600
    settings.BILLING_RESERVATION_TIMEOUT = 900
    assert stream_time_limit() == 600  # the request deadline, when it is the tighter
    settings.GATEWAY_REQUEST_DEADLINE = 3600
    assert stream_time_limit() == 870  # the timeout less the settle margin
    settings.BILLING_RESERVATION_TIMEOUT = 4
    assert stream_time_limit() == 3  # small timeouts keep a proportional margin


def test_a_long_stream_is_ended_and_settled_in_time(
    base_url: str, world: World, short_reservations: None
) -> None:
    tenant_budget = Budget.objects.get(tenant=world.tenant, scope=Scope.TENANT)
    reserved_before = tenant_budget.reserved
    world.fakes["openai"].script(chunks=20, chunk_delay=0.5, text="word " * 40)  # 10 s
    started = time.monotonic()
    r = httpx.post(
        base_url + "/chat/completions",
        json={"model": world.models["gpt"], "messages": user_message(), "stream": True},
        headers=auth(world.secret),
        timeout=30,
    )
    elapsed = time.monotonic() - started
    assert 2.5 < elapsed < 4  # ended at the 3 s limit, before the 4 s reservation expiry
    payloads = sse_payloads(r.text)
    assert "[DONE]" not in payloads
    assert orjson.loads(payloads[-1])["error"]["code"] == "stream_time_limit"
    assert len(payloads) > 3  # what was produced until then was delivered
    request_id = r.headers["x-request-id"]
    record = world.record_for(request_id)
    assert record["status"] == "error" and record["error_type"] == "time_limit"
    assert record["completion_tokens"] > 0 and record["cost"] > 0
    reservation = Reservation.objects.get(request_id=request_id)
    assert reservation.state == Reservation.State.SETTLED
    assert reservation.settled_at < reservation.expires_at
    assert reservation.actual_cost == record["cost"] <= reservation.amount
    assert LedgerEntry.objects.get(request_id=request_id).amount == -record["cost"]
    # Past the expiry the sweeper finds nothing of it to release: no late settle exists.
    time.sleep(max(0.0, 4.2 - (time.monotonic() - started)))
    billing_tasks.release_expired_reservations()
    reservation.refresh_from_db()
    assert reservation.state == Reservation.State.SETTLED
    tenant_budget.refresh_from_db()
    assert tenant_budget.reserved == reserved_before  # released by the settle, once


class SlowUpstream:
    """An upstream that sends one chunk, then nothing (a provider that hangs)."""

    def __init__(self) -> None:
        self.usage = Usage(prompt_tokens=5, completion_tokens=1, reported=False)
        self.closed = False

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._gen()

    async def _gen(self) -> AsyncIterator[dict[str, Any]]:
        yield {"id": "c", "choices": [{"index": 0, "delta": {"content": "Hi"}}]}
        await asyncio.sleep(3600)
        yield {}

    async def aclose(self) -> None:
        self.closed = True


@pytest.mark.parametrize("shape", ["openai", "anthropic"])
def test_a_hung_upstream_is_cut_at_the_limit(settings: Any, shape: str) -> None:
    settings.GATEWAY_REQUEST_DEADLINE = 0.3

    async def run() -> tuple[list[bytes], list[tuple[str, str]], bool]:
        upstream = SlowUpstream()
        recorded: list[tuple[str, str]] = []

        async def finalize(status: str, error_type: str, usage: Usage, ttft: int | None) -> None:
            recorded.append((status, error_type))

        relay = StreamRelay(upstream, time.perf_counter(), finalize)  # type: ignore[arg-type]
        events = relay.openai(False, "m") if shape == "openai" else relay.anthropic("m", 5)

        async def consume() -> list[bytes]:
            return [chunk async for chunk in events]

        # Iterated by its own task, as Django iterates a streamed body.
        chunks = await asyncio.wait_for(asyncio.create_task(consume()), 5)
        await BACKGROUND.drain()
        return chunks, recorded, upstream.closed

    chunks, recorded, closed = asyncio.run(run())
    assert recorded == [("error", "time_limit")]
    assert closed
    assert chunks[0].startswith(b"data: " if shape == "openai" else b"event: ")
    assert (b"stream_time_limit" if shape == "openai" else b"timeout_error") in chunks[-1]
