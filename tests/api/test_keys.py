from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from rest_framework.test import APIClient

from apps.billing.models import Budget
from apps.keys.models import ApiKey
from apps.keys.services import verify
from apps.tenants.models import Membership
from tests.api.conftest import MODEL, snapshot


def keys_url(tenant: Any) -> str:
    return f"/api/tenants/{tenant.slug}/keys"


def test_it_creates_a_key_and_shows_the_secret_once(
    api: Callable[[Any], APIClient], tenant_a: Any, alice: Any, bob: Any, model: Any
) -> None:
    member = Membership.objects.get(tenant=tenant_a, user=bob)
    client = api(alice)

    response = client.post(
        keys_url(tenant_a),
        {
            "name": "ci",
            "member_id": member.pk,
            "allowed_models": [MODEL],
            "rpm_limit": 10,
            "monthly_limit": "2.50",
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    key = ApiKey.objects.get(prefix=body["prefix"])
    assert verify(key, body["secret"]) and body["secret"].startswith(body["prefix"] + "_")
    assert key.tenant_id == tenant_a.pk
    assert key.created_by_id == alice.pk
    assert (body["member_id"], body["allowed_models"], body["rpm_limit"]) == (
        member.pk,
        [MODEL],
        10,
    )
    assert body["monthly_limit"] == "2.50000000"
    assert Budget.objects.get(api_key=key).limit == Decimal("2.5")

    listed = client.get(keys_url(tenant_a)).json()
    assert listed["count"] == 1
    assert "secret" not in listed["results"][0]
    assert listed["results"][0]["monthly_limit"] == "2.50000000"


def test_bad_key_input_is_400_and_creates_nothing(
    api: Callable[[Any], APIClient], tenant_a: Any, tenant_b: Any, alice: Any, charlie: Any
) -> None:
    foreign_member = Membership.objects.get(tenant=tenant_b, user=charlie)
    before = snapshot(tenant_a)
    cases = [
        ({"member_id": foreign_member.pk}, {"member_id"}),
        ({"allowed_models": ["no-such-model"]}, {"allowed_models"}),
        ({"expires_at": "2001-01-01T00:00:00Z"}, {"expires_at"}),
        ({"monthly_limit": "-1"}, {"monthly_limit"}),
        ({"rpm_limit": 0}, {"rpm_limit"}),
        ({"name": "x" * 101}, {"name"}),
    ]
    for body, fields in cases:
        response = api(alice).post(keys_url(tenant_a), body, format="json")
        assert response.status_code == 400, body
        assert set(response.json()) == fields
    assert snapshot(tenant_a) == before
    assert not Budget.objects.filter(tenant=tenant_a, scope="key").exists()


def test_it_revokes_a_key_idempotently(
    api: Callable[[Any], APIClient], tenant_a: Any, alice: Any, bob_key: Any
) -> None:
    url = f"{keys_url(tenant_a)}/{bob_key.key.prefix}/revoke"
    first = api(alice).post(url)
    second = api(alice).post(url)

    assert first.status_code == second.status_code == 200
    assert first.json()["revoked_at"] is not None
    assert first.json()["revoked_at"] == second.json()["revoked_at"]
    assert ApiKey.objects.get(pk=bob_key.key.pk).is_revoked


def test_another_tenants_key_cannot_be_revoked_through_ones_own_tenant(
    api: Callable[[Any], APIClient], tenant_a: Any, alice: Any, charlie_key: Any
) -> None:
    response = api(alice).post(f"{keys_url(tenant_a)}/{charlie_key.key.prefix}/revoke")

    assert response.status_code == 404
    assert not ApiKey.objects.get(pk=charlie_key.key.pk).is_revoked
