"""Work that must finish even if the request's task is cancelled (the client left)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable


class BackgroundTasks:
    """Strong references to shielded tasks until they finish (a registry object)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def run(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def shielded(self, coro: Awaitable[None]) -> None:
        """Run `coro` to completion even if the caller is cancelled meanwhile."""
        await asyncio.shield(self.run(coro))

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


BACKGROUND = BackgroundTasks()
