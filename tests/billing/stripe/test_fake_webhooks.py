"""The fake Stripe's webhooks are what dj-stripe accepts: signed like Stripe, every object
dj-stripe fetches while processing them answered (business effects are tested in
tests/billing/webhooks/)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import stripe
from djstripe.models import Event, WebhookEventTrigger

from apps.billing import checkout, stripe_api, stripe_sync
from apps.billing.models import BillingAccount
from tests.fakes.stripe_server import FakeStripe
from tests.support import factories
from tests.support.stripe import signed_post

DONE = "http://localhost/app/billing/done/?session_id={CHECKOUT_SESSION_ID}"


@pytest.fixture
def subscribed(stripe_fake: FakeStripe, alice: Any) -> tuple[Any, str]:
    """A tenant subscribed to a plan with overage through the fake Checkout."""
    plan = factories.product(
        name="Pro", monthly_price=Decimal("20"), overage_cap=Decimal("50"), is_public=True
    )
    stripe_sync.push(plan)
    plan.refresh_from_db()
    tenant = factories.tenant("Acme", owner=alice, product=plan)
    url = checkout.start_subscription(tenant, plan, user=alice, success_url=DONE, cancel_url=DONE)
    statuses = stripe_fake.pay_checkout(url.rsplit("/", 1)[1])
    assert statuses == [200] * len(statuses)
    [sub] = stripe_fake.find("subscription")
    return tenant, sub["id"]


def _assert_all_accepted(fake: FakeStripe) -> None:
    ids = {event_id for event_id, _, _ in fake.deliveries}
    triggers = [t for t in WebhookEventTrigger.objects.order_by("id") if t.json_body["id"] in ids]
    assert len(triggers) == len(fake.deliveries)
    failures = [(t.json_body.get("type"), t.exception) for t in triggers if t.exception]
    assert failures == []
    assert all(t.valid and t.processed for t in triggers)
    assert [s for _, _, s in fake.deliveries] == [200] * len(triggers)
    assert fake.unknown == []  # dj-stripe fetched nothing the fake lacks


def test_a_subscription_checkout_delivers_what_dj_stripe_accepts(
    stripe_fake: FakeStripe, subscribed: tuple[Any, str]
) -> None:
    assert stripe_fake.event_types() == [
        "payment_method.attached",
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
        "checkout.session.completed",
    ]
    _assert_all_accepted(stripe_fake)
    assert Event.objects.count() == len(stripe_fake.events)


def test_renewal_with_overage_cancel_and_topup_are_accepted(
    stripe_fake: FakeStripe, subscribed: tuple[Any, str], alice: Any
) -> None:
    tenant, sub_id = subscribed
    customer = BillingAccount.objects.get(tenant=tenant).stripe_customer_id
    stripe_api.create_meter_event(
        event_name="cloudfreedom_overage",
        stripe_customer_id=customer,
        value=1_234_567,
        identifier="t1",
        timestamp=int(stripe_fake.get(sub_id)["start_date"]) + 1,
    )
    stripe_fake.renew(sub_id)
    invoice = stripe_fake.get(stripe_fake.get(sub_id)["latest_invoice"])
    assert invoice["billing_reason"] == "subscription_cycle"
    # 1,234,567 micro-USD at 0.0001 cents each: 123.4567 cents, billed as 123.
    assert [line["amount"] for line in invoice["lines"]["data"]] == [2000, 123]
    stripe_fake.renew(sub_id, paid=False)
    assert stripe_fake.get(sub_id)["status"] == "past_due"
    stripe_fake.set_subscription_status(sub_id, "active")
    stripe_fake.cancel_subscription(sub_id, at_period_end=True)
    stripe_fake.cancel_subscription(sub_id)
    url = checkout.start_topup(
        tenant, Decimal("12.50"), user=alice, success_url=DONE, cancel_url=DONE
    )
    stripe_fake.pay_checkout(url.rsplit("/", 1)[1])
    assert stripe_fake.event_types()[-4:] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.completed",
    ]
    _assert_all_accepted(stripe_fake)


def test_a_bad_or_missing_signature_is_refused(stripe_fake: FakeStripe, client: Any) -> None:
    customer = stripe.Customer.create(email="x@example.com", api_key=stripe_fake.api_key)
    event = stripe_fake.build_event("customer.updated", customer.to_dict())
    assert signed_post(client, stripe_fake, event, signature="bad").status_code == 400
    assert signed_post(client, stripe_fake, event, signature=None).status_code == 400
    assert not Event.objects.filter(id=event["id"]).exists()
    assert signed_post(client, stripe_fake, event).status_code == 200
    assert Event.objects.filter(id=event["id"]).exists()
