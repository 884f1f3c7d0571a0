"""A subscription's state, re-fetched from Stripe, sets the tenant's plan and BillingAccount;
past_due keeps what was paid, a stopped subscription withdraws the rest of the paid grant."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import stripe

from apps.billing import services
from apps.billing.ledger import audit_tenant
from apps.billing.models import BillingAccount, LedgerEntry
from apps.catalog.models import Product
from apps.tenants.models import Tenant
from tests.billing.webhooks.stripe_flows import (
    paid_grants,
    spend,
    stripe_plan,
    subscribe,
    subscription_checkout,
    tenant_budget,
)
from tests.fakes.stripe_server import FakeStripe
from tests.support import factories

D = Decimal


def _free_plan() -> Product:
    existing = Product.objects.filter(signup_default=True).first()
    return existing or factories.product(
        name="Free", monthly_price=D("0"), monthly_budget=D("1.00"), signup_default=True
    )


def _subscribed(fake: FakeStripe, **plan: Any) -> tuple[Tenant, Product, str]:
    free = _free_plan()
    tenant = factories.tenant(product=free)
    product = stripe_plan(fake, **plan)
    return tenant, product, subscribe(fake, tenant, product)


def test_it_applies_a_new_subscription_to_the_plan_and_the_account(
    stripe_fake: FakeStripe,
) -> None:
    tenant, product, sub_id = _subscribed(stripe_fake, budget="20.00", overage_cap="5.00")

    tenant.refresh_from_db()
    account = BillingAccount.objects.get(tenant=tenant)
    sub = stripe_fake.get(sub_id)
    item = sub["items"]["data"][0]
    start = datetime.fromtimestamp(item["current_period_start"], tz=UTC)
    end = datetime.fromtimestamp(item["current_period_end"], tz=UTC)
    assert tenant.product == product
    assert (account.stripe_customer_id, account.stripe_subscription_id) == (sub["customer"], sub_id)
    assert account.subscription_status == "active"
    assert (account.current_period_start, account.current_period_end) == (start, end)
    assert account.synced_at is not None
    # The first invoice's period is the tenant's budget period, granted once in full.
    budget = tenant_budget(tenant)
    assert paid_grants(tenant) == [(sub["latest_invoice"], D("25.00"))]
    assert (budget.period_start, budget.next_reset_at, budget.limit) == (start, end, D("25.00"))
    assert tenant.billing_anchor == start
    assert audit_tenant(tenant) == []


def test_it_ignores_a_subscription_of_a_customer_it_does_not_know(
    stripe_fake: FakeStripe,
) -> None:
    tenant = factories.tenant(product=_free_plan())
    product = stripe_plan(stripe_fake)
    # A customer made elsewhere, no tenant in its metadata: nobody of ours to apply it to.
    customer = stripe.Customer.create(
        email="stranger@example.com",
        api_key=stripe_fake.api_key,
        stripe_version=stripe_fake.api_version,
    )
    session_id = subscription_checkout(stripe_fake, tenant, product, customer=customer.id)
    stripe_fake.objects[session_id]["client_reference_id"] = None
    stripe_fake.objects[session_id]["metadata"] = {}
    stripe_fake.objects[session_id]["_subscription_data"] = {}

    statuses = stripe_fake.pay_checkout(session_id)

    assert set(statuses) == {200}
    assert not BillingAccount.objects.filter(stripe_customer_id=customer.id).exists()
    tenant.refresh_from_db()
    assert tenant.product != product
    assert paid_grants(tenant) == []


def test_it_keeps_the_plan_and_the_paid_budget_while_past_due(stripe_fake: FakeStripe) -> None:
    tenant, product, sub_id = _subscribed(stripe_fake, budget="20.00")
    spend(tenant, "3.00")

    statuses = stripe_fake.renew(sub_id, paid=False)

    assert set(statuses) == {200}
    tenant.refresh_from_db()
    account = BillingAccount.objects.get(tenant=tenant)
    budget = tenant_budget(tenant)
    assert account.subscription_status == "past_due"
    assert tenant.product == product
    assert budget.limit == D("20.00") and budget.remaining == D("17.00")
    assert len(paid_grants(tenant)) == 1  # the failed renewal granted nothing
    # A new period before any invoice is paid starts with nothing granted.
    services.reset_budget(tenant)
    assert tenant_budget(tenant).limit == D("0")
    assert audit_tenant(tenant) == []


@pytest.mark.parametrize("status", ["canceled", "unpaid", "paused", "incomplete_expired"])
def test_a_stopped_subscription_removes_the_plan_and_withdraws_the_unspent_grant(
    stripe_fake: FakeStripe, status: str
) -> None:
    tenant, _, sub_id = _subscribed(stripe_fake, budget="20.00")
    services.purchase_credit(tenant, D("4.00"), reference="pi_manual_test")
    spend(tenant, "3.00")

    if status == "canceled":
        statuses = stripe_fake.cancel_subscription(sub_id)
    else:
        statuses = stripe_fake.set_subscription_status(sub_id, status)

    assert set(statuses) == {200}
    tenant.refresh_from_db()
    budget = tenant_budget(tenant)
    withdrawn = LedgerEntry.objects.filter(tenant_id=tenant.pk, kind="grant_withdrawn")
    assert tenant.product == _free_plan()
    assert BillingAccount.objects.get(tenant=tenant).subscription_status == status
    assert [e.amount for e in withdrawn] == [D("-17.00")]
    # What was spent stays spent; only the credit is left to spend.
    assert (budget.limit, budget.spent, budget.credit) == (D("3.00"), D("3.00"), D("4.00"))
    assert budget.remaining == D("4.00")
    # Told again (another event about the same state): nothing more is withdrawn.
    stripe_fake.set_subscription_status(sub_id, status)
    assert withdrawn.count() == 1
    # The next period follows the free plan again (its grant comes with the reset).
    services.reset_budget(tenant)
    assert tenant_budget(tenant).limit == D("1.00")


def test_cancel_at_period_end_keeps_the_plan_until_stripe_ends_it(
    stripe_fake: FakeStripe,
) -> None:
    tenant, product, sub_id = _subscribed(stripe_fake, budget="20.00")

    stripe_fake.cancel_subscription(sub_id, at_period_end=True)

    tenant.refresh_from_db()
    account = BillingAccount.objects.get(tenant=tenant)
    assert account.cancel_at_period_end and account.subscription_status == "active"
    assert tenant.product == product and tenant_budget(tenant).limit == D("20.00")
