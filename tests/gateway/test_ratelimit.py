"""The rate limiter, on both backends: Redis (shared, fail closed) and local (one
process, no Redis at all). Behaviour tests run on each; backend-specific ones say so."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import subprocess
import sys
import threading
from typing import Any

import pytest

from apps.gateway import ratelimit
from apps.gateway.ratelimit import Limits, RateLimiterUnavailable, acquire, add_tokens
from tests.support.loops import run


@pytest.fixture(params=[ratelimit.REDIS_BACKEND, ratelimit.LOCAL_BACKEND])
def backend(request: pytest.FixtureRequest, settings: Any) -> str:
    settings.RATE_LIMITER_BACKEND = request.param
    return str(request.param)


@pytest.fixture
def redis_backend(settings: Any) -> None:
    settings.RATE_LIMITER_BACKEND = ratelimit.REDIS_BACKEND


@pytest.fixture
def local_backend(settings: Any) -> None:
    settings.RATE_LIMITER_BACKEND = ratelimit.LOCAL_BACKEND


both = pytest.mark.usefixtures("backend")
redis_only = pytest.mark.usefixtures("redis_backend")
local_only = pytest.mark.usefixtures("local_backend")


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


@both
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


@both
def test_tenant_rpm_is_shared_by_its_keys() -> None:
    first = limits(tenant_rpm=2)
    second = Limits(first.tenant_id, first.key_id + 1, 2, None, None, None)
    decisions = run(burst(first, 1)) + run(burst(second, 2))
    assert [d.allowed for d in decisions] == [True, True, False]
    assert decisions[-1].scope == "tenant"


@both
def test_key_tpm_counts_the_estimate_and_takes_back_the_difference() -> None:
    lim = limits(key_tpm=1000)
    ok, refused = run(burst(lim, 2, tokens=600))
    assert ok.allowed and not refused.allowed
    assert refused.scope == "key"
    assert 11.9 < refused.retry_after <= 12.0  # 200 tokens over, at 1000 per 60 s
    assert refused.headers["x-ratelimit-remaining-tokens"] == "400"

    run(add_tokens(lim, -500))  # the answer was shorter than estimated
    assert run(burst(lim, 1, tokens=600))[0].allowed


@both
def test_tenant_tpm_counts_tokens_added_after_the_request() -> None:
    lim = limits(tenant_tpm=1000)
    assert run(burst(lim, 1, tokens=100))[0].allowed
    run(add_tokens(lim, 850))  # the completion
    refused = run(burst(lim, 1, tokens=100))[0]
    assert (refused.allowed, refused.scope) == (False, "tenant")


@both
def test_a_request_larger_than_the_window_waits_for_an_empty_one() -> None:
    lim = limits(tenant_tpm=1000)
    first, second = run(burst(lim, 2, tokens=5000))  # counted as the whole window
    assert first.allowed and not second.allowed
    assert 59.0 < second.retry_after <= 60.0


@both
def test_a_refusal_counts_nothing() -> None:
    lim = limits(key_rpm=1, tenant_tpm=1000)
    a, b = run(burst(lim, 2, tokens=10))
    assert a.allowed and not b.allowed
    assert b.headers["x-ratelimit-remaining-tokens"] == "990"  # b's 10 were not counted


@both
def test_headers_show_the_tightest_limit() -> None:
    lim = limits(key_rpm=10, tenant_rpm=5, key_tpm=10_000, tenant_tpm=50_000)
    d = run(burst(lim, 1, tokens=1000))[0]
    assert d.headers["x-ratelimit-limit-requests"] == "5"
    assert d.headers["x-ratelimit-remaining-requests"] == "4"
    assert d.headers["x-ratelimit-limit-tokens"] == "10000"
    assert d.headers["x-ratelimit-remaining-tokens"] == "9000"
    assert d.headers["x-ratelimit-reset-tokens"].endswith("s")


@redis_only
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


@redis_only
def test_it_fails_closed_when_redis_is_unreachable(settings: Any) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    with pytest.raises(RateLimiterUnavailable):
        run(acquire(limits(key_rpm=5), 10))
    run(add_tokens(limits(tenant_tpm=5), 10))  # after the response: logged, not raised


@redis_only
def test_it_fails_closed_without_redis_configured(settings: Any) -> None:
    settings.REDIS_URL = ""
    with pytest.raises(RateLimiterUnavailable):
        run(acquire(limits(tenant_rpm=5), 10))


@redis_only
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


@both
def test_tokens_added_after_a_request_count_for_the_next() -> None:
    lim = limits(key_tpm=1000)

    async def flow() -> ratelimit.RateDecision:
        assert (await acquire(lim, 100)).allowed
        await add_tokens(lim, 850)
        await asyncio.sleep(ratelimit.TOKEN_FLUSH_DELAY * 5)
        return await acquire(lim, 100)

    refused = run(flow())
    assert (refused.allowed, refused.scope) == (False, "key")


@redis_only
def test_a_burst_larger_than_the_redis_pool_waits_for_connections(settings: Any) -> None:
    """redis-py's default asyncio pool raises past its size ("Too many connections", a
    503 for the client); the limiter's pool waits for a free connection instead."""
    settings.RATE_LIMITER_REDIS_POOL_SIZE = 4
    lim = limits(key_rpm=1_000_000, tenant_tpm=100_000_000)

    async def burst_at_once() -> list[bool]:
        decisions = await asyncio.gather(*(acquire(lim, 10) for _ in range(300)))
        return [d.allowed for d in decisions]

    assert run(burst_at_once()) == [True] * 300


@redis_only
def test_a_burst_of_more_than_a_hundred_is_served_with_the_default_pool() -> None:
    lim = limits(key_rpm=1_000_000)

    async def burst_at_once() -> list[bool]:
        decisions = await asyncio.gather(*(acquire(lim, 1) for _ in range(250)))
        return [d.allowed for d in decisions]

    assert run(burst_at_once()) == [True] * 250


@local_only
def test_the_local_backend_limits_without_any_redis(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    def boom() -> None:
        raise AssertionError("Redis was called")

    monkeypatch.setattr(ratelimit.REDIS, "get", boom)
    settings.REDIS_URL = ""
    lim = limits(key_rpm=2, tenant_tpm=1000)

    decisions = run(burst(lim, 3, tokens=10))

    assert [d.allowed for d in decisions] == [True, True, False]
    assert decisions[-1].headers["x-ratelimit-remaining-tokens"] == "980"
    run(add_tokens(lim, 900))
    assert not run(burst(limits(tenant_id=lim.tenant_id, tenant_tpm=1000), 1, 200))[0].allowed


@local_only
def test_the_local_backend_is_exact_under_concurrent_threads() -> None:
    """The single web process may run more than one event loop (tests, benchmarks): each
    check-and-update is atomic, so exactly `limit` requests are admitted."""
    lim = limits(key_rpm=100)
    admitted: list[bool] = []

    async def fifty() -> list[ratelimit.RateDecision]:
        return await asyncio.gather(*(acquire(lim, 0) for _ in range(50)))

    def worker() -> None:
        admitted.extend(d.allowed for d in run(fifty()))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert admitted.count(True) == 100
    assert admitted.count(False) == 100


@local_only
def test_the_local_backend_forgets_finished_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1_000.0]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: clock[0])
    local = ratelimit.LocalLimiter(prune_min=10)
    old = [ratelimit._applicable(limits(key_rpm=10)) for _ in range(11)]
    for applied in old:
        assert local.acquire(applied, 0)[0] == 1
    assert len(local) == 11  # all within their minute: nothing to forget yet

    clock[0] += 61  # every one of those windows has emptied
    for _ in range(12):
        local.acquire(ratelimit._applicable(limits(key_rpm=10)), 0)

    assert len(local) == 12  # the table grew past twice its live size and was pruned
    assert local.acquire(old[0], 0)[:2] == [1, 0]  # a forgotten window starts full again


@local_only
def test_the_gateway_limits_with_the_local_backend_and_no_redis(
    gateway: Any, world: Any, settings: Any
) -> None:
    """`make run` without any Redis: limits still hold (429), never unlimited, never 503."""
    import httpx

    from tests.support.live import auth, user_message

    settings.REDIS_URL = ""
    _, secret = world.new_key(name="local-rpm", rpm_limit=2)
    body = {"model": world.models["mock"], "messages": user_message()}

    statuses = [
        httpx.post(gateway.url + "/v1/chat/completions", json=body, headers=auth(secret))
        for _ in range(3)
    ]

    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[-1].json()["error"]["code"] == "rate_limit_exceeded"
    assert int(statuses[-1].headers["retry-after"]) >= 1


@pytest.mark.parametrize(
    ("value", "expected"), [("local", "local"), ("redis", "redis"), (None, "redis")]
)
def test_the_backend_is_read_from_the_environment(value: str | None, expected: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "RATE_LIMITER_BACKEND"}
    if value is not None:
        env["RATE_LIMITER_BACKEND"] = value
    env["DJANGO_SETTINGS_MODULE"] = "cloudfreedom.settings.base"
    code = "from django.conf import settings; print(settings.RATE_LIMITER_BACKEND)"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == expected, done.stderr


def test_an_unknown_backend_is_refused_at_start() -> None:
    env = {**os.environ, "RATE_LIMITER_BACKEND": "none"}
    env["DJANGO_SETTINGS_MODULE"] = "cloudfreedom.settings.base"
    code = "from django.conf import settings; print(settings.RATE_LIMITER_BACKEND)"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "RATE_LIMITER_BACKEND must be 'redis' or 'local'" in done.stderr


@redis_only
def test_open_and_close_are_idempotent_and_close_disconnects() -> None:
    async def cycle() -> list[bool]:
        await ratelimit.open()
        await ratelimit.open()
        entry = ratelimit.REDIS.get()
        assert (await acquire(limits(key_rpm=5), 1)).allowed
        pool = entry.client.connection_pool
        connections = [*pool._available_connections, *pool._in_use_connections]
        assert connections and all(c.is_connected for c in connections)
        await ratelimit.close()
        await ratelimit.close()
        return [c.is_connected for c in connections]

    assert not any(run(cycle()))
