"""200 concurrent reserve → settle flows against a budget that affords 20, for each scope.

Each flow is one request as the gateway runs it, minus HTTP and the upstream: the key
through the gateway's own lookup, `accounting.reserve` (the reservation statement), "the
upstream call", then `accounting.record` (the one usage-record + settlement script).
"""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal

import pytest

from apps.billing import services
from apps.billing.budget import ReserveRequest
from apps.billing.ledger import audit_tenant
from apps.billing.models import Budget
from apps.gateway import accounting
from apps.gateway.errors import GatewayError
from tests.billing.conftest import Made, gateway_context, outcome
from tests.support.loops import run

D = Decimal
FLOWS = 200
WORST = D("0.01")  # 0.002 prompt + 800 output tokens x 0.00001
AFFORDS_20 = WORST * 20


async def flow(secret: str, member_id: int | None, key_id: int, abandon: bool) -> Decimal | None:
    ctx = await gateway_context(secret)
    req = ReserveRequest(
        request_id=ctx.request_id,
        tenant_id=ctx.key.tenant_id,
        member_id=member_id,
        api_key_id=key_id,
        prompt_cost=D("0.002"),
        output_token_cost=D("0.00001"),
        requested_max_output=800,
        model_cap=4096,
    )
    try:
        res = await accounting.reserve(ctx, req)
    except GatewayError as exc:
        assert exc.status == 402
        return None
    await asyncio.sleep(random.uniform(0, 0.02))  # the upstream call
    if abandon:
        # The client went away mid-stream: billed for what was produced.
        cost = D("0.002") + D("0.00001") * random.randint(0, 800)
    else:
        cost = res.amount
    await accounting.record(
        ctx, outcome(cost, status="client_closed" if abandon else "success"), res
    )
    return cost


async def storm(
    secret: str, member_id: int | None, key_id: int, abandon: bool
) -> list[Decimal | None]:
    return await asyncio.gather(*(flow(secret, member_id, key_id, abandon) for _ in range(FLOWS)))


@pytest.mark.parametrize("scope", ["tenant", "member", "key"])
@pytest.mark.parametrize("abandon", [False, True], ids=["complete", "abandoned"])
def test_concurrent_requests_never_overspend(made: Made, scope: str, abandon: bool) -> None:
    tenant = made.tenant(str(AFFORDS_20) if scope == "tenant" else "1000.00")
    member = made.member(tenant)
    issued = made.issued_key(tenant, member)
    key = issued.key
    if scope == "member":
        services.set_member_limit(member, AFFORDS_20)
    if scope == "key":
        services.set_key_limit(key, AFFORDS_20)

    results = run(storm(issued.secret, member.pk, key.pk, abandon))

    served = [c for c in results if c is not None]
    row = Budget.objects.get(tenant=tenant, scope=scope)
    assert row.spent == sum(served, D(0))
    assert row.spent <= AFFORDS_20
    assert row.reserved == 0
    assert len(served) >= 19
    if not abandon:
        assert len(served) == 20  # every request at its worst case: exactly what fits
    assert audit_tenant(tenant) == []
