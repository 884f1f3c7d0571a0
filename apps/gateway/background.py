"""Work that must finish even if the request's task is cancelled (the client left, or the
server is shutting down), and the /v1 requests in flight.

Both registries exist so the ASGI lifespan's shutdown hook (apps/gateway/lifespan.py) can
wait for them: a usage record or settlement that is still being written when the event
loop closes would be lost, and its reservation left to expire.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

log = logging.getLogger("cloudfreedom.gateway.background")

# The message of the cancellation the ASGI entry passes on to a request the server stops
# (shutdown): a stream ends with an error event saying so, and records what it produced.
SERVER_STOPPING = "server_stopping"


class BackgroundTasks:
    """Strong references to shielded tasks until they finish (a registry object)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def run(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def shielded(self, coro: Awaitable[None]) -> None:
        """Run `coro` to completion even if the caller is cancelled meanwhile."""
        await asyncio.shield(self.run(coro))

    async def drain(self, within: float | None = None) -> int:
        """Wait until no task is left; returns how many still run after `within` seconds.

        Loops because a task may start others (a closed stream body schedules its relay's
        end, which schedules the shielded usage record)."""
        loop = asyncio.get_running_loop()
        deadline = None if within is None else loop.time() + within
        while self._tasks:
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                break
            await asyncio.wait(list(self._tasks), timeout=left)
        return len(self._tasks)


class InFlightRequests:
    """The /v1 requests this process is serving (the ASGI entry adds and removes them)."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()
        self.stopping = False  # the server has begun stopping requests (shutdown)

    def __len__(self) -> int:
        return len(self.tasks)

    def stop(self, task: asyncio.Task[Any]) -> None:
        self.stopping = True
        task.cancel(SERVER_STOPPING)

    async def finish(self, grace: float, cancelled_grace: float) -> int:
        """Let running requests end for `grace` seconds, then cancel the rest (a cancelled
        stream records what it produced) and wait `cancelled_grace` more for them.
        Returns how many were still running at the end."""
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=grace)
        if self.tasks:
            log.warning("shutdown_cancelling_requests count=%d", len(self.tasks))
            for task in list(self.tasks):
                self.stop(task)
            await asyncio.wait(list(self.tasks), timeout=cancelled_grace)
        return len(self.tasks)


BACKGROUND = BackgroundTasks()
REQUESTS = InFlightRequests()
