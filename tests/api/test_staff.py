from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django_tenants.utils import schema_exists
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.billing import services as billing
from apps.billing.models import BudgetPeriod, LedgerEntry
from apps.keys.models import ApiKey
from apps.keys.services import verify
from apps.tenants.models import Membership, Tenant
from tests.api.conftest import grant, snapshot
from tests.support import factories


def test_staff_create_a_tenant(
    api: Callable[[Any], APIClient], staff: Any, alice: Any, product: Any
) -> None:
    response = api(staff).post(
        "/api/staff/tenants",
        {"name": "Acme", "slug": "acme-co", "product": product.slug, "owner_email": alice.email},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["slug"], body["status"], body["product"]) == ("acme-co", "active", product.slug)
    assert body["domain"] == "acme-co.localhost"
    tenant = Tenant.objects.get(slug="acme-co")
    assert schema_exists(tenant.schema_name)
    assert Membership.objects.get(tenant=tenant).user == alice
    assert billing.budget_status(tenant)["tenant"]["limit"] == product.monthly_budget


def test_bad_tenant_input_is_400_and_creates_nothing(
    api: Callable[[Any], APIClient], staff: Any, tenant_a: Any
) -> None:
    cases = [
        ({}, {"name"}),
        ({"name": "X", "slug": "api"}, {"slug"}),  # reserved
        ({"name": "X", "slug": tenant_a.slug}, {"slug"}),  # taken
        ({"name": "X", "slug": "fresh-one", "product": "no-such-plan"}, {"product"}),
        ({"name": "X", "slug": "fresh-one", "owner_email": "nobody@example.com"}, {"owner_email"}),
        ({"name": "X", "slug": "fresh-one"}, {"product"}),  # neither a plan nor credit
        ({"name": "X", "slug": "fresh-one", "credit": "0"}, {"credit"}),
    ]
    count = Tenant.objects.count()
    for body, fields in cases:
        response = api(staff).post("/api/staff/tenants", body, format="json")
        assert response.status_code == 400, body
        assert set(response.json()) == fields, response.json()
    assert Tenant.objects.count() == count
    assert not schema_exists("t_fresh_one")


def test_staff_suspend_and_activate(
    api: Callable[[Any], APIClient], staff: Any, tenant_a: Any
) -> None:
    base = f"/api/staff/tenants/{tenant_a.slug}"
    assert api(staff).post(f"{base}/suspend").json()["status"] == "suspended"
    tenant_a.refresh_from_db()
    assert tenant_a.status == "suspended"
    assert api(staff).post(f"{base}/activate").json()["status"] == "active"
    tenant_a.refresh_from_db()
    assert tenant_a.is_active
    assert api(staff).post("/api/staff/tenants/nope/suspend").status_code == 404


def test_provision_into_an_existing_tenant(
    api: Callable[[Any], APIClient], staff: Any, tenant_a: Any
) -> None:
    response = api(staff).post(
        "/api/staff/provision",
        {"email": "New.Person@Example.com", "tenant": tenant_a.slug, "role": "admin"},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    user = User.objects.get(email="new.person@example.com")
    assert (body["user_created"], body["tenant_created"], body["role"]) == (True, False, "admin")
    assert not user.has_usable_password()
    membership = Membership.objects.get(user=user, tenant=tenant_a)
    key = ApiKey.objects.get(prefix=body["key"]["prefix"])
    assert (key.tenant_id, key.member_id, key.created_by_id) == (
        tenant_a.pk,
        membership.pk,
        staff.pk,
    )
    assert verify(key, body["key"]["secret"])


def test_provision_with_a_new_tenant(
    api: Callable[[Any], APIClient], staff: Any, alice: Any, product: Any
) -> None:
    response = api(staff).post(
        "/api/staff/provision",
        {
            "email": alice.email,
            "tenant_name": "Alice Two",
            "role": "owner",
            "product": product.slug,
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["user_created"], body["tenant_created"]) == (False, True)
    tenant = Tenant.objects.get(slug=body["tenant"]["slug"])
    assert tenant.product == product
    assert Membership.objects.get(tenant=tenant, user=alice).role == "owner"


def test_bad_provision_input_is_400_and_writes_nothing(
    api: Callable[[Any], APIClient], staff: Any, tenant_a: Any, bob: Any
) -> None:
    users, tenants, keys = User.objects.count(), Tenant.objects.count(), ApiKey.objects.count()
    before = snapshot(tenant_a)
    cases = [
        ({"email": "not-an-email", "tenant": tenant_a.slug}, {"email"}),
        ({"email": "x@example.com"}, {"tenant"}),
        ({"email": "x@example.com", "tenant": tenant_a.slug, "tenant_name": "Both"}, {"tenant"}),
        ({"email": "x@example.com", "tenant": "no-such-tenant"}, {"tenant"}),
        ({"email": "x@example.com", "tenant": tenant_a.slug, "role": "king"}, {"role"}),
        ({"email": "x@example.com", "tenant": tenant_a.slug, "product": "p"}, {"product"}),
        # Valid shape, refused by the database checks inside the transaction:
        ({"email": bob.email, "tenant": tenant_a.slug}, {"email"}),
        ({"email": "x@example.com", "tenant_name": "API"}, {"tenant_name"}),  # reserved slug
        ({"email": "x@example.com", "tenant_name": "No Plan"}, {"product"}),
        ({"email": "x@example.com", "tenant": tenant_a.slug, "credit": "5"}, {"credit"}),
    ]
    for body, fields in cases:
        response = api(staff).post("/api/staff/provision", body, format="json")
        assert response.status_code == 400, body
        assert set(response.json()) == fields, response.json()
    assert (User.objects.count(), Tenant.objects.count(), ApiKey.objects.count()) == (
        users,
        tenants,
        keys,
    )
    assert snapshot(tenant_a) == before


def test_staff_grant_credit(api: Callable[[Any], APIClient], staff: Any, tenant_a: Any) -> None:
    url = f"/api/staff/tenants/{tenant_a.slug}/grant-credit"
    staff = grant(staff, "billing.grant_credit")

    response = api(staff).post(url, {"amount": "12.5", "note": "goodwill"}, format="json")

    assert response.status_code == 201
    assert response.json()["amount"] == "12.50000000"
    entry = LedgerEntry.objects.get(pk=response.json()["id"])
    assert (entry.kind, entry.created_by_id, entry.note) == ("credit_grant", staff.pk, "goodwill")
    assert billing.budget_status(tenant_a)["tenant"]["credit"] == Decimal("12.5")

    before = snapshot(tenant_a)
    for body in ({"amount": "0"}, {"amount": "-3"}, {"amount": "abc"}, {}):
        bad = api(staff).post(url, body, format="json")
        assert bad.status_code == 400
        assert set(bad.json()) == {"amount"}
    assert snapshot(tenant_a) == before


def test_staff_reset_a_budget(
    api: Callable[[Any], APIClient], staff: Any, tenant_a: Any, service: Any, model: Any
) -> None:
    api(service).post(
        f"/api/tenants/{tenant_a.slug}/usage",
        {
            "request_id": "r1",
            "model": model.public_name,
            "prompt_tokens": 1000,
            "status": "success",
        },
        format="json",
    )
    staff = grant(staff, "billing.reset_budget")

    response = api(staff).post(f"/api/staff/tenants/{tenant_a.slug}/reset-budget")

    assert response.status_code == 200
    body = response.json()
    assert body["closed"]["spent"] == "0.00100000"
    assert body["new_period_start"] == body["closed"]["end"]
    period = BudgetPeriod.objects.get(tenant=tenant_a)
    assert period.closed_by == staff
    assert billing.budget_status(tenant_a)["tenant"]["spent"] == 0


def test_money_powers_are_permissions_not_staff_status(
    api: Callable[[Any], APIClient], staff: Any, tenant_a: Any
) -> None:
    """Staff without `billing.grant_credit` / `billing.reset_budget` get 403 and change
    nothing; each permission opens only its own action."""
    credit = f"/api/staff/tenants/{tenant_a.slug}/grant-credit"
    reset = f"/api/staff/tenants/{tenant_a.slug}/reset-budget"
    before = snapshot(tenant_a)

    assert api(staff).post(credit, {"amount": "100"}, format="json").status_code == 403
    assert api(staff).post(reset).status_code == 403
    granter = grant(staff, "billing.grant_credit")
    assert api(granter).post(reset).status_code == 403
    assert snapshot(tenant_a) == before
    assert not BudgetPeriod.objects.filter(tenant=tenant_a).exists()

    # And the permission without staff status is not enough either.
    outsider = grant(factories.user(), "billing.grant_credit", "billing.reset_budget")
    assert api(outsider).post(credit, {"amount": "100"}, format="json").status_code == 403
    assert api(outsider).post(reset).status_code == 403
    assert snapshot(tenant_a) == before


def test_a_staff_created_tenant_has_a_plan_or_credit(
    api: Callable[[Any], APIClient], staff: Any
) -> None:
    """Without a plan, only an initial credit (a credit grant: it needs the permission)."""
    tenants = Tenant.objects.count()
    body = {"name": "Prepaid", "slug": "prepaid-co", "credit": "25"}
    provision = {"email": "new@example.com", "tenant_name": "Prepaid Two", "credit": "7"}

    assert api(staff).post("/api/staff/tenants", body, format="json").status_code == 403
    assert api(staff).post("/api/staff/provision", provision, format="json").status_code == 403
    assert Tenant.objects.count() == tenants

    granter = grant(staff, "billing.grant_credit")
    response = api(granter).post("/api/staff/tenants", body, format="json")
    assert response.status_code == 201, response.json()
    tenant = Tenant.objects.get(slug="prepaid-co")
    assert tenant.product is None
    assert billing.budget_status(tenant)["tenant"]["credit"] == Decimal("25")
    entry = LedgerEntry.objects.get(tenant=tenant, kind="credit_grant")
    assert (entry.amount, entry.created_by_id) == (Decimal("25"), staff.pk)

    response = api(granter).post("/api/staff/provision", provision, format="json")
    assert response.status_code == 201, response.json()
    tenant = Tenant.objects.get(slug=response.json()["tenant"]["slug"])
    assert billing.budget_status(tenant)["tenant"]["credit"] == Decimal("7")
