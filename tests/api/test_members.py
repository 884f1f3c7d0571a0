from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from rest_framework.test import APIClient

from apps.billing.models import Budget
from apps.tenants.models import Membership
from tests.api.conftest import snapshot


def members_url(tenant: Any) -> str:
    return f"/api/tenants/{tenant.slug}/members"


def test_it_lists_members_with_their_limits(
    api: Callable[[Any], APIClient], tenant_a: Any, alice: Any, bob: Any
) -> None:
    bob_member = Membership.objects.get(tenant=tenant_a, user=bob)
    client = api(alice)

    patched = client.patch(
        f"{members_url(tenant_a)}/{bob_member.pk}", {"monthly_limit": "3.25"}, format="json"
    )
    listed = client.get(members_url(tenant_a)).json()

    assert patched.status_code == 200
    assert patched.json()["monthly_limit"] == "3.25000000"
    assert Budget.objects.get(member=bob_member).limit == Decimal("3.25")
    rows = {m["email"]: m for m in listed["results"]}
    assert set(rows) == {"alice@example.com", "bob@example.com"}
    assert rows["bob@example.com"]["monthly_limit"] == "3.25000000"
    assert rows["bob@example.com"]["spent"] == "0.00000000"
    assert rows["alice@example.com"]["monthly_limit"] is None
    assert rows["alice@example.com"]["role"] == "owner"


def test_null_removes_a_limit(
    api: Callable[[Any], APIClient], tenant_a: Any, alice: Any, bob: Any
) -> None:
    bob_member = Membership.objects.get(tenant=tenant_a, user=bob)
    url = f"{members_url(tenant_a)}/{bob_member.pk}"
    api(alice).patch(url, {"monthly_limit": "1"}, format="json")

    response = api(alice).patch(url, {"monthly_limit": None}, format="json")

    assert response.json()["monthly_limit"] is None
    assert Budget.objects.get(member=bob_member).limit is None


def test_bad_limits_are_400_and_change_nothing(
    api: Callable[[Any], APIClient], tenant_a: Any, alice: Any, bob: Any
) -> None:
    url = f"{members_url(tenant_a)}/{Membership.objects.get(tenant=tenant_a, user=bob).pk}"
    before = snapshot(tenant_a)
    for body in ({}, {"monthly_limit": "-1"}, {"monthly_limit": "lots"}):
        response = api(alice).patch(url, body, format="json")
        assert response.status_code == 400
        assert set(response.json()) == {"monthly_limit"}
    assert snapshot(tenant_a) == before


def test_another_tenants_member_is_404_through_ones_own_tenant(
    api: Callable[[Any], APIClient], tenant_a: Any, tenant_b: Any, alice: Any, charlie: Any
) -> None:
    foreign = Membership.objects.get(tenant=tenant_b, user=charlie)
    before = snapshot(tenant_b)

    response = api(alice).patch(
        f"{members_url(tenant_a)}/{foreign.pk}", {"monthly_limit": "0"}, format="json"
    )

    assert response.status_code == 404
    assert snapshot(tenant_b) == before
