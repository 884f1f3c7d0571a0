"""Running the gateway's async code from synchronous tests."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a fresh loop (a fresh process, in effect), closing that loop's
    database pool and Redis client after."""
    from apps.core.db import POOLS
    from apps.gateway import ratelimit

    async def main() -> T:
        try:
            return await coro
        finally:
            await POOLS.close_all()
            await ratelimit.close()

    return asyncio.run(main())
