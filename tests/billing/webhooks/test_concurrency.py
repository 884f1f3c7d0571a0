"""Committed data: deliveries from many threads at once (each its own connection) apply
once, and a canceled subscription stops the gateway's own reservation."""

from __future__ import annotations

import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from apps.billing.budget import BudgetExceeded, ReserveRequest
from apps.billing.ledger import audit_tenant
from apps.billing.models import BillingAccount, LedgerEntry, Reservation
from apps.tenants.models import Tenant
from tests.billing.conftest import finish, reserve, usage
from tests.billing.webhooks.conftest import Committed
from tests.billing.webhooks.stripe_flows import (
    held,
    paid_grants,
    stripe_plan,
    subscription_checkout,
    tenant_budget,
)
from tests.support.loops import run

D = Decimal


def _request(tenant_id: int, prompt_cost: str) -> ReserveRequest:
    """A chat request worth about `prompt_cost` (a small answer on top)."""
    return ReserveRequest(
        request_id=uuid.uuid4().hex,
        tenant_id=tenant_id,
        member_id=None,
        api_key_id=None,
        prompt_cost=D(prompt_cost),
        output_token_cost=D("0.00001"),
        requested_max_output=100,
        model_cap=4096,
    )


def test_every_event_delivered_four_times_at_once_applies_once(
    committed_stripe: Committed,
) -> None:
    fake, made = committed_stripe.fake, committed_stripe.made
    tenant = made.tenant("1.00")
    product = stripe_plan(fake, budget="20.00", made=made)
    with held(fake) as events:
        fake.pay_checkout(subscription_checkout(fake, tenant, product))
    deliveries = events * 4
    random.Random(9).shuffle(deliveries)

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(committed_stripe.send, deliveries))

    # No deadlock and no race inside dj-stripe's own copies: every delivery answered 200.
    assert statuses == [200] * len(deliveries), statuses
    tenant = Tenant.objects.get(pk=tenant.pk)
    account = BillingAccount.objects.get(tenant=tenant)
    invoice_id = fake.objects[account.stripe_subscription_id]["latest_invoice"]
    assert tenant.product_id == product.pk
    assert account.subscription_status == "active"
    assert paid_grants(tenant) == [(invoice_id, D("20.00"))]
    assert tenant_budget(tenant).limit == D("20.00")
    assert audit_tenant(tenant) == []


def test_the_same_invoice_paid_event_from_eight_threads_grants_once(
    committed_stripe: Committed,
) -> None:
    fake, made = committed_stripe.fake, committed_stripe.made
    tenant = made.tenant("1.00")
    product = stripe_plan(fake, budget="20.00", made=made)
    with held(fake) as events:
        fake.pay_checkout(subscription_checkout(fake, tenant, product))
    paid = next(e for e in events if e["type"] == "invoice.paid")
    invoice = fake.get(paid["data"]["object"]["id"])
    # Two event ids about one invoice (Stripe resends are new events), four copies each.
    copies = [paid, fake.build_event("invoice.paid", invoice)] * 4

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(committed_stripe.send, copies))

    assert statuses == [200] * len(copies), statuses
    assert paid_grants(tenant) == [(invoice["id"], D("20.00"))]
    assert LedgerEntry.objects.filter(tenant_id=tenant.pk, request_id=invoice["id"]).count() == 1


def test_a_canceled_subscription_stops_the_gateways_reservation(
    committed_stripe: Committed,
) -> None:
    fake, made = committed_stripe.fake, committed_stripe.made
    tenant = made.tenant("1.00")
    key_id = made.any_key(tenant)
    product = stripe_plan(fake, budget="20.00", made=made)
    fake.pay_checkout(subscription_checkout(fake, tenant, product))
    sub_id = BillingAccount.objects.get(tenant=tenant).stripe_subscription_id
    # One request settled ($2), one in flight ($3 held) when the cancellation comes.
    done = run(reserve(_request(tenant.pk, "2.00"), key_id))
    assert run(finish(tenant.schema_name, usage(done.request_id, D("2.00")), done.id))
    in_flight = run(reserve(_request(tenant.pk, "3.00"), key_id))

    assert fake.cancel_subscription(sub_id) == [200]

    budget = tenant_budget(tenant)
    assert budget.limit == budget.spent + budget.reserved == D("2.00") + in_flight.amount
    with pytest.raises(BudgetExceeded):
        run(reserve(_request(tenant.pk, "0.50"), key_id))
    # The request in flight still settles within what it held.
    assert run(finish(tenant.schema_name, usage(in_flight.request_id, D("3.00")), in_flight.id))
    assert Reservation.objects.get(pk=in_flight.id).state == "settled"
    assert audit_tenant(tenant) == []
