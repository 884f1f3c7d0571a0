"""Several workspaces: switching among one's own, and creating another."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client

from apps.tenants.models import Membership, Tenant
from tests.portal.conftest import host_of


def test_it_switches_between_the_users_workspaces(
    browse: Callable[..., Client], tenant_a: Any, tenant_b: Any, bob: Any
) -> None:
    Membership.objects.create(user=bob, tenant=tenant_b, role=Membership.Role.MEMBER)
    client = browse(bob)
    first = client.get("/app/")
    assert first.context["workspace"].tenant == tenant_a  # the oldest membership
    assert 'name="tenant"' in first.content.decode()  # the switcher

    response = client.post("/app/switch/", {"tenant": tenant_b.slug})

    assert response.status_code == 302
    assert response["Location"] == "/app/"
    assert client.get("/app/").context["workspace"].tenant == tenant_b


def test_it_switches_to_the_other_workspaces_host_from_a_tenant_host(
    browse: Callable[..., Client], tenant_a: Any, tenant_b: Any, bob: Any
) -> None:
    Membership.objects.create(user=bob, tenant=tenant_b, role=Membership.Role.MEMBER)

    response = browse(bob, host_of(tenant_a)).post("/app/switch/", {"tenant": tenant_b.slug})

    assert response["Location"] == f"http://{host_of(tenant_b)}/app/"


def test_it_creates_a_workspace_and_switches_to_it(
    browse: Callable[..., Client], tenant_a: Any, bob: Any
) -> None:
    client = browse(bob)

    response = client.post("/app/workspaces/new/", {"name": "Bob Labs"}, follow=True)

    tenant = Tenant.objects.get(slug="bob-labs")
    assert Membership.objects.get(tenant=tenant, user=bob).role == Membership.Role.OWNER
    assert response.context["workspace"].tenant == tenant
    assert "Bob Labs" in response.content.decode()


def test_it_shows_a_taken_name_in_the_form(
    browse: Callable[..., Client], tenant_a: Any, bob: Any
) -> None:
    Tenant.objects.filter(pk=tenant_a.pk).update(slug="taken-name")
    count = Tenant.objects.count()

    response = browse(bob).post("/app/workspaces/new/", {"name": "Taken Name"})

    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    assert 'class="errorlist' in response.content.decode()
    assert Tenant.objects.count() == count


def test_it_lets_a_user_without_a_workspace_create_one(
    browse: Callable[..., Client], charlie: Any
) -> None:
    client = browse(charlie)
    assert "Create a workspace" in client.get("/app/").content.decode()

    response = client.post("/app/workspaces/new/", {"name": "Charlie Co"})

    assert response.status_code == 302
    assert client.get("/app/").context["workspace"].tenant.slug == "charlie-co"
