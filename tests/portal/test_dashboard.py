"""The dashboard: plan, budget, this period's usage and the keys, with empty states."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.test import Client
from django_tenants.utils import schema_context

from apps.billing.services import grant_credit
from apps.tenants.models import Membership
from apps.usage.models import UsageRecord
from tests.portal.conftest import host_of
from tests.support import factories


def test_it_leads_with_the_first_key_when_there_is_none(
    browse: Callable[..., Client], tenant_a: Any, alice: Any
) -> None:
    page = browse(alice).get("/app/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "Create your first API key" in html
    assert 'action="/app/keys/"' in html
    assert page.context["usage"].requests == 0


def test_it_shows_the_plan_and_the_budget(
    browse: Callable[..., Client], tenant_a: Any, alice: Any
) -> None:
    grant_credit(tenant_a, Decimal("2.50"), by=None, note="test")

    page = browse(alice).get("/app/")

    html = page.content.decode()
    budget = page.context["budget"]
    assert (budget.included, budget.credit, budget.total) == (
        Decimal("5.00"),
        Decimal("2.50"),
        Decimal("7.50"),
    )
    assert tenant_a.product.name in html
    assert "$7.50" in html  # remaining: nothing spent yet
    assert '<meter id="budget-gauge" min="0" max="7.50000000"' in html
    assert "Resets at" in html


def test_it_says_when_there_is_no_plan(browse: Callable[..., Client], alice: Any) -> None:
    factories.tenant("Planless", owner=alice, self_service=True)

    html = browse(alice).get("/app/").content.decode()

    assert "No plan yet" in html
    assert 'href="/app/billing/">choose one</a>' in html
    assert "nothing to spend yet" in html


def test_it_counts_this_periods_usage(
    browse: Callable[..., Client], tenant_a: Any, alice: Any
) -> None:
    with schema_context(tenant_a.schema_name):
        for i, status in enumerate(["success", "success", "error"]):
            UsageRecord.objects.create(
                request_id=f"dash-{i}",
                created_at=datetime.now(UTC),
                endpoint="chat",
                model="m",
                status=status,
                prompt_tokens=10,
                completion_tokens=5,
                cost=Decimal("0.001"),
            )

    page = browse(alice).get("/app/")

    usage = page.context["usage"]
    assert (usage.requests, usage.errors, usage.prompt_tokens, usage.cost) == (
        3,
        1,
        30,
        Decimal("0.003"),
    )
    assert '<span class="stat-value" id="usage-requests">3</span>' in page.content.decode()


def test_it_offers_a_workspace_to_a_user_without_one(
    browse: Callable[..., Client], db: Any
) -> None:
    page = browse(factories.user()).get("/app/")

    assert page.status_code == 200
    assert 'href="/app/workspaces/new/"' in page.content.decode()
    assert "Create a workspace" in page.content.decode()


def test_it_serves_the_tenants_own_host(
    browse: Callable[..., Client], tenant_a: Any, tenant_b: Any, alice: Any
) -> None:
    # alice is also in B, chosen on the public site: the tenant host still shows A.
    Membership.objects.create(user=alice, tenant=tenant_b, role=Membership.Role.MEMBER)
    client = browse(alice, host_of(tenant_a))

    page = client.get("/app/")

    assert page.status_code == 200
    assert page.context["workspace"].tenant == tenant_a
    assert page.context["workspace"].on_own_host
    assert "Switch workspace" not in page.content.decode()
