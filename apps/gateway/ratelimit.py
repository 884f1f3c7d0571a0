"""Requests- and tokens-per-minute limits per key and per tenant.

GCRA (generic cell rate algorithm): one number per limit, the "theoretical arrival time".
Each admitted unit pushes it by period/limit; a request is admitted while it stays within
one period of now. Exact Retry-After, O(1) memory, smooth (no window-edge double bursts),
and weighted costs (tokens) cost the same as requests.

Two backends, chosen by the setting `RATE_LIMITER_BACKEND`:
- "redis" (the default): shared by every process. One Lua script checks every limit that
  applies and admits all or nothing, in one round trip, on Redis' own clock. The client's
  pool waits (boundedly) for a free connection, so a burst queues instead of failing. A
  configured Redis that cannot be reached fails closed: `RateLimiterUnavailable` (503).
- "local": the same algorithm in this process's memory, on its monotonic clock. Correct
  for ONE process only (`make run` when no Redis at all can be had); never unlimited.

The ASGI lifespan opens and closes the Redis client (`open()`, `close()`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from django.conf import settings
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

PERIOD_MS = 60_000
KEY_PREFIX = "cf:rl:"
REDIS_BACKEND = "redis"
LOCAL_BACKEND = "local"
# Defaults for the settings of the same names (see cloudfreedom/settings/base.py).
DEFAULT_POOL_SIZE = 100
DEFAULT_POOL_TIMEOUT = 30.0
# Token counts known only after a request (add_tokens) are sent in batches: with the next
# acquire that touches the same limits, or by a timer at most this many seconds later.
# Other processes see them that much later; the request path saves a Redis round trip.
TOKEN_FLUSH_DELAY = 0.02

# KEYS: one per limit. ARGV: per limit (period_ms, limit, cost, tokens_to_add_first).
# Returns {admitted, index of the limit that refused, wait_ms, then per limit remaining,
# reset_ms}. All or nothing: a refused request counts nowhere (the added tokens do).
_ACQUIRE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local n = #KEYS
local base, new_tats, intervals, periods, added = {}, {}, {}, {}, {}
local denied, wait = 0, 0
for i = 1, n do
  local period = tonumber(ARGV[(i - 1) * 4 + 1])
  local limit = tonumber(ARGV[(i - 1) * 4 + 2])
  local cost = tonumber(ARGV[(i - 1) * 4 + 3])
  local pre = tonumber(ARGV[(i - 1) * 4 + 4])
  local interval = period / limit
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  if pre ~= 0 then
    tat = tat + pre * interval
    if tat < now then tat = now end
  end
  local new_tat = tat + cost * interval
  local allow_at = new_tat - period
  if allow_at > now and allow_at - now > wait then
    wait = allow_at - now
    denied = i
  end
  base[i], new_tats[i], intervals[i], periods[i], added[i] = tat, new_tat, interval, period, pre
end
local out = {denied == 0 and 1 or 0, denied, math.ceil(wait)}
for i = 1, n do
  local tat = base[i]
  if denied == 0 then tat = new_tats[i] end
  if denied == 0 or added[i] ~= 0 then
    if tat > now then
      redis.call('SET', KEYS[i], string.format('%.3f', tat), 'PX', math.ceil(tat - now) + 1000)
    else
      redis.call('DEL', KEYS[i])
    end
  end
  out[#out + 1] = math.max(0, math.floor((periods[i] - (tat - now)) / intervals[i]))
  out[#out + 1] = math.ceil(tat - now)
end
return out
"""

# KEYS: token limits. ARGV: per key (period_ms, limit, tokens); tokens may be negative
# (an estimate that was too high is given back).
_ADD_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
for i = 1, #KEYS do
  local period = tonumber(ARGV[(i - 1) * 3 + 1])
  local limit = tonumber(ARGV[(i - 1) * 3 + 2])
  local tokens = tonumber(ARGV[(i - 1) * 3 + 3])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  tat = tat + tokens * period / limit
  if tat > now then
    redis.call('SET', KEYS[i], string.format('%.3f', tat), 'PX', math.ceil(tat - now) + 1000)
  else
    redis.call('DEL', KEYS[i])
  end
end
return 1
"""


@dataclass(frozen=True)
class Limits:
    tenant_id: int
    key_id: int | None
    tenant_rpm: int | None
    tenant_tpm: int | None
    key_rpm: int | None
    key_tpm: int | None


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: float  # seconds; 0 when allowed
    headers: dict[str, str] = field(default_factory=dict)
    scope: str | None = None  # "key" | "tenant": the limit that refused


class RateLimiterUnavailable(Exception):
    """The configured Redis is unreachable while limits apply: fail closed."""


@dataclass(frozen=True)
class _Limit:
    scope: str  # "key" | "tenant"
    unit: str  # "requests" | "tokens"
    redis_key: str
    limit: int


@functools.lru_cache(maxsize=4096)  # Limits is frozen; saves building these per request
def _applicable(limits: Limits) -> tuple[_Limit, ...]:
    found: list[_Limit] = []
    if limits.key_id is not None:
        if limits.key_rpm:
            found.append(
                _Limit("key", "requests", f"{KEY_PREFIX}k:{limits.key_id}:rpm", limits.key_rpm)
            )
        if limits.key_tpm:
            found.append(
                _Limit("key", "tokens", f"{KEY_PREFIX}k:{limits.key_id}:tpm", limits.key_tpm)
            )
    if limits.tenant_rpm:
        found.append(
            _Limit("tenant", "requests", f"{KEY_PREFIX}t:{limits.tenant_id}:rpm", limits.tenant_rpm)
        )
    if limits.tenant_tpm:
        found.append(
            _Limit("tenant", "tokens", f"{KEY_PREFIX}t:{limits.tenant_id}:tpm", limits.tenant_tpm)
        )
    return tuple(found)


@dataclass
class _LoopClient:
    url: str
    client: aioredis.Redis
    acquire: AsyncScript
    add: AsyncScript
    # Tokens counted after requests, not yet in Redis: redis key -> [limit, tokens].
    pending: dict[str, list[int]] = field(default_factory=dict)
    flush_timer: asyncio.TimerHandle | None = None
    flushing: set[asyncio.Task[None]] = field(default_factory=set)

    def queue_tokens(self, applied: Sequence[_Limit], tokens: int) -> None:
        for lim in applied:
            slot = self.pending.setdefault(lim.redis_key, [lim.limit, 0])
            slot[0], slot[1] = lim.limit, slot[1] + tokens
        if self.flush_timer is None:
            self.flush_timer = asyncio.get_running_loop().call_later(
                TOKEN_FLUSH_DELAY, self._start_flush
            )

    def take_pending(self, redis_key: str) -> int:
        slot = self.pending.pop(redis_key, None)
        return slot[1] if slot else 0

    def _start_flush(self) -> None:
        self.flush_timer = None
        task = asyncio.get_running_loop().create_task(self.flush())
        self.flushing.add(task)
        task.add_done_callback(self.flushing.discard)

    async def flush(self) -> None:
        batch, self.pending = self.pending, {}
        if not batch:
            return
        args: list[int] = []
        for limit, tokens in batch.values():
            args += [PERIOD_MS, limit, tokens]
        try:
            await self.add(keys=list(batch), args=args)
        except (RedisError, OSError) as exc:
            # Best effort: the responses are out; a lost count only loosens TPM briefly.
            logger.warning("ratelimit.add_tokens_failed keys=%s error=%s", len(batch), exc)


class RedisRegistry:
    """One client per event loop (connections cannot cross loops); scripts are registered
    once per client and run with EVALSHA, reloaded by redis-py after a Redis restart."""

    def __init__(self) -> None:
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClient] = (
            weakref.WeakKeyDictionary()
        )

    def get(self) -> _LoopClient:
        url = settings.REDIS_URL
        if not url:
            raise RateLimiterUnavailable("No Redis is configured (REDIS_URL is empty).")
        loop = asyncio.get_running_loop()
        entry = self._clients.get(loop)
        if entry is None or entry.url != url:
            # A blocking pool: a burst larger than the pool waits (up to the timeout) for
            # a free connection; the default pool would raise "Too many connections".
            pool = aioredis.BlockingConnectionPool.from_url(
                url,
                max_connections=int(
                    getattr(settings, "RATE_LIMITER_REDIS_POOL_SIZE", DEFAULT_POOL_SIZE)
                ),
                timeout=float(
                    getattr(settings, "RATE_LIMITER_REDIS_POOL_TIMEOUT", DEFAULT_POOL_TIMEOUT)
                ),
                socket_connect_timeout=0.5,
                socket_timeout=0.5,
                # One quick retry covers a pooled connection that died with a restart;
                # more would only delay the fail-closed answer.
                retry=Retry(NoBackoff(), 1),
            )
            client = aioredis.Redis.from_pool(pool)  # owns the pool: closed with it
            entry = _LoopClient(
                url, client, client.register_script(_ACQUIRE_LUA), client.register_script(_ADD_LUA)
            )
            self._clients[loop] = entry
        return entry

    async def close(self) -> None:
        """Send queued token counts and close this loop's client (at shutdown)."""
        entry = self._clients.pop(asyncio.get_running_loop(), None)
        if entry is None:
            return
        if entry.flush_timer is not None:
            entry.flush_timer.cancel()
        await asyncio.gather(*entry.flushing, return_exceptions=True)
        await entry.flush()
        await entry.client.aclose()


REDIS = RedisRegistry()


class LocalLimiter:
    """The GCRA of `_ACQUIRE_LUA` and `_ADD_LUA` in this process's memory (the "local"
    backend): the same answers and headers, for a single process.

    A lock makes each check-and-update atomic (tests and benchmarks may run several event
    loops in threads); nothing inside it awaits. Finished windows are pruned as the table
    grows, so memory stays proportional to the limits in use within the last minute.
    """

    def __init__(self, prune_min: int = 4096) -> None:
        self._tats: dict[str, float] = {}  # redis_key -> theoretical arrival time, ms
        self._lock = threading.Lock()
        self._prune_min = prune_min
        self._prune_at = prune_min

    def acquire(self, applied: Sequence[_Limit], estimated_tokens: int) -> list[int]:
        """The script's reply: admitted, index of the refusing limit, wait_ms, then
        (remaining, reset_ms) per limit."""
        now = time.monotonic() * 1000
        with self._lock:
            tats = self._tats
            denied, wait = 0, 0.0
            bases: list[float] = []
            new_tats: list[float] = []
            for i, lim in enumerate(applied, 1):
                cost = 1 if lim.unit == "requests" else min(max(estimated_tokens, 0), lim.limit)
                tat = max(tats.get(lim.redis_key, now), now)
                new_tat = tat + cost * PERIOD_MS / lim.limit
                allow_at = new_tat - PERIOD_MS
                if allow_at > now and allow_at - now > wait:
                    wait, denied = allow_at - now, i
                bases.append(tat)
                new_tats.append(new_tat)
            out = [1 if denied == 0 else 0, denied, math.ceil(wait)]
            for lim, base, new_tat in zip(applied, bases, new_tats, strict=True):
                tat = base
                if denied == 0:  # all or nothing: a refusal counts nowhere
                    tat = new_tat
                    self._store(lim.redis_key, tat, now)
                interval = PERIOD_MS / lim.limit
                out.append(max(0, math.floor((PERIOD_MS - (tat - now)) / interval)))
                out.append(math.ceil(tat - now))
            if len(tats) > self._prune_at:
                self._prune(now)
        return out

    def add(self, applied: Sequence[_Limit], tokens: int) -> None:
        now = time.monotonic() * 1000
        with self._lock:
            for lim in applied:
                tat = max(self._tats.get(lim.redis_key, now), now)
                self._store(lim.redis_key, tat + tokens * PERIOD_MS / lim.limit, now)

    def _store(self, key: str, tat: float, now: float) -> None:
        if tat > now:
            self._tats[key] = tat
        else:
            self._tats.pop(key, None)  # a window back at empty needs no entry

    def _prune(self, now: float) -> None:
        self._tats = {k: tat for k, tat in self._tats.items() if tat > now}
        self._prune_at = max(self._prune_min, 2 * len(self._tats))

    def __len__(self) -> int:
        return len(self._tats)


LOCAL = LocalLimiter()


def _fmt_seconds(ms: int) -> str:
    return f"{max(ms, 0) / 1000:g}s"


def _headers(applied: Sequence[_Limit], values: Sequence[int]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for unit in ("requests", "tokens"):
        tightest: tuple[int, int, int] | None = None  # (remaining, limit, reset_ms)
        for i, lim in enumerate(applied):
            if lim.unit != unit:
                continue
            remaining, reset_ms = values[2 * i], values[2 * i + 1]
            if tightest is None or remaining < tightest[0]:
                tightest = (remaining, lim.limit, reset_ms)
        if tightest is not None:
            headers[f"x-ratelimit-limit-{unit}"] = str(tightest[1])
            headers[f"x-ratelimit-remaining-{unit}"] = str(tightest[0])
            headers[f"x-ratelimit-reset-{unit}"] = _fmt_seconds(tightest[2])
    return headers


def _decision(applied: Sequence[_Limit], raw: Sequence[int]) -> RateDecision:
    admitted, denied, wait_ms = raw[0], raw[1], raw[2]
    headers = _headers(applied, raw[3:])
    if admitted:
        return RateDecision(allowed=True, retry_after=0.0, headers=headers)
    return RateDecision(
        allowed=False,
        retry_after=wait_ms / 1000,
        headers=headers,
        scope=applied[denied - 1].scope,
    )


async def acquire(limits: Limits, estimated_tokens: int) -> RateDecision:
    """Admit one request costing `estimated_tokens` against every limit, or refuse it.

    The estimate counts in the token window right away (so a burst cannot slip past TPM);
    afterwards call `add_tokens(limits, actual_total - estimated_tokens)`.
    """
    applied = _applicable(limits)
    if not applied:
        return RateDecision(allowed=True, retry_after=0.0)
    if settings.RATE_LIMITER_BACKEND == LOCAL_BACKEND:
        return _decision(applied, LOCAL.acquire(applied, estimated_tokens))
    entry = REDIS.get()
    args: list[int] = []
    for lim in applied:
        if lim.unit == "requests":
            args += [PERIOD_MS, lim.limit, 1, 0]
        else:
            cost = min(max(estimated_tokens, 0), lim.limit)
            args += [PERIOD_MS, lim.limit, cost, entry.take_pending(lim.redis_key)]
    try:
        raw = await entry.acquire(keys=[lim.redis_key for lim in applied], args=args)
    except (RedisError, OSError) as exc:
        for i, lim in enumerate(applied):
            if args[4 * i + 3]:  # keep the queued tokens for the next attempt
                entry.pending.setdefault(lim.redis_key, [lim.limit, 0])[1] += args[4 * i + 3]
        logger.warning("ratelimit.unavailable tenant=%s error=%s", limits.tenant_id, exc)
        raise RateLimiterUnavailable(str(exc)) from exc
    return _decision(applied, [int(v) for v in raw])


async def add_tokens(limits: Limits, tokens: int) -> None:
    """Count tokens in the TPM windows after the request (negative gives back an estimate).

    Redis: queued, not awaited: they go to Redis with this process's next acquire on the
    same limits or within TOKEN_FLUSH_DELAY, in one batch. Never raises: the response is
    out.
    """
    applied = [lim for lim in _applicable(limits) if lim.unit == "tokens"]
    if not applied or tokens == 0:
        return
    if settings.RATE_LIMITER_BACKEND == LOCAL_BACKEND:
        LOCAL.add(applied, tokens)
        return
    try:
        entry = REDIS.get()
    except RateLimiterUnavailable:
        return
    entry.queue_tokens(applied, tokens)


async def open() -> None:
    """Startup: create this event loop's Redis client. Connections are made on first use,
    so a Redis that is down does not stop the process (/readyz names it). Idempotent."""
    if settings.RATE_LIMITER_BACKEND == REDIS_BACKEND and settings.REDIS_URL:
        REDIS.get()


async def close() -> None:
    """Shutdown: send queued token counts, then close this loop's client. Idempotent."""
    await REDIS.close()


def limits_for(tenant: object, api_key: object | None) -> Limits:
    """Limits from a Tenant (override or plan default) and an ApiKey."""
    return Limits(
        tenant_id=tenant.pk,  # type: ignore[attr-defined]
        key_id=getattr(api_key, "pk", None),
        tenant_rpm=tenant.effective_rpm_limit,  # type: ignore[attr-defined]
        tenant_tpm=tenant.effective_tpm_limit,  # type: ignore[attr-defined]
        key_rpm=getattr(api_key, "rpm_limit", None),
        key_tpm=getattr(api_key, "tpm_limit", None),
    )
