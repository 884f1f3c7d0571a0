"""Routes, targets (with decrypted credentials), prices and plans, cached per process.

Filled with the ORM through one `sync_to_async` hop every few seconds, never per request.
The snapshot is immutable: a request keeps the one it started with even if a refresh
replaces it meanwhile.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from django.utils import timezone

from apps.gateway.context import PlanSnapshot
from apps.gateway.providers.base import UpstreamTarget

log = logging.getLogger("cloudfreedom.gateway.catalog")

DEFAULT_TTL = 5.0
# An unknown model name forces a reload at most this often, so a route created a moment
# ago is found without letting typos hammer the database.
MISS_RELOAD_INTERVAL = 1.0


@dataclass(frozen=True, slots=True)
class Price:
    """Per 1M tokens, before markup."""

    input: Decimal
    output: Decimal
    cached_input: Decimal
    cache_write: Decimal
    effective_from: datetime
    effective_to: datetime | None


@dataclass(frozen=True, slots=True)
class RouteInfo:
    route_id: int
    public_name: str
    mode: str  # chat | embedding
    max_output_tokens: int
    retries: int
    created: int
    targets: tuple[UpstreamTarget, ...]
    prices: tuple[Price, ...]  # newest first

    def price_at(self, at: datetime) -> Price | None:
        for price in self.prices:
            if price.effective_from <= at and (
                price.effective_to is None or at < price.effective_to
            ):
                return price
        return None

    def current_price(self) -> Price | None:
        return self.price_at(timezone.now())


@dataclass(frozen=True, slots=True)
class CatalogSnapshot:
    routes: dict[str, RouteInfo]
    plans: dict[int, PlanSnapshot]
    loaded_at: float


def load_catalog() -> CatalogSnapshot:
    """Read the whole catalog with the ORM (sync; run through sync_to_async)."""
    from apps.catalog.models import ModelPrice, ModelRoute, Product, RouteTarget

    targets: dict[int, list[UpstreamTarget]] = {}
    rows = (
        RouteTarget.objects.filter(is_active=True, provider__is_active=True)
        .select_related("provider")
        .order_by("route_id", "priority", "id")
    )
    for target in rows:
        provider = target.provider
        timeout = target.timeout_seconds or provider.timeout_seconds
        targets.setdefault(target.route_id, []).append(
            UpstreamTarget(
                provider_kind=provider.kind,
                provider_name=provider.name,
                base_url=provider.base_url.rstrip("/"),
                upstream_model=target.upstream_model,
                api_key=provider.get_api_key(),
                timeout=float(timeout),
                connect_timeout=float(provider.connect_timeout_seconds),
            )
        )
    prices: dict[int, list[Price]] = {}
    now = timezone.now()
    price_rows = ModelPrice.objects.exclude(effective_to__lte=now).order_by("-effective_from")
    for p in price_rows:
        prices.setdefault(p.route_id, []).append(
            Price(
                p.input_per_mtok,
                p.output_per_mtok,
                p.cached_input_per_mtok,
                p.cache_write_per_mtok,
                p.effective_from,
                p.effective_to,
            )
        )
    routes = {
        r.public_name: RouteInfo(
            route_id=r.pk,
            public_name=r.public_name,
            mode=r.mode,
            max_output_tokens=r.max_output_tokens,
            retries=r.retries,
            created=int(r.created_at.timestamp()),
            targets=tuple(targets.get(r.pk, ())),
            prices=tuple(prices.get(r.pk, ())),
        )
        for r in ModelRoute.objects.filter(is_active=True)
    }
    allowed: dict[int, set[str]] = {}
    through = Product.allowed_models.through.objects.filter(modelroute__is_active=True)
    for product_id, name in through.values_list("product_id", "modelroute__public_name"):
        allowed.setdefault(product_id, set()).add(name)
    plans = {
        p.pk: PlanSnapshot(
            product_id=p.pk,
            markup_percent=p.markup_percent,
            allowed_models=frozenset(allowed.get(p.pk, ())),
            rpm_limit=p.rpm_limit,
            tpm_limit=p.tpm_limit,
        )
        for p in Product.objects.all()
    }
    return CatalogSnapshot(routes=routes, plans=plans, loaded_at=time.monotonic())


def _load_and_release() -> CatalogSnapshot:
    # Worker threads never see request_finished, so give the connection back explicitly.
    try:
        return load_catalog()
    finally:
        connections.close_all()


class CatalogCache:
    """The per-process catalog. A registry object, not a mutable module global."""

    def __init__(self) -> None:
        self._snapshot: CatalogSnapshot | None = None
        self._last_miss_reload = 0.0

    @property
    def ttl(self) -> float:
        return float(getattr(settings, "GATEWAY_CATALOG_TTL", DEFAULT_TTL))

    async def get(self) -> CatalogSnapshot:
        snapshot = self._snapshot
        if snapshot is None or time.monotonic() - snapshot.loaded_at > self.ttl:
            snapshot = await self.reload()
        return snapshot

    async def reload(self) -> CatalogSnapshot:
        # Concurrent refreshers may both load; that is cheaper than a cross-loop lock.
        snapshot = await sync_to_async(_load_and_release, thread_sensitive=False)()
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
