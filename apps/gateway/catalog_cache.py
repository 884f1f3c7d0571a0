"""The per-process cache of the catalog snapshot (`apps.catalog.snapshot`).

Reloaded on the gateway's async pool every few seconds, never per request. The snapshot
is immutable: a request keeps the one it started with even if a refresh replaces it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import psycopg
import psycopg_pool
from django.conf import settings

from apps.catalog.pricing import Price
from apps.catalog.snapshot import CatalogSnapshot, PlanSnapshot, RouteInfo, load_catalog
from apps.core import db
from apps.gateway.errors import GatewayError

__all__ = ["CATALOG", "CatalogCache", "CatalogSnapshot", "PlanSnapshot", "Price", "RouteInfo"]

log = logging.getLogger("cloudfreedom.gateway.catalog")

DEFAULT_TTL = 5.0
# An unknown model name forces a reload at most this often, so a route created a moment
# ago is found without letting typos hammer the database.
MISS_RELOAD_INTERVAL = 1.0


class CatalogCache:
    """The per-process catalog. A registry object, not a mutable module global."""

    def __init__(self) -> None:
        self._snapshot: CatalogSnapshot | None = None
        self._last_miss_reload = 0.0
        self._loading: asyncio.Task[CatalogSnapshot] | None = None

    @property
    def ttl(self) -> float:
        return float(getattr(settings, "GATEWAY_CATALOG_TTL", DEFAULT_TTL))

    async def get(self) -> CatalogSnapshot:
        snapshot = self._snapshot
        if snapshot is None or time.monotonic() - snapshot.loaded_at > self.ttl:
            snapshot = await self.reload()
        return snapshot

    async def reload(self) -> CatalogSnapshot:
        # Concurrent refreshers in one event loop share one load: after the TTL, a burst
        # would otherwise send one catalog query per waiting request and drain the pool.
        # A refresher on another loop (tests, benchmarks) loads on its own.
        loop = asyncio.get_running_loop()
        task = self._loading
        if task is None or task.done() or task.get_loop() is not loop:
            task = loop.create_task(self._load())
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            self._loading = task
        try:
            # Shielded: a client that leaves must not cancel the load others wait for.
            return await asyncio.shield(task)
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            # A database blip must not become a 500. A process that has a snapshot keeps
            # serving it (prices change by new dated entries, so a few seconds' staleness
            # bills correctly); one that never loaded refuses with a 503.
            stale = self._snapshot
            if stale is not None:
                log.warning("catalog_reload_failed serving=stale error=%s", type(exc).__name__)
                return stale
            log.error("catalog_unavailable error=%s", type(exc).__name__)
            raise GatewayError(
                503, "The model catalog is temporarily unavailable.", code="catalog_unavailable"
            )

    async def _load(self) -> CatalogSnapshot:
        async with db.connection() as conn:
            snapshot = await load_catalog(conn)
        self._snapshot = snapshot
        log.debug("catalog_loaded routes=%d plans=%d", len(snapshot.routes), len(snapshot.plans))
        return snapshot

    async def route(self, name: str) -> tuple[RouteInfo | None, CatalogSnapshot]:
        snapshot = await self.get()
        info = snapshot.routes.get(name)
        now = time.monotonic()
        if info is None and now - self._last_miss_reload > MISS_RELOAD_INTERVAL:
            self._last_miss_reload = now
            snapshot = await self.reload()
            info = snapshot.routes.get(name)
        return info, snapshot

    async def plan(self, product_id: int | None) -> PlanSnapshot | None:
        if product_id is None:
            return None
        snapshot = await self.get()
        plan = snapshot.plans.get(product_id)
        if plan is None:
            snapshot = await self.reload()
            plan = snapshot.plans.get(product_id)
        return plan

    def invalidate(self) -> None:
        """Forget everything (tests, and admin saves in this process)."""
        self._snapshot = None
        self._last_miss_reload = 0.0

    def describe(self) -> dict[str, Any]:
        snapshot = self._snapshot
        return {"loaded": snapshot is not None, "routes": len(snapshot.routes) if snapshot else 0}


CATALOG = CatalogCache()
