from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.billing.models import Budget, BudgetPeriod, LedgerEntry
from tests.support import factories

D = Decimal


@pytest.fixture
def staff_client(db: Any, client: Any) -> Any:
    client.force_login(factories.user(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def tenant(db: Any) -> Any:
    return factories.tenant(product=factories.product(monthly_budget=D("5.00")))


def test_the_billing_pages_list_read_only_rows(staff_client: Any, tenant: Any) -> None:
    for model in ("budget", "ledgerentry", "reservation", "budgetperiod"):
        page = staff_client.get(f"/admin/billing/{model}/", HTTP_HOST="localhost")
        assert page.status_code == 200, model
    entry = LedgerEntry.objects.get(tenant_id=tenant.pk)
    page = staff_client.get(f"/admin/billing/ledgerentry/{entry.pk}/change/", HTTP_HOST="localhost")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content  # no save button: read-only
    assert (
        staff_client.get("/admin/billing/ledgerentry/add/", HTTP_HOST="localhost").status_code
        == 403
    )


def test_staff_reset_and_grant_credit_from_the_budget_list(staff_client: Any, tenant: Any) -> None:
    budget = Budget.objects.get(tenant=tenant, scope="tenant")
    url = "/admin/billing/budget/"
    staff_client.post(
        url, {"action": "reset_now", "_selected_action": [budget.pk]}, HTTP_HOST="localhost"
    )
    assert BudgetPeriod.objects.filter(tenant=tenant).count() == 1

    form = staff_client.post(
        url, {"action": "grant_credit", "_selected_action": [budget.pk]}, HTTP_HOST="localhost"
    )
    assert form.status_code == 200 and b"Grant credit" in form.content
    staff_client.post(
        url,
        {
            "action": "grant_credit",
            "_selected_action": [budget.pk],
            "apply": "1",
            "amount": "2.50",
            "note": "support ticket 42",
        },
        HTTP_HOST="localhost",
    )
    budget.refresh_from_db()
    assert budget.credit == D("2.50")
    assert LedgerEntry.objects.get(tenant_id=tenant.pk, kind="credit_grant").note == (
        "support ticket 42"
    )


def _staff_with(*perms: str) -> Any:
    from django.contrib.auth.models import Permission

    user = factories.user(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="billing", codename="view_budget"),
        *Permission.objects.filter(content_type__app_label="billing", codename__in=perms),
    )
    return user


def test_money_actions_need_their_permission_not_just_staff(client: Any, tenant: Any) -> None:
    budget = Budget.objects.get(tenant=tenant, scope="tenant")
    url = "/admin/billing/budget/"
    client.force_login(_staff_with())
    page = client.get(url, HTTP_HOST="localhost")
    assert page.status_code == 200
    assert b'value="reset_now"' not in page.content
    assert b'value="grant_credit"' not in page.content
    for action in ("reset_now", "grant_credit"):
        client.post(
            url,
            {
                "action": action,
                "_selected_action": [budget.pk],
                "apply": "1",
                "amount": "2.50",
                "note": "x",
            },
            HTTP_HOST="localhost",
        )
    budget.refresh_from_db()
    assert budget.credit == 0
    assert not BudgetPeriod.objects.filter(tenant=tenant).exists()

    client.force_login(_staff_with("grant_credit", "reset_budget"))
    page = client.get(url, HTTP_HOST="localhost")
    assert b'value="reset_now"' in page.content and b'value="grant_credit"' in page.content
    client.post(
        url, {"action": "reset_now", "_selected_action": [budget.pk]}, HTTP_HOST="localhost"
    )
    assert BudgetPeriod.objects.filter(tenant=tenant).count() == 1
