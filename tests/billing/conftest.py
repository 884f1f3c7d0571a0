"""Billing fixtures. The hot path runs on the async pool's own connections, so its tests
need COMMITTED rows: `committed` unblocks the database without a wrapping transaction and
deletes exactly the rows it made afterwards (never a flush: the bootstrapped public and
template tenants must survive for the rest of the suite)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from apps.accounts.models import User
from apps.billing.budget import (
    RESERVE_FOR_KEY_SQL,
    Reservation,
    ReserveRequest,
    reservation_from_row,
    reserve_params,
)
from apps.catalog.models import Product
from apps.core.db import connection as pool_connection
from apps.gateway.accounting import Outcome
from apps.gateway.auth import authenticate
from apps.gateway.context import RequestContext, new_request_id
from apps.gateway.providers.base import Usage
from apps.keys.models import ApiKey
from apps.keys.services import NewKey, create_api_key
from apps.tenants.models import Membership, Tenant
from apps.usage.records import UsageRow, Written, write_usage
from tests.support import factories


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

    def issued_key(self, tenant: Tenant, member: Membership | None = None) -> NewKey:
        """A real key of `tenant`, with the secret the gateway's own lookup takes."""
        return create_api_key(tenant=tenant, member=member)

    def any_key(self, tenant: Tenant) -> int:
        """A key of `tenant` whose status the gateway's reservation re-reads."""
        key = ApiKey.objects.filter(tenant=tenant).first() or self.key(tenant)
        return key.pk

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


async def gateway_context(secret: str, request_id: str | None = None) -> RequestContext:
    """A request's context as the gateway builds it: the key through its own lookup."""
    key = await authenticate({"authorization": f"Bearer {secret}"})
    return RequestContext(request_id or new_request_id(), "chat", key, None)


def outcome(cost: Decimal, *, status: str = "success", prompt: int = 10, out: int = 10) -> Outcome:
    """What a finished upstream call hands to `accounting.record`."""
    return Outcome(
        model="m",
        provider="mock",
        upstream_model="m",
        attempts=1,
        attempt_log=[],
        usage=Usage(prompt_tokens=prompt, completion_tokens=out, reported=True),
        cost=cost,
        status=status,
        error_type="",
        http_status=200,
        ttft_ms=None,
        streamed=False,
    )


async def reserve(req: ReserveRequest, key_id: int) -> Reservation:
    """Reserve with the gateway's own statement (what `accounting.reserve` sends): re-read
    key `key_id`'s status, then reserve `req`."""
    async with pool_connection() as conn:
        cur = await conn.execute(RESERVE_FOR_KEY_SQL, (key_id, *reserve_params(req)))
        row = await cur.fetchone()
    assert row is not None and row[3] is not None, "the key may not spend"
    return reservation_from_row(req, row[3:])


def usage(request_id: str, cost: Decimal, **extra: Any) -> UsageRow:
    """A usage record as the gateway writes it, costing `cost`."""
    fields: dict[str, Any] = {
        "request_id": request_id,
        "created_at": datetime.now(UTC),
        "endpoint": "chat",
        "model": "m",
        "status": "success",
        "provider": "mock",
        "prompt_tokens": 10,
        "completion_tokens": 10,
        "cost": cost,
    }
    fields.update(extra)
    return UsageRow(**fields)


async def finish(schema: str, row: UsageRow, reservation_id: int | None = None) -> Written:
    """Record and settle with the gateway's own script (what `accounting.record` sends)."""
    async with pool_connection() as conn:
        return await write_usage(conn, schema, row, settle=reservation_id)
