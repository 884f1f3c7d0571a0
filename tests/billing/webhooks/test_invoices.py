"""A paid invoice grants its period once; a renewal starts the next period on Stripe's
cycle; events delivered twice or out of order end in the same state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.test import Client

from apps.billing import services, subscriptions
from apps.billing.ledger import audit_tenant
from apps.billing.models import BillingAccount, BudgetPeriod, LedgerEntry
from apps.catalog.models import Product
from apps.tenants.models import Tenant
from tests.billing.webhooks.stripe_flows import (
    held,
    of_type,
    paid_grants,
    spend,
    stripe_plan,
    subscribe,
    subscription_checkout,
    tenant_budget,
)
from tests.fakes import stripe_objects as so
from tests.fakes.stripe_server import FakeStripe
from tests.support import factories
from tests.support.stripe import signed_post

D = Decimal


def _at(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def _state(tenant: Tenant) -> dict[str, Any]:
    """What must converge, whatever the order of delivery."""
    tenant.refresh_from_db()
    account = BillingAccount.objects.get(tenant=tenant)
    budget = tenant_budget(tenant)
    withdrawn = -sum(
        LedgerEntry.objects.filter(tenant_id=tenant.pk, kind="grant_withdrawn").values_list(
            "amount", flat=True
        ),
        start=D(0),
    )
    return {
        "product": tenant.product_id,
        "status": account.subscription_status,
        "subscription": account.stripe_subscription_id,
        "customer": account.stripe_customer_id,
        "period": (account.current_period_start, account.current_period_end),
        "grants": paid_grants(tenant),
        "paid_left": sum((a for _, a in paid_grants(tenant)), start=D(0)) - withdrawn,
        "remaining": budget.remaining,
    }


def test_a_paid_invoice_grants_once_however_often_it_is_told(stripe_fake: FakeStripe) -> None:
    tenant = factories.tenant(product=factories.product())
    product = stripe_plan(stripe_fake, budget="20.00")
    with held(stripe_fake) as events:
        stripe_fake.pay_checkout(subscription_checkout(stripe_fake, tenant, product))
    for event in events:
        assert stripe_fake.deliver(event) == 200
    invoice_paid = of_type(events, "invoice.paid")[0]
    invoice = stripe_fake.get(invoice_paid["data"]["object"]["id"])

    # The same event again, and a new event (another id) about the same invoice.
    assert signed_post(Client(), stripe_fake, invoice_paid).status_code == 200
    assert stripe_fake.deliver(stripe_fake.build_event("invoice.paid", invoice)) == 200

    assert paid_grants(tenant) == [(invoice["id"], D("20.00"))]
    assert tenant_budget(tenant).limit == D("20.00")
    assert audit_tenant(tenant) == []


def test_a_renewal_invoice_starts_the_next_period_with_its_grant(
    stripe_fake: FakeStripe,
) -> None:
    tenant = factories.tenant(product=factories.product())
    product = stripe_plan(stripe_fake, budget="20.00", overage_cap="5.00")
    sub_id = subscribe(stripe_fake, tenant, product)
    first = tenant_budget(tenant)
    spend(tenant, "7.50")
    # A month passes in Stripe: the period ends a second after it started (the fake cannot
    # wait a month, and a period end in the future would be a different case).
    for item in stripe_fake.objects[sub_id]["items"]["data"]:
        item["current_period_end"] = item["current_period_start"] + 1
    new_start = stripe_fake.objects[sub_id]["items"]["data"][0]["current_period_end"]

    statuses = stripe_fake.renew(sub_id)

    assert set(statuses) == {200}
    tenant.refresh_from_db()
    budget = tenant_budget(tenant)
    renewal = stripe_fake.objects[sub_id]["latest_invoice"]
    closed = BudgetPeriod.objects.get(tenant=tenant, start=first.period_start)
    assert (closed.start, closed.granted, closed.spent) == (
        first.period_start,
        D("25.00"),
        D("7.50"),
    )
    assert budget.period_start > first.period_start
    assert budget.next_reset_at == _at(so.add_month(new_start))
    assert tenant.billing_anchor == _at(new_start)
    assert (budget.limit, budget.spent) == (D("25.00"), D("0"))
    assert [ref for ref, _ in paid_grants(tenant)][-1] == renewal
    assert len(paid_grants(tenant)) == 2
    assert audit_tenant(tenant) == []


def test_events_in_reverse_order_end_in_the_same_state(stripe_fake: FakeStripe) -> None:
    product = stripe_plan(stripe_fake, budget="20.00")
    in_order = factories.tenant(product=factories.product())
    reverse = factories.tenant(product=factories.product())
    subscribe(stripe_fake, in_order, product)
    with held(stripe_fake) as events:
        stripe_fake.pay_checkout(subscription_checkout(stripe_fake, reverse, product))

    # invoice.paid and checkout.session.completed before customer.subscription.created.
    for event in reversed(events):
        assert stripe_fake.deliver(event) == 200

    expected, got = _state(in_order), _state(reverse)
    assert got["product"] == expected["product"] == product.pk
    assert got["status"] == expected["status"] == "active"
    assert len(got["grants"]) == len(expected["grants"]) == 1
    assert got["paid_left"] == expected["paid_left"] == D("20.00")
    assert got["remaining"] == expected["remaining"]
    assert audit_tenant(reverse) == []


def test_a_cancel_delivered_before_the_creation_still_ends_canceled(
    stripe_fake: FakeStripe,
) -> None:
    free = Product.objects.filter(signup_default=True).first() or factories.product(
        monthly_price=D(0), monthly_budget=D("1.00"), signup_default=True
    )
    product = stripe_plan(stripe_fake, budget="20.00")
    tenant = factories.tenant(product=free)
    with held(stripe_fake) as events:
        stripe_fake.pay_checkout(subscription_checkout(stripe_fake, tenant, product))
        sub_id = of_type(events, "customer.subscription.created")[0]["data"]["object"]["id"]
        stripe_fake.cancel_subscription(sub_id)
    deleted = of_type(events, "customer.subscription.deleted")
    assert len(deleted) == 1

    # deleted first, then everything else newest first (updated before created).
    for event in deleted + [e for e in reversed(events) if e not in deleted]:
        assert stripe_fake.deliver(event) == 200

    state = _state(tenant)
    assert state["status"] == "canceled"
    assert state["product"] == free.pk
    assert len(state["grants"]) == 1  # the paid invoice is in the ledger, once
    assert state["paid_left"] == D("0")  # ... and withdrawn: nothing paid is spendable
    assert audit_tenant(tenant) == []


def test_an_older_snapshot_never_overwrites_a_newer_one(stripe_fake: FakeStripe) -> None:
    tenant = factories.tenant(product=factories.product())
    product = stripe_plan(stripe_fake, budget="20.00")
    sub_id = subscribe(stripe_fake, tenant, product)
    account = BillingAccount.objects.get(tenant=tenant)
    old = dict(stripe_fake.get(sub_id), status="past_due")

    # A fetch that started before the last applied one (a slow concurrent delivery).
    subscriptions.apply_subscription(old, fetched_at=account.synced_at)

    assert BillingAccount.objects.get(tenant=tenant).subscription_status == "active"


def test_a_reset_before_the_renewal_invoice_waits_for_it(stripe_fake: FakeStripe) -> None:
    tenant = factories.tenant(product=factories.product())
    sub_id = subscribe(stripe_fake, tenant, stripe_plan(stripe_fake, budget="20.00"))
    first = tenant_budget(tenant)

    # Our scheduled reset runs at Stripe's period end, before the renewal invoice is paid.
    assert services.reset_if_due(tenant.pk, now=first.next_reset_at + timedelta(seconds=1))
    waiting = tenant_budget(tenant)
    assert (waiting.period_start, waiting.limit) == (first.next_reset_at, D("0"))

    assert set(stripe_fake.renew(sub_id)) == {200}

    budget = tenant_budget(tenant)
    assert budget.period_start == waiting.period_start  # the invoice's period: no new one
    assert budget.limit == D("20.00")
    assert len(paid_grants(tenant)) == 2
    assert audit_tenant(tenant) == []
