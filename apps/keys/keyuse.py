"""`ApiKey.last_used_at` without a write per request.

The hot path calls `note_key_used(key_id)`: an in-memory dict update. Every few seconds
the process pushes what it saw into a Redis hash (`HSET key_id → unix time`, keeping the
latest), and a periodic Celery task calls `flush_key_use()`, which atomically takes the
hash and writes all of it with ONE batched UPDATE. A lost Redis loses at most a few
seconds of "last used" times, never a request.

The web process's shutdown pushes what is left and closes the client (`close()`, called
by the ASGI lifespan in apps/gateway/lifespan.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from datetime import UTC, datetime

import redis
import redis.asyncio as aioredis
from django.conf import settings
from django.db import connection, transaction

log = logging.getLogger("cloudfreedom.keys.keyuse")

REDIS_HASH = "cf:keyuse"
PUSH_INTERVAL = 2.0  # seconds between pushes from one process
MAX_PENDING = 100_000
# One push at a time per process is the norm; a few spare connections cover a slow one.
MAX_CONNECTIONS = 4

UPDATE_SQL = """
UPDATE public.keys_apikey AS k SET last_used_at = v.used_at
FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::timestamptz[]) AS used_at) AS v
WHERE k.id = v.id AND (k.last_used_at IS NULL OR k.last_used_at < v.used_at)
"""


class KeyUseBuffer:
    """Key ids seen by this process since the last push (a registry object)."""

    def __init__(self) -> None:
        self.pending: dict[int, float] = {}
        self.last_push = time.monotonic()
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
            weakref.WeakKeyDictionary()
        )
        self._tasks: set[asyncio.Task[None]] = set()

    def note(self, key_id: int) -> None:
        if len(self.pending) < MAX_PENDING:
            self.pending[key_id] = time.time()
        if time.monotonic() - self.last_push >= PUSH_INTERVAL:
            self.last_push = time.monotonic()
            try:
                task = asyncio.get_running_loop().create_task(self.push())
            except RuntimeError:
                return  # no loop (sync caller): the next async request pushes
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _client(self) -> aioredis.Redis | None:
        url = getattr(settings, "REDIS_URL", "")
        if not url:
            return None
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            # A blocking pool waits for a free connection (bounded) instead of raising.
            pool = aioredis.BlockingConnectionPool.from_url(
                url,
                max_connections=MAX_CONNECTIONS,
                timeout=1,
                socket_timeout=1,
                socket_connect_timeout=1,
            )
            client = aioredis.Redis.from_pool(pool)  # owns the pool: closed with it
            self._clients[loop] = client
        return client

    async def push(self) -> int:
        """Move pending ids to Redis; on failure keep them for the next push."""
        batch, self.pending = self.pending, {}
        if not batch:
            return 0
        client = self._client()
        if client is None:
            return 0
        try:
            await client.hset(REDIS_HASH, mapping={str(k): repr(v) for k, v in batch.items()})
        except (redis.RedisError, OSError) as exc:
            log.warning("keyuse_push_failed keys=%d error=%s", len(batch), type(exc).__name__)
            for key_id, used in batch.items():
                self.pending.setdefault(key_id, used)
            return 0
        return len(batch)

    async def close(self) -> None:
        """Push what is pending and close this loop's client (process shutdown)."""
        try:
            await self.push()
        finally:
            client = self._clients.pop(asyncio.get_running_loop(), None)
            if client is not None:
                await client.aclose()


KEY_USE = KeyUseBuffer()


def note_key_used(key_id: int) -> None:
    KEY_USE.note(key_id)


async def push_key_use() -> int:
    """Push this process's pending ids now (tests)."""
    return await KEY_USE.push()


async def close() -> None:
    """Shutdown: push this process's pending ids, then close its Redis client. Idempotent."""
    await KEY_USE.close()


def flush_key_use(client: redis.Redis | None = None) -> int:
    """Write the collected last-used times with one UPDATE per batch. Returns keys written.

    Called by a periodic Celery task. RENAME makes taking the hash atomic, so ids pushed
    while this runs land in a fresh hash for the next flush. A batch whose UPDATE failed
    stays in Redis under its "flushing" name and is written by the next run.
    """
    if client is None:
        if not settings.REDIS_URL:
            return 0  # without Redis, processes keep last-used times to themselves
        client = redis.Redis.from_url(settings.REDIS_URL)
    batches = [name.decode() for name in client.scan_iter(f"{REDIS_HASH}:flushing:*")]
    taking = f"{REDIS_HASH}:flushing:{time.time_ns()}"
    try:
        client.rename(REDIS_HASH, taking)
        batches.append(taking)
    except redis.ResponseError:
        pass  # "no such key": nothing was used since the last flush
    written = 0
    for batch in batches:
        written += _write_batch(client, batch)
    if written:
        log.info("keyuse_flushed keys=%d", written)
    return written


def _write_batch(client: redis.Redis, name: str) -> int:
    ids: list[int] = []
    times: list[datetime] = []
    for key_id, used in client.hgetall(name).items():
        try:
            ids.append(int(key_id))
            times.append(datetime.fromtimestamp(float(used), tz=UTC))
        except ValueError:
            continue
    if ids:
        # Atomic on its own: a failed UPDATE leaves the caller's transaction usable.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(UPDATE_SQL, [ids, times])
    client.delete(name)  # only after the UPDATE succeeded
    return len(ids)
