"""All attempts of one request share a deadline (routing.attempt, no network needed)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from django.test import override_settings

from apps.gateway.providers.base import UpstreamError, UpstreamTarget
from apps.gateway.routing import AllTargetsFailed, Attempts, attempt

TARGETS = (
    UpstreamTarget("openai", "a", "http://127.0.0.1:9/v1", "m1", timeout=120.0),
    UpstreamTarget("openai", "b", "http://127.0.0.1:9/v1", "m2", timeout=120.0),
)


def _run(retries: int) -> tuple[list[UpstreamTarget], float, Any]:
    seen: list[UpstreamTarget] = []

    async def call(target: UpstreamTarget) -> str:
        seen.append(target)
        raise UpstreamError("busy", status=503, kind="server", retryable=True, retry_after=0.2)

    started = time.monotonic()
    with pytest.raises(AllTargetsFailed) as failed:
        asyncio.run(attempt(TARGETS, retries, call, Attempts()))
    return seen, time.monotonic() - started, failed.value


@override_settings(GATEWAY_REQUEST_DEADLINE=0.5, GATEWAY_RETRY_MAX_WAIT=1.0)
def test_retries_and_fallbacks_stop_at_the_deadline() -> None:
    seen, elapsed, failed = _run(retries=5)
    # Without a deadline: 6 attempts per target, 12 in all, ~2 s of waiting.
    assert len(seen) <= 3
    assert elapsed < 0.6
    assert failed.final and failed.last.status == 503


@override_settings(GATEWAY_REQUEST_DEADLINE=0.5)
def test_each_attempt_gets_at_most_the_time_left() -> None:
    seen, _, _ = _run(retries=0)
    assert all(target.timeout <= 0.5 for target in seen)
    assert seen[0].provider_name == "a"


@override_settings(GATEWAY_REQUEST_DEADLINE=600, GATEWAY_RETRY_MAX_WAIT=1.0)
def test_without_pressure_every_target_is_tried() -> None:
    seen, _, _ = _run(retries=0)
    assert [t.provider_name for t in seen] == ["a", "b"]
    assert all(target.timeout == 120.0 for target in seen)
