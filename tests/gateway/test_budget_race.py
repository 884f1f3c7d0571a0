"""Hard budgets under concurrency, end to end: 200 simultaneous requests through the live
gateway against a budget that affords about 20 of them, for each scope, plain and with
streams the client abandons. Recorded spend never exceeds the budget."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest

from apps.billing.models import Budget, LedgerEntry, Reservation
from apps.billing.services import set_key_limit, set_member_limit
from apps.catalog.models import ModelRoute
from apps.tenants.models import Membership
from tests.support import factories
from tests.support.live import LiveGateway, World, auth

CONCURRENT = 200
MAX_TOKENS = 500
# The fake reports exactly this usage, so each request's actual cost is close to its
# worst case and the budget really runs out (prices: 1.00 in / 2.00 out per 1M, +10%).
SCENARIO = {"prompt_tokens": 5, "completion_tokens": MAX_TOKENS, "delay": 0.02}
ACTUAL = (Decimal(5) * 1 + Decimal(MAX_TOKENS) * 2) / Decimal(1_000_000) * Decimal("1.1")
BUDGET = (ACTUAL * 20).quantize(Decimal("0.00000001"))


def _setup(world: World, scope: str) -> tuple[str, Budget, str]:
    # Its own route and price: other tests may add prices to the shared world's routes.
    openai = world.created[0]
    route = factories.route(factories.unique("race"), targets=[(openai, "gpt-4o")], retries=0)
    generous = factories.product(monthly_budget=Decimal("100"), markup_percent=Decimal("10"))
    tight = factories.product(monthly_budget=BUDGET, markup_percent=Decimal("10"))
    for product in (generous, tight):
        product.allowed_models.set([route])
    tenant = world.new_tenant(product=tight if scope == "tenant" else generous)
    if scope == "member":
        user = factories.user()
        member = Membership.objects.create(user=user, tenant=tenant, role="member")
        key, secret = world.new_key(tenant=tenant, member=member)
        set_member_limit(member, BUDGET)
        return secret, Budget.objects.get(member=member, scope="member"), route.public_name
    key, secret = world.new_key(tenant=tenant)
    if scope == "key":
        set_key_limit(key, BUDGET)
        return secret, Budget.objects.get(api_key=key, scope="key"), route.public_name
    return secret, Budget.objects.get(tenant=tenant, scope="tenant"), route.public_name


def _cleanup(budget: Budget, model: str) -> None:
    tenant = budget.tenant
    products = [tenant.product]
    tenant.delete(force_drop=True)
    for product in products:
        product.delete()
    ModelRoute.objects.filter(public_name=model).delete()


async def _one(client: httpx.AsyncClient, url: str, body: dict[str, Any], abandon: bool) -> int:
    if not abandon:
        response = await client.post(url, json=body)
        if response.status_code == 402:
            assert response.json()["error"]["code"] == "budget_exceeded"
        return response.status_code
    async with client.stream("POST", url, json=body) as response:
        if response.status_code == 200:
            async for _line in response.aiter_lines():
                break  # the client leaves after the first event
        return response.status_code


async def _storm(url: str, secret: str, model: str, abandon: bool) -> list[int]:
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": "Count to five."}],
        "max_tokens": MAX_TOKENS,
    }
    if abandon:
        body["stream"] = True
    limits = httpx.Limits(max_connections=CONCURRENT, max_keepalive_connections=CONCURRENT)
    async with httpx.AsyncClient(headers=auth(secret), timeout=60, limits=limits) as client:
        return await asyncio.gather(*(_one(client, url, body, abandon) for _ in range(CONCURRENT)))


def _settled(budget: Budget, timeout: float = 10.0) -> Budget:
    """Streams record after the response ends: wait until nothing is held, then read the
    counters (in that order, so they are never older than the check)."""
    deadline = time.monotonic() + timeout
    while Reservation.objects.filter(tenant_id=budget.tenant_id, state="held").exists():
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    budget.refresh_from_db()
    return budget


@pytest.mark.parametrize("abandon", [False, True], ids=["plain", "abandoned-streams"])
@pytest.mark.parametrize("scope", ["tenant", "member", "key"])
def test_concurrent_requests_never_overspend(
    gateway: LiveGateway, world: World, scope: str, abandon: bool
) -> None:
    secret, budget, model = _setup(world, scope)
    world.fakes["openai"].set_default(chunks=10, chunk_delay=0.03, **SCENARIO)
    try:
        statuses = asyncio.run(_storm(gateway.url + "/v1/chat/completions", secret, model, abandon))

        ok = statuses.count(200)
        assert set(statuses) <= {200, 402}, statuses
        assert ok >= 19
        budget = _settled(budget)
        held = list(
            Reservation.objects.filter(tenant_id=budget.tenant_id, state="held").values_list(
                "request_id", flat=True
            )
        )
        assert held == []
        assert budget.reserved == 0
        assert budget.spent <= BUDGET
        records = world.usage_records(budget.tenant)
        assert len(records) == ok  # one record per request that reached the upstream, no more
        assert sum(r["cost"] for r in records) == budget.spent
        charged = LedgerEntry.objects.filter(tenant_id=budget.tenant_id, kind="usage")
        assert -sum(e.amount for e in charged) == budget.spent
        if abandon:
            # A stream the server finished before the client's close arrived is a success.
            closed = [r for r in records if r["status"] == "client_closed"]
            assert {r["status"] for r in records} <= {"client_closed", "success"}
            assert len(closed) >= len(records) // 2
        else:
            # The budget really was the limit.
            assert ok <= 21, sorted(
                (r["status"], r["cost"], r["prompt_tokens"], r["completion_tokens"])
                for r in records
            )
    finally:
        _cleanup(budget, model)
