from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from rest_framework.test import APIClient

from apps.billing import services as billing


def test_the_ledger_is_the_tenants_own_and_paginated(
    api: Callable[[Any], APIClient], tenant_a: Any, tenant_b: Any, alice: Any, staff: Any
) -> None:
    for i in range(3):
        billing.grant_credit(tenant_a, Decimal(i + 1), by=staff, note=f"grant {i}")
    billing.grant_credit(tenant_b, Decimal("50"), by=staff, note="b's")

    page = api(alice).get(f"/api/tenants/{tenant_a.slug}/ledger", {"limit": 2}).json()

    # The first period's grant plus three credit grants.
    assert page["count"] == 4
    assert len(page["results"]) == 2
    assert page["next"] is not None
    assert [e["note"] for e in page["results"]] == ["grant 2", "grant 1"]
    assert page["results"][0]["amount"] == "3.00000000"
    assert page["results"][0]["created_by_id"] == staff.pk
    rest = api(alice).get(page["next"]).json()["results"]
    assert {e["kind"] for e in rest} == {"credit_grant", "period_grant"}
    assert all(e["note"] != "b's" for e in page["results"] + rest)


def test_the_budget_shows_every_scope(
    api: Callable[[Any], APIClient], tenant_a: Any, alice: Any, bob_key: Any
) -> None:
    billing.set_key_limit(bob_key.key, Decimal("1.5"))

    body = api(alice).get(f"/api/tenants/{tenant_a.slug}/budget").json()

    assert body["tenant"]["limit"] == "5.00000000"
    assert body["tenant"]["remaining"] == "5.00000000"
    assert body["tenant"]["credit"] == "0.00000000"
    assert body["next_reset_at"] == body["tenant"]["next_reset_at"]
    assert [(k["api_key_id"], k["limit"]) for k in body["keys"]] == [(bob_key.key.pk, "1.50000000")]
    assert body["members"] == []
