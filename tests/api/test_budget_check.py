from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from rest_framework.test import APIClient

from apps.billing import services as billing
from apps.billing.models import Reservation
from apps.keys.services import revoke_api_key
from tests.api.conftest import MODEL, snapshot
from tests.support import factories


def check(client: APIClient, tenant: Any, **body: Any) -> Any:
    return client.post(f"/api/tenants/{tenant.slug}/budget-check", body, format="json")


def test_it_allows_an_affordable_request(
    api: Callable[[Any], APIClient], tenant_a: Any, service: Any, bob_key: Any
) -> None:
    before = snapshot(tenant_a)
    response = check(
        api(service),
        tenant_a,
        key_prefix=bob_key.key.prefix,
        model=MODEL,
        prompt_tokens=1000,
        max_tokens=100,
    )

    assert response.status_code == 200
    # 1000 * 1.25 (the dearer of input and cache write) + 100 * 2.00, per 1M tokens.
    assert response.json() == {
        "allowed": True,
        "reason": "ok",
        "scope": "tenant",
        "remaining": "5.00000000",
        "estimated_cost": "0.00145000",
        "max_output_tokens": 100,
    }
    assert snapshot(tenant_a) == before
    assert not Reservation.objects.filter(tenant=tenant_a).exists()


def test_it_denies_what_the_tenant_cannot_afford(
    api: Callable[[Any], APIClient], tenant_a: Any, service: Any, bob_key: Any
) -> None:
    body = check(
        api(service),
        tenant_a,
        key_prefix=bob_key.key.prefix,
        model=MODEL,
        prompt_tokens=5_000_000,
    ).json()

    assert body["allowed"] is False
    assert body["reason"] == "budget_exceeded"
    assert body["scope"] == "tenant"
    assert body["remaining"] == "5.00000000"


def test_it_names_the_tightest_scope_and_shrinks_an_open_output_limit(
    api: Callable[[Any], APIClient], tenant_a: Any, service: Any, bob_key: Any
) -> None:
    billing.set_key_limit(bob_key.key, Decimal("0.001"))
    client = api(service)

    open_ended = check(
        client, tenant_a, key_prefix=bob_key.key.prefix, model=MODEL, prompt_tokens=100
    ).json()
    explicit = check(
        client,
        tenant_a,
        key_prefix=bob_key.key.prefix,
        model=MODEL,
        prompt_tokens=100,
        max_tokens=1000,
    ).json()

    # (0.001 - 100 * 1.25e-6) / 2e-6 = 437 output tokens still fit.
    assert open_ended["allowed"] is True
    assert open_ended["scope"] == "key"
    assert open_ended["max_output_tokens"] == 437
    assert open_ended["estimated_cost"] == "0.00099900"
    assert explicit["allowed"] is False
    assert explicit["scope"] == "key"
    assert explicit["remaining"] == "0.00100000"


def test_it_applies_the_members_limit(
    api: Callable[[Any], APIClient], tenant_a: Any, service: Any, bob_key: Any
) -> None:
    billing.set_member_limit(bob_key.key.member, Decimal("0"))
    body = check(
        api(service), tenant_a, key_prefix=bob_key.key.prefix, model=MODEL, prompt_tokens=1
    ).json()
    assert (body["allowed"], body["reason"], body["scope"]) == (False, "budget_exceeded", "member")


def test_it_denies_revoked_keys_and_forbidden_models(
    api: Callable[[Any], APIClient], tenant_a: Any, service: Any, bob_key: Any
) -> None:
    client = api(service)
    other = factories.route("not-on-the-plan")
    body = check(
        client, tenant_a, key_prefix=bob_key.key.prefix, model=other.public_name, prompt_tokens=1
    ).json()
    assert (body["allowed"], body["reason"]) == (False, "model_not_allowed")

    revoke_api_key(bob_key.key)
    body = check(client, tenant_a, key_prefix=bob_key.key.prefix, model=MODEL, prompt_tokens=1)
    assert (body.json()["allowed"], body.json()["reason"]) == (False, "key_revoked")


def test_it_denies_a_suspended_tenant(
    api: Callable[[Any], APIClient], tenant_a: Any, service: Any, bob_key: Any
) -> None:
    tenant_a.status = "suspended"
    tenant_a.save()
    body = check(
        api(service), tenant_a, key_prefix=bob_key.key.prefix, model=MODEL, prompt_tokens=1
    ).json()
    assert (body["allowed"], body["reason"]) == (False, "tenant_suspended")


def test_it_answers_400_with_field_errors(
    api: Callable[[Any], APIClient],
    tenant_a: Any,
    service: Any,
    bob_key: Any,
    charlie_key: Any,
) -> None:
    client = api(service)
    unpriced = factories.route("unpriced", price=None)

    missing = check(client, tenant_a)
    assert missing.status_code == 400
    assert set(missing.json()) == {"key_prefix", "model", "prompt_tokens"}

    negative = check(client, tenant_a, key_prefix=bob_key.key.prefix, model=MODEL, prompt_tokens=-1)
    assert set(negative.json()) == {"prompt_tokens"}

    # Another tenant's key is as unknown as a made-up one.
    foreign = check(
        client, tenant_a, key_prefix=charlie_key.key.prefix, model=MODEL, prompt_tokens=1
    )
    assert foreign.status_code == 400
    assert set(foreign.json()) == {"key_prefix"}

    for name in ("no-such-model", unpriced.public_name):
        response = check(
            client, tenant_a, key_prefix=bob_key.key.prefix, model=name, prompt_tokens=1
        )
        assert response.status_code == 400
        assert set(response.json()) == {"model"}
