"""The gateway process's life: one startup hook, one shutdown hook (the ASGI lifespan,
wired in cloudfreedom/asgi.py; serve with `--lifespan on`).

Startup opens this event loop's pools: PostgreSQL (connections are made in the
background, so a database that is down does not stop the process — /readyz names it),
the rate limiter's Redis client and the upstream HTTP session.

Shutdown runs after uvicorn stopped accepting connections and waited for open ones
(`--timeout-graceful-shutdown`; past it, uvicorn cancels the requests still running, and a
cancelled stream records what it produced). It then waits for the /v1 requests still
finishing and for every usage record and settlement in flight, pushes this process's
key-use times and queued rate-limit tokens, and only then closes the pools.
"""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings

from apps.core import db
from apps.gateway import ratelimit
from apps.gateway.background import BACKGROUND, REQUESTS
from apps.gateway.providers import transport
from apps.keys import keyuse

log = logging.getLogger("cloudfreedom.gateway.lifespan")

# Of GATEWAY_SHUTDOWN_TIMEOUT (seconds for requests and records still finishing; keep it
# below the orchestrator's kill timeout minus uvicorn's graceful-shutdown timeout), how
# long a request still running may go on before it is cancelled.
DEFAULT_REQUEST_GRACE = 5.0


async def startup() -> None:
    await db.POOLS.get()
    await ratelimit.open()
    await transport.open()
    log.info("gateway_started")


async def shutdown() -> None:
    loop = asyncio.get_running_loop()
    timeout = float(settings.GATEWAY_SHUTDOWN_TIMEOUT)
    deadline = loop.time() + timeout
    grace = min(timeout / 2, DEFAULT_REQUEST_GRACE)
    requests = len(REQUESTS)
    still_running = await REQUESTS.finish(grace, cancelled_grace=timeout - grace)
    records = len(BACKGROUND)
    unfinished = await BACKGROUND.drain(within=max(0.0, deadline - loop.time()))
    if still_running or unfinished:
        # Their reservations stay held; billing's sweeper releases them at expiry.
        log.error("shutdown_incomplete requests=%d background=%d", still_running, unfinished)
    try:
        await keyuse.close()  # pushes this process's last-used times first
        await ratelimit.close()  # sends queued token counts first
    finally:
        await transport.close()
        await db.POOLS.close_all()
    log.info("gateway_stopped requests=%d background=%d", requests, records)
