"""An async psycopg connection pool for the /v1 hot path.

Django's ORM under ASGI runs every query through `sync_to_async` (a thread hop) and cannot
switch schemas safely from async code, so the gateway and the budget path use plain SQL on
this pool, naming tenant schemas explicitly (`psycopg.sql.Identifier`). One pool per event
loop: uvicorn has one loop per process; tests and benchmarks may start more. The ASGI
lifespan's startup opens it and its shutdown closes it (apps/gateway/lifespan.py).

Every connection's `search_path` is pinned to `public` when it is made (a startup option,
no extra round trip): an unqualified name can never resolve in a tenant schema — nor in
a schema named after the database user, which PostgreSQL's default `"$user", public`
would search first.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from django.conf import settings
from django.db import connections
from psycopg_pool import AsyncConnectionPool

SEARCH_PATH = "public"


def conninfo() -> str:
    # The connection's own settings: the test runner renames the database there.
    db = connections["default"].settings_dict
    return psycopg.conninfo.make_conninfo(
        dbname=db["NAME"],
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=str(db["PORT"]) if db.get("PORT") else None,
        application_name="cloudfreedom-gateway",
        options=f"-c search_path={SEARCH_PATH}",
    )


class PoolRegistry:
    """Maps each running event loop to its pool (pools cannot cross loops)."""

    def __init__(self) -> None:
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncConnectionPool] = (
            weakref.WeakKeyDictionary()
        )

    async def get(self) -> AsyncConnectionPool:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            pool = AsyncConnectionPool(
                conninfo(),
                min_size=1,
                max_size=int(getattr(settings, "GATEWAY_DB_POOL_MAX", 20)),
                # A burst beyond max_size waits this long for a free connection (FIFO).
                timeout=float(getattr(settings, "GATEWAY_DB_POOL_TIMEOUT", 30)),
                kwargs={"autocommit": True, "prepare_threshold": 0},
                open=False,
            )
            self._pools[loop] = pool
            await pool.open()
        return pool

    async def close_all(self) -> None:
        loop = asyncio.get_running_loop()
        pool = self._pools.pop(loop, None)
        if pool is not None:
            await pool.close()


POOLS = PoolRegistry()


@asynccontextmanager
async def connection() -> AsyncIterator[psycopg.AsyncConnection]:
    """An autocommit connection; use `async with conn.transaction():` for atomic work."""
    pool = await POOLS.get()
    async with pool.connection() as conn:
        yield conn
