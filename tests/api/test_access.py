"""Who may call what. Every tenant endpoint is tried by an outsider (charlie, owner of
tenant B) against tenant A and by alice against tenant B: 404 and nothing changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.tenants.models import Membership, Tenant
from tests.api.conftest import MODEL, snapshot


def tenant_calls(tenant: Tenant, key_prefix: str, member_id: int) -> list[tuple[str, str, Any]]:
    """(method, url, body) of every endpoint a tenant's admins may use, with bodies that
    would succeed."""
    base = f"/api/tenants/{tenant.slug}"
    return [
        ("get", f"{base}/budget", None),
        ("get", f"{base}/usage/summary?group_by=model", None),
        ("get", f"{base}/ledger", None),
        ("get", f"{base}/keys", None),
        ("post", f"{base}/keys", {"name": "intruder"}),
        ("post", f"{base}/keys/{key_prefix}/revoke", None),
        ("get", f"{base}/members", None),
        ("patch", f"{base}/members/{member_id}", {"monthly_limit": "0.01"}),
    ]


def service_calls(tenant_slug: str, key_prefix: str) -> list[tuple[str, str, Any]]:
    """The trusted-service endpoints: usage ingest and the budget dry run."""
    base = f"/api/tenants/{tenant_slug}"
    return [
        (
            "post",
            f"{base}/budget-check",
            {"key_prefix": key_prefix, "model": MODEL, "prompt_tokens": 10, "max_tokens": 10},
        ),
        (
            "post",
            f"{base}/usage",
            {
                "request_id": "req-isolation",
                "key_prefix": key_prefix,
                "model": MODEL,
                "prompt_tokens": 10,
                "completion_tokens": 10,
                "status": "success",
            },
        ),
    ]


def staff_calls(tenant: Tenant) -> list[tuple[str, str, Any]]:
    base = f"/api/staff/tenants/{tenant.slug}"
    return [
        ("post", "/api/staff/tenants", {"name": "Sneaky", "slug": "sneaky"}),
        ("post", f"{base}/suspend", None),
        ("post", f"{base}/activate", None),
        ("post", f"{base}/reset-budget", None),
        ("post", f"{base}/grant-credit", {"amount": "100", "note": "free money"}),
        (
            "post",
            "/api/staff/provision",
            {"email": "new@example.com", "tenant": tenant.slug, "role": "owner"},
        ),
    ]


def call(client: APIClient, method: str, url: str, body: Any) -> Any:
    return getattr(client, method)(url, body, format="json")


def test_outsiders_get_404_and_change_nothing(
    api: Callable[[Any], APIClient],
    tenant_a: Any,
    tenant_b: Any,
    alice: Any,
    bob: Any,
    charlie: Any,
    bob_key: Any,
    charlie_key: Any,
) -> None:
    bob_member = Membership.objects.get(tenant=tenant_a, user=bob).pk
    charlie_member = Membership.objects.get(tenant=tenant_b, user=charlie).pk
    cases = [
        (charlie, tenant_a, bob_key.key.prefix, bob_member),
        (alice, tenant_b, charlie_key.key.prefix, charlie_member),
    ]
    for user, victim, prefix, member_id in cases:
        before = snapshot(victim)
        for method, url, body in tenant_calls(victim, prefix, member_id):
            response = call(api(user), method, url, body)
            assert response.status_code == 404, (user, method, url, response.content)
            assert victim.slug not in response.content.decode()
        assert snapshot(victim) == before


def test_an_unknown_tenant_looks_like_someone_elses(
    api: Callable[[Any], APIClient], tenant_b: Any, alice: Any, charlie: Any
) -> None:
    for url in ("/api/tenants/no-such-tenant/budget", f"/api/tenants/{tenant_b.slug}/budget"):
        response = api(alice).get(url)
        assert response.status_code == 404
        assert response.json() == {"detail": "No such tenant."}


def test_members_get_403(
    api: Callable[[Any], APIClient], tenant_a: Any, bob: Any, bob_key: Any
) -> None:
    bob_member = Membership.objects.get(tenant=tenant_a, user=bob).pk
    before = snapshot(tenant_a)
    calls = tenant_calls(tenant_a, bob_key.key.prefix, bob_member)
    for method, url, body in calls + service_calls(tenant_a.slug, bob_key.key.prefix):
        assert call(api(bob), method, url, body).status_code == 403, url
    assert snapshot(tenant_a) == before


def test_anonymous_gets_401_everywhere(
    api: Callable[[Any], APIClient], tenant_a: Any, bob: Any, bob_key: Any
) -> None:
    bob_member = Membership.objects.get(tenant=tenant_a, user=bob).pk
    calls = tenant_calls(tenant_a, bob_key.key.prefix, bob_member) + staff_calls(tenant_a)
    for method, url, body in calls + service_calls(tenant_a.slug, bob_key.key.prefix):
        response = call(api(None), method, url, body)
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"] == "Token"


def test_staff_endpoints_refuse_tenant_admins(
    api: Callable[[Any], APIClient], tenant_a: Any, alice: Any
) -> None:
    before = snapshot(tenant_a)
    for method, url, body in staff_calls(tenant_a):
        assert call(api(alice), method, url, body).status_code == 403, url
    assert snapshot(tenant_a) == before
    assert not Tenant.objects.filter(slug="sneaky").exists()


def test_a_bad_token_is_401(api: Callable[[Any], APIClient], tenant_a: Any) -> None:
    client = api(None)
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get(f"/api/tenants/{tenant_a.slug}/budget").status_code == 401


@pytest.mark.parametrize("role", [Membership.Role.ADMIN, Membership.Role.OWNER])
def test_owners_and_admins_may_use_their_tenant(
    api: Callable[[Any], APIClient], tenant_a: Any, role: str
) -> None:
    from tests.support import factories

    user = factories.user()
    Membership.objects.create(user=user, tenant=tenant_a, role=role)
    assert api(user).get(f"/api/tenants/{tenant_a.slug}/budget").status_code == 200


def test_staff_may_use_any_tenant(
    api: Callable[[Any], APIClient], tenant_a: Any, tenant_b: Any, staff: Any
) -> None:
    for tenant in (tenant_a, tenant_b):
        assert api(staff).get(f"/api/tenants/{tenant.slug}/budget").status_code == 200


def test_platform_tenants_are_not_reachable(api: Callable[[Any], APIClient], staff: Any) -> None:
    for slug in ("public", "template"):
        assert api(staff).get(f"/api/tenants/{slug}/budget").status_code == 404
        assert api(staff).post(f"/api/staff/tenants/{slug}/suspend").status_code == 404
