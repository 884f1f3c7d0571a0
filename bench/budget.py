"""CPU the budget and rate-limit path adds to one request, in the gateway's process.

Per flow: `acquire` (one Redis EVALSHA), `reserve` (one PL/pgSQL call), `settle` (one call
in a transaction) and `add_tokens` — what the gateway adds around an upstream call. Reports
process CPU time / flows (client side: the server work of PostgreSQL and Redis is in their
own processes) for sequential flows and for 50 at a time, on the database `make run` uses.
Creates a throwaway tenant and removes it after.

    python -m bench.budget --flows 2000 --concurrency 50
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudfreedom.settings.local")
django.setup()

from django.db import connection  # noqa: E402

from apps.billing.budget import (  # noqa: E402
    RESERVE_FOR_KEY_SQL,
    ReserveRequest,
    reservation_from_row,
    reserve_params,
)
from apps.catalog.models import Product  # noqa: E402
from apps.core.db import POOLS  # noqa: E402
from apps.core.db import connection as pool_connection  # noqa: E402
from apps.gateway.ratelimit import REDIS, Limits, acquire, add_tokens  # noqa: E402
from apps.keys.models import ApiKey  # noqa: E402
from apps.tenants.models import Tenant  # noqa: E402
from apps.tenants.services import create_tenant  # noqa: E402
from apps.usage.records import UsageRow, write_usage  # noqa: E402


def _request(tenant_id: int, key_id: int) -> ReserveRequest:
    return ReserveRequest(
        request_id=uuid.uuid4().hex,
        tenant_id=tenant_id,
        member_id=None,
        api_key_id=key_id,
        prompt_cost=Decimal("0.0005"),
        output_token_cost=Decimal("0.0000015"),
        requested_max_output=None,
        model_cap=4096,
    )


def _row(rid: str, cost: Decimal) -> UsageRow:
    return UsageRow(
        request_id=rid,
        created_at=datetime.now(UTC),
        endpoint="chat",
        model="m",
        status="success",
        provider="mock",
        upstream_model="m",
        prompt_tokens=10,
        completion_tokens=200,
        cost=cost,
        latency_ms=5,
    )


async def baseline_flow(ctx: Ctx) -> None:
    """What the gateway does without budgets: write the usage record (one script)."""
    async with pool_connection() as conn:
        await write_usage(conn, ctx.schema, _row(uuid.uuid4().hex, Decimal("0.001")))


async def budget_flow(ctx: Ctx) -> None:
    """The same request with the budget and rate-limit path around it."""
    decision = await acquire(ctx.limits, 500)
    assert decision.allowed
    req = _request(ctx.tenant_id, ctx.key_id)
    async with pool_connection() as conn:  # the gateway's reservation statement
        cur = await conn.execute(RESERVE_FOR_KEY_SQL, (ctx.key_id, *reserve_params(req)))
        row = await cur.fetchone()
    assert row is not None
    res = reservation_from_row(req, row[3:])
    async with pool_connection() as conn:  # the gateway's record + settle script
        await write_usage(conn, ctx.schema, _row(res.request_id, res.amount / 2), settle=res.id)
    await add_tokens(ctx.limits, 200)


@dataclass(frozen=True)
class Ctx:
    tenant_id: int
    key_id: int
    limits: Limits
    schema: str


async def measure(
    ctx: Ctx, flow: Callable[[Ctx], Awaitable[None]], flows: int, concurrency: int
) -> tuple[float, float]:
    """(CPU ms per flow, wall ms per flow)."""
    for _ in range(100):  # warm up: pool connections, prepared statements, the script
        await flow(ctx)
    cpu, wall = time.process_time(), time.perf_counter()
    if concurrency <= 1:
        for _ in range(flows):
            await flow(ctx)
    else:
        for _ in range(flows // concurrency):
            await asyncio.gather(*(flow(ctx) for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu * 1000 / flows, wall * 1000 / flows


async def run_all(ctx: Ctx, flows: int, concurrency: int) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    try:
        for name, conc in (("sequential", 1), (f"{concurrency} concurrent", concurrency)):
            base_cpu, base_wall = await measure(ctx, baseline_flow, flows, conc)
            cpu, wall = await measure(ctx, budget_flow, flows, conc)
            results[name] = {
                "baseline_cpu": base_cpu,
                "budget_cpu": cpu,
                "added_cpu": cpu - base_cpu,
                "added_wall": wall - base_wall,
            }
    finally:
        await POOLS.close_all()
        await REDIS.close()
    return results


def cleanup(tenant: Tenant, product: Product) -> None:
    with connection.cursor() as cur:
        # The ledger refuses ORM deletes; a throwaway bench tenant is removed in SQL.
        for table in (
            "billing_ledgerentry",
            "billing_reservation",
            "billing_budget",
            "keys_apikey",
        ):
            cur.execute(f"DELETE FROM public.{table} WHERE tenant_id = %s", [tenant.pk])
        cur.execute("DELETE FROM public.tenants_domain WHERE tenant_id = %s", [tenant.pk])
        cur.execute(f'DROP SCHEMA IF EXISTS "{tenant.schema_name}" CASCADE')
        cur.execute("DELETE FROM public.tenants_tenant WHERE id = %s", [tenant.pk])
        cur.execute("DELETE FROM public.catalog_product WHERE id = %s", [product.pk])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--uvloop", action="store_true", help="Run on uvloop, as uvicorn does.")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    slug = f"bench-{uuid.uuid4().hex[:10]}"
    product = Product.objects.create(name=slug, slug=slug, monthly_budget=Decimal("1000000"))
    tenant = create_tenant(name=slug, slug=slug, product=product)
    key = ApiKey.objects.create(tenant=tenant, prefix=slug, digest="0" * 64)
    ctx = Ctx(
        tenant_id=tenant.pk,
        key_id=key.pk,
        limits=Limits(tenant.pk, key.pk, 10**9, 10**12, 10**9, 10**12),
        schema=tenant.schema_name,
    )
    try:
        results = asyncio.run(run_all(ctx, args.flows, args.concurrency))
    finally:
        cleanup(tenant, product)
    loop = "uvloop" if args.uvloop else "asyncio"
    print(f"budget + rate-limit path, {args.flows} requests per run, {loop}, CPU of this process:")
    for name, r in results.items():
        print(
            f"  {name:>14}: gateway DB work alone {r['baseline_cpu']:.3f} ms, with budgets and"
            f" rate limits {r['budget_cpu']:.3f} ms -> added {r['added_cpu']:.3f} ms CPU"
            f" ({r['added_wall']:.3f} ms wall) per request"
        )


if __name__ == "__main__":
    main()
