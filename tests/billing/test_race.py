"""200 concurrent reserve → settle flows against a budget that affords 20, for each scope.

Each flow is one request as the gateway runs it: reserve on a pooled connection, "call
upstream", then write the usage record and settle in one transaction.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from decimal import Decimal

import pytest

from apps.billing import services
from apps.billing.budget import BudgetExceeded, ReserveRequest, reserve, settle
from apps.billing.ledger import audit_tenant
from apps.billing.models import Budget
from apps.core.db import connection as pool_connection
from tests.billing.conftest import Made, run, write_usage

D = Decimal
FLOWS = 200
WORST = D("0.01")  # 0.002 prompt + 800 output tokens x 0.00001
AFFORDS_20 = WORST * 20


async def flow(
    tenant_id: int, schema: str, member_id: int | None, key_id: int | None, abandon: bool
) -> Decimal | None:
    rid = uuid.uuid4().hex
    req = ReserveRequest(
        request_id=rid,
        tenant_id=tenant_id,
        member_id=member_id,
        api_key_id=key_id,
        prompt_cost=D("0.002"),
        output_token_cost=D("0.00001"),
        requested_max_output=800,
        model_cap=4096,
    )
    try:
        async with pool_connection() as conn:
            res = await reserve(conn, req)
    except BudgetExceeded:
        return None
    await asyncio.sleep(random.uniform(0, 0.02))  # the upstream call
    if abandon:
        # The client went away mid-stream: billed for what was produced.
        cost = D("0.002") + D("0.00001") * random.randint(0, 800)
    else:
        cost = res.amount
    async with pool_connection() as conn, conn.transaction():
        await write_usage(
            conn,
            schema,
            rid,
            cost,
            status="client_closed" if abandon else "success",
            member_id=member_id,
            api_key_id=key_id,
        )
        await settle(conn, res.id, cost)
    return cost


async def storm(
    tenant_id: int, schema: str, member_id: int | None, key_id: int | None, abandon: bool
) -> list[Decimal | None]:
    return await asyncio.gather(
        *(flow(tenant_id, schema, member_id, key_id, abandon) for _ in range(FLOWS))
    )


@pytest.mark.parametrize("scope", ["tenant", "member", "key"])
@pytest.mark.parametrize("abandon", [False, True], ids=["complete", "abandoned"])
def test_concurrent_requests_never_overspend(made: Made, scope: str, abandon: bool) -> None:
    tenant = made.tenant(str(AFFORDS_20) if scope == "tenant" else "1000.00")
    member = made.member(tenant)
    key = made.key(tenant, member)
    if scope == "member":
        services.set_member_limit(member, AFFORDS_20)
    if scope == "key":
        services.set_key_limit(key, AFFORDS_20)

    results = run(storm(tenant.pk, tenant.schema_name, member.pk, key.pk, abandon))

    served = [c for c in results if c is not None]
    row = Budget.objects.get(tenant=tenant, scope=scope)
    assert row.spent == sum(served, D(0))
    assert row.spent <= AFFORDS_20
    assert row.reserved == 0
    assert len(served) >= 19
    if not abandon:
        assert len(served) == 20  # every request at its worst case: exactly what fits
    assert audit_tenant(tenant) == []
