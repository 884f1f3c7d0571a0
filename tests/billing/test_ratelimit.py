from __future__ import annotations

import asyncio
import random
import socket
from typing import Any

import pytest

from apps.billing import ratelimit
from apps.billing.ratelimit import Limits, RateLimiterUnavailable, acquire, add_tokens
from tests.billing.conftest import run


def limits(**extra: Any) -> Limits:
    """Fresh random ids: each test gets its own counters in the shared test Redis."""
    fields: dict[str, Any] = {
        "tenant_id": random.randrange(10**9, 10**12),
        "key_id": random.randrange(10**9, 10**12),
        "tenant_rpm": None,
        "tenant_tpm": None,
        "key_rpm": None,
        "key_tpm": None,
    }
    fields.update(extra)
    return Limits(**fields)


async def burst(lim: Limits, n: int, tokens: int = 0) -> list[ratelimit.RateDecision]:
    return [await acquire(lim, tokens) for _ in range(n)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_key_rpm_refuses_with_retry_after_and_headers() -> None:
    lim = limits(key_rpm=3)
    decisions = run(burst(lim, 4))
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[0].headers["x-ratelimit-limit-requests"] == "3"
    assert [d.headers["x-ratelimit-remaining-requests"] for d in decisions] == ["2", "1", "0", "0"]
    refused = decisions[-1]
    assert refused.scope == "key"
    assert 19.0 < refused.retry_after <= 20.0  # one request per 20 s frees a slot
    assert 59.0 < float(refused.headers["x-ratelimit-reset-requests"].rstrip("s")) <= 60.0


def test_tenant_rpm_is_shared_by_its_keys() -> None:
    first = limits(tenant_rpm=2)
    second = Limits(first.tenant_id, first.key_id + 1, 2, None, None, None)
    decisions = run(burst(first, 1)) + run(burst(second, 2))
    assert [d.allowed for d in decisions] == [True, True, False]
    assert decisions[-1].scope == "tenant"


def test_key_tpm_counts_the_estimate_and_takes_back_the_difference() -> None:
    lim = limits(key_tpm=1000)
    ok, refused = run(burst(lim, 2, tokens=600))
    assert ok.allowed and not refused.allowed
    assert refused.scope == "key"
    assert 11.9 < refused.retry_after <= 12.0  # 200 tokens over, at 1000 per 60 s
    assert refused.headers["x-ratelimit-remaining-tokens"] == "400"

    run(add_tokens(lim, -500))  # the answer was shorter than estimated
    assert run(burst(lim, 1, tokens=600))[0].allowed


def test_tenant_tpm_counts_tokens_added_after_the_request() -> None:
    lim = limits(tenant_tpm=1000)
    assert run(burst(lim, 1, tokens=100))[0].allowed
    run(add_tokens(lim, 850))  # the completion
    refused = run(burst(lim, 1, tokens=100))[0]
    assert (refused.allowed, refused.scope) == (False, "tenant")


def test_a_request_larger_than_the_window_waits_for_an_empty_one() -> None:
    lim = limits(tenant_tpm=1000)
    first, second = run(burst(lim, 2, tokens=5000))  # counted as the whole window
    assert first.allowed and not second.allowed
    assert 59.0 < second.retry_after <= 60.0


def test_a_refusal_counts_nothing() -> None:
    lim = limits(key_rpm=1, tenant_tpm=1000)
    a, b = run(burst(lim, 2, tokens=10))
    assert a.allowed and not b.allowed
    assert b.headers["x-ratelimit-remaining-tokens"] == "990"  # b's 10 were not counted


def test_headers_show_the_tightest_limit() -> None:
    lim = limits(key_rpm=10, tenant_rpm=5, key_tpm=10_000, tenant_tpm=50_000)
    d = run(burst(lim, 1, tokens=1000))[0]
    assert d.headers["x-ratelimit-limit-requests"] == "5"
    assert d.headers["x-ratelimit-remaining-requests"] == "4"
    assert d.headers["x-ratelimit-limit-tokens"] == "10000"
    assert d.headers["x-ratelimit-remaining-tokens"] == "9000"
    assert d.headers["x-ratelimit-reset-tokens"].endswith("s")


def test_no_limits_means_no_redis_call(monkeypatch: Any, settings: Any) -> None:
    def boom() -> None:
        raise AssertionError("Redis was called")

    monkeypatch.setattr(ratelimit.REDIS, "get", boom)
    settings.REDIS_URL = ""
    lim = limits()
    d = run(acquire(lim, 1000))
    assert (d.allowed, d.retry_after, d.headers, d.scope) == (True, 0.0, {}, None)
    run(add_tokens(lim, 1000))
    run(add_tokens(limits(key_rpm=5), 1000))  # no token limit: nothing to count


def test_it_fails_closed_when_redis_is_unreachable(settings: Any) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    with pytest.raises(RateLimiterUnavailable):
        run(acquire(limits(key_rpm=5), 10))
    run(add_tokens(limits(tenant_tpm=5), 10))  # after the response: logged, not raised


def test_it_fails_closed_without_redis_configured(settings: Any) -> None:
    settings.REDIS_URL = ""
    with pytest.raises(RateLimiterUnavailable):
        run(acquire(limits(tenant_rpm=5), 10))


def test_tokens_added_after_requests_reach_redis_for_other_processes() -> None:
    lim = limits(tenant_tpm=1000)

    async def add_then_wait() -> None:
        await add_tokens(lim, 400)
        await add_tokens(lim, 400)  # batched with the first
        await asyncio.sleep(ratelimit.TOKEN_FLUSH_DELAY * 5)

    run(add_then_wait())
    # A fresh loop and client (another process, in effect) sees the 800 tokens.
    d = run(acquire(lim, 100))
    assert d.allowed
    # 1000 - 800 - 100, plus the few tokens the window regained meanwhile.
    assert 100 <= int(d.headers["x-ratelimit-remaining-tokens"]) < 110
