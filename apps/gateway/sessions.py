"""One aiohttp ClientSession per event loop for upstream calls.

aiohttp sessions are bound to the loop that created them; uvicorn runs one loop per
process, tests and the benchmark may run several. The connector keeps connections to
each upstream alive and is sized for many concurrent streams.
"""

from __future__ import annotations

import asyncio
import weakref

import aiohttp
from django.conf import settings


class SessionRegistry:
    def __init__(self) -> None:
        self._sessions: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, aiohttp.ClientSession
        ] = weakref.WeakKeyDictionary()

    def get(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(
                limit=int(getattr(settings, "GATEWAY_UPSTREAM_CONNECTIONS", 1000)),
                limit_per_host=0,
                ttl_dns_cache=300,
                keepalive_timeout=60,
            )
            # Timeouts are per request (from the target). trust_env (HTTP(S)_PROXY, .netrc)
            # is opt-in: aiohttp then reads .netrc in a worker thread on every request,
            # two thread hops that cost more CPU than the rest of the upstream call.
            session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=None),
                trust_env=bool(getattr(settings, "GATEWAY_UPSTREAM_TRUST_ENV", False)),
                auto_decompress=True,
                skip_auto_headers=("User-Agent",),
            )
            self._sessions[loop] = session
        return session

    async def close_current(self) -> None:
        loop = asyncio.get_running_loop()
        session = self._sessions.pop(loop, None)
        if session is not None:
            await session.close()


SESSIONS = SessionRegistry()
