"""Who may open what: anonymous visitors sign in first, outsiders find nothing (404),
members may not manage billing (403) nor revoke another member's key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from apps.keys.models import ApiKey
from apps.keys.services import create_api_key
from apps.tenants.models import Membership, Tenant
from tests.portal.conftest import host_of


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/app/"),
        ("get", "/app/billing/"),
        ("get", "/app/workspaces/new/"),
        ("post", "/app/keys/"),
        ("post", "/app/switch/"),
    ],
)
def test_it_sends_anonymous_visitors_to_the_login_page(
    browse: Callable[..., Client], method: str, path: str, db: Any
) -> None:
    response = getattr(browse(), method)(path)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


def test_it_hides_another_tenants_host_from_an_outsider(
    browse: Callable[..., Client], tenant_a: Any, tenant_b: Any, charlie: Any
) -> None:
    host = host_of(tenant_a)

    assert browse(charlie, host).get("/app/").status_code == 404
    assert browse(charlie, host).post("/app/keys/", {"name": "x"}).status_code == 404
    assert browse(charlie, host).get("/app/billing/").status_code == 404
    made = browse(charlie, host).post("/app/workspaces/new/", {"name": "Sneaky"})
    assert made.status_code == 404
    assert not ApiKey.objects.filter(tenant=tenant_a).exists()
    assert not Tenant.objects.filter(slug="sneaky").exists()


def test_it_refuses_a_switch_to_a_workspace_the_user_is_not_in(
    browse: Callable[..., Client], tenant_a: Any, tenant_b: Any, charlie: Any
) -> None:
    client = browse(charlie)

    response = client.post("/app/switch/", {"tenant": tenant_a.slug})

    assert response.status_code == 404
    assert "portal_tenant_id" not in client.session
    page = client.get("/app/")
    assert page.context["workspace"].tenant == tenant_b


def test_it_refuses_to_revoke_another_tenants_key(
    browse: Callable[..., Client], tenant_a: Any, tenant_b: Any, charlie: Any
) -> None:
    key = create_api_key(tenant=tenant_a, name="a's").key

    response = browse(charlie).post(f"/app/keys/{key.pk}/revoke/")

    assert response.status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_it_keeps_billing_from_a_member(
    browse: Callable[..., Client], tenant_a: Any, bob: Any
) -> None:
    client = browse(bob)

    assert client.get("/app/billing/").status_code == 403
    assert client.post("/app/billing/topup/", {"amount": "10"}).status_code == 403
    dashboard = client.get("/app/")
    assert b'href="/app/billing/"' not in dashboard.content


def test_it_lets_a_member_revoke_only_their_own_keys(
    browse: Callable[..., Client], tenant_a: Any, alice: Any, bob: Any
) -> None:
    bobs = Membership.objects.get(tenant=tenant_a, user=bob)
    alices = Membership.objects.get(tenant=tenant_a, user=alice)
    own = create_api_key(tenant=tenant_a, name="bob's", member=bobs).key
    other = create_api_key(tenant=tenant_a, name="alice's", member=alices).key
    client = browse(bob)

    page = client.get("/app/")
    assert own.prefix in page.content.decode()
    assert other.prefix not in page.content.decode()
    assert client.post(f"/app/keys/{other.pk}/revoke/").status_code == 403
    assert client.post(f"/app/keys/{own.pk}/revoke/").status_code == 302
    own.refresh_from_db()
    other.refresh_from_db()
    assert own.revoked_at is not None
    assert other.revoked_at is None


def test_it_lets_an_owner_revoke_a_members_key(
    browse: Callable[..., Client], tenant_a: Any, alice: Any, bob: Any
) -> None:
    bobs = Membership.objects.get(tenant=tenant_a, user=bob)
    key = create_api_key(tenant=tenant_a, name="bob's", member=bobs).key
    client = browse(alice)

    assert key.prefix in client.get("/app/").content.decode()
    response = client.post(f"/app/keys/{key.pk}/revoke/", follow=True)

    key.refresh_from_db()
    assert key.revoked_at is not None
    assert "is revoked" in response.content.decode()
