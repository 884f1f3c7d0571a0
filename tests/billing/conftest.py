"""Billing fixtures. The hot path runs on the async pool's own connections, so its tests
need COMMITTED rows: `committed` unblocks the database without a wrapping transaction and
deletes exactly the rows it made afterwards (never a flush: the bootstrapped public and
template tenants must survive for the rest of the suite)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from apps.accounts.models import User
from apps.catalog.models import Product
from apps.core.db import POOLS
from apps.keys.models import ApiKey
from apps.tenants.models import Membership, Tenant
from tests.support import factories

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a fresh loop, closing that loop's pool and Redis client after."""
    from apps.billing.ratelimit import REDIS

    async def main() -> T:
        try:
            return await coro
        finally:
            await POOLS.close_all()
            await REDIS.close()

    return asyncio.run(main())


@dataclass
class Made:
    """What a test created (committed), removed again by the fixture."""

    tenants: list[Tenant] = field(default_factory=list)
    products: list[Product] = field(default_factory=list)
    users: list[User] = field(default_factory=list)

    def tenant(self, budget: str = "5.00", **extra: Any) -> Tenant:
        product = factories.product(monthly_budget=Decimal(budget))
        self.products.append(product)
        tenant = factories.tenant(product=product, **extra)
        self.tenants.append(tenant)
        return tenant

    def member(self, tenant: Tenant) -> Membership:
        user = factories.user()
        self.users.append(user)
        return Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.MEMBER)

    def key(self, tenant: Tenant, member: Membership | None = None, **extra: Any) -> ApiKey:
        return ApiKey.objects.create(
            tenant=tenant, member=member, prefix=factories.unique("cfk"), digest="0" * 64, **extra
        )

    def cleanup(self) -> None:
        # Plain SQL, table by table: the ledger refuses ORM deletes by design, and an ORM
        # cascade would also visit other apps' tables that may be mid-migration.
        with connection.cursor() as cur:
            for t in self.tenants:
                for table in (
                    "billing_ledgerentry",
                    "billing_reservation",
                    "billing_budgetperiod",
                    "billing_budget",
                    "keys_apikey",
                    "tenants_membership",
                    "tenants_domain",
                ):
                    cur.execute(f"DELETE FROM public.{table} WHERE tenant_id = %s", [t.pk])
                cur.execute(f'DROP SCHEMA IF EXISTS "{t.schema_name}" CASCADE')
                cur.execute("DELETE FROM public.tenants_tenant WHERE id = %s", [t.pk])
            for p in self.products:
                cur.execute(
                    "DELETE FROM public.catalog_product_allowed_models WHERE product_id = %s",
                    [p.pk],
                )
                cur.execute("DELETE FROM public.catalog_product WHERE id = %s", [p.pk])
        for u in self.users:
            u.delete()
        connection.set_schema_to_public()


@pytest.fixture
def made(django_db_blocker: Any) -> Iterator[Made]:
    with django_db_blocker.unblock():
        m = Made()
        try:
            yield m
        finally:
            m.cleanup()


USAGE_COLUMNS = (
    "request_id, created_at, api_key_id, api_key_prefix, member_id, user_id, endpoint, model,"
    " provider, upstream_model, attempts, attempt_log, prompt_tokens, completion_tokens,"
    " cached_tokens, cache_write_tokens, usage_reported, cost, status, error_type, http_status,"
    " latency_ms, ttft_ms, streamed"
)


async def write_usage(
    conn: psycopg.AsyncConnection,
    schema: str,
    request_id: str,
    cost: Decimal,
    *,
    status: str = "success",
    member_id: int | None = None,
    api_key_id: int | None = None,
) -> None:
    """The gateway's usage record, as it writes it: replacing an `incomplete` placeholder."""
    query = sql.SQL(
        "INSERT INTO {}.usage_usagerecord (" + USAGE_COLUMNS + ") VALUES (%s, now(), %s, '', %s,"
        " NULL, 'chat', 'm', 'mock', 'm', 1, '[]', 10, 10, 0, 0, true, %s, %s, '', 200, 5, 1,"
        " false) ON CONFLICT (request_id) DO UPDATE SET cost = EXCLUDED.cost,"
        " status = EXCLUDED.status WHERE usage_usagerecord.status = 'incomplete'"
    ).format(sql.Identifier(schema))
    await conn.execute(query, (request_id, api_key_id, member_id, cost, status))
