"""A customer tenant without a plan is budgeted: it spends its credit, and nothing else."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from apps.billing.services import budget_status
from apps.keys.models import ApiKey
from apps.tenants.models import Tenant
from tests.support import factories
from tests.support.live import World, auth, user_message

CREDIT = Decimal("1.00")


@pytest.fixture
def planless(world: World) -> Iterator[tuple[Tenant, str]]:
    """A customer tenant with credit and no plan, and the secret of one of its keys."""
    tenant = factories.tenant(product=None, credit=CREDIT)
    _, secret = world.new_key(tenant=tenant)
    yield tenant, secret
    ApiKey.objects.filter(tenant=tenant).delete()
    with contextlib.suppress(Exception):
        tenant.delete(force_drop=True)


def _chat(base_url: str, secret: str, model: str) -> httpx.Response:
    return httpx.post(
        f"{base_url}/chat/completions",
        json={"model": model, "messages": user_message(), "max_tokens": 20},
        headers=auth(secret),
        timeout=30,
    )


def test_an_unpriced_model_is_refused_without_an_upstream_call(
    base_url: str, world: World, planless: tuple[Tenant, str]
) -> None:
    response = _chat(base_url, planless[1], world.models["unpriced"])

    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "model_not_priced"
    assert world.fakes["openai"].requests == []


def test_a_priced_model_is_paid_from_credit(
    base_url: str, world: World, planless: tuple[Tenant, str]
) -> None:
    tenant, secret = planless
    response = _chat(base_url, secret, world.models["gpt"])

    assert response.status_code == 200, response.text
    cost = Decimal(response.headers["x-cloudfreedom-cost"])
    assert cost > 0
    record = world.record_for(response.headers["x-request-id"], tenant)
    assert record["cost"] == cost
    tenant_budget = budget_status(tenant)["tenant"]
    assert (tenant_budget["limit"], tenant_budget["credit"]) == (0, CREDIT)
    assert tenant_budget["spent"] == cost
