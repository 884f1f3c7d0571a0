"""The catalog as the gateway sees it: routes, their upstream targets (with credentials),
prices and plans, read in one go with plain SQL on the gateway's async pool.

The gateway caches one `CatalogSnapshot` per process and reloads it every few seconds,
never per request. A snapshot is immutable: a request keeps the one it started with even
if a refresh replaces it meanwhile. The SQL lives here, next to the models it reads, and
names the public schema, so it does not depend on the connection's search_path; a test
checks that it agrees with the ORM.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from django.utils import timezone

from apps.catalog import crypto
from apps.catalog.pricing import Price, pick_price

log = logging.getLogger("cloudfreedom.catalog")


@dataclass(frozen=True, slots=True)
class UpstreamTarget:
    """Where one attempt goes: a provider plus the model name it knows."""

    provider_kind: str  # openai | anthropic | gemini | openai_compatible | mock
    provider_name: str
    base_url: str
    upstream_model: str
    api_key: str = field(default="", repr=False)  # a secret: never logged or echoed
    timeout: float = 120.0  # seconds for the whole non-streamed call / between stream reads
    connect_timeout: float = 10.0
    extra_headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class PlanSnapshot:
    product_id: int
    markup_percent: Decimal
    allowed_models: frozenset[str]
    rpm_limit: int | None
    tpm_limit: int | None

    @property
    def markup_factor(self) -> Decimal:
        return Decimal(1) + self.markup_percent / Decimal(100)


@dataclass(frozen=True, slots=True)
class RouteInfo:
    route_id: int
    public_name: str
    mode: str  # chat | embedding
    max_output_tokens: int
    retries: int
    created: int
    targets: tuple[UpstreamTarget, ...]  # usable ones, in priority order
    prices: tuple[Price, ...]  # newest first
    # Providers of active targets left out because their stored credential does not
    # decrypt: the route is unusable (502), not served with an empty key, when no other
    # target remains.
    unreadable_credentials: tuple[str, ...] = ()

    def price_at(self, at: datetime) -> Price | None:
        return pick_price(self.prices, at)

    def current_price(self) -> Price | None:
        return pick_price(self.prices)


@dataclass(frozen=True, slots=True)
class CatalogSnapshot:
    routes: dict[str, RouteInfo]
    plans: dict[int, PlanSnapshot]
    loaded_at: float  # monotonic seconds


Rows = list[tuple[Any, ...]]

# Constants only, no input but bound parameters.
TARGETS_SQL = """
SELECT t.route_id, p.name, p.kind, p.base_url, p.api_key_env, p.api_key_encrypted,
       COALESCE(t.timeout_seconds, p.timeout_seconds), p.connect_timeout_seconds,
       t.upstream_model
  FROM public.catalog_routetarget t
  JOIN public.catalog_provider p ON p.id = t.provider_id
 WHERE t.is_active AND p.is_active
 ORDER BY t.route_id, t.priority, t.id
"""
PRICES_SQL = """
SELECT route_id, input_per_mtok, output_per_mtok, cached_input_per_mtok,
       cache_write_per_mtok, effective_from, effective_to
  FROM public.catalog_modelprice
 WHERE effective_to IS NULL OR effective_to > %s
 ORDER BY route_id, effective_from DESC, id DESC
"""
ROUTES_SQL = """
SELECT id, public_name, mode, max_output_tokens, retries, created_at
  FROM public.catalog_modelroute
 WHERE is_active
"""
PLANS_SQL = """
SELECT p.id, p.markup_percent, p.rpm_limit, p.tpm_limit,
       COALESCE(array_agg(r.public_name) FILTER (WHERE r.id IS NOT NULL), '{}')
  FROM public.catalog_product p
  LEFT JOIN public.catalog_product_allowed_models a ON a.product_id = p.id
  LEFT JOIN public.catalog_modelroute r ON r.id = a.modelroute_id AND r.is_active
 GROUP BY p.id
"""


def _targets(rows: Rows) -> tuple[dict[int, list[UpstreamTarget]], dict[int, list[str]]]:
    usable: dict[int, list[UpstreamTarget]] = {}
    unreadable: dict[int, list[str]] = {}
    broken: set[str] = set()
    for route_id, name, kind, base_url, key_env, encrypted, timeout, connect, upstream in rows:
        try:
            api_key = crypto.resolve(key_env, encrypted)
        except crypto.CredentialUnreadable:
            unreadable.setdefault(route_id, []).append(name)
            broken.add(name)
            continue
        usable.setdefault(route_id, []).append(
            UpstreamTarget(
                provider_kind=kind,
                provider_name=name,
                base_url=base_url.rstrip("/"),
                upstream_model=upstream,
                api_key=api_key,
                timeout=float(timeout),
                connect_timeout=float(connect),
            )
        )
    for name in sorted(broken):
        # Once per load (every few seconds while traffic flows): loud until fixed. The
        # provider is named; the secret and its ciphertext never are.
        log.error(
            "provider_credential_unreadable provider=%s: its stored API key does not decrypt "
            "with CREDENTIALS_ENCRYPTION_KEY; enter the key again",
            name,
        )
    return usable, unreadable


def build_snapshot(
    target_rows: Rows, price_rows: Rows, route_rows: Rows, plan_rows: Rows
) -> CatalogSnapshot:
    """The snapshot from the rows of TARGETS_SQL, PRICES_SQL, ROUTES_SQL and PLANS_SQL."""
    targets, unreadable = _targets(target_rows)
    prices: dict[int, list[Price]] = {}
    for route_id, inp, out, cached, write, start, end in price_rows:
        prices.setdefault(route_id, []).append(Price(inp, out, cached, write, start, end))
    routes = {
        name: RouteInfo(
            route_id=route_id,
            public_name=name,
            mode=mode,
            max_output_tokens=max_output,
            retries=retries,
            created=int(created_at.timestamp()),
            targets=tuple(targets.get(route_id, ())),
            prices=tuple(prices.get(route_id, ())),
            unreadable_credentials=tuple(unreadable.get(route_id, ())),
        )
        for route_id, name, mode, max_output, retries, created_at in route_rows
    }
    plans = {
        product_id: PlanSnapshot(
            product_id=product_id,
            markup_percent=markup,
            allowed_models=frozenset(allowed),
            rpm_limit=rpm,
            tpm_limit=tpm,
        )
        for product_id, markup, rpm, tpm, allowed in plan_rows
    }
    return CatalogSnapshot(routes=routes, plans=plans, loaded_at=time.monotonic())


async def load_catalog(conn: psycopg.AsyncConnection) -> CatalogSnapshot:
    """Read the whole active catalog: four statements on one connection, every few
    seconds per process (the gateway caches the result)."""
    now = timezone.now()
    target_rows = await (await conn.execute(TARGETS_SQL)).fetchall()
    price_rows = await (await conn.execute(PRICES_SQL, (now,))).fetchall()
    route_rows = await (await conn.execute(ROUTES_SQL)).fetchall()
    plan_rows = await (await conn.execute(PLANS_SQL)).fetchall()
    return build_snapshot(target_rows, price_rows, route_rows, plan_rows)
