"""A customer tenant needs a plan or credit: never a tenant that looks unlimited."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django_tenants.utils import schema_exists

from apps.billing.models import LedgerEntry
from apps.billing.services import budget_status
from apps.tenants.models import Tenant
from apps.tenants.services import PlanOrCreditRequired, create_tenant
from tests.support import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("credit", [None, Decimal(0), Decimal("-5")])
def test_it_refuses_a_customer_without_plan_or_credit(credit: Decimal | None) -> None:
    with pytest.raises(PlanOrCreditRequired, match="needs a plan or an initial credit"):
        create_tenant(name="Free Ride", slug="free-ride", credit=credit)
    assert not Tenant.objects.filter(slug="free-ride").exists()
    assert not schema_exists("t_free_ride")


def test_a_customer_with_credit_and_no_plan_spends_only_that() -> None:
    staff = factories.user(is_staff=True)
    tenant = create_tenant(
        name="Prepaid", slug="prepaid-only", credit=Decimal("2.50"), created_by=staff
    )

    status = budget_status(tenant)["tenant"]
    assert (status["limit"], status["credit"], status["remaining"]) == (
        0,
        Decimal("2.50"),
        Decimal("2.50"),
    )
    grant = LedgerEntry.objects.get(tenant=tenant, kind=LedgerEntry.Kind.CREDIT_GRANT)
    assert (grant.amount, grant.created_by_id) == (Decimal("2.50"), staff.pk)


def test_a_plan_is_enough(product: Any) -> None:
    tenant = create_tenant(name="Planned", slug="planned-one", product=product)
    assert budget_status(tenant)["tenant"]["limit"] == product.monthly_budget
